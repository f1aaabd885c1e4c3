"""Grouped learning curves: a mean curve and a ± std band per group."""

from __future__ import annotations

import numpy as np
from matplotlib.collections import PolyCollection

from dnnexp.plots.groups import epoch_statistics, group_curves_figure
from dnnexp.runs.groups import group_runs
from dnnexp.runs.rundir import RunDir


def test_each_group_gets_its_mean_curve_and_band(make_run, cli, tmp_path):
    runs = [RunDir(make_run("mlp", {"optimizer.lr": lr, "seed": seed}, speed=0.3 + 0.1 * seed, epochs=4 + seed))
            for lr in (0.01, 0.1) for seed in range(3)]
    groups = group_runs(runs)
    stats = epoch_statistics(groups[0])
    frames = [run.metrics() for run in runs[:3]]
    assert list(stats["val_acc_n"]) == [3, 3, 3, 3, 2, 1]  # later epochs only some runs reached
    assert stats["val_acc_mean"][0] == np.mean([f["val_acc"][0] for f in frames])
    fig = group_curves_figure(groups)
    loss_panel = fig.axes[0]
    assert len([c for c in loss_panel.collections if isinstance(c, PolyCollection)]) == 2 * 2  # groups × (train, val)
    assert len(loss_panel.lines) == 4
    result = cli("plot", tmp_path / "runs", "-o", tmp_path / "groups.png")
    assert result.exit_code == 0 and (tmp_path / "groups.png").stat().st_size > 0
