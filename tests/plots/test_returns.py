"""Return curves of RL runs: one run, runs overlaid, seeds grouped with a band; no mixing with epochs."""

from __future__ import annotations

import pytest

from dnnexp.errors import RunDirError
from dnnexp.plots.curves import plot_curves
from dnnexp.plots.groups import plot_group_curves
from dnnexp.plots.returns import returns_figure, window
from dnnexp.runs.groups import group_runs
from dnnexp.runs.rundir import RunDir
from tests.tasks.conftest import train


def grid_run(runs_dir, seed=0, agent="q_learning", episodes=30):
    config = {"name": agent, "kind": "rl", "seed": seed, "env": "GridWorld-v0",
              "agent": {"kind": agent, "gamma": 0.9} if agent == "value_iteration" else {"kind": agent, "epsilon": 0.5},
              "train": {"episodes": episodes}, "evaluation": {"every": 10, "episodes": 1}}
    return train(config, runs_dir)[0]


def panel_titles(fig):
    return [ax.get_title() for ax in fig.axes if ax.axison]


def test_one_run_gets_return_greedy_return_error_and_loss_panels(runs_dir):
    fig = returns_figure([("q", [grid_run(runs_dir)])], "title")
    # 30 episodes: a window of 1, no moving mean to speak of
    assert panel_titles(fig) == ["return", "greedy policy's return", "max |Q − Q*|", "loss"]


def test_seeds_are_one_curve_with_a_band(runs_dir, tmp_path):
    runs = [grid_run(runs_dir, seed) for seed in range(3)] + [grid_run(runs_dir, seed, "sarsa") for seed in range(3)]
    groups = group_runs(runs)
    assert len(groups) == 2
    out = plot_group_curves(groups, tmp_path / "groups.png")
    assert out.stat().st_size > 10_000
    fig = returns_figure([("q", groups[0].runs)], "t", metric="return")
    (ax,) = [ax for ax in fig.axes if ax.axison]
    assert len(ax.lines) == 1 and len(ax.collections) == 1  # the mean, and its ± std band


def test_a_picture_of_runs_of_epochs_and_of_episodes_is_refused(runs_dir, tmp_path, write_spec):
    import yaml

    rl_run = grid_run(runs_dir)
    supervised = train(yaml.safe_load(write_spec().read_text()), runs_dir)[0]
    with pytest.raises(RunDirError, match="cannot share a picture"):
        plot_curves([rl_run, supervised], tmp_path / "x.png")


def test_an_unknown_metric_is_named_with_the_choices(runs_dir):
    with pytest.raises(RunDirError, match="--metric: no run has 'val_acc'; choose one of: .*eval_return_mean"):
        returns_figure([("q", [grid_run(runs_dir)])], "t", metric="val_acc")


def test_the_window_is_a_twentieth_of_the_episodes_up_to_100():
    import pandas as pd

    assert window([pd.DataFrame(index=range(500))]) == 25
    assert window([pd.DataFrame(index=range(50_000))]) == 100
    assert window([pd.DataFrame(index=range(10))]) == 1


