"""What a data set is, and how a spec's `data:` section turns one into train/validation/test splits.

A data set is a function returning a `Dataset`, registered in `DATASETS` where it is defined
(`@registered("mnist")`); real image sets keep
their pixels as uint8 and are scaled to [0, 1] float32 one mini-batch at a time, so 60,000 images
cost 47 MB in memory rather than 188 MB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Literal, TypeVar

import numpy as np

from dnnexp.core.models.base import DataInfo, Vocabulary
from dnnexp.data.augment import Augmentation
from dnnexp.errors import SpecError

#: what the targets are: class labels, 0/1 values, or real numbers
Target = Literal["multiclass", "binary", "regression"]

Truth = Callable[[np.ndarray], np.ndarray]

#: the data set functions by the name a spec's `data.name` gives them
DATASETS: dict[str, Callable[..., "Dataset"]] = {}

F = TypeVar("F", bound=Callable[..., "Dataset"])


def registered(name: str) -> Callable[[F], F]:
    """Decorator that files a data set function in DATASETS under `name`."""

    def add(function: F) -> F:
        if DATASETS.setdefault(name, function) is not function:
            raise RuntimeError(f"two data sets registered as '{name}'")
        return function

    return add


@dataclass
class Dataset:
    """Arrays as a data set function returns them, before any split.

    x: (N, *feature_shape), uint8 pixels or float32 features.
    t: multiclass → int64 labels (N,); binary → float32 (N, 1) of 0/1; regression → float32 (N, k).
    """

    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray | None
    t_test: np.ndarray | None
    task: Target
    classes: list[str] | None = None
    vocabulary: Vocabulary | None = None  # a text corpus's tokens and special ids
    #: the noiseless function a synthetic set's targets scatter around, x (N, *feature) → t (N, k),
    #: for pictures of the fit; None where there is none
    truth: Truth | None = None


@dataclass
class Split:
    """One split (train, validation or test); `batch` returns float32 inputs."""

    x: np.ndarray
    t: np.ndarray
    scale: float | None = None  # 1/255 for uint8 pixels

    def __len__(self) -> int:
        return len(self.x)

    def batch(self, index: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray]:
        x = self.x[index]
        if self.scale is not None:
            x = x.astype(np.float32) * np.float32(self.scale)
        return x, self.t[index]

    def batches(self, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Mini-batches in stored order (for evaluation)."""
        for start in range(0, len(self), batch_size):
            yield self.batch(slice(start, start + batch_size))


@dataclass
class Batches:
    """The data a trainer needs: splits plus what the model and loss must know about them."""

    train: Split
    val: Split | None
    test: Split | None
    task: Target
    input_shape: tuple[int, ...]
    num_outputs: int
    classes: list[str] | None = field(default=None)
    vocabulary: Vocabulary | None = None
    #: random crops and flips the trainer applies to each training batch (never to val or test)
    augment: Augmentation | None = None
    truth: Truth | None = None  # as Dataset.truth

    @property
    def info(self) -> DataInfo:
        """What a model needs to know of this data to build itself."""
        return DataInfo(
            self.input_shape, tuple(self.train.t.shape[1:]), self.num_outputs, self.task,
            None if self.classes is None else tuple(self.classes), self.vocabulary,
        )


def _split(x: np.ndarray, t: np.ndarray, flatten: bool, sequence: bool) -> Split:
    if flatten:
        x = x.reshape(len(x), -1)
    elif sequence:
        # Rows as time steps: (N, C, H, W) → (N, H, W·C), each step one row of every channel.
        N, C, H, W = x.shape
        x = x.transpose(0, 2, 3, 1).reshape(N, H, W * C)
    return Split(x, t, scale=1.0 / 255.0 if x.dtype == np.uint8 else None)


def prepare(
    dataset: Dataset,
    *,
    flatten: bool,
    validation: int,
    subset: int | None,
    shuffle_seed: int,
    sequence: bool = False,
) -> Batches:
    """Hold out `validation` samples, keep the first `subset` of the rest for training, and
    flatten images if asked, or with `sequence` read them row by row as (N, H, W) sequences for
    recurrent networks.

    The held-out samples are chosen by a permutation from `shuffle_seed`, so every run of a sweep
    with the same seed validates on the same samples, whatever its `subset`.
    """
    x, t = dataset.x_train, dataset.t_train
    if flatten and sequence:
        raise SpecError("data.flatten and data.sequence both set: images are either vectors or sequences; drop one")
    if sequence and x.ndim != 4:
        raise SpecError(
            f"data.sequence: reads images (C, H, W) row by row, but these samples are {x.shape[1:]}; "
            "drop data.sequence"
        )
    if validation >= len(x):
        raise SpecError(
            f"data.validation: holding out {validation} samples leaves none of the {len(x)} to train on; lower it"
        )
    order = np.random.default_rng(shuffle_seed).permutation(len(x))
    val_idx, train_idx = np.sort(order[:validation]), np.sort(order[validation:])
    if subset is not None:
        if subset > len(train_idx):
            raise SpecError(
                f"data.subset: {subset} is more than the {len(train_idx)} training samples left after "
                f"holding out {validation} for validation; lower it"
            )
        train_idx = train_idx[:subset]
    val = _split(x[val_idx], t[val_idx], flatten, sequence) if validation else None
    train = _split(x[train_idx], t[train_idx], flatten, sequence)
    test = None
    if dataset.x_test is not None and dataset.t_test is not None:
        test = _split(dataset.x_test, dataset.t_test, flatten, sequence)
    if dataset.task == "multiclass":
        num_outputs = len(dataset.classes) if dataset.classes else int(dataset.t_train.max()) + 1
    else:
        num_outputs = int(np.prod(dataset.t_train.shape[1:]))
    return Batches(
        train, val, test, dataset.task, tuple(train.x.shape[1:]), num_outputs, dataset.classes, dataset.vocabulary,
        truth=dataset.truth,
    )
