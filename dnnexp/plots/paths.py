"""Optimizer paths drawn over the contour lines of the function they descend."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dnnexp.core.surfaces import Surface
from dnnexp.plots import new_figure, save_figure

FRAME_LIMIT = 1e12  # the largest coordinate a panel is drawn to


def plot_paths(surface: Surface, walks: dict[str, np.ndarray], out: Path, title: str = "") -> Path:
    """One panel per optimizer, each path over the same contour plot, so they compare at a glance."""
    # Framed on the walks that stayed finite, if any did: one that flew off to 1e200 would shrink
    # every other to a dot; it leaves its panel instead. Only points within FRAME_LIMIT frame the
    # panels, so that the grid's arithmetic stays finite; the start always is (the spec says so).
    kept = [walk for walk in walks.values() if np.all(np.isfinite(walk))] or list(walks.values())
    points = np.concatenate([walk[:, :2] for walk in kept])
    finite = points[np.all(np.abs(points) <= FRAME_LIMIT, axis=1)]
    (x0, y0), (x1, y1) = finite.min(axis=0), finite.max(axis=0)
    pad_x, pad_y = max(x1 - x0, 1.0) * 0.15, max(y1 - y0, 1.0) * 0.15
    gx, gy = np.meshgrid(np.linspace(x0 - pad_x, x1 + pad_x, 200), np.linspace(y0 - pad_y, y1 + pad_y, 200))
    gz = surface(np.stack([gx, gy]))[0]
    columns = min(len(walks), 4)
    rows = -(-len(walks) // columns)
    fig, axes = new_figure(rows, columns, (3.4, 2.8), sharex=True, sharey=True)
    for ax, (name, walk) in zip(axes.flat, walks.items()):
        ax.contour(gx, gy, gz, levels=20, colors="0.75", linewidths=0.7)
        # The contours' frame, fixed before the walk is drawn: a walk that leaves it leaves the panel.
        ax.set(xlim=(gx[0, 0], gx[0, -1]), ylim=(gy[0, 0], gy[-1, 0]))
        ax.plot(walk[:, 0], walk[:, 1], "o-", color="tab:red", markersize=2.5, linewidth=1)
        ax.set_title(f"{name}\nf = {walk[-1, 2]:.3g} after {len(walk) - 1} steps", fontsize=9)
    for ax in list(axes.flat)[len(walks) :]:
        ax.axis("off")
    fig.suptitle(title)
    return save_figure(fig, out)
