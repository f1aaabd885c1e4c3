"""How the gradient changes as it flows backwards through time: ‖dL/ds_t‖ per step, runs overlaid.

The picture of course Day 3 §1–2: in a simple RNN the gradient that enters at the last step is
multiplied by Wᵀ and tanh' at every step it travels back, and can vanish, so early inputs barely
learn; the LSTM's cell state and the GRU's update gate carry it further. s_t is the recurrent
state (the LSTM's h_t and c_t together). Each line is divided by its value at the last step, so
runs whose gradients differ in size compare by their slope (log scale).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from dnnexp.errors import RunDirError
from dnnexp.plots import legend_below, line_marker, new_figure, save_figure
from dnnexp.plots.labels import run_labels
from dnnexp.runs.rundir import RunDir

if TYPE_CHECKING:
    from matplotlib.figure import Figure

LAYER_STYLES = ("-", "--", ":", "-.")


def plot_time_grads(runs: Sequence[RunDir], out: Path) -> Path:
    """Draw the time-step gradients of `runs` (see `time_grads_figure`) into `out`, .png or .svg; return `out`."""
    return save_figure(time_grads_figure(runs), out)


def time_grads_figure(runs: Sequence[RunDir]) -> Figure:
    """‖dL/ds_t‖ / ‖dL/ds_T‖ against t in the first and the last epoch, a colour per run and a
    line style per recurrent layer."""
    tables = []
    for run in runs:
        table = run.table("time_grads.csv")
        if table.empty:
            raise RunDirError(
                f"{run.path}: no time_grads.csv; a supervised recurrent run records it: set `logging.time_grads: true` "
                "in its spec and rerun `dnnexp train`"
            )
        tables.append(table)
    stages = {"first epoch": min, "last epoch": max}
    if all(table["epoch"].nunique() == 1 for table in tables):
        stages = {"epoch 1": min}
    fig, axes = new_figure(1, len(stages), panel_size=(3.8, 3.0), sharey=True)
    for ax, (title, pick) in zip(axes[0], stages.items()):
        for colour, (label, table) in enumerate(zip(run_labels(runs), tables)):
            rows = table[table["epoch"] == pick(table["epoch"])]
            layers = list(rows.groupby("layer", sort=False))
            for style, (layer, steps) in zip(LAYER_STYLES * len(layers), layers):
                ratio = steps["grad_norm"] / steps["grad_norm"].iloc[-1]
                ax.plot(steps["t"], ratio, color=f"C{colour}", linestyle=style, marker=line_marker(len(steps)),
                        label=label if len(layers) == 1 else f"{label}: {layer}")
        ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("time step t")
        ax.grid(alpha=0.3, which="both")
    axes[0, 0].set_ylabel("‖dL/ds_t‖ / ‖dL/ds_T‖")
    legend_below(fig, axes[0, 0].get_legend_handles_labels()[0])
    fig.suptitle("gradient flowing back through time")
    return fig
