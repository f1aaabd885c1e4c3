"""Fixtures for the callback tests: a stand-in trainer driven epoch by epoch, without training."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Callable

import numpy as np
import pytest

from dnnexp.spec.build import sequential
from dnnexp.train.callbacks import Callback
from dnnexp.train.trainer import TrainState

RunEpochs = Callable[[Callback, SimpleNamespace, str, list[float]], int]


@pytest.fixture
def scripted_trainer() -> Callable[..., SimpleNamespace]:
    """`scripted_trainer(base_lr=0.1)`: just what a callback reads of a trainer: a one-layer
    model, the state, the base rate."""

    def make(base_lr: float = 0.1) -> SimpleNamespace:
        model = sequential((2,), [{"type": "dense", "units": 2}])
        return SimpleNamespace(
            model=model, state=TrainState(), base_lr=base_lr, last_loss=0.5,
            checkpoint_arrays=lambda: {"epoch": np.array(model.params["dense1.W"][0, 0])},
        )

    return make


@pytest.fixture
def run_epochs() -> RunEpochs:
    """`run_epochs(callback, trainer, monitor, values)`: feed `values` of `monitor` as epochs 1, 2, …
    (the weights set to the epoch number) until the callback stops the run; the last epoch run."""

    def run(callback: Callback, trainer: SimpleNamespace, monitor: str, values: list[float]) -> int:
        for epoch, value in enumerate(values, start=1):
            trainer.model.params["dense1.W"][...] = epoch
            trainer.state.epoch = epoch
            callback.on_epoch_end(trainer, {"epoch": epoch, monitor: value})
            if trainer.state.stop:
                break
        return epoch

    return run
