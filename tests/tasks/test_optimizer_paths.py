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


@pytest.mark.parametrize("start, told", [
    ("[1e300, 0]", "start[0]: should be less than or equal to 1000000"),
    ("[0, .inf]", "start[1]: .inf is not a finite number"),
    ("[.nan, 0]", "start[0]: .nan is not a finite number"),
])
def test_a_start_that_is_not_a_finite_sane_point_is_refused_before_any_folder(cli, write_spec, runs_dir, start, told):
    """A start of 1e300 crashed the picture and left a folder saying `completed`."""
    result = cli("train", write_spec(RAW), "--set", f"start={start}", "--runs-dir", runs_dir)
    assert result.exit_code == 2 and told in result.output and "Traceback" not in result.output
    assert not runs_dir.exists()


def test_a_walk_that_overflows_is_diverged_and_the_picture_frames_the_others(runs_dir, monkeypatch):
    from dnnexp.plots import paths

    drawn = []
    save = paths.save_figure
    monkeypatch.setattr(paths, "save_figure", lambda fig, out: drawn.append(fig) or save(fig, out))
    raw = {**RAW, "optimizers": [{"name": "sgd", "lr": 1e200}, {"name": "adam", "lr": 0.3}]}
    run, outcome = train(raw, runs_dir)
    assert (outcome.status, outcome.exit_code) == ("diverged", 3) and "sgd (lr 1e+200)" in outcome.message
    assert run.summary()["status"] == "diverged" and run.has("paths.png")
    (fig,) = drawn
    assert all(-10 < low < high < 10 for ax in fig.axes if ax.has_data() for low, high in (ax.get_xlim(), ax.get_ylim()))


def test_plotting_learning_curves_of_a_paths_run_says_where_its_pictures_are(runs_dir, cli):
    run, _ = train(RAW, runs_dir)
    result = cli("plot", run.path)
    assert result.exit_code == 2 and "no metrics.csv, so no learning curves: a run of kind optimizer_paths" in result.output
