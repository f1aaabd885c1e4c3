"""Runs that differ only in seed, grouped: mean ± std and a 95% interval; paired differences."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest

from dnnexp.errors import DnnexpError
from dnnexp.runs.compare import compare_runs
from dnnexp.runs.groups import group_runs, grouped_frame, interval, paired_frame, t975
from dnnexp.runs.rundir import RunDir


@pytest.mark.parametrize("dof, t", [(1, 12.706), (2, 4.303), (9, 2.262), (30, 2.042), (40, 2.021), (120, 1.980), (10**6, 1.960)])
def test_t_quantiles_match_the_tables(dof, t):
    assert t975(dof) == pytest.approx(t, abs=1e-3)


def test_an_interval_is_the_mean_the_sample_std_and_t_times_the_standard_error():
    mean, std, half, n = interval([1.0, 2.0, 3.0, float("nan")])
    assert (mean, std, n) == (2.0, 1.0, 3)
    assert half == pytest.approx(4.303 / math.sqrt(3), abs=1e-3)
    assert math.isnan(interval([5.0])[1])


def seeds_of(make_run, lr, speeds, name="mlp"):
    return [RunDir(make_run(name, {"optimizer.lr": lr, "seed": seed}, speed=speed)) for seed, speed in enumerate(speeds)]


def test_runs_differing_only_in_seed_form_one_group(make_run):
    runs = seeds_of(make_run, 0.01, [0.3, 0.4, 0.5]) + seeds_of(make_run, 0.1, [0.6, 0.7])
    groups = group_runs(runs)
    assert [len(g.runs) for g in groups] == [3, 2] and groups[0].seeds == [0, 1, 2]
    frame = grouped_frame(compare_runs(runs), groups)
    assert list(frame["n"]) == [3, 2] and list(frame["optimizer.lr"]) == [0.01, 0.1] and "seed" not in frame
    finals = [RunDir(r.path).metrics()["val_acc"].iloc[-1] for r in runs[:3]]
    assert frame["final_val_acc"][0] == pytest.approx(np.mean(finals))
    assert frame["final_val_acc_std"][0] == pytest.approx(np.std(finals, ddof=1))
    assert frame["final_val_acc_ci95"][0] == pytest.approx(4.303 * np.std(finals, ddof=1) / math.sqrt(3), rel=1e-3)
    assert "epochs_std" not in frame  # counts get a mean, not an interval


def test_compare_shows_groups_unless_told_not_to(cli, make_run, tmp_path):
    seeds_of(make_run, 0.01, [0.3, 0.4, 0.5])
    seeds_of(make_run, 0.1, [0.6, 0.7])
    grouped = cli("compare", tmp_path / "runs", "--format", "markdown")
    assert grouped.exit_code == 0, grouped.output
    assert grouped.output.count("\n| mlp | ") == 2 and " ± " in grouped.output and "| 0,1,2 |" in grouped.output
    every = cli("compare", tmp_path / "runs", "--format", "csv", "--no-group")
    assert len(pd.read_csv(io.StringIO(every.output))) == 5
    numbers = pd.read_csv(io.StringIO(cli("compare", tmp_path / "runs", "--format", "csv").output))
    assert {"final_val_acc_std", "final_val_acc_ci95", "n"} <= set(numbers.columns)


def test_paired_differences_are_taken_seed_by_seed(make_run, cli, tmp_path):
    a = seeds_of(make_run, 0.01, [0.3, 0.4, 0.5])
    b = seeds_of(make_run, 0.1, [0.35, 0.5, 0.5])
    frame = paired_frame(compare_runs(a + b), *group_runs(a + b))
    row = frame.set_index("result").loc["final_val_acc"]
    diffs = [RunDir(y.path).metrics()["val_acc"].iloc[-1] - RunDir(x.path).metrics()["val_acc"].iloc[-1] for x, y in zip(a, b)]
    assert row["n"] == 3 and row["B-A"] == pytest.approx(np.mean(diffs))
    half = 4.303 * np.std(diffs, ddof=1) / math.sqrt(3)
    assert (row["ci95_low"], row["ci95_high"]) == pytest.approx((np.mean(diffs) - half, np.mean(diffs) + half), rel=1e-3)
    assert "optimizer.lr" not in set(frame["result"])
    result = cli("compare", "--paired", *(r.path for r in a + b), "--format", "csv")
    assert result.exit_code == 0 and "final_val_acc" in result.output


def test_paired_needs_two_groups_with_common_seeds(make_run, cli, tmp_path):
    a = seeds_of(make_run, 0.01, [0.3])
    b = [RunDir(make_run("mlp", {"optimizer.lr": 0.1, "seed": 5}))]
    with pytest.raises(DnnexpError, match="share no seed"):
        paired_frame(compare_runs(a + b), *group_runs(a + b))
    seeds_of(make_run, 0.2, [0.3])
    result = cli("compare", "--paired", tmp_path / "runs")
    assert result.exit_code == 2 and "these runs form 3" in result.output
