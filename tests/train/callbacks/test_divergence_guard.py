"""DivergenceGuard: a NaN or infinite loss, or one out of range, ends the run as diverged."""

from __future__ import annotations

import math

import pytest

from dnnexp.train import callbacks as cb


def feed(guard: cb.DivergenceGuard, trainer, losses: list[float]) -> int:
    """Batch losses to the guard until it stops the run, each a step taken as the trainer takes
    them (only from a finite loss); the batches it saw."""
    for seen, loss in enumerate(losses, start=1):
        trainer.last_loss = loss
        trainer.state.step += math.isfinite(loss)
        guard.on_batch_end(trainer)
        if trainer.state.stop:
            return seen
    return len(losses)


@pytest.mark.parametrize("loss", [math.nan, math.inf])
def test_a_nan_or_infinite_loss_ends_the_run_as_diverged_naming_epoch_and_step(loss, scripted_trainer):
    trainer = scripted_trainer()
    trainer.state.epoch, trainer.state.step = 1, 11
    guard = cb.DivergenceGuard(factor=None)
    guard.on_batch_end(trainer)
    assert not trainer.state.stop
    trainer.last_loss = loss
    guard.on_batch_end(trainer)
    assert trainer.state.stop and trainer.state.status == "diverged"
    assert trainer.state.message.startswith(f"the loss became {loss} at epoch 2, step 12; lower the learning rate")
    assert "optimizer.lr is 0.1" in trainer.state.message


def test_a_loss_beyond_factor_times_the_first_batch_s_is_divergence(scripted_trainer):
    trainer = scripted_trainer()
    guard = cb.DivergenceGuard(factor=1e4)
    assert feed(guard, trainer, [0.5, 3.0, 4999.0, 100.0]) == 4 and not trainer.state.stop
    assert feed(guard, trainer, [5001.0]) == 1
    assert trainer.state.status == "diverged"
    assert trainer.state.message == (
        "the loss became 5001, over 10000 × the first batch's loss 0.5 (train.divergence.factor) at epoch 1, "
        "step 5; lower the learning rate (optimizer.lr is 0.1) or clip gradients (regularization.clip_norm)"
    )


def test_max_loss_bounds_the_loss_absolutely_and_none_turns_a_bound_off(scripted_trainer):
    trainer = scripted_trainer()
    assert feed(cb.DivergenceGuard(factor=None, max_loss=100.0), trainer, [0.5, 1e3]) == 2
    assert "over 100 (train.divergence.max_loss)" in trainer.state.message
    unbounded = scripted_trainer()
    assert feed(cb.DivergenceGuard(), unbounded, [0.5, 1e30, 1e38]) == 3 and not unbounded.state.stop


def test_a_resumed_guard_measures_against_the_run_s_first_batch(scripted_trainer):
    guard = cb.DivergenceGuard(factor=10.0)
    feed(guard, scripted_trainer(), [2.0, 1.0])
    resumed = cb.DivergenceGuard(factor=10.0)
    resumed.load_state_arrays(guard.state_arrays())
    trainer = scripted_trainer()
    assert feed(resumed, trainer, [19.0, 21.0]) == 2 and trainer.state.stop  # 10 × 2.0, not × 19.0
    older = cb.DivergenceGuard(factor=10.0)
    older.load_state_arrays({})  # a checkpoint from before the range check: the next batch stands in
    fresh = scripted_trainer()
    assert feed(older, fresh, [19.0, 21.0]) == 2 and not fresh.state.stop
