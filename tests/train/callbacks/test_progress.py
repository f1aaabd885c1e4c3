"""Progress: the console's line per epoch."""

from __future__ import annotations

import io

from rich.console import Console

from dnnexp.train import callbacks as cb


def test_the_epoch_line_gives_training_metrics_short_names_and_validation_its_own(scripted_trainer):
    out = io.StringIO()
    trainer = scripted_trainer()
    trainer.epochs = 3
    logs = {
        "epoch": 2, "step": 20, "lr": 0.1, "train_loss": 0.25, "train_acc": 0.9, "train_penalty": 1.5,
        "train_running_loss": 0.5, "train_running_acc": 0.8, "val_loss": 0.75, "val_acc": 0.7, "epoch_time_s": 1.25,
    }
    cb.Progress(Console(file=out, width=300)).on_epoch_end(trainer, logs)
    assert out.getvalue() == (
        "epoch 2/3  lr 0.1  loss 0.25  acc 0.9  penalty 1.5  running_loss 0.5  running_acc 0.8  "
        "val_loss 0.75  val_acc 0.7  1.2s\n"
    )
