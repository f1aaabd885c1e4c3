"""A grid world's values (course Day 4 §2): V(s) = max_a Q(s, a) as a heatmap over the grid with the
greedy policy's action as an arrow in each cell, and beside it how far the learned Q was from the
dynamic-programming optimum Q* at each evaluation (max |Q − Q*|, log scale)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dnnexp.data.environments import GridLayout
from dnnexp.plots import new_figure, save_figure
from dnnexp.runs.rundir import RunDir

#: cells that get no arrow: where an episode ends or no one ever stands
NO_ARROW = "GH#C"


def plot_values(run: RunDir, q: np.ndarray, layout: GridLayout, out: Path) -> Path:
    """Draw `q` (n_states, n_actions) on `layout`'s grid, and the run's q_error curve where it has
    one, into `out`; return `out`."""
    metrics = run.metrics() if run.has("metrics.csv") else None
    gaps = None
    if metrics is not None and "q_error" in metrics.columns:
        gaps = metrics[["episode", "q_error"]].dropna()
    fig, axes = new_figure(1, 2 if gaps is not None and len(gaps) else 1, panel_size=(5.0, 4.0))
    rows, cols = layout.shape
    v = q.max(axis=1).astype(np.float64)
    v[list(layout.blocked)] = np.nan
    grid = v.reshape(rows, cols)
    ax = axes[0, 0]
    image = ax.imshow(grid, cmap="RdYlGn", interpolation="nearest")
    fig.colorbar(image, ax=ax, shrink=0.8, label="V(s) = max_a Q(s, a)")
    greedy = q.argmax(axis=1)
    for state in range(rows * cols):
        r, c = divmod(state, cols)
        mark = layout.marks.get(state, "")
        if mark == "#":
            ax.add_patch(_wall(r, c))
            continue
        text = f"{mark} {v[state]:.3g}".strip() if mark else f"{v[state]:.3g}"
        ax.text(c, r + 0.32, text, ha="center", va="center", fontsize=7 if cols > 6 else 8)
        if mark and mark in NO_ARROW:
            continue
        dr, dc = layout.moves[greedy[state]]
        ax.annotate("", xy=(c + 0.3 * dc, r + 0.3 * dr - 0.08), xytext=(c - 0.3 * dc, r - 0.3 * dr - 0.08),
                    arrowprops={"arrowstyle": "->", "lw": 1.4})
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    ax.set_title("V(s) and the greedy action", fontsize="medium")
    if gaps is not None and len(gaps):
        gap = axes[0, 1]
        gap.plot(gaps["episode"], gaps["q_error"], marker="o", markersize=3)
        if (gaps["q_error"] > 0).all():
            gap.set_yscale("log")
        gap.set_xlabel("episode")
        gap.set_title("max |Q − Q*| (Q* by value iteration)", fontsize="medium")
        gap.grid(alpha=0.3)
    fig.suptitle(run.name)
    return save_figure(fig, out)


def _wall(row: int, col: int):
    from matplotlib.patches import Rectangle

    return Rectangle((col - 0.5, row - 0.5), 1, 1, color="0.3")
