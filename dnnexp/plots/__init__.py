"""Pictures of runs: learning curves (`curves`), layer statistics and activation histograms (`layers`).

matplotlib is imported inside the functions that draw, so `dnnexp --help` stays fast. Figures are
`matplotlib.figure.Figure` objects drawn on the Agg canvas, never through pyplot: no display, no
global figure state. The output's suffix picks the format, PNG or SVG.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from dnnexp.errors import DnnexpError
from dnnexp.runs.rundir import RunDir, make_folder, timestamp, write_atomically

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

SUFFIXES = (".png", ".svg")
DPI = 120


def default_plot_path(runs: Sequence[RunDir], suffix: str = ".png", kind: str = "learning_curves") -> Path:
    """Where a plot goes when no output is given.

    One run: `<run folder>/<kind><suffix>`, a picture of that run. Several: `compare-<timestamp>
    <suffix>` in the current folder, where a file the user just asked for is looked for first; not
    beside the runs, where `runs/*` would list it among them, nor in one run's folder, which
    holds that run's files only.
    """
    if len(runs) == 1:
        return runs[0].file(f"{kind}{suffix}")
    return Path(f"compare-{timestamp()}{suffix}")


def new_figure(nrows: int, ncols: int, panel_size: tuple[float, float], **subplots: object) -> tuple[Figure, np.ndarray]:
    """A figure with an (nrows, ncols) array of axes, each panel `panel_size` inches."""
    from matplotlib.figure import Figure

    width, height = panel_size
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **subplots)
    return fig, axes


def save_figure(fig: Figure, out: Path) -> Path:
    """Write `fig` to `out` (PNG or SVG by its suffix) atomically, making its folder if needed."""
    out = Path(out)
    if out.suffix.lower() not in SUFFIXES:
        raise DnnexpError(f"--out: {out} must end in {' or '.join(SUFFIXES)}, which picks the image format")
    make_folder(out.parent)
    write_atomically(out, lambda f: fig.savefig(f, format=out.suffix.lower().lstrip("."), dpi=DPI))
    return out


def line_marker(points: int) -> str | None:
    """A marker for a line of a single point, which would otherwise not show."""
    return "o" if points == 1 else None


def integer_epochs(ax: Axes) -> None:
    """Ticks on whole epochs only: a run of two epochs has no epoch 1.5."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


# Legend text at fontsize "small" (8.3 pt): about 0.07 inch a character, and half an inch for the
# line sample and the space between columns; each row about 0.2 inch.
LEGEND_CHAR, LEGEND_HANDLE, LEGEND_ROW = 0.07, 0.5, 0.2  # inches


def legend_below(fig: Figure, handles: Sequence[Artist], max_columns: int = 3) -> None:
    """A figure legend under the panels, in as many columns as its labels fit across (at most
    `max_columns`); the figure grows by the legend's rows, and widens for a label longer than it."""
    labels = [handle.get_label() for handle in handles]
    column = LEGEND_CHAR * max(map(len, labels)) + LEGEND_HANDLE
    ncols = max(1, min(len(labels), max_columns, int(fig.get_figwidth() // column)))
    fig.set_figwidth(max(fig.get_figwidth(), column * ncols + LEGEND_HANDLE))
    fig.set_figheight(fig.get_figheight() + LEGEND_ROW * -(-len(labels) // ncols))
    fig.legend(handles=handles, loc="outside lower center", ncols=ncols, fontsize="small", frameon=False)
