"""ReduceLROnPlateau: a smaller learning rate when a logged metric stops improving."""

from __future__ import annotations

from dnnexp.train.callbacks.monitor import MonitorCallback


class ReduceLROnPlateau(MonitorCallback):
    """Multiplies the learning rate by `factor` when `monitor` has not improved for `patience`
    epochs, down to `min_lr`."""

    def __init__(self, monitor: str = "val_loss", factor: float = 0.5, patience: int = 3, min_lr: float = 1e-6):
        super().__init__(monitor, 0.0)
        self.factor, self.patience, self.min_lr = factor, patience, min_lr

    def on_epoch_end(self, trainer, logs):
        if not self.improved(logs) and self.wait >= self.patience:
            state = trainer.state
            # Never upwards: a base rate already under min_lr stays where it is.
            floor = min(state.lr_scale, self.min_lr / trainer.base_lr)
            state.lr_scale = max(state.lr_scale * self.factor, floor)
            self.wait = 0
