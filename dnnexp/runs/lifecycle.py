"""One run's life, the same for every experiment kind: its folder made (or reopened to resume),
config.yaml written, provenance recorded, and summary.json always left saying how it ended.

    with Lifecycle.start(runs_dir, config, overrides) as life:
        outcome = task.run(prepared, life, console)
        life.finish(outcome)

A task reports an `Outcome` (status, message, its results); the lifecycle adds what every run
records: kind, timestamps, wall time summed over resumes, versions, git commit and whether the
source tree had uncommitted changes, the `--set` overrides as given, and the exit code. Logs a
task opens through `log` are closed at the end, however the run ends; an error or Ctrl-C that
escapes the task still leaves a summary with status `failed` or `interrupted`. SIGTERM, which
would end the process without a word, is turned into such an interruption while the run is open
(the trainer's own handler stops it gracefully during training), and no signal can cut
summary.json's writing short.
"""

from __future__ import annotations

import platform
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

import dnnexp
from dnnexp.errors import RunDirError
from dnnexp.runs.rundir import MetricsLog, RunDir, StorageError

#: how each way a run can end reads to the shell: 2 is a user's mistake (dnnexp.errors),
#: 130 the shell's code for Ctrl-C
EXIT_CODES = {"completed": 0, "failed": 1, "diverged": 3, "interrupted": 130}


@dataclass
class Outcome:
    """How a task's run ended: `status` (completed, diverged, interrupted, failed), a message for
    the user, the task's own results for summary.json (final and best metrics, …), and a
    headline of them for the line that closes the run (`test_acc 0.8512`)."""

    status: str
    message: str = ""
    results: dict[str, Any] = field(default_factory=dict)
    headline: str = ""
    #: the process's exit code, when not the status's own (2 for a user's mistake found mid-run)
    code: int | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status] if self.code is None else self.code


class Lifecycle:
    """A run folder in use: see the module's docstring."""

    def __init__(self, run: RunDir, config: dict[str, Any], overrides: Sequence[str], resumed: bool):
        self.run, self.config, self.resumed = run, config, resumed
        # A resumed run's summary grows from the last one: what this part does not report stays.
        self.previous = run.summary() if resumed else {}
        self.previous_time = float(self.previous.get("wall_time_s") or 0.0)
        self.provenance = {
            "kind": config["kind"],
            "name": config["name"],
            "started_at": self.previous.get("started_at") or _now(),
            "overrides": self.previous.get("overrides", list(overrides)),
            "resumes": int(self.previous.get("resumes", 0)) + 1 if resumed else 0,
            "versions": {"python": platform.python_version(), "numpy": np.__version__, "dnnexp": dnnexp.__version__},
            **git_state(),
        }
        self.logs: list[MetricsLog] = []
        self.outcome: Outcome | None = None
        self.started = time.perf_counter()
        self._sigterm: Any = None

    @classmethod
    def start(cls, runs_dir: Path, config: dict[str, Any], overrides: Sequence[str] = ()) -> Lifecycle:
        """A new run folder `runs_dir/<name>-<time>/` with config.yaml written; when the disk
        refuses config.yaml, no folder is left behind."""
        run = RunDir.create(runs_dir, config["name"])
        try:
            return cls.start_in(run, config, overrides)
        except StorageError:
            shutil.rmtree(run.path, ignore_errors=True)
            raise

    @classmethod
    def start_in(
        cls, run: RunDir, config: dict[str, Any], overrides: Sequence[str] = (), config_file: str = "config.yaml"
    ) -> Lifecycle:
        """An empty folder made the run: a sweep's trial, whose folder the sweep names, or a sweep
        itself, whose config is sweep.yaml (a config.yaml would make it look like one run)."""
        run.write_yaml(config_file, config)
        return cls(run, config, overrides, resumed=False)

    @classmethod
    def resume(cls, run: RunDir, config: dict[str, Any], overrides: Sequence[str] = ()) -> Lifecycle:
        """An existing run folder, to be continued; its config.yaml (whose resolved form is
        `config`) and its first start are kept, the temp files of writes a kill cut short are not."""
        run.remove_temp_files()
        return cls(run, config, overrides, resumed=True)

    def log(self, filename: str, columns: Sequence[str]) -> MetricsLog:
        """A CSV log of the run, grown row by row and closed when the run ends."""
        log = self.run.log(filename, columns)
        self.logs.append(log)
        return log

    def finish(self, outcome: Outcome) -> None:
        """Close the logs and write summary.json for `outcome`."""
        self.outcome = outcome
        for log in self.logs:
            log.close()
        wall_time = self.previous_time + time.perf_counter() - self.started
        summary = {
            **self.previous,
            **self.provenance,
            "status": outcome.status,
            "message": outcome.message,
            "exit_code": outcome.exit_code,
            **outcome.results,
            "ended_at": _now(),
            "wall_time_s": round(wall_time, 3),
        }
        with _signals_held():
            self.run.write_json("summary.json", summary)

    def __enter__(self) -> Lifecycle:
        try:
            self._sigterm = signal.signal(signal.SIGTERM, _interrupt)
        except ValueError:  # not the main thread (a Dask worker's): signals are not ours to take
            self._sigterm = None
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: object) -> None:
        if self._sigterm is not None:
            signal.signal(signal.SIGTERM, self._sigterm)
        if self.outcome is not None or error is None:
            return
        if isinstance(error, KeyboardInterrupt):
            outcome = Outcome("interrupted", str(error) or INTERRUPTED)
        else:  # a user's mistake found mid-run keeps its exit code (2), anything else is 1
            outcome = Outcome("failed", f"{type(error).__name__}: {error}", code=getattr(error, "exit_code", None))
        try:
            self.finish(outcome)
        except StorageError as unwritten:  # the disk that stopped the run may refuse its summary too
            both = RunDirError(f"{error}\n{unwritten}")
            both.exit_code = unwritten.exit_code
            raise both from error


#: what an interrupted run's summary says when the interruption said nothing itself
INTERRUPTED = "interrupted by Ctrl-C"


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM outside the training loop: an interruption, so that the run's summary is written."""
    raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")


@contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block is done (they are delivered right after it)."""
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def finished_message(run: RunDir, length_key: str) -> str | None:
    """Why `run` has nothing left to resume (it completed, or stopped early), or None if it has;
    `length_key` is the spec key that counts how long its kind of run trains (train.epochs)."""
    summary = run.summary()
    if summary.get("status") != "completed":
        return None
    how = f" ({summary['message']})" if summary.get("message") else ""
    return (
        f"{run.path} has finished{how}; there is nothing to resume. To train longer, start a new run "
        f"with more {length_key.rsplit('.', 1)[-1]} (`dnnexp train SPEC --set {length_key}=N`)"
    )


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def git_state() -> dict[str, Any]:
    """The commit of the dnnexp source tree and whether it had uncommitted changes, when it is a
    git checkout (None for both otherwise)."""
    folder = Path(dnnexp.__file__).parent

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if not commit:
        return {"git_commit": None, "git_dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"git_commit": commit.strip(), "git_dirty": None if status is None else bool(status.strip())}
