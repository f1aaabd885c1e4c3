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


def test_a_group_whose_runs_all_diverged_before_an_epoch_ended_keeps_its_legend_entry(make_run):
    """Batch norm off with weights of std 1 diverges in its first epoch: no rows, yet the group stays."""
    runs = [RunDir(make_run("bn_on", {"seed": seed}, epochs=3)) for seed in range(2)]
    for seed in range(2):
        diverged = RunDir(make_run("bn_off", {"seed": seed, "optimizer.lr": 9.0}, epochs=1, status="diverged"))
        metrics = diverged.file("metrics.csv")
        metrics.write_text(metrics.read_text().splitlines()[0] + "\n")  # the header alone: no epoch ended
        runs.append(diverged)
    fig = group_curves_figure(group_runs(runs))
    labels = [text.get_text() for legend in fig.legends for text in legend.get_texts()]
    assert any(label.endswith("(n=2, 2 diverged)") for label in labels), labels
    assert "mean ± std over seeds" in fig._suptitle.get_text()
