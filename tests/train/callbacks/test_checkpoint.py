"""Checkpoint: when the training state is saved."""

from __future__ import annotations

import pytest

from dnnexp.train import callbacks as cb


@pytest.mark.parametrize(
    ("every", "status", "saved"),
    [(2, "completed", [2, 4, 5]), (None, "completed", [5]), (2, "interrupted", [2, 4, 5]), (2, "diverged", [2, 4])],
)
def test_checkpoint_every_n_epochs_and_at_the_end_unless_diverged(every, status, saved, scripted_trainer, run_epochs):
    trainer, saves = scripted_trainer(), []
    checkpoint = cb.Checkpoint(saves.append, every)
    run_epochs(checkpoint, trainer, "val_loss", [1.0] * 5)
    trainer.state.status = status
    checkpoint.on_train_end(trainer)
    assert [int(arrays["epoch"]) for arrays in saves] == saved
