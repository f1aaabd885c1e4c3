"""One run's life: provenance, resumes, and a summary left however the run ends."""

from __future__ import annotations

import signal

import pytest

from dnnexp.errors import SpecError
from dnnexp.runs import lifecycle
from dnnexp.runs.lifecycle import EXIT_CODES, Lifecycle, Outcome, finished_message

CONFIG = {"kind": "supervised", "name": "life", "seed": 0}


def test_a_finished_run_records_provenance_and_its_results(tmp_path):
    with Lifecycle.start(tmp_path, CONFIG, ["optimizer.lr=0.1"]) as life:
        log = life.log("metrics.csv", ["epoch", "loss"])
        log.append({"epoch": 1, "loss": 0.5})
        life.finish(Outcome("completed", results={"final": {"loss": 0.5}}))
    summary = life.run.summary()
    assert summary["kind"] == "supervised" and summary["status"] == "completed" and summary["exit_code"] == 0
    assert summary["overrides"] == ["optimizer.lr=0.1"] and summary["resumes"] == 0
    assert summary["final"] == {"loss": 0.5} and summary["started_at"] <= summary["ended_at"]
    assert log._file.closed
    assert life.run.config() == CONFIG


@pytest.mark.parametrize(
    "error, status, code",
    [(KeyboardInterrupt(), "interrupted", 130), (SpecError("model.layers[0]: bad"), "failed", 2), (RuntimeError("bug"), "failed", 1)],
)
def test_an_error_that_escapes_the_task_still_leaves_a_summary(tmp_path, error, status, code):
    with pytest.raises(type(error)), Lifecycle.start(tmp_path, CONFIG) as life:
        log = life.log("metrics.csv", ["epoch"])
        raise error
    summary = life.run.summary()
    assert (summary["status"], summary["exit_code"]) == (status, code)
    assert log._file.closed


def test_a_resume_keeps_the_first_start_counts_resumes_and_keeps_earlier_results_on_failure(tmp_path):
    with Lifecycle.start(tmp_path, CONFIG, ["seed=0"]) as first:
        first.finish(Outcome("interrupted", results={"final": {"loss": 0.7}}))
    run = first.run
    started = run.summary()["started_at"]
    with pytest.raises(RuntimeError), Lifecycle.resume(run, CONFIG) as second:
        raise RuntimeError("disk full")
    summary = run.summary()
    assert summary["resumes"] == 1 and summary["started_at"] == started and summary["overrides"] == ["seed=0"]
    assert summary["status"] == "failed" and summary["final"] == {"loss": 0.7}
    with Lifecycle.resume(run, CONFIG) as third:
        third.finish(Outcome("completed"))
    assert run.summary()["resumes"] == 2 and run.summary()["exit_code"] == EXIT_CODES["completed"]


def test_resuming_an_old_run_records_its_kind_as_resolved_now(tmp_path):
    with Lifecycle.start(tmp_path, {**CONFIG, "kind": "train"}) as first:
        first.finish(Outcome("interrupted"))
    with Lifecycle.resume(first.run, CONFIG) as second:
        second.finish(Outcome("completed"))
    assert first.run.summary()["kind"] == "supervised"


def test_sigterm_while_a_run_is_open_leaves_an_interrupted_summary(tmp_path):
    """SIGTERM would end the process without a word; while a run is open it is an interruption."""
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), Lifecycle.start(tmp_path, CONFIG) as life:
        signal.raise_signal(signal.SIGTERM)
    summary = life.run.summary()
    assert (summary["status"], summary["exit_code"], summary["message"]) == ("interrupted", 130, "stopped by SIGTERM")
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_signal_waits_until_summary_json_is_written(tmp_path, monkeypatch):
    """Ctrl-C while the summary is written would leave none: it comes right after instead."""
    write_json = lifecycle.RunDir.write_json

    def pressed_midway(self, filename, obj):
        signal.raise_signal(signal.SIGINT)
        return write_json(self, filename, obj)

    monkeypatch.setattr(lifecycle.RunDir, "write_json", pressed_midway)
    with pytest.raises(KeyboardInterrupt), Lifecycle.start(tmp_path, CONFIG) as life:
        life.finish(Outcome("completed"))
    assert life.run.summary()["status"] == "completed"


def test_only_a_finished_run_has_nothing_to_resume(tmp_path):
    with Lifecycle.start(tmp_path, CONFIG) as life:
        life.finish(Outcome("interrupted"))
    assert finished_message(life.run, "train.epochs") is None
    with Lifecycle.resume(life.run, CONFIG) as again:
        again.finish(Outcome("completed", "stopped early after epoch 3"))
    assert finished_message(life.run, "train.epochs") == (
        f"{life.run.path} has finished (stopped early after epoch 3); there is nothing to resume. To train longer, "
        "start a new run with more epochs (`dnnexp train SPEC --set train.epochs=N`)"
    )
