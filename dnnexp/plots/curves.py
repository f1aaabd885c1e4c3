"""Learning curves: loss and accuracy per epoch, for one run or several overlaid.

Each run keeps one colour; the split is the line style (train dashed, validation solid, test
dotted), so a gap between a run's dashed and solid lines is its overfitting.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from dnnexp.errors import DnnexpError, RunDirError
from dnnexp.plots import integer_epochs, legend_below, line_marker, new_figure, save_figure
from dnnexp.plots.labels import comparison_title, run_labels
from dnnexp.runs.rundir import RunDir

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

SPLITS = {"train": ("train", "--"), "val": ("validation", "-"), "test": ("test", ":")}
#: a panel for each metric any of the runs logs, in this order (seq_acc and on: the encoder-decoders')
PANELS = {
    "loss": "loss", "acc": "accuracy", "seq_acc": "exact-sequence accuracy", "distinct2": "distinct-2 of replies",
    "kl": "KL(q ‖ p)",
}
MAX_PANELS_IN_A_ROW = 3
# Overlaid runs get thinner in turn, so a run whose curve lies on an earlier one still shows as
# a thin line inside the wider one.
WIDEST, THINNEST = 2.6, 1.1
LOG_SPAN = 1e3
#: the ✕ at a diverged run's last finite point
DIVERGED = {"marker": "x", "markersize": 9, "markeredgewidth": 2.5, "linestyle": "none"}


def line_widths(count: int) -> list[float]:
    """A line width per overlaid run, from WIDEST for the first to THINNEST for the last."""
    if count == 1:
        return [1.5]
    return [WIDEST - (WIDEST - THINNEST) * i / (count - 1) for i in range(count)]


def spans_decades(frames: Sequence[pd.DataFrame], columns: Sequence[str]) -> bool:
    """Whether the positive finite values of `columns` span more than LOG_SPAN (largest over
    smallest): then a loss panel is drawn on a log scale, lest a run whose loss exploded flatten
    the others into a line at the bottom."""
    values = np.concatenate([frame[c].to_numpy(float) for frame in frames for c in columns if c in frame.columns] or [[]])
    values = values[np.isfinite(values) & (values > 0)]
    return bool(values.size) and values.max() > LOG_SPAN * values.min()


def diverged_epoch(run: RunDir) -> int | None:
    """The epoch a diverged run did not finish (its summary's epochs_completed + 1); None for
    any other run."""
    summary = run.summary()
    if summary.get("status") != "diverged":
        return None
    return int(summary.get("epochs_completed") or 0) + 1


def plot_curves(runs: Sequence[RunDir], out: Path, metric: str | None = None) -> Path:
    """Draw the learning curves of `runs` (see `curves_figure`) into `out`, .png or .svg; return `out`.
    Runs of episodes (reinforcement learning) get their return curves instead (`returns`)."""
    from dnnexp.plots.returns import episodic_runs, plot_returns

    if episodic_runs(runs):
        return plot_returns([(label, [run]) for label, run in zip(run_labels(runs), runs)], out, comparison_title(runs), metric)
    return save_figure(curves_figure(runs, metric), out)


def curves_figure(runs: Sequence[RunDir], metric: str | None = None) -> Figure:
    """The learning curves of `runs` as a figure.

    Without `metric`: a loss panel, an accuracy panel when any run is a classification, and a
    panel for each further metric of PANELS that a run logs. With
    `metric`, any column of metrics.csv but epoch (e.g. "val_acc", "lr"): that column alone.
    Columns are found by name, whatever else metrics.csv holds. A diverged run's curves end in
    a ✕ (on the loss panel's top edge when it has no finite point), and its legend entry says
    in which epoch it diverged.
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
        # A run that ended without ever logging epochs is of a kind that has none (optimizer paths).
        without = [run for run in runs if not run.has("metrics.csv") and run.summary().get("status")]
        if without:
            kinds = sorted({str(run.config().get("kind")) for run in without})
            raise RunDirError(
                f"{', '.join(run.name for run in without)}: no metrics.csv, so no learning curves: a run of kind "
                f"{', '.join(kinds)} leaves its pictures in its folder"
            )
        raise RunDirError(f"{names}: metrics.csv has no rows yet; plot again after the first epoch")

    rows = 1 if len(panels) <= MAX_PANELS_IN_A_ROW else 2
    fig, axes = new_figure(rows, -(-len(panels) // rows), panel_size=(4.2, 3.2))
    for ax in axes.flat[len(panels) :]:
        ax.set_axis_off()
    labels, widths = run_labels(runs), line_widths(len(runs))
    ends = [diverged_epoch(run) for run in runs]
    styles: dict[str, str] = {}  # legend label of each split drawn → its line style
    for ax, (title, panel_columns) in zip(axes.flat, panels.items()):
        for index, (frame, end) in enumerate(zip(frames, ends)):
            drawn = False
            for column in panel_columns:
                if column not in frame.columns or frame[column].isna().all():
                    continue
                split, style = SPLITS.get(column.split("_", 1)[0], (column, "-"))
                styles[split] = style
                ax.plot(frame["epoch"], frame[column], color=f"C{index}", linestyle=style, linewidth=widths[index],
                        marker=line_marker(len(frame)), markersize=3)
                finite = frame[frame[column].map(math.isfinite)]
                if end is not None and len(finite):
                    ax.plot(finite["epoch"].iloc[-1], finite[column].iloc[-1], color=f"C{index}", **DIVERGED)
                    drawn = True
            if end is not None and not drawn and "loss" in title:
                # Nothing finite to end at: the ✕ sits on the top edge, where the loss went off.
                ax.plot(end, 1.0, color=f"C{index}", clip_on=False, transform=ax.get_xaxis_transform(), **DIVERGED)
        if "loss" in title and spans_decades(frames, panel_columns):
            ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{title} (log scale)" if ax.get_yscale() == "log" else title)
        integer_epochs(ax)
        ax.grid(alpha=0.3)

    from matplotlib.lines import Line2D

    # Splits by line style in the first panel; runs by colour below the panels when there are several.
    style_colour = "C0" if len(runs) == 1 else "0.35"
    splits = [Line2D([], [], color=style_colour, linestyle=style, label=split) for split, style in styles.items()]
    axes[0, 0].legend(handles=splits, loc="best", fontsize="small")
    if len(runs) > 1:
        legend_below(fig, [
            Line2D([], [], color=f"C{i}", linewidth=width, label=label) if end is None
            else Line2D([], [], color=f"C{i}", linewidth=width, marker=DIVERGED["marker"], markeredgewidth=2,
                        label=f"{label}: diverged at epoch {end}")
            for i, (label, width, end) in enumerate(zip(labels, widths, ends))
        ])
    title = comparison_title(runs)
    fig.suptitle(f"{title}: diverged at epoch {ends[0]}" if len(runs) == 1 and ends[0] is not None else title)
    return fig
