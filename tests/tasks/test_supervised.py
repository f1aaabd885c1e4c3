"""The supervised task from a spec to a run folder: resume bit for bit, interruption, divergence,
summary.json and its provenance, random streams."""

from __future__ import annotations

import errno
import math
import os
import platform
import signal
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import dnnexp
from dnnexp.errors import RunDirError
from dnnexp.runs.lifecycle import EXIT_CODES
from dnnexp.runs import rundir
from dnnexp.runs.rundir import MetricsLog, RunDir, write_atomically
from dnnexp.tasks import load_spec, spec_from_dict
from dnnexp.tasks.supervised import CHECKPOINT, SupervisedTask
from dnnexp.train.callbacks import Callback
from dnnexp.train.trainer import Trainer
from tests.runs.test_rundir import FullDisk
from tests.tasks.conftest import StopAfterEpoch, StopAt, interrupted_run, resolved, train, without_times


def resumable(spec: dict[str, Any]) -> dict[str, Any]:
    """`spec` (with dropout, Adam and a validation split) plus batch normalization and a step
    schedule: every kind of state a resume must carry. Its 240 training samples are evaluated
    after each epoch through a fixed sample of 60 (as many as validation holds), so metrics.csv's
    train_loss and train_acc check that the sample, too, is the same after a resume."""
    first, *rest = spec["model"]["layers"]
    return {
        **spec,
        "model": {"input_shape": [2], "layers": [first, {"type": "batchnorm"}, *rest]},
        "schedule": {"name": "step", "step_size": 1, "gamma": 0.5},
    }


# Changes to `resumable`, each with the epochs its uninterrupted run completes: early stopping
# (patience 1) ends the second after epoch 3, so a resume that forgot its state would run on.
VARIANTS = {
    "dropout-batchnorm-adam": ({}, 4),
    "early-stopping-plateau-layer-stats": (
        {
            "train": {
                "epochs": 6, "batch_size": 32, "checkpoint_every": 1,
                "early_stopping": {"monitor": "val_loss", "patience": 1, "min_delta": 0.03},
                "reduce_lr_on_plateau": {"monitor": "val_acc", "patience": 1},
            },
            "logging": {"layer_stats": True},
        },
        3,
    ),
}

# 8 optimizer steps an epoch
INTERRUPTS = {
    "mid-epoch": StopAt(19),
    "ctrl-c-mid-epoch": StopAt(19, sigint=True),
    "at-an-epoch-end": StopAfterEpoch(2),
    "after-an-epoch-last-batch": StopAt(16),
    "in-the-first-epoch": StopAt(3),
}


@pytest.mark.parametrize("interrupt", INTERRUPTS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_a_resumed_run_ends_exactly_as_an_uninterrupted_one(blobs_spec, runs_dir, extra_callbacks, variant, interrupt):
    changes, epochs = VARIANTS[variant]
    config = resolved(resumable(blobs_spec), **changes)
    whole, _ = train(config, runs_dir / "whole")
    cut = interrupted_run(config, runs_dir / "cut", extra_callbacks, INTERRUPTS[interrupt])
    resumed, outcome = train(config, runs_dir, resume=RunDir.open(cut.path))
    assert resumed.path == cut.path and (outcome.status, outcome.exit_code) == ("completed", 0)
    expected, got = whole.summary(), resumed.summary()
    assert got["epochs_completed"] == expected["epochs_completed"] == epochs
    for key in ("status", "message", "exit_code", "steps", "best", "test"):
        assert got[key] == expected[key], key
    for filename in (CHECKPOINT, "activations.npz"):
        arrays = whole.load_npz(filename) if whole.has(filename) else {}
        resumed_arrays = resumed.load_npz(filename) if resumed.has(filename) else {}
        assert sorted(resumed_arrays) == sorted(arrays)
        assert [key for key in arrays if not np.array_equal(arrays[key], resumed_arrays[key])] == []
    for filename in ("metrics.csv", "layer_stats.csv"):
        expected_rows, rows = without_times(whole.table(filename)), without_times(resumed.table(filename))
        pd.testing.assert_frame_equal(rows, expected_rows, check_exact=True)


def test_an_interrupted_run_keeps_whole_rows_and_a_checkpoint(blobs_spec, runs_dir, extra_callbacks):
    run = interrupted_run(resolved(blobs_spec), runs_dir, extra_callbacks, StopAt(19, sigint=True))
    summary = run.summary()
    assert (summary["status"], summary["exit_code"], summary["epochs_completed"]) == ("interrupted", 130, 2)
    assert "--resume" in summary["message"] and set(summary["test"]) == {"loss", "acc"}
    text = run.file("metrics.csv").read_text()
    header, *rows = text.splitlines()
    assert text.endswith("\n") and len(rows) == 2
    assert all(len(row.split(",")) == len(header.split(",")) and "" not in row.split(",") for row in rows)
    checkpoint = run.load_npz(CHECKPOINT)
    assert [int(checkpoint[f"state/{key}"]) for key in ("epoch", "batch", "step")] == [2, 3, 19]


def test_the_cli_exits_130_when_ctrl_c_stops_a_run(cli, write_spec, runs_dir, extra_callbacks):
    extra_callbacks.append(StopAt(3, sigint=True))
    result = cli("train", write_spec(), "--runs-dir", runs_dir, "--quiet")
    assert result.exit_code == EXIT_CODES["interrupted"] == 130, result.output
    assert "interrupted" in result.output and "--resume" in result.output
    (run,) = runs_dir.iterdir()
    summary = RunDir(run).summary()
    assert (summary["status"], summary["exit_code"]) == ("interrupted", 130) and RunDir(run).has(CHECKPOINT)


@pytest.mark.parametrize("number, told", [(signal.SIGINT, "interrupted by Ctrl-C"), (signal.SIGTERM, "stopped by SIGTERM")])
@pytest.mark.parametrize("variant", VARIANTS)
def test_a_signal_during_the_test_evaluation_leaves_a_run_that_resume_evaluates(
    cli, write_spec, blobs_spec, runs_dir, monkeypatch, variant, number, told
):
    """Outside the training loop a signal used to end the process without a summary. Now the run
    is `interrupted`, its checkpoint kept; a resume trains no further (not even an early-stopped
    run) and only evaluates the test set; a resume of the finished run is told there is nothing to do."""
    changes, epochs = VARIANTS[variant]
    config = resolved(resumable(blobs_spec), **changes)
    whole, _ = train(config, runs_dir / "whole")
    evaluate = Trainer.evaluate

    def signalled(self, split, prefix):
        if prefix == "test":
            signal.raise_signal(number)
        return evaluate(self, split, prefix)

    monkeypatch.setattr(Trainer, "evaluate", signalled)
    result = cli("train", write_spec(config), "--runs-dir", runs_dir / "cut", "--quiet")
    assert result.exit_code == 130, result.output
    assert f"{told} during the final test evaluation" in result.output
    (cut,) = map(RunDir, (runs_dir / "cut").iterdir())
    summary = cut.summary()
    assert (summary["status"], summary["exit_code"], summary["test"]) == ("interrupted", 130, None)
    assert cut.has(CHECKPOINT) and summary["epochs_completed"] == epochs
    monkeypatch.undo()
    result = cli("train", "--resume", cut.path, "--quiet")
    assert result.exit_code == 0, result.output
    resumed = cut.summary()
    assert resumed["status"] == "completed" and resumed["epochs_completed"] == epochs
    assert resumed["test"] == whole.summary()["test"] and resumed["message"] == whole.summary()["message"]
    pd.testing.assert_frame_equal(without_times(cut.metrics()), without_times(whole.metrics()), check_exact=True)
    result = cli("train", "--resume", cut.path, "--quiet")
    assert result.exit_code == 0 and "has finished" in result.output and "nothing to resume" in result.output
    assert cut.summary() == resumed


def test_a_second_ctrl_c_ends_the_run_at_once_with_its_summary_and_closing_line(cli, write_spec, runs_dir, extra_callbacks):
    extra_callbacks.append(StopAt(3, sigint=True))
    extra_callbacks.append(StopAt(3, sigint=True))
    result = cli("train", write_spec(), "--runs-dir", runs_dir, "--quiet")
    assert result.exit_code == 130, result.output
    (run,) = map(RunDir, runs_dir.iterdir())
    assert f"interrupted: {run.path}" in result.output and "stopped at once by a second Ctrl-C" in result.output
    summary = run.summary()
    assert (summary["status"], summary["exit_code"]) == ("interrupted", 130) and not run.has(CHECKPOINT)


def test_resuming_a_run_without_a_checkpoint_is_refused(blobs_spec, runs_dir):
    run, _ = train(resolved(blobs_spec), runs_dir)
    run.file(CHECKPOINT).unlink()
    summary = run.summary()
    with pytest.raises(RunDirError, match=f"{run.path} has no checkpoint.npz to resume from; start a new run"):
        train(resolved(blobs_spec), runs_dir, resume=run)
    assert run.summary() == summary  # refused before the run folder was touched


class Poison(Callback):
    """After optimizer step `step`, turns every training input into NaN; keeps the weights of that
    moment and of the run's end."""

    def __init__(self, step: int):
        self.step = step

    def on_batch_end(self, trainer):
        if trainer.state.step == self.step:
            trainer.data.train.x[...] = np.nan
            self.poisoned = {key: value.copy() for key, value in trainer.model.params.items()}

    def on_train_end(self, trainer):
        self.final = trainer.model.params


def test_a_nan_loss_ends_the_run_as_diverged_before_any_update(blobs_spec, runs_dir, extra_callbacks):
    poison = Poison(step=11)
    extra_callbacks.append(poison)
    run, outcome = train(resolved(blobs_spec), runs_dir)
    assert (outcome.status, outcome.exit_code, outcome.results["steps"]) == ("diverged", 3, 11)
    summary = run.summary()
    assert summary["status"] == "diverged" and "epoch 2, step 12" in summary["message"] and summary["test"] is None
    assert (summary["exit_code"], summary["steps"]) == (3, 11)
    assert list(run.metrics()["epoch"]) == [1]
    for key, value in poison.poisoned.items():
        np.testing.assert_array_equal(poison.final[key], value)
        assert np.isfinite(value).all()
    checkpoint = run.load_npz(CHECKPOINT)
    assert int(checkpoint["state/epoch"]) == 1
    assert all(np.isfinite(value).all() for key, value in checkpoint.items() if key.startswith("model/"))


LINEAR_REGRESSION = Path(__file__).parents[2] / "configs/day1/linear_regression.yaml"
# The course's "too large a learning rate diverges": at lr 3 each step multiplies the error by
# about 4, and the loss grows towards 10³⁰ without ever reaching inf.
TOO_LARGE_A_RATE = ("--set", "optimizer.lr=3", "--set", "train.batch_size=160")


def test_a_loss_that_explodes_below_inf_ends_the_run_as_diverged(cli, runs_dir):
    result = cli("train", LINEAR_REGRESSION, *TOO_LARGE_A_RATE, "--runs-dir", runs_dir, "--quiet")
    assert result.exit_code == EXIT_CODES["diverged"] == 3, result.output
    (folder,) = runs_dir.iterdir()
    summary = RunDir(folder).summary()
    assert (summary["status"], summary["exit_code"], summary["test"]) == ("diverged", 3, None)
    assert summary["message"].startswith("the loss became ")
    assert "over 10000 × the first batch's loss 1.375 (train.divergence.factor) at epoch 8, step 8; lower the learning rate" in summary["message"]
    assert summary["message"] in " ".join(result.output.split())
    assert len(RunDir(folder).metrics()) == 7


def test_without_the_range_check_the_exploding_run_completes(cli, runs_dir):
    result = cli("train", LINEAR_REGRESSION, *TOO_LARGE_A_RATE, "--set", "train.divergence=null", "--runs-dir", runs_dir, "--quiet")
    assert result.exit_code == 0, result.output
    (folder,) = runs_dir.iterdir()
    assert 1e25 < RunDir(folder).summary()["test"]["loss"] < math.inf


def test_summary_json_records_status_metrics_and_provenance(blobs_spec, runs_dir):
    run, _ = train(resolved(blobs_spec), runs_dir)
    summary, metrics = run.summary(), run.metrics()
    assert (summary["status"], summary["epochs_completed"], summary["seed"]) == ("completed", 4, 0)
    assert summary["final"] == pytest.approx(metrics.iloc[-1].to_dict())
    best = summary["best"]
    assert best["val_acc"] == metrics["val_acc"].max() and best["val_loss"] == metrics["val_loss"].min()
    assert best["epoch"] == metrics.loc[metrics["val_loss"].idxmin(), "epoch"]
    assert set(summary["test"]) == {"loss", "acc"} and 0.0 <= summary["test"]["acc"] <= 1.0
    versions = {"python": platform.python_version(), "numpy": np.__version__, "dnnexp": dnnexp.__version__}
    assert summary["versions"] == versions
    assert "git_commit" in summary and summary["wall_time_s"] > 0


def test_summary_json_records_the_kind_times_overrides_exit_code_and_source_tree(write_spec, runs_dir, extra_callbacks):
    overrides = ["train.epochs=3", "optimizer.lr=0.02"]
    spec = load_spec(write_spec(), overrides)
    config = spec.resolved()
    assert (config["train"]["epochs"], config["optimizer"]["lr"]) == (3, 0.02)
    extra_callbacks.append(StopAt(3))
    run, _ = train(config, runs_dir, overrides=overrides)
    extra_callbacks.clear()
    first = run.summary()
    assert (first["kind"], first["name"], first["status"], first["exit_code"]) == ("supervised", "blobs", "interrupted", 130)
    assert first["overrides"] == overrides and first["resumes"] == 0
    assert first["git_dirty"] is None or isinstance(first["git_dirty"], bool)
    assert first["git_commit"] is None or isinstance(first["git_commit"], str)
    assert (first["git_dirty"] is None) == (first["git_commit"] is None)
    started, ended = datetime.fromisoformat(first["started_at"]), datetime.fromisoformat(first["ended_at"])
    assert started.tzinfo is not None and started <= ended

    resumed, outcome = train(config, runs_dir, resume=run)
    summary = resumed.summary()
    assert (summary["kind"], summary["status"], summary["exit_code"], outcome.exit_code) == ("supervised", "completed", 0, 0)
    assert summary["epochs_completed"] == 3 and summary["resumes"] == 1
    assert summary["overrides"] == overrides  # as the run was started, not as it was resumed
    assert summary["started_at"] == first["started_at"]  # the run's first start
    assert ended <= datetime.fromisoformat(summary["ended_at"])
    assert summary["git_dirty"] is None or isinstance(summary["git_dirty"], bool)


def test_wall_time_adds_up_over_a_resume(blobs_spec, runs_dir, extra_callbacks):
    run = interrupted_run(resolved(blobs_spec), runs_dir, extra_callbacks, StopAt(3))
    run.write_json("summary.json", {**run.summary(), "wall_time_s": 1000.0})
    resumed, _ = train(resolved(blobs_spec), runs_dir, resume=run)
    assert 1000.0 < resumed.summary()["wall_time_s"] < 1100.0


def batches_seen(config: dict[str, Any]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The validation inputs of a run of `config`, and the sample indices of its mini-batches in order."""
    trainer = SupervisedTask().prepare(spec_from_dict(config)).trainer
    data = trainer.data
    seen: list[np.ndarray] = []
    batch = data.train.batch
    data.train.batch = lambda index: (seen.append(index), batch(index))[1]
    trainer.fit()
    return data.val.x, seen


def test_the_seed_alone_fixes_the_split_and_the_batches_whatever_the_model(blobs_spec):
    val, batches = batches_seen(resolved(blobs_spec))
    dense, dropout, output = blobs_spec["model"]["layers"]
    wider = {"input_shape": [2], "layers": [{**dense, "units": 64}, {**dropout, "rate": 0.5}, output]}
    other_val, other_batches = batches_seen(resolved(blobs_spec, model=wider))
    np.testing.assert_array_equal(other_val, val)
    assert len(other_batches) == len(batches) and all(map(np.array_equal, other_batches, batches))
    _, reseeded = batches_seen(resolved(blobs_spec, seed=1))
    assert not np.array_equal(reseeded[0], batches[0])


RECURRENT_SPEC: dict[str, Any] = {
    "name": "rnn",
    "data": {"name": "sine_wave", "steps": 6, "n": 128, "n_test": 32, "validation": 32},
    "model": {"input_shape": [6, 1], "layers": [
        {"type": "bidirectional", "layer": {"type": "gru", "units": 4, "return_sequences": True}},
        {"type": "lstm", "units": 4, "peephole": True},
        {"type": "dense", "units": 1},
    ]},
    "loss": "mse",
    "optimizer": {"name": "adam", "lr": 0.01},
    "train": {"epochs": 3, "batch_size": 16},
    "logging": {"time_grads": True},
}


def test_a_recurrent_run_with_time_grads_resumes_exactly(runs_dir, extra_callbacks):
    config = resolved(RECURRENT_SPEC)
    whole, _ = train(config, runs_dir / "whole")
    cut = interrupted_run(config, runs_dir / "cut", extra_callbacks, StopAt(10))
    resumed, outcome = train(config, runs_dir, resume=RunDir.open(cut.path))
    assert outcome.status == "completed" and resumed.summary()["test"] == whole.summary()["test"]
    for filename in ("metrics.csv", "time_grads.csv"):
        pd.testing.assert_frame_equal(without_times(resumed.table(filename)), without_times(whole.table(filename)), check_exact=True)
    assert len(whole.table("time_grads.csv")) == 3 * 3 * 6  # epochs × recurrent layers × steps


def test_the_day4_simple_rnn_adds_held_out_binary_numbers_exactly():
    """configs/day4/simple_rnn_binary_addition.yaml as it is: 100% exact-sum accuracy on the
    1,000 held-out pairs after its 8 epochs."""
    spec = load_spec(Path(dnnexp.__file__).parents[1] / "configs/day4/simple_rnn_binary_addition.yaml")
    trainer = SupervisedTask().prepare(spec).trainer
    state = trainer.fit()
    assert state.status == "completed"
    assert trainer.evaluate(trainer.data.test, "test")["test_acc"] == 1.0 and len(trainer.data.test) == 1000


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_disk_that_fills_mid_run_fails_it_with_one_message_and_whole_files(cli, write_spec, runs_dir, monkeypatch):
    """The second epoch's row and checkpoint meet a full disk (a write that raises ENOSPC): the
    run ends `failed` with one message, exit code 1, metrics.csv holds whole rows and the first
    epoch's checkpoint is intact, with no temp file left."""
    open_log = MetricsLog._open
    monkeypatch.setattr(MetricsLog, "_open", lambda log: FullDisk(open_log(log), writes=1))
    result = cli("train", write_spec(), "--runs-dir", runs_dir, "--quiet")
    assert result.exit_code == 1, result.output
    assert "metrics.csv (No space left on device): the disk is full; free some space" in result.output
    assert "Traceback" not in result.output
    (run,) = map(RunDir, runs_dir.iterdir())
    summary = run.summary()
    assert summary["status"] == "failed" and "the disk is full" in summary["message"] and summary["exit_code"] == 1
    assert len(run.metrics()) == 1 and int(run.load_npz(CHECKPOINT)["state/epoch"]) == 1
    assert [p.name for p in run.path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_full_disk_that_refuses_the_summary_too_is_told_both(cli, write_spec, runs_dir, monkeypatch):
    monkeypatch.setattr(rundir.np, "savez", no_space)  # the checkpoint meets the full disk first
    write_json = RunDir.write_json
    monkeypatch.setattr(RunDir, "write_json", lambda run, name, obj: write_atomically(run.file(name), no_space))
    result = cli("train", write_spec(), "--runs-dir", runs_dir, "--quiet")
    monkeypatch.setattr(RunDir, "write_json", write_json)
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert text.count("the disk is full") == 2 and "checkpoint.npz" in text and "summary.json" in text
    (run,) = runs_dir.iterdir()
    assert sorted(p.name for p in run.iterdir()) == ["config.yaml", "metrics.csv"]


def test_a_disk_that_refuses_config_yaml_leaves_no_folder(cli, write_spec, runs_dir, monkeypatch):
    spec = write_spec()
    monkeypatch.setattr(RunDir, "write_yaml", lambda run, name, mapping: write_atomically(run.file(name), no_space))
    result = cli("train", spec, "--runs-dir", runs_dir, "--quiet")
    assert result.exit_code == 1 and "config.yaml (No space left on device): the disk is full" in result.output
    assert list(runs_dir.iterdir()) == []


def test_runs_dir_under_a_file_is_one_message_and_no_folder(cli, write_spec, tmp_path):
    (tmp_path / "file").write_text("x")
    result = cli("train", write_spec(), "--runs-dir", tmp_path / "file" / "runs", "--quiet")
    assert result.exit_code == 2 and "a part of the path is a file, not a folder" in result.output, result.output
    assert "Traceback" not in result.output and (tmp_path / "file").read_text() == "x"


def test_a_resume_removes_the_temp_file_a_kill_mid_checkpoint_left(blobs_spec, runs_dir, extra_callbacks):
    run = interrupted_run(resolved(blobs_spec), runs_dir, extra_callbacks, StopAt(3))
    stray = run.file(".checkpoint.npz.0badc0de.tmp")
    stray.write_bytes(b"half a checkpoint")
    train(resolved(blobs_spec), runs_dir, resume=run)
    assert not stray.exists() and run.summary()["status"] == "completed"
