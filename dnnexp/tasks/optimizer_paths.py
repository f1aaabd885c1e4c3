"""Optimizer paths (`kind: optimizer_paths`, course Day 2 §2): every optimizer of a spec walks the
same 2-D function from the same start, and the paths are drawn over its contour lines.

The walks take no time and are deterministic, so a resumed run simply walks them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BeforeValidator, Field
from rich.console import Console

from dnnexp.core.surfaces import SURFACES, Surface, descend
from dnnexp.runs.lifecycle import Lifecycle, Outcome
from dnnexp.errors import SpecError
from dnnexp.runs.rundir import RunDir
from dnnexp.spec.registry import OPTIMIZERS
from dnnexp.spec.schema import OptimizerSpec, PositiveInt, Section, SpecBase
from dnnexp.tasks.base import Task


def _name_to_mapping(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


class SurfaceSection(Section):
    """`function:` the 2-D function the optimizers descend (dnnexp.core.surfaces)."""

    name: Literal[tuple(SURFACES)]  # type: ignore[valid-type]  # the names of SURFACES


#: how far from the origin a walk may start: the surfaces' x⁴ terms overflow float64 beyond ~1e77,
#: and the course's walks start within 10
START_LIMIT = 1e6
Coordinate = Annotated[float, Field(ge=-START_LIMIT, le=START_LIMIT, allow_inf_nan=False)]


class OptimizerPathsSpec(SpecBase):
    """Optimizers walking a 2-D function side by side (`kind: optimizer_paths`)."""

    kind: Literal["optimizer_paths"]
    function: Annotated[SurfaceSection, BeforeValidator(_name_to_mapping)]
    start: Annotated[list[Coordinate], Field(min_length=2, max_length=2)]  # [x, y], finite
    steps: PositiveInt = 30
    optimizers: list[OptimizerSpec] = Field(min_length=1)


@dataclass
class Prepared:
    spec: OptimizerPathsSpec
    surface: Surface
    optimizers: dict[str, Any]  # legend label → optimizer


def label(optimizer: dict[str, Any]) -> str:
    """A legend label: the optimizer's name and learning rate."""
    return f"{optimizer['name']} (lr {optimizer['lr']:g})"


class OptimizerPathsTask(Task):
    """Optimizers walking the same 2-D function: paths.csv, paths.png (course Day 2 §2)."""

    kind = "optimizer_paths"
    length_key = "steps"
    spec_class = OptimizerPathsSpec

    def prepare(self, spec: OptimizerPathsSpec, resume: RunDir | None = None) -> Prepared:
        labels = [label(optimizer) for optimizer in spec.optimizers]
        twice = sorted({name for name in labels if labels.count(name) > 1})
        if twice:
            raise SpecError(
                f"optimizers: {', '.join(twice)} appears more than once, and each path is named by its optimizer "
                "and learning rate; give each a different learning rate or leave the repeats out"
            )
        optimizers = {name: OPTIMIZERS.build(optimizer) for name, optimizer in zip(labels, spec.optimizers)}
        return Prepared(spec, SURFACES[spec.function.name], optimizers)

    def describe(self, prepared: Prepared) -> str:
        return f"{len(prepared.optimizers)} optimizers from {list(prepared.spec.start)} on {prepared.spec.function.name}"

    def run(self, prepared: Prepared, life: Lifecycle, console: Console | None) -> Outcome:
        """Walk every optimizer from the start point; write paths.csv and paths.png."""
        from dnnexp.plots.paths import plot_paths

        spec, run = prepared.spec, life.run
        start = tuple(spec.start)
        # A walk that diverges overflows on its way out; its status says so, not NumPy warnings.
        with np.errstate(over="ignore", invalid="ignore"):
            walks = {name: descend(prepared.surface, opt, start, spec.steps) for name, opt in prepared.optimizers.items()}
        rows = ["optimizer,step,x,y,f\n"] + [
            f"{name},{step},{x:.10g},{y:.10g},{f:.10g}\n" for name, walk in walks.items() for step, (x, y, f) in enumerate(walk)
        ]
        run.write_text("paths.csv", "".join(rows))
        with np.errstate(over="ignore", invalid="ignore"):
            plot_paths(prepared.surface, walks, run.file("paths.png"), title=prepared.surface.__doc__.split(":")[0])
        final = {name: {"x": walk[-1, 0], "y": walk[-1, 1], "f": walk[-1, 2]} for name, walk in walks.items()}
        diverged = [name for name, walk in walks.items() if not np.all(np.isfinite(walk))]
        if diverged:
            return Outcome("diverged", f"{', '.join(diverged)} left the finite numbers; lower their learning rates", {"final": final})
        return Outcome("completed", "", {"final": final})
