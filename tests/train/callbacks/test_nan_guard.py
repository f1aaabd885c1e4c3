"""NaNGuard: a NaN or infinite loss ends the run as diverged."""

from __future__ import annotations

import math

import pytest

from dnnexp.train import callbacks as cb


@pytest.mark.parametrize("loss", [math.nan, math.inf])
def test_nan_guard_ends_the_run_as_diverged_naming_epoch_and_step(loss, scripted_trainer):
    trainer = scripted_trainer()
    trainer.state.epoch, trainer.state.step = 1, 11
    cb.NaNGuard().on_batch_end(trainer)
    assert not trainer.state.stop
    trainer.last_loss = loss
    cb.NaNGuard().on_batch_end(trainer)
    assert trainer.state.stop and trainer.state.status == "diverged"
    assert "epoch 2, step 12" in trainer.state.message and "optimizer.lr is 0.1" in trainer.state.message
