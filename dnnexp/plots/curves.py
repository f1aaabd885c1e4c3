"""Learning curves: loss and accuracy per epoch, for one run or several overlaid.

Each run keeps one colour; the split is the line style (train dashed, validation solid, test
dotted), so a gap between a run's dashed and solid lines is its overfitting.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from dnnexp.errors import DnnexpError, RunDirError
from dnnexp.plots import line_marker, new_figure, save_figure
from dnnexp.runs.compare import differing_keys, flatten_config
from dnnexp.runs.rundir import RunDir

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SPLITS = {"train": ("train", "--"), "val": ("validation", "-"), "test": ("test", ":")}
#: a panel for each metric any of the runs logs, in this order (seq_acc and on: the encoder-decoders')
PANELS = {
    "loss": "loss", "acc": "accuracy", "seq_acc": "exact-sequence accuracy", "distinct2": "distinct-2 of replies",
    "kl": "KL(q ‖ p)",
}
MAX_PANELS_IN_A_ROW = 3
# Beyond this many differing settings a label would not fit; the run folder's name says more.
MAX_LABEL_KEYS = 3


def _value(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def run_labels(runs: Sequence[RunDir]) -> list[str]:
    """A legend label per run from the settings that differ ("optimizer.name=adam, optimizer.lr=0.001").

    When nothing but the name differs or too much does, the specs' names label the runs (relu_he,
    sigmoid_normal, …), or the run folders' names where specs share a name.
    """
    configs = [run.config() for run in runs]
    keys = differing_keys(configs)
    if len(runs) == 1 or not keys or len(keys) > MAX_LABEL_KEYS:
        names = [str(config.get("name", run.name)) for config, run in zip(configs, runs)]
        return names if len(set(names)) == len(names) else [run.name for run in runs]
    flat = [flatten_config(config) for config in configs]
    return [", ".join(f"{key}={_value(config.get(key, '-'))}" for key in keys) for config in flat]


def plot_curves(runs: Sequence[RunDir], out: Path, metric: str | None = None) -> Path:
    """Draw the learning curves of `runs` (see `curves_figure`) into `out`, .png or .svg; return `out`."""
    return save_figure(curves_figure(runs, metric), out)


def curves_figure(runs: Sequence[RunDir], metric: str | None = None) -> Figure:
    """The learning curves of `runs` as a figure.

    Without `metric`: a loss panel, an accuracy panel when any run is a classification, and a
    panel for each further metric of PANELS that a run logs. With
    `metric`, any column of metrics.csv but epoch (e.g. "val_acc", "lr"): that column alone.
    """
    frames = [run.metrics() for run in runs]
    columns = dict.fromkeys(column for frame in frames for column in frame.columns)
    if metric is None:
        panels = {
            PANELS[m]: [f"{split}_{m}" for split in SPLITS] for m in PANELS if any(f"{s}_{m}" in columns for s in SPLITS)
        }
    elif metric in columns and metric != "epoch":
        panels = {metric: [metric]}
    else:
        choices = [c for c in columns if c != "epoch"]
        raise DnnexpError(f"--metric: no run has {metric!r}; choose one of: {', '.join(choices) or '(no metrics yet)'}")
    if not panels:
        names = ", ".join(run.name for run in runs)
        raise RunDirError(f"{names}: metrics.csv has no rows yet; plot again after the first epoch")

    rows = 1 if len(panels) <= MAX_PANELS_IN_A_ROW else 2
    fig, axes = new_figure(rows, -(-len(panels) // rows), panel_size=(4.2, 3.2))
    for ax in axes.flat[len(panels) :]:
        ax.set_axis_off()
    labels = run_labels(runs)
    single = len(runs) == 1
    styles: dict[str, str] = {}  # legend label of each split drawn → its line style
    for ax, (title, panel_columns) in zip(axes.flat, panels.items()):
        for index, frame in enumerate(frames):
            for column in panel_columns:
                if column not in frame.columns or frame[column].isna().all():
                    continue
                split, style = SPLITS.get(column.split("_", 1)[0], (column, "-"))
                styles[split] = style
                ax.plot(frame["epoch"], frame[column], color=f"C{index}", linestyle=style,
                        marker=line_marker(len(frame)), markersize=3)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel(title)
        ax.grid(alpha=0.3)

    from matplotlib.lines import Line2D

    # Splits by line style in the first panel; runs by colour below the panels when there are several.
    style_colour = "C0" if single else "0.35"
    splits = [Line2D([], [], color=style_colour, linestyle=style, label=split) for split, style in styles.items()]
    axes[0, 0].legend(handles=splits, loc="best", fontsize="small")
    if not single:
        colours = [Line2D([], [], color=f"C{i}", label=label) for i, label in enumerate(labels)]
        fig.legend(handles=colours, loc="outside lower center", ncols=min(len(runs), 2), fontsize="small",
                   frameon=False)
    fig.suptitle(runs[0].name if single else f"{len(runs)} runs")
    return fig
