"""What an experiment kind is: a `Task`, picked by a spec's top-level `kind:`.

A task owns its spec (the pydantic model of its sections) and three steps:

- `prepare(spec)`: everything built before a run folder exists (data, model, optimizer, the
  checks only a built model can make), so that a spec that fails leaves no folder behind;
- `run(prepared, life, console)`: the experiment itself inside the shared run lifecycle
  (dnnexp.runs.lifecycle), ending in an `Outcome`;
- `draw(prepared, run)`: the pictures of a finished run, drawn after its summary is safe;
- `rebuild(run)`: a finished run's objects back from its folder, for `plot`, `sample` and `play`
  (and `attention`, where the model attends: `plot --attention`).

A new kind is one module in dnnexp/tasks/ holding a Task subclass that declares its `kind`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.console import Console, RenderableType

from dnnexp.errors import DnnexpError
from dnnexp.plots.attention import AttentionMaps
from dnnexp.runs.lifecycle import Lifecycle, Outcome
from dnnexp.runs.rundir import RunDir
from dnnexp.spec.schema import SpecBase


class Task:
    """Base experiment kind; subclasses declare `kind`, `spec_class` and the steps."""

    kind: ClassVar[str]
    #: other `kind:` values that mean this task (older config.yaml files)
    aliases: ClassVar[tuple[str, ...]] = ()
    #: whether a spec without `kind:` is this task's
    default: ClassVar[bool] = False
    spec_class: ClassVar[type[SpecBase]]
    #: the spec key that counts how long a run trains (what to raise to train longer)
    length_key: ClassVar[str] = "train.epochs"

    def prepare(self, spec: Any, resume: RunDir | None = None) -> Any:
        """Everything a run of `spec` needs, built and checked before any folder is made; with
        `resume`, also that the run can be continued. Raises SpecError for a spec that cannot run."""
        raise NotImplementedError

    def warnings(self, prepared: Any) -> list[str]:
        """Things worth telling about a valid spec (an unusual output/loss pairing, …)."""
        return []

    def describe(self, prepared: Any) -> RenderableType:
        """What `dnnexp validate` shows of a prepared spec."""
        raise NotImplementedError

    def check(self, spec: Any) -> tuple[list[str], RenderableType]:
        """What `dnnexp validate` says of a valid spec: its warnings, and what it builds."""
        prepared = self.prepare(spec)
        return self.warnings(prepared), self.describe(prepared)

    def run(self, prepared: Any, life: Lifecycle, console: Console | None) -> Outcome:
        """Run the experiment into `life.run` (continuing it when `life.resumed`); `console`
        shows progress, None keeps quiet."""
        raise NotImplementedError

    def draw(self, prepared: Any, run: RunDir) -> None:
        """Pictures of the finished run in its folder (learning curves, …); none by default."""

    def rebuild(self, run: RunDir) -> Any:
        """A run's trained objects, rebuilt from its folder: `.model` is its model."""
        raise DnnexpError(f"{run.path}: a run of kind {self.kind} has no trained model to rebuild")

    def feature_map_input(self, rebuilt: Any) -> tuple[Any, str]:
        """One input for `plot --feature-maps` as a batch of one, and a caption."""
        raise DnnexpError(f"a run of kind {self.kind} has no images to draw feature maps of")

    def similar(self, run: RunDir, word: str, top: int) -> list[tuple[str, float]]:
        """The `top` words the run's word vectors put nearest `word`, with their similarities."""
        raise DnnexpError(f"{run.path}: a run of kind {self.kind} has no word vectors")

    def analogy(self, run: RunDir, a: str, b: str, c: str, top: int) -> list[tuple[str, float]]:
        """a is to b as c is to …: the `top` words nearest b − a + c."""
        raise DnnexpError(f"{run.path}: a run of kind {self.kind} has no word vectors")

    def export(self, run: RunDir, out: Path) -> Path:
        """The run's word vectors in word2vec's text format, written to `out`."""
        raise DnnexpError(f"{run.path}: a run of kind {self.kind} has no word vectors to export")

    def play(self, run: RunDir, episodes: int, out: Path | None, seed: int, console: Console) -> Path | None:
        """The run's trained agent acting for `episodes` episodes: shown on `console`, or drawn into
        `out`; the file written, if any."""
        raise DnnexpError(f"{run.path}: a run of kind {self.kind} has no agent to play")

    def plot_values(self, run: RunDir, out: Path | None) -> Path:
        """The run's learned values drawn over its world's grid, into `out` (or the run's folder)."""
        raise DnnexpError(f"{run.path}: a run of kind {self.kind} has no state values to draw")

    def has_attention(self, run: RunDir) -> bool:
        """Whether the run's model attends, so that `attention` can show where it looked."""
        return False

    def attention(self, run: RunDir, text: str) -> AttentionMaps:
        """Where the run's trained model looked in `text` while writing its reply."""
        raise DnnexpError(f"{run.path}: a run of kind {self.kind} has no model that attends, so no attention to draw")

    def sample(self, run: RunDir, text: str, samples: int, greedy: bool | None, seed: int) -> list[str]:
        """What the run's trained model writes for `text`, `samples` replies."""
        raise DnnexpError(f"{run.path}: a run of kind {self.kind} has no model that writes replies")
