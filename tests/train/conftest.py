"""Fixtures for the trainer and callback tests: trainers built from small specs, and a recording callback."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from dnnexp.tasks import spec_from_dict
from dnnexp.tasks.supervised import SupervisedTask
from dnnexp.train.callbacks import Callback
from dnnexp.train.trainer import Trainer

MakeTrainer = Callable[..., Trainer]


class Record(Callback):
    """Keeps `what(trainer, *hook_args)` at every call of `hook` (after each batch by default)."""

    def __init__(self, what: Callable[..., Any], hook: str = "on_batch_end"):
        self.values: list[Any] = []
        setattr(self, hook, lambda trainer, *args: self.values.append(what(trainer, *args)))


@pytest.fixture
def record() -> type[Record]:
    """The `Record` callback class."""
    return Record


@pytest.fixture
def make_trainer(blobs_spec: dict[str, Any]) -> MakeTrainer:
    """A trainer for BLOBS_SPEC updated with top-level `changes`, watched by `callbacks`, not yet fitted."""

    def make(*callbacks: Callback, **changes: Any) -> Trainer:
        trainer = SupervisedTask().prepare(spec_from_dict({**blobs_spec, **changes})).trainer
        trainer.callbacks = list(callbacks)
        return trainer

    return make
