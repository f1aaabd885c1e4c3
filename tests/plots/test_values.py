"""The grid world's values: a heatmap, an arrow per cell where one acts, the gap to Q* beside."""

from __future__ import annotations

import numpy as np

from dnnexp.core.agents.dynamic_programming import value_iteration
from dnnexp.data.environments import env_info, grid_layout, make_env
from dnnexp.plots.values import plot_values
from tests.plots.test_returns import grid_run


def test_values_and_arrows_over_the_grid(runs_dir, tmp_path):
    run = grid_run(runs_dir, agent="value_iteration", episodes=10)
    env = make_env("GridWorld-v0")
    q, v, _ = value_iteration(env_info(env).model, 0.9)
    out = plot_values(run, q, grid_layout(env), tmp_path / "values.png")
    assert out.stat().st_size > 10_000


def test_every_cell_gets_an_arrow_but_the_goal_and_the_wall(runs_dir, tmp_path, monkeypatch):
    from dnnexp.plots import values

    drawn = {}
    monkeypatch.setattr(values, "save_figure", lambda fig, out: drawn.setdefault("fig", fig) and out)
    run = grid_run(runs_dir, agent="value_iteration", episodes=10)
    env = make_env("GridWorld-v0")
    plot_values(run, np.zeros((12, 4)), grid_layout(env), tmp_path / "v.png")
    heatmap = drawn["fig"].axes[0]
    arrows = [child for child in heatmap.texts if getattr(child, "arrow_patch", None) is not None]
    assert len(arrows) == 12 - 2
    assert len(drawn["fig"].axes) == 3  # the heatmap, its colour bar, and the gap to Q* over training
