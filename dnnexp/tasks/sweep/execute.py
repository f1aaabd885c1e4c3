"""Running a sweep's trials: one trial in whatever process gets it (`run_trial`), and the pools
that hand trials out — local worker processes, or a Dask distributed cluster.

A trial's folder is named by the sweep, never made up on the spot, so a trial run twice (resumed
after Ctrl-C, retried by Dask after its worker died) continues in its one folder: from its
checkpoint when it has one, from the start otherwise. A finished trial is never run again.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import shutil
import signal
import time
import traceback
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Sequence

from dnnexp.errors import DnnexpError, RunDirError

#: how a trial may end and still be a result of the sweep: a diverged run is an answer too
FINISHED = ("completed", "diverged")


@dataclass(frozen=True)
class Job:
    """A trial as a worker gets it: its resolved config, its folder (absolute), its overrides."""

    index: int
    config: dict[str, Any]
    folder: str
    overrides: tuple[str, ...] = ()


@dataclass
class TrialResult:
    """How a trial ended: status and exit code as its summary.json says, the closing line's
    results, the wall time of this attempt; `earlier` when it had finished before."""

    index: int
    status: str
    message: str = ""
    headline: str = ""
    seconds: float = 0.0
    earlier: bool = False


def run_trial(job: Job) -> TrialResult:
    """Run one trial into its folder (in any process): continue it when the folder holds a
    resumable run, start it afresh otherwise, and leave it alone when it has finished."""
    from dnnexp import tasks
    from dnnexp.runs.lifecycle import Lifecycle
    from dnnexp.runs.rundir import RunDir

    started = time.perf_counter()
    path = Path(job.folder)
    try:
        spec = tasks.spec_from_dict(job.config, f"{path}/config.yaml")
        task = tasks.task_for(spec)
        earlier = RunDir(path) if (path / "config.yaml").is_file() else None
        summary = earlier.summary() if earlier is not None else {}
        if summary.get("status") in FINISHED:
            return TrialResult(job.index, summary["status"], summary.get("message", ""), earlier=True)
        life = None
        if earlier is not None and summary.get("status") != "failed":
            try:
                prepared = task.prepare(spec, earlier)
                life = Lifecycle.resume(earlier, job.config, job.overrides)
            except RunDirError:
                life = None  # killed before its first checkpoint: nothing to continue from
        if life is None:
            prepared = task.prepare(spec)  # a spec that cannot run fails here, before any folder
            if path.exists():
                shutil.rmtree(path)
            path.mkdir(parents=True)
            life = Lifecycle.start_in(RunDir(path), job.config, job.overrides)
        with life:
            outcome = task.run(prepared, life, None)
            life.finish(outcome)
        return TrialResult(job.index, outcome.status, outcome.message, outcome.headline, time.perf_counter() - started)
    except DnnexpError as error:
        return TrialResult(job.index, "failed", str(error), seconds=time.perf_counter() - started)
    except KeyboardInterrupt:
        return TrialResult(job.index, "interrupted", "interrupted by Ctrl-C", seconds=time.perf_counter() - started)
    except Exception as error:  # noqa: BLE001 — the sweep goes on; the trial's summary.json has it too
        last = traceback.extract_tb(error.__traceback__)[-1]
        where = f" ({Path(last.filename).name}:{last.lineno})"
        return TrialResult(job.index, "failed", f"{type(error).__name__}: {error}{where}", seconds=time.perf_counter() - started)


class Events(Protocol):
    """What a pool tells as it goes (the progress display and the comparison listen); a Dask
    pool cannot tell when a queued trial starts, only when it ends."""

    def started(self, index: int) -> None: ...

    def finished(self, result: TrialResult) -> None: ...


class Pool(Protocol):
    def run(self, jobs: Sequence[Job], events: Events) -> bool:
        """Run `jobs`, telling `events`; False when stopped by Ctrl-C before all ran."""


def default_workers() -> int:
    """The cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# ---- local processes ----------------------------------------------------------------------


def _worker(jobs: multiprocessing.Queue, results: multiprocessing.Queue) -> None:
    """A worker process: runs the jobs it is given until it gets None.

    Ctrl-C is ignored between trials; during one, the trainer's own handler takes it (finish the
    batch, write the checkpoint, end `interrupted`) and puts the ignoring back afterwards.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A process group of its own: a terminal's Ctrl-C reaches the pool alone, which passes one
    # SIGINT on; reaching the workers too, it would be their second and stop a trial at once.
    os.setpgrp()
    os.environ.setdefault("DNNEXP_THREADS", "1")
    while (job := jobs.get()) is not None:
        results.put(("started", job.index, None))
        results.put(("finished", job.index, run_trial(job)))


class _Worker:
    def __init__(self, context: Any, results: multiprocessing.Queue):
        self.jobs = context.Queue()
        self.process = context.Process(target=_worker, args=(self.jobs, results), daemon=True)
        self.process.start()
        self.job: Job | None = None


class LocalPool:
    """`workers` processes on this machine, each with one BLAS thread, one trial at a time each.

    Ctrl-C stops them all cleanly: no new trial starts, every running one ends after its batch
    with its checkpoint written (status `interrupted`); a second Ctrl-C ends the workers at once.
    """

    def __init__(self, workers: int):
        self.workers = workers

    def run(self, jobs: Sequence[Job], events: Events) -> bool:
        # fork: a worker starts in milliseconds with dnnexp already imported; spawn elsewhere.
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        results = context.Queue()
        workers = [_Worker(context, results) for _ in range(min(self.workers, len(jobs)) or 1)]
        waiting = deque(jobs)
        stopping = False
        try:
            while waiting or any(w.job for w in workers):
                try:
                    for worker in workers:
                        if worker.job is None and waiting and not stopping:
                            worker.job = waiting.popleft()
                            worker.jobs.put(worker.job)
                    self._collect(results, workers, events, context)
                except KeyboardInterrupt:
                    if stopping:
                        raise
                    stopping = True
                    waiting.clear()
                    for worker in workers:
                        if worker.job is not None and worker.process.pid is not None:
                            os.kill(worker.process.pid, signal.SIGINT)
        except KeyboardInterrupt:
            for worker in workers:
                worker.process.kill()
            for worker in workers:
                if worker.job is not None:
                    events.finished(TrialResult(worker.job.index, "interrupted", "stopped by a second Ctrl-C"))
            return False
        finally:
            for worker in workers:
                if worker.process.is_alive():
                    worker.jobs.put(None)
            for worker in workers:
                worker.process.join(timeout=10)
        return not stopping

    def _collect(self, results: multiprocessing.Queue, workers: list[_Worker], events: Events, context: Any) -> None:
        """Wait a moment for a worker's message; a worker that died takes its trial down as failed."""
        try:
            kind, index, result = results.get(timeout=0.5)
        except queue.Empty:
            for position, worker in enumerate(workers):
                if worker.job is not None and not worker.process.is_alive():
                    code = worker.process.exitcode
                    events.finished(TrialResult(worker.job.index, "failed", f"its worker process died (exit code {code})"))
                    workers[position] = _Worker(context, results)
            return
        if kind == "started":
            events.started(index)
            return
        for worker in workers:
            if worker.job is not None and worker.job.index == index:
                worker.job = None
        events.finished(result)


# ---- a Dask cluster -----------------------------------------------------------------------


class DaskPool:
    """Trials as tasks of a Dask distributed cluster (`pip install 'dnnexp[distributed]'`).

    The run folders must be on a file system every worker sees. When a worker dies mid-trial,
    the scheduler gives the trial to another worker, which continues it in the same folder from
    its last checkpoint. Ctrl-C cancels the trials not yet started; running ones cannot be
    stopped from here and finish on their workers (resume the sweep afterwards).
    """

    def __init__(self, address: str | Any):
        self.address = address

    def client(self) -> Any:
        try:
            from distributed import Client
        except ImportError:
            raise DnnexpError(
                "--scheduler needs the distributed package; install it with pip install 'dnnexp[distributed]'"
            ) from None
        try:
            return Client(self.address, timeout="10s", set_as_default=False)
        except (OSError, TimeoutError) as error:
            raise DnnexpError(f"--scheduler {self.address}: no Dask scheduler answers there ({error})") from None

    def run(self, jobs: Sequence[Job], events: Events) -> bool:
        from distributed import as_completed

        client = self.client()
        futures = []
        try:
            for job in jobs:
                future = client.submit(run_trial, job, key=f"trial-{Path(job.folder).parent.name}-{job.index}", pure=False)
                futures.append(future)
            with client.as_current():  # as_completed asks for the current client
                for future in as_completed(futures):
                    try:
                        events.finished(future.result())
                    except Exception as error:  # noqa: BLE001 — e.g. KilledWorker after repeated worker deaths
                        index = futures.index(future)
                        events.finished(TrialResult(jobs[index].index, "failed", f"{type(error).__name__}: {error}"))
        except KeyboardInterrupt:
            client.cancel(futures)
            return False
        finally:
            client.close()
        return True


def make_pool(workers: int | None, scheduler: str | Any | None) -> Pool:
    """A Dask pool for `scheduler` (an address, or a distributed Cluster), else local processes."""
    if scheduler is not None:
        return DaskPool(scheduler)
    return LocalPool(workers or default_workers())


