"""Running a spec as the CLI's `train` does (task → prepare → lifecycle → run → finish), and the
callbacks that interrupt a run where a test wants it."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any, Sequence

import pandas as pd
import pytest

from dnnexp import tasks
from dnnexp.runs.lifecycle import Lifecycle, Outcome
from dnnexp.runs.rundir import RunDir
from dnnexp.tasks import supervised
from dnnexp.train.callbacks import Callback


def resolved(raw: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The resolved config of `raw` with top-level `changes`."""
    return tasks.spec_from_dict({**raw, **changes}).resolved()


def train(
    config: dict[str, Any], runs_dir: Path, resume: RunDir | None = None, overrides: Sequence[str] = ()
) -> tuple[RunDir, Outcome]:
    """Run `config` (raw or resolved) in a new run folder under `runs_dir`, or continue `resume`,
    as `dnnexp train` does; the run folder and how the run ended."""
    spec = tasks.spec_from_dict(config)
    task = tasks.task_for(spec)
    prepared = task.prepare(spec, resume)
    life = Lifecycle.resume(resume, spec.resolved(), overrides) if resume is not None else Lifecycle.start(runs_dir, spec.resolved(), overrides)
    with life:
        outcome = task.run(prepared, life, None)
        life.finish(outcome)
    return life.run, outcome


class StopAt(Callback):
    """Interrupts the run after optimizer step `step`: as the Ctrl-C handler does, or with a real SIGINT."""

    def __init__(self, step: int, sigint: bool = False):
        self.step, self.sigint = step, sigint

    def on_batch_end(self, trainer):
        if trainer.state.step != self.step:
            return
        if self.sigint:
            signal.raise_signal(signal.SIGINT)
        else:
            trainer.state.stop, trainer.state.status = True, "interrupted"


class StopAfterEpoch(Callback):
    """Interrupts the run as epoch `epoch` ends."""

    def __init__(self, epoch: int):
        self.epoch = epoch

    def on_epoch_end(self, trainer, logs):
        if logs["epoch"] == self.epoch:
            trainer.state.stop, trainer.state.status = True, "interrupted"


@pytest.fixture
def extra_callbacks(monkeypatch: pytest.MonkeyPatch) -> list[Callback]:
    """Callbacks that a supervised run gets ahead of its own while they are in this list (the CLI's
    runs included)."""
    added: list[Callback] = []
    callbacks = supervised.run_callbacks

    def with_extra(spec, trainer, life, console):
        return [*added, *callbacks(spec, trainer, life, console)]

    monkeypatch.setattr(supervised, "run_callbacks", with_extra)
    return added


def interrupted_run(config: dict[str, Any], runs_dir: Path, extra: list[Callback], interrupt: Callback) -> RunDir:
    """A run of `config` that `interrupt` stops."""
    extra.append(interrupt)
    try:
        run, outcome = train(config, runs_dir)
    finally:
        extra.remove(interrupt)
    assert outcome.status == "interrupted" and outcome.exit_code == 130
    return run


def without_times(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns="epoch_time_s", errors="ignore")
