"""What `dnnexp report` says of runs, as data: the compare table, and for each run how its
settings differ from the others', its config.yaml and the pictures its folder holds.

The page itself, and the pictures drawn from the runs' logs, are dnnexp.plots.report's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from dnnexp.runs.compare import compare_runs
from dnnexp.runs.configs import differing_keys, flatten_config
from dnnexp.runs.rundir import RunDir

if TYPE_CHECKING:
    import pandas as pd

#: pictures a run folder may hold that the report draws afresh from the logs they come from
REDRAWN = {"learning_curves", "layer_stats", "activations", "time_grads"}
#: what counts as a picture in a run folder (filters.png, feature_maps.png, fit.png, paths.png, …)
PICTURE_SUFFIXES = (".png", ".svg")


@dataclass(frozen=True)
class Difference:
    """One setting in which a run differs from the others: its value, and theirs (each once)."""

    key: str
    value: Any
    others: list[Any]


@dataclass(frozen=True)
class RunSection:
    """What the report shows of one run."""

    run: RunDir
    status: str
    differences: list[Difference]
    config: str
    pictures: list[Path]


@dataclass(frozen=True)
class ReportData:
    """The comparison (one row per run) and a section per run, in the order the runs came."""

    table: pd.DataFrame
    sections: list[RunSection]


def report_data(runs: Sequence[RunDir]) -> ReportData:
    """Collect what the report shows of `runs` (any number, one included)."""
    configs = [flatten_config(run.config()) for run in runs]
    keys = differing_keys([run.config() for run in runs])
    missing = "(not set)"
    sections = []
    for index, run in enumerate(runs):
        mine = configs[index]
        differences = [
            Difference(key, mine.get(key, missing), _unique(c.get(key, missing) for i, c in enumerate(configs) if i != index))
            for key in keys
        ]
        sections.append(RunSection(
            run=run,
            status=str(run.summary().get("status", "unknown")),
            differences=differences,
            config=run.file("config.yaml").read_text(encoding="utf-8"),
            pictures=held_pictures(run),
        ))
    return ReportData(compare_runs(list(runs)), sections)


def held_pictures(run: RunDir) -> list[Path]:
    """The pictures in a run folder that the report does not redraw (filters, feature maps, fit,
    optimizer paths, …: those need the trained model rebuilt), sorted by name."""
    return sorted(
        path for path in run.path.iterdir()
        if path.is_file() and path.suffix.lower() in PICTURE_SUFFIXES and path.stem not in REDRAWN
        and not path.name.startswith(".")  # a temp file of a picture being written
    )


def _unique(values: Any) -> list[Any]:
    return list({repr(value): value for value in values}.values())
