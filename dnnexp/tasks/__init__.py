"""Experiment kinds, one a module, each a registered `Task` (see dnnexp.tasks.base).

The CLI finds the task of a spec or a run here and never names a kind itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from dnnexp.core.kinds import declared
from dnnexp.runs.rundir import RunDir
from dnnexp.spec import load, schema
from dnnexp.spec.registry import Registry
from dnnexp.tasks.base import Task

TASKS: Registry = Registry("kind of experiment", ("dnnexp.tasks",), lambda: declared(Task))


def spec_kinds() -> load.Kinds:
    """The `kind:` values a spec may give: each task's spec class, its older names, the default."""
    tasks = {task.kind: task for task in TASKS.entries.values()}
    return load.Kinds(
        classes={kind: task.spec_class for kind, task in tasks.items()},
        aliases={alias: kind for kind, task in tasks.items() for alias in task.aliases},
        default=next(kind for kind, task in tasks.items() if task.default),
    )


def load_spec(path: Path | str, overrides: Iterable[str] = ()) -> schema.SpecBase:
    """A spec file read, overridden and validated as its kind's spec (dnnexp.spec.load_spec)."""
    return load.load_spec(path, overrides, spec_kinds())


def spec_from_dict(raw: dict[str, Any], source: str = "<spec>") -> schema.SpecBase:
    """Plain data (a run's config.yaml) validated as its kind's spec."""
    return load.spec_from_dict(raw, spec_kinds(), source)


def task_for(spec: schema.SpecBase) -> Task:
    """The task that runs `spec`."""
    return TASKS.get(spec.kind)()


def run_spec(run: RunDir) -> schema.SpecBase:
    """A run's recorded spec (config.yaml), validated."""
    return spec_from_dict(run.config(), str(run.file("config.yaml")))


__all__ = ["TASKS", "Task", "load_spec", "run_spec", "spec_from_dict", "spec_kinds", "task_for"]
