"""Checkpoint: the whole training state saved, so that a run can resume."""

from __future__ import annotations

from dnnexp.train.callbacks.base import Callback, SaveArrays


class Checkpoint(Callback):
    """Saves the whole training state every `every` epochs and when training stops for any reason
    but divergence (whose weights are broken: the last good checkpoint stays)."""

    def __init__(self, save: SaveArrays, every: int | None = None):
        self.save, self.every = save, every

    def on_epoch_end(self, trainer, logs):
        if self.every and trainer.state.epoch % self.every == 0:
            self.save(trainer.checkpoint_arrays())

    def on_train_end(self, trainer):
        if trainer.state.status in ("completed", "interrupted"):
            self.save(trainer.checkpoint_arrays())
