"""Optimizer paths as a task: the same lifecycle as training, resume, and specs it refuses."""

from __future__ import annotations

import pandas as pd
import pytest

from dnnexp.errors import SpecError
from dnnexp.runs.rundir import RunDir
from dnnexp.tasks import spec_from_dict, task_for
from tests.tasks.conftest import train

RAW = {"kind": "optimizer_paths", "name": "paths", "function": "ellipse", "start": [-7.0, 2.0], "steps": 20,
       "optimizers": [{"name": "sgd", "lr": 0.9}, {"name": "adam", "lr": 0.3}]}


def test_paths_run_through_the_lifecycle_and_resume_to_the_same_walks(runs_dir):
    run, outcome = train(RAW, runs_dir)
    assert outcome.status == "completed" and outcome.exit_code == 0
    summary = run.summary()
    assert summary["kind"] == "optimizer_paths" and set(summary["final"]) == {"sgd (lr 0.9)", "adam (lr 0.3)"}
    walks = pd.read_csv(run.file("paths.csv"))
    assert len(walks) == 2 * 21 and run.has("paths.png")
    resumed, again = train(RAW, runs_dir, resume=RunDir.open(run.path))
    assert again.status == "completed" and resumed.summary()["resumes"] == 1
    pd.testing.assert_frame_equal(pd.read_csv(resumed.file("paths.csv")), walks)


def test_a_walk_that_leaves_the_finite_numbers_is_diverged(runs_dir):
    run, outcome = train({**RAW, "function": "saddle", "start": [0.5, 0.5], "steps": 2000,
                          "optimizers": [{"name": "sgd", "lr": 0.9}]}, runs_dir)
    assert (outcome.status, outcome.exit_code) == ("diverged", 3)
    assert "sgd (lr 0.9)" in outcome.message


def test_two_optimizers_that_would_draw_under_one_name_are_refused():
    spec = spec_from_dict({**RAW, "optimizers": [{"name": "momentum", "lr": 0.1, "momentum": 0.5},
                                                 {"name": "momentum", "lr": 0.1, "momentum": 0.9}]})
    with pytest.raises(SpecError, match=r"momentum \(lr 0.1\) appears more than once"):
        task_for(spec).prepare(spec)
