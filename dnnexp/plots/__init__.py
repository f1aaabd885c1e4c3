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
from dnnexp.runs.rundir import RunDir, timestamp, write_atomically

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SUFFIXES = (".png", ".svg")
DPI = 120


def default_plot_path(runs: Sequence[RunDir], suffix: str = ".png", kind: str = "learning_curves") -> Path:
    """Where a plot goes when no output is given.

    One run: `<run folder>/<kind><suffix>`; several: `compare-<timestamp><suffix>` next to the first
    run (in `runs/` for runs made there).
    """
    if len(runs) == 1:
        return runs[0].file(f"{kind}{suffix}")
    return runs[0].path.parent / f"compare-{timestamp()}{suffix}"


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
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(out, lambda f: fig.savefig(f, format=out.suffix.lower().lstrip("."), dpi=DPI))
    return out


def line_marker(points: int) -> str | None:
    """A marker for a line of a single point, which would otherwise not show."""
    return "o" if points == 1 else None
