"""ReduceLROnPlateau: a smaller learning rate after `patience` epochs without gain."""

from __future__ import annotations

import pytest

from dnnexp.train import callbacks as cb


@pytest.mark.parametrize(
    ("base_lr", "scales"),
    [(0.1, [1, 1, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2, 0.2]), (1e-3, [1.0] * 9)],
    ids=["down to min_lr", "never above a base rate under min_lr"],
)
def test_reduce_lr_on_plateau_scales_by_factor_after_patience(base_lr, scales, scripted_trainer):
    trainer = scripted_trainer(base_lr)
    plateau = cb.ReduceLROnPlateau("val_loss", factor=0.5, patience=2, min_lr=0.02)
    seen = []
    for epoch in range(1, 10):
        plateau.on_epoch_end(trainer, {"epoch": epoch, "val_loss": 1.0})
        seen.append(trainer.state.lr_scale)
    assert seen == pytest.approx(scales)


def test_reduce_lr_on_plateau_shows_in_the_logged_lr(make_trainer, record):
    logged = record(lambda t, logs: logs["lr"], hook="on_epoch_end")
    plateau = cb.ReduceLROnPlateau("val_acc", factor=0.5, patience=1, min_lr=2e-7)
    # So small a rate leaves every validation prediction, and so val_acc, as it was.
    make_trainer(logged, plateau, optimizer={"name": "sgd", "lr": 1e-6}, train={"epochs": 6, "batch_size": 32}).fit()
    assert logged.values == pytest.approx([1e-6, 1e-6, 5e-7, 2.5e-7, 2e-7, 2e-7])
