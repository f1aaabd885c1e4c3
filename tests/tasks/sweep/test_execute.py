"""Running a sweep: trials in worker processes, one folder each; Ctrl-C and --resume; diverged
trials as results and failed ones in the exit code."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

from dnnexp.runs.rundir import RunDir
from tests.tasks.conftest import without_times
from tests.tasks.sweep.conftest import sweep_folders, trial_folders

ROOT = Path(__file__).resolve().parents[3]
#: a trial long enough to be caught in the middle: 40 epochs of 3,000 samples, a checkpoint each
SLOW = {"data": {"name": "blobs", "classes": 3, "n": 3000, "n_test": 60, "validation": 60}, "train": {"epochs": 40, "batch_size": 32}}


def test_a_sweep_runs_every_trial_into_its_folder_and_compares_them(cli, write_sweep, runs_dir):
    path = write_sweep(grid={"optimizer.lr": [0.1, 0.01]}, seeds=[0, 1], workers=2)
    result = cli("sweep", path, "--runs-dir", runs_dir, "--set", "train.epochs=2")
    assert result.exit_code == 0, result.output
    (sweep,) = sweep_folders(runs_dir)
    trials = trial_folders(sweep)
    assert [t.name for t in trials] == ["0-spec-lr_0.1-seed_0", "1-spec-lr_0.1-seed_1", "2-spec-lr_0.01-seed_0", "3-spec-lr_0.01-seed_1"]
    assert all(RunDir(t).summary()["status"] == "completed" and RunDir(t).config()["train"]["epochs"] == 2 for t in trials)
    recorded = yaml.safe_load((sweep / "sweep.yaml").read_text())
    assert [t["folder"] for t in recorded["trials"]] == [t.name for t in trials]
    assert RunDir(sweep).summary()["status"] == "completed"
    table = (sweep / "comparison.md").read_text()
    assert "grouped over seeds" in table and table.count("| blobs | 2 | 0,1 |") == 2
    assert (sweep / "comparison.png").stat().st_size > 0


def test_dry_run_lists_the_trials_and_trains_nothing(cli, write_sweep, runs_dir):
    result = cli("sweep", write_sweep(seeds="0-2"), "--runs-dir", runs_dir, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "3 trials" in result.output and "seed=2" in result.output
    assert not runs_dir.exists()


def test_a_bad_sweep_exits_2_and_leaves_no_folder(cli, write_sweep, runs_dir):
    result = cli("sweep", write_sweep(grid={"optimizer.lr": []}), "--runs-dir", runs_dir)
    assert result.exit_code == 2 and "the list of values is empty" in result.output
    assert not runs_dir.exists()


def test_a_diverged_trial_is_a_result_and_a_failed_one_sets_the_exit_code(cli, write_sweep, runs_dir):
    path = write_sweep(grid={"optimizer.lr": [0.01, 1e30]}, workers=1)
    result = cli("sweep", path, "--runs-dir", runs_dir, "--set", "train.epochs=2")
    assert result.exit_code == 0, result.output
    statuses = [RunDir(t).summary()["status"] for t in trial_folders(sweep_folders(runs_dir)[0])]
    assert statuses == ["completed", "diverged"]
    # 250 training samples: a batch of 300 passes the schema and fails when the data is loaded.
    path = write_sweep(grid={"train.batch_size": [32, 300]}, workers=1)
    result = cli("sweep", path, "--runs-dir", runs_dir / "2", "--set", "train.epochs=1")
    assert result.exit_code == 1, result.output
    assert "1 trial(s) failed" in result.output and "batch_size" in result.output
    # The failed trial failed before its folder was made: a spec that cannot run leaves none.
    assert [t.name for t in trial_folders(sweep_folders(runs_dir / "2")[0])] == ["0-spec-batch_size_32"]


def test_train_sweep_runs_the_lists_of_its_set_options(cli, write_spec, runs_dir):
    spec = write_spec()
    result = cli("train", spec, "--sweep", "--set", "optimizer.lr=0.1,0.01", "--set", "train.epochs=1", "--seeds", "0-1", "--runs-dir", runs_dir, "--quiet")
    assert result.exit_code == 0, result.output
    assert len(trial_folders(sweep_folders(runs_dir)[0])) == 4


def _metrics(folder: Path) -> pd.DataFrame:
    return without_times(RunDir(folder).metrics())


def test_ctrl_c_stops_every_worker_cleanly_and_resume_ends_as_an_uninterrupted_sweep(cli, write_sweep, tmp_path):
    path = write_sweep(spec_changes=SLOW, seeds=[0, 1, 2], workers=2)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "dnnexp", "sweep", str(path), "--runs-dir", str(tmp_path / "cut"), "--quiet"]
    process = subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while not list((tmp_path / "cut").glob("*/*/checkpoint.npz")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)  # as a terminal does: the sweep and its workers
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    (sweep,) = sweep_folders(tmp_path / "cut")
    before = {t.name: RunDir(t).summary().get("status") for t in trial_folders(sweep)}
    assert "interrupted" in before.values(), before
    assert RunDir(sweep).summary()["status"] == "interrupted"

    result = cli("sweep", "--resume", sweep, "--quiet")
    assert result.exit_code == 0, result.output
    assert cli("sweep", path, "--runs-dir", tmp_path / "whole", "--quiet").exit_code == 0
    (whole,) = sweep_folders(tmp_path / "whole")
    assert [t.name for t in trial_folders(sweep)] == [t.name for t in trial_folders(whole)]
    for cut, uncut in zip(trial_folders(sweep), trial_folders(whole)):
        assert RunDir(cut).summary()["status"] == "completed"
        pd.testing.assert_frame_equal(_metrics(cut), _metrics(uncut))
    resumed = [t for t in trial_folders(sweep) if RunDir(t).summary()["resumes"] == 1]
    assert resumed, "no trial was continued from its checkpoint"


def test_a_metric_no_trial_logs_is_said_in_the_comparison(cli, write_sweep, runs_dir):
    path = write_sweep(grid={"optimizer.lr": [0.1, 0.01]}, metric="val_nosuch", workers=1)
    result = cli("sweep", path, "--runs-dir", runs_dir, "--quiet", "--set", "train.epochs=1")
    assert result.exit_code == 0, result.output
    (sweep,) = sweep_folders(runs_dir)
    assert "not sorted: no trial logs the sweep's metric 'val_nosuch'" in (sweep / "comparison.md").read_text()
