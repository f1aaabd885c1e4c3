"""The spec format: every key a YAML spec may hold, its type, default and limits.

Read top-down, this is the reference of the format. Arguments of registered implementations
(layer sizes, optimizer rates, data-set options) come from their signatures (see `arguments`).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BeforeValidator, Field, PlainValidator, SerializeAsAny, model_validator

from dnnexp.core.layers.base import ShapeError
from dnnexp.runs.rundir import run_name_problem
from dnnexp.spec.registry import DATASETS, LOSSES, MODELS, OPTIMIZERS, SCHEDULES
from dnnexp.spec.arguments import (
    Implementation,
    Layer,
    Named,
    Section,
    lookup,
    registered_name,
    spec_error,
    validation_error,
)

PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]

def _run_name(name: str) -> str:
    problem = run_name_problem(name)
    if problem:
        raise spec_error("run_name", problem, value=name)
    return name


RunName = Annotated[str, AfterValidator(_run_name)]
LossName = registered_name(LOSSES)


class AugmentSection(Section):
    """`data.augment:` random changes to every training batch (never to validation or test
    batches), drawn from the run's seed."""

    crop_padding: NonNegativeInt = 0  # pad by this many zero pixels, then crop the image's size back out at random
    horizontal_flip: bool = False  # mirror half the images left to right


class DataSection(Named):
    """`data:` the data set and how it is split. The data set's own arguments (`noise`, `n` of the
    synthetic sets; `folder` of the image sets) sit beside `name`, as its function declares them."""

    flatten: bool = False  # (N, 28, 28) images → (N, 784) vectors for dense networks
    sequence: bool = False  # (N, 1, 28, 28) images → (N, 28, 28): 28 steps of a row each, for RNNs
    validation: NonNegativeInt = 0  # training samples held out for validation
    subset: PositiveInt | None = None  # train on only the first N samples left after validation
    test_every_epoch: bool = False  # evaluate the test split after every epoch, not only at the end
    augment: AugmentSection | None = None  # random crops and flips of the training images

    def dataset_arguments(self) -> dict[str, Any]:
        """The keyword arguments for the registered data-set function."""
        return {key: getattr(self, key) for key in type(self).model_fields if key not in DataSection.model_fields}


OptimizerSpec = Annotated[dict[str, Any], PlainValidator(Implementation(OPTIMIZERS))]
ScheduleSpec = Annotated[dict[str, Any], PlainValidator(Implementation(SCHEDULES))]
DataSpec = Annotated[SerializeAsAny[DataSection], PlainValidator(Implementation(DATASETS, DataSection, short=False).check)]


class ModelSection(Section):
    """`model:` the layers, in order (the default kind, sequential)."""

    input_shape: list[PositiveInt] | None = None  # one sample's shape; null: take it from the data
    layers: list[Layer] = Field(min_length=1)

    @model_validator(mode="after")
    def _shapes_fit(self) -> ModelSection:
        from dnnexp.spec.build import sequential_model  # it builds from these sections

        if self.input_shape is not None:
            try:
                sequential_model(self).compute_output_shapes()
            except ShapeError as error:
                loc = ("layers",) if error.index is None else ("layers", error.index)
                raise spec_error("layer_shape", str(error), loc, layer_type=error.layer_type) from None
        return self


class TokenModelSection(Section):
    """`model:` with `kind:` an encoder-decoder of token ids (`dnnexp list models`); the other keys
    are the kind's arguments. The vocabulary and the reply length come from the data."""

    registry_key: ClassVar[str] = "kind"

    kind: str


SEQUENTIAL = "sequential"


def _model_section(value: Any) -> Section:
    """`model:` checked as its kind's section: layers for sequential (no `kind:`), the kind's
    arguments for the others."""
    if isinstance(value, dict) and value.get("kind", SEQUENTIAL) == SEQUENTIAL:
        # Left out of the resolved spec, so that the config.yaml of every sequential run reads as before.
        return ModelSection.model_validate({key: item for key, item in value.items() if key != "kind"})
    return Implementation(MODELS, TokenModelSection, short=False).check(value)


ModelSpec = Annotated[SerializeAsAny[Section], PlainValidator(_model_section)]


class Regularization(Section):
    """`regularization:` weight penalties and gradient clipping."""

    l2: NonNegativeFloat = 0.0  # λ of the L2 penalty λ/2 ΣW²
    l1: NonNegativeFloat = 0.0  # λ of the L1 penalty λ Σ|W|
    clip_norm: Annotated[float, Field(gt=0)] | None = None  # largest global gradient norm


#: a column of metrics.csv, e.g. val_loss; which ones a run logs depends on its model and data
Monitor = str


class EarlyStopping(Section):
    """`train.early_stopping:` stop when `monitor` has not improved by `min_delta` for `patience` epochs."""

    monitor: Monitor = "val_loss"
    patience: NonNegativeInt = 5
    min_delta: NonNegativeFloat = 0.0
    restore_best: bool = True  # end with the weights of the best epoch


class ReduceLROnPlateau(Section):
    """`train.reduce_lr_on_plateau:` multiply the learning rate by `factor` after `patience` epochs
    without improvement, down to `min_lr`."""

    monitor: Monitor = "val_loss"
    factor: Annotated[float, Field(gt=0, lt=1)] = 0.5
    patience: NonNegativeInt = 3
    min_lr: NonNegativeFloat = 1e-6


class Divergence(Section):
    """`train.divergence:` when a finite loss counts as diverged (a NaN or infinite one always does):
    a batch's loss, penalties included, over `factor` × the first batch's (before any update), or
    over `max_loss`. Either may be null; `train.divergence: null` leaves only the NaN check."""

    factor: Annotated[float, Field(gt=1)] | None = 1e4
    max_loss: Annotated[float, Field(gt=0)] | None = None


class TrainSection(Section):
    """`train:` how long, in what batches, and with which callbacks."""

    epochs: PositiveInt
    batch_size: PositiveInt = 100
    checkpoint_every: NonNegativeInt = 1  # epochs between checkpoints; 0: only at the end
    divergence: Divergence | None = Divergence()
    early_stopping: EarlyStopping | None = None
    reduce_lr_on_plateau: ReduceLROnPlateau | None = None


class LoggingSection(Section):
    """`logging:` what is recorded besides metrics.csv."""

    layer_stats: bool = False  # per-layer activation and gradient statistics (layer_stats.csv)
    time_grads: bool = False  # ‖dL/dh_t‖ per time step of each recurrent layer (time_grads.csv)


class SpecBase(Section):
    """What every kind of spec has: a name, and a resolved form to record; each experiment kind
    (dnnexp.tasks) adds its `kind:` and its sections."""

    name: RunName  # run-folder prefix; load_spec defaults it to the spec file's stem

    def resolved(self) -> dict[str, Any]:
        """The spec with every default filled in, as plain YAML-safe data (config.yaml)."""
        return _plain(self.model_dump())


def _plain(value: Any) -> Any:
    """Tuples as lists, recursively: what yaml.safe_dump can write."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
