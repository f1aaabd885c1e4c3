"""Sweeps (`dnnexp sweep SWEEP.yaml`, `dnnexp train SPEC --sweep`): a task that runs tasks.

The sweep goes through the same life as any run (dnnexp.runs.lifecycle): everything is planned
and every trial's spec checked before its folder exists (`plan`), the folder
`runs/<name>-<time>/` holds sweep.yaml (the resolved sweep with its list of trials, each with
its config) and summary.json, and its trials run inside it, one run folder each, through the
task of their own kind (`execute.run_trial`). The modules:

    trials     the sweep file: schema, expansion into trials, checking every trial's spec
    values     value expressions: comma lists, range/linspace/logspace, distributions, seeds
    execute    one trial in any process; local worker processes; a Dask cluster
    progress   the progress display, a line per finished trial, the comparison kept current
    report     comparison.md and comparison.png of the sweep folder
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console, RenderableType
from rich.table import Table

from dnnexp.console import styled
from dnnexp.errors import DnnexpError, RunDirError
from dnnexp.runs.lifecycle import Lifecycle, Outcome
from dnnexp.runs.rundir import RunDir
from dnnexp.spec.yamlio import Document
from dnnexp.tasks.base import Task
from dnnexp.tasks.sweep.execute import FINISHED, Job, make_pool
from dnnexp.tasks.sweep.progress import SweepMonitor
from dnnexp.tasks.sweep.report import write_comparison
from dnnexp.tasks.sweep.trials import MANY_TRIALS, SweepSpec, Trial, check_trials, command_line_sweep, expand, load_sweep

SWEEP_FILE = "sweep.yaml"


class SweepTooLarge(Exception):
    """A dry run of more trials than are listed: its message gives their number."""


@dataclass
class Prepared:
    """A sweep ready to run: its resolved form for sweep.yaml, its trials (configs checked), and
    where they run (`workers` local processes, or a Dask `scheduler`)."""

    config: dict[str, Any]
    trials: list[Trial]
    workers: int | None = None
    scheduler: Any = None


def plan(sweep: SweepSpec, document: Document, folder: Path, yes: bool = False, dry_run: bool = False) -> Prepared:
    """Expand `sweep` (paths relative to `folder`) and check every trial's spec; SpecError lists
    every problem. More than MANY_TRIALS trials need `yes`; a `dry_run` of that many only counts them."""
    from dnnexp.tasks import spec_kinds

    expansion = expand(sweep, document, folder)
    many = expansion.count > MANY_TRIALS and not yes
    if many and not expansion.problems:
        if dry_run:
            raise SweepTooLarge(f"{document.source}: {expansion.count:,} trials (each spec is checked when the sweep runs with --yes)")
        raise DnnexpError(
            f"{document.source}: the sweep has {expansion.count:,} trials; run it with --yes if you mean it, "
            "or count them with --dry-run"
        )
    # The trials of the keys that read well are checked even when others did not: all problems at once.
    trials = [] if many else expansion.trials()
    kinds = spec_kinds()
    trial_kinds = dataclasses.replace(kinds, classes={k: v for k, v in kinds.classes.items() if k != SweepTask.kind})
    check_trials(expansion, trials, trial_kinds)
    config = sweep.resolved()
    config["grid"] = {axis.key: axis.values for axis in expansion.axes if axis.key in sweep.grid}
    config["specs"] = [str(path) for path in expansion.specs]
    config["seeds"] = next((axis.values for axis in expansion.axes if axis.key == "seed"), None)
    config["trials"] = [trial.record() for trial in trials]
    return Prepared(config, trials, sweep.workers)


def reopen(folder: Path) -> tuple[RunDir, Prepared]:
    """A sweep folder's sweep.yaml, to resume: its trials as they were planned."""
    path = Path(folder)
    if not (path / SWEEP_FILE).is_file():
        raise RunDirError(f"{path} is not a sweep folder (no {SWEEP_FILE}); give a folder made by `dnnexp sweep`")
    run = RunDir(path)
    config = run.config(SWEEP_FILE)
    try:
        trials = [Trial(t["index"], t["spec"], list(t["overrides"]), t["folder"], t["config"]) for t in config["trials"]]
    except (KeyError, TypeError) as error:
        raise RunDirError(f"{path / SWEEP_FILE} lists its trials wrongly ({error}); start the sweep anew") from None
    return run, Prepared(config, trials, config.get("workers"))


class SweepTask(Task):
    """Trials expanded from specs, a grid, random draws and seeds, run in parallel into one folder."""

    kind = "sweep"
    spec_class = SweepSpec

    def prepare(self, spec: SweepSpec, resume: RunDir | None = None) -> Prepared:
        """Not through `dnnexp train` or `validate`: a sweep's paths are relative to its file,
        and its folder is not a run's (`plan` and `reopen` are its preparing)."""
        raise DnnexpError(
            f"{spec.name}: a sweep runs with `dnnexp sweep SWEEP.yaml`, and `dnnexp sweep SWEEP.yaml --dry-run` checks it"
        )

    def describe(self, prepared: Prepared) -> RenderableType:
        """The trials, one a line: folder, spec and overrides."""
        table = Table(title=f"{len(prepared.trials)} trials", title_justify="left", box=None, header_style="bold")
        for column in ("trial folder", "spec", "overrides"):
            table.add_column(column)
        for trial in prepared.trials:
            table.add_row(styled(trial.folder), styled(trial.spec), styled(" ".join(trial.overrides)))
        return table

    def run(self, prepared: Prepared, life: Lifecycle, console: Console | None) -> Outcome:
        """Run the trials not yet finished into `life.run`; comparison.md/png kept current."""
        folder = life.run.path
        config = prepared.config
        names = {trial.index: trial.folder for trial in prepared.trials}
        finished = {t.index for t in prepared.trials if RunDir(folder / t.folder).summary().get("status") in FINISHED} \
            if life.resumed else set()
        jobs = [
            Job(t.index, t.config, str((folder / t.folder).resolve()), tuple(t.overrides))
            for t in prepared.trials if t.index not in finished
        ]
        pool = make_pool(prepared.workers, prepared.scheduler)
        with SweepMonitor(folder, names, config["metric"], config["goal"], console, len(finished)) as monitor:
            complete = pool.run(jobs, monitor)
        write_comparison(folder, config["metric"], config["goal"])
        statuses = {index: RunDir(folder / name).summary().get("status", "not started") for index, name in names.items()}
        for index, result in monitor.results.items():
            if result.status == "failed" and statuses[index] != "failed":
                statuses[index] = "failed"  # failed before its folder had a summary (a spec that cannot run)
        return _outcome(statuses, monitor.results, names, folder, complete)


def _outcome(statuses: dict[int, str], results: dict[int, Any], names: dict[int, str], folder: Path, complete: bool) -> Outcome:
    counts: dict[str, int] = {}
    for status in statuses.values():
        counts[status] = counts.get(status, 0) + 1
    failed = [index for index, status in statuses.items() if status == "failed"]
    told = ", ".join(f"{count} {status}" for status, count in counts.items())
    summary = {
        "trials": len(statuses), "counts": counts, "failed": [names[i] for i in failed],
        # each trial's time in its worker, preparing included: the sweep's wall time less these is its overhead
        "trial_seconds": {names[i]: round(result.seconds, 3) for i, result in sorted(results.items()) if result.seconds},
    }
    if not complete or any(status in ("interrupted", "not started") for status in statuses.values()):
        return Outcome("interrupted", f"continue with `dnnexp sweep --resume {folder}`", summary, told)
    if failed:
        reasons = "\n".join(f"  {names[i]}: {getattr(results.get(i), 'message', '')}".rstrip(": ") for i in failed)
        return Outcome("failed", f"{len(failed)} trial(s) failed (a diverged trial is a result, not a failure):\n{reasons}", summary, told)
    return Outcome("completed", "", summary, told)


def start(prepared: Prepared, runs_dir: Path, console: Console | None) -> tuple[Lifecycle, Outcome]:
    """Run a planned sweep in a new folder `runs_dir/<name>-<time>/`."""
    run = RunDir.create(runs_dir, prepared.config["name"])
    return _run(prepared, Lifecycle.start_in(run, prepared.config, (), SWEEP_FILE), console)


def resume(folder: Path, workers: int | None, scheduler: Any, console: Console | None) -> tuple[Lifecycle, Outcome]:
    """Continue a sweep: finished trials kept, interrupted ones resumed, failed and unstarted ones run."""
    run, prepared = reopen(folder)
    prepared = dataclasses.replace(prepared, workers=workers or prepared.workers, scheduler=scheduler)
    return _run(prepared, Lifecycle.resume(run, prepared.config), console)


def _run(prepared: Prepared, life: Lifecycle, console: Console | None) -> tuple[Lifecycle, Outcome]:
    with life:
        outcome = SweepTask().run(prepared, life, console)
        life.finish(outcome)
    return life, outcome


__all__ = ["SWEEP_FILE", "Prepared", "SweepSpec", "SweepTask", "SweepTooLarge", "command_line_sweep", "load_sweep", "plan", "reopen", "resume", "start"]
