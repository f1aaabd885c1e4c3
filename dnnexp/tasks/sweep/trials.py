"""A sweep file read and expanded into its trials, each trial's spec checked before any trains.

    name: lr-search                  # the sweep folder's prefix (default: the file's name)
    base: ../day2/init/relu_he.yaml  # the spec every trial starts from, relative to this file; or
    specs: [../day2/init/*.yaml]     #   several (globs allowed): each is a trial of its own
    grid: {optimizer.lr: [0.1, 0.01], model.layers[0].activation: [relu, sigmoid]}
    random: {trials: 20, seed: 0, optimizer.momentum: uniform(0.5, 0.99)}
    seeds: [0, 1, 2]                 # or 0-4, range(5)
    overrides: [data.name=mnist]     # --set for every trial
    workers: 2
    metric: val_acc                  # what comparison.md sorts by …
    goal: max                        # … best first

Trials are the product specs × grid × random draws × seeds, in that order (seeds vary fastest).
Each trial is its spec with `--set` overrides, so a problem in one reads as the sweep's line:
`sweep.yaml:4: grid optimizer.lr=-1: optimizer.lr: should be greater than 0, got -1`.
"""

from __future__ import annotations

import copy
import glob
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal

import numpy as np
import yaml
from pydantic import Field, model_validator

from dnnexp.errors import DnnexpError, SpecError
from dnnexp.runs.rundir import RUN_NAME
from dnnexp.spec import load
from dnnexp.spec.arguments import spec_error
from dnnexp.spec.schema import PositiveInt, SpecBase
from dnnexp.spec.yamlio import OVERRIDE, Document
from dnnexp.tasks.sweep.values import MAX_VALUES, ExpressionError, distribution, grid_values, seed_list

#: beyond this many trials a sweep runs only with --yes
MANY_TRIALS = 10_000


class SweepSpec(SpecBase):
    """A sweep (`kind: sweep`): trials expanded from specs, a grid, random draws and seeds."""

    kind: Literal["sweep"] = "sweep"
    base: str | None = None
    specs: list[str] | None = Field(None, min_length=1)
    grid: dict[str, Any] = {}
    random: dict[str, Any] | None = None
    seeds: list[int] | str | int | None = None
    overrides: list[str] = []
    workers: PositiveInt | None = None
    metric: str = "val_acc"
    goal: Literal["max", "min"] = "max"

    @model_validator(mode="after")
    def _one_source(self) -> SweepSpec:
        if (self.base is None) == (self.specs is None):
            raise spec_error("sources", "give either base: (one spec) or specs: (a list of specs), not both or neither")
        return self


@dataclass
class Axis:
    """One key the sweep varies: its values, and where the sweep says so (`sweep.yaml:4`)."""

    key: str
    values: list[Any]
    place: str


@dataclass
class Trial:
    """One run of the sweep: a spec file with `--set` overrides, and its folder's name."""

    index: int
    spec: str
    overrides: list[str]
    folder: str
    config: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """The trial as sweep.yaml lists it (the config whole, so that --resume needs no spec file)."""
        return {"index": self.index, "folder": self.folder, "spec": self.spec, "overrides": self.overrides, "config": self.config}


@dataclass
class Expansion:
    """A sweep file's trials before their specs are checked, with every problem found so far."""

    sweep: SweepSpec
    specs: list[Path]
    axes: list[Axis]  # grid keys, then random keys (one value per draw), then seed
    fixed: list[str]  # overrides every trial gets
    places: dict[str, str]  # override text → where the sweep says it
    problems: list[str]
    random_rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def count(self) -> int:
        grid = [axis for axis in self.axes if axis.key not in self._random_keys]
        return len(self.specs) * int(np.prod([len(a.values) for a in grid], dtype=object)) * max(1, len(self.random_rows))

    @property
    def _random_keys(self) -> set[str]:
        return set(self.random_rows[0]) if self.random_rows else set()

    def trials(self) -> list[Trial]:
        """Every trial, in order: specs × grid × random draws × seeds."""
        grid = [axis for axis in self.axes if axis.key not in self._random_keys]
        seeds = [axis for axis in grid if axis.key == "seed"]
        grid = [axis for axis in grid if axis.key != "seed"]
        rows = self.random_rows or [{}]
        width = len(str(max(self.count - 1, 0)))
        trials = []
        combos = itertools.product(self.specs, itertools.product(*(a.values for a in grid)), rows,
                                   itertools.product(*(a.values for a in seeds)))
        for index, (spec, values, row, seed) in enumerate(combos):
            varied = [*zip((a.key for a in grid), values), *row.items(), *zip((a.key for a in seeds), seed)]
            overrides = self.fixed + [override(key, value) for key, value in varied]
            trials.append(Trial(index, str(spec), overrides, folder_name(index, width, spec.stem, varied)))
        return trials


def override(key: str, value: Any) -> str:
    """`key=value` with the value written as YAML reads it back (`lr=0.001`, `act='off'`)."""
    return f"{key}={yaml.safe_dump([value], default_flow_style=True, width=10**9).strip()[1:-1]}"


def folder_name(index: int, width: int, stem: str, varied: Iterable[tuple[str, Any]]) -> str:
    """A trial folder's name: its number, its spec, and the values it varies, e.g. `03-relu_he-lr_0.01-seed_1`."""
    parts = [f"{index:0{width}d}", stem]
    for key, value in varied:
        shown = value.get("name", "") if isinstance(value, dict) else value
        leaf = re.split(r"[.\[\]]+", key.rstrip("]"))[-1]
        parts.append(f"{leaf}_{shown}")
    name = re.sub(r"[^A-Za-z0-9_.\-]", "", "-".join(parts))[:64]
    assert RUN_NAME.fullmatch(name)
    return name


# ---- reading ------------------------------------------------------------------------------


def load_sweep(path: Path, overrides: Iterable[str] = ()) -> tuple[SweepSpec, Document]:
    """A sweep file validated (problems with their lines); `overrides` are `--set` for every trial."""
    document = load.read_spec_file(Path(path), ())
    if isinstance(document.data, dict):
        document.data.setdefault("kind", "sweep")
        if overrides:
            document.data["overrides"] = [*document.data.get("overrides", []), *overrides]
            document.set_by[("overrides",)] = " ".join(overrides)
    sweep = load.validate(document, SWEEP_KINDS)
    assert isinstance(sweep, SweepSpec)
    return sweep, document


def command_line_sweep(spec: Path, sets: Iterable[str], seeds: str | None) -> tuple[SweepSpec, Document]:
    """The sweep of `dnnexp train SPEC --sweep --set KEY=a,b --seeds 0-4`: each `--set` with a
    comma list or a range(…)/linspace(…)/logspace(…) is a grid key, any other a fixed override."""
    grid: dict[str, Any] = {}
    fixed: list[str] = []
    places: dict[tuple[Any, ...], str] = {}
    for text in sets:
        match = OVERRIDE.fullmatch(text)
        if match is None:
            fixed.append(text)  # read (and refused) as any --set is
            continue
        try:
            values = grid_values(match["value"])
        except ExpressionError as error:
            raise SpecError(f"--set {text}: {error}") from None
        if len(values) > 1 or re.match(r"\s*(range|linspace|logspace)\(", match["value"]):
            grid[match["path"]] = values
            places[("grid", match["path"])] = text
        else:
            fixed.append(text)
    # The sweep folder is named after the spec file, in the letters a run name may have.
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(spec).stem).lstrip(".-") or "sweep"
    raw: dict[str, Any] = {"name": name, "kind": "sweep", "base": str(spec), "grid": grid, "overrides": fixed}
    if seeds is not None:
        raw["seeds"] = seeds
        places[("seeds",)] = f"--seeds {seeds}"
    document = Document(raw, "the command line", set_by={**places, ("overrides",): " ".join(fixed)})
    sweep = load.validate(document, SWEEP_KINDS)
    assert isinstance(sweep, SweepSpec)
    return sweep, document


# ---- expanding ----------------------------------------------------------------------------


def expand(sweep: SweepSpec, document: Document, folder: Path) -> Expansion:
    """The sweep's specs, axes and random draws; problems collected, not raised. Paths in the
    sweep are relative to `folder` (the sweep file's)."""
    problems: list[str] = []

    def where(path: tuple[Any, ...]) -> str:
        return document.locate(path)[0]

    specs: list[Path] = []
    for position, pattern in enumerate([sweep.base] if sweep.base is not None else sweep.specs or []):
        place = where(("base",) if sweep.base is not None else ("specs", position))
        full = folder / pattern
        found = sorted(Path(p) for p in glob.glob(str(full))) if glob.has_magic(pattern) else [full]
        missing = [p for p in found if not p.is_file()]
        if not found or missing:
            problems.append(f"{place}: {pattern}: no such spec file (paths are relative to the sweep file)")
        specs.extend(p for p in found if p.is_file())

    axes: list[Axis] = []
    places: dict[str, str] = {}
    for key, values in sweep.grid.items():
        place = where(("grid", key))
        if OVERRIDE.fullmatch(f"{key}=0") is None:
            problems.append(f"{place}: grid: '{key}' is not a key path; write it as in --set, e.g. optimizer.lr or model.layers[0].units")
            continue
        try:
            listed = grid_values(values) if isinstance(values, str) else values
        except ExpressionError as error:
            problems.append(f"{place}: grid {key}: {error}")
            continue
        if not isinstance(listed, list):
            problems.append(f"{place}: grid {key}: give a list of values, e.g. [0.1, 0.01], or range(…)/logspace(…)")
        elif not listed:
            problems.append(f"{place}: grid {key}: the list of values is empty; give at least one value")
        else:
            axes.append(Axis(key, listed, place))

    rows: list[dict[str, Any]] = []
    if sweep.random is not None:
        rows = _random_rows(sweep.random, where, problems, axes)

    if sweep.seeds is not None:
        try:
            axes.append(Axis("seed", seed_list(sweep.seeds), where(("seeds",))))
        except ExpressionError as error:
            problems.append(f"{where(('seeds',))}: {error}")

    for axis in axes:
        for value in axis.values:
            varying = "grid" if axis.key != "seed" else "seeds"
            places[override(axis.key, value)] = f"{axis.place}: {varying} {override(axis.key, value)}"
    for text in sweep.overrides:
        places[text] = f"{where(('overrides',))}: {text}" if not where(("overrides",)).startswith("--set") else f"--set {text}"
    return Expansion(sweep, specs, axes, list(sweep.overrides), places, problems, rows)


def _random_rows(random: dict[str, Any], where, problems: list[str], axes: list[Axis]) -> list[dict[str, Any]]:
    place = where(("random",))
    trials, seed = random.get("trials"), random.get("seed", 0)
    if not isinstance(trials, int) or isinstance(trials, bool) or trials < 1 or trials > MAX_VALUES:
        problems.append(
            f"{where(('random', 'trials'))}: random.trials: give how many draws, a whole number from 1 to "
            f"{MAX_VALUES:,}, got {trials!r}"
        )
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        problems.append(f"{where(('random', 'seed'))}: random.seed: should be a whole number ≥ 0, got {seed!r}")
    drawn = {}
    for key, text in random.items():
        if key in ("trials", "seed"):
            continue
        key_place = where(("random", key))
        if OVERRIDE.fullmatch(f"{key}=0") is None:
            problems.append(f"{key_place}: random: '{key}' is not a key path; write it as in --set, e.g. optimizer.lr")
            continue
        try:
            drawn[key] = distribution(text)
        except ExpressionError as error:
            problems.append(f"{key_place}: random {key}: {error}")
    if not drawn:
        problems.append(f"{place}: random: name at least one key to draw, e.g. optimizer.lr: loguniform(1e-4, 1e-1)")
    if problems or not drawn:
        return []
    rng = np.random.default_rng(seed)
    rows = [{key: dist.sample(rng) for key, dist in drawn.items()} for _ in range(trials)]
    for key in drawn:
        axes.append(Axis(key, [row[key] for row in rows], where(("random", key))))
    return rows


# ---- checking -----------------------------------------------------------------------------


#: a sweep file is read as a sweep whatever it says; what it says is then checked as a sweep's
SWEEP_KINDS = load.Kinds(classes={"sweep": SweepSpec}, aliases={}, default="sweep")


def check_trials(expansion: Expansion, trials: list[Trial], kinds: load.Kinds) -> None:
    """Validate every trial's spec, filling in its resolved config; raise SpecError with every
    problem (the sweep's own and each trial's, once each) told at the sweep's line."""
    problems = list(expansion.problems)
    documents: dict[str, Document] = {}
    for trial in trials:
        try:
            if trial.spec not in documents:
                documents[trial.spec] = load.read_spec_file(Path(trial.spec), ())
            document = copy.deepcopy(documents[trial.spec])
            document.apply_overrides(trial.overrides)
            trial.config = load.validate(document, kinds).resolved()
        except SpecError as error:
            problems.extend(_at_sweep_lines(problem, expansion.places) for problem in error.problems)
        except DnnexpError as error:
            problems.append(str(error))
    if problems:
        raise SpecError(list(dict.fromkeys(problems)))


def _at_sweep_lines(problem: str, places: dict[str, str]) -> str:
    """`--set optimizer.lr=-1: …` as `sweep.yaml:4: grid optimizer.lr=-1: …`."""
    for text, place in places.items():
        if problem.startswith(f"--set {text}: "):
            return f"{place}: {problem[len(f'--set {text}: '):]}"
    return problem
