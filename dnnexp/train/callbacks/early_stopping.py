"""EarlyStopping: stop when a logged metric stops improving, and keep the best epoch's weights."""

from __future__ import annotations

import numpy as np

from dnnexp.train.arrays import split_arrays
from dnnexp.train.callbacks.monitor import MonitorCallback


class EarlyStopping(MonitorCallback):
    """Stops when `monitor` has not improved by `min_delta` for `patience` epochs; with
    `restore_best`, the best epoch's weights are put back when the run ends."""

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0, restore_best: bool = True):
        super().__init__(monitor, min_delta)
        self.patience, self.restore_best = patience, restore_best
        self.best_epoch = 0
        self.best_weights: dict[str, np.ndarray] = {}

    def on_epoch_end(self, trainer, logs):
        if self.improved(logs):
            self.best_epoch = int(logs["epoch"])
            if self.restore_best:
                self.best_weights = {k: v.copy() for k, v in trainer.model.state_arrays().items()}
        elif self.wait >= self.patience:
            state = trainer.state
            state.stop = True
            state.message = (
                f"stopped early after epoch {int(logs['epoch'])}: {self.monitor} has not improved "
                f"for {self.patience} epochs (best at epoch {self.best_epoch})"
            )

    def on_train_end(self, trainer):
        if self.restore_best and self.best_weights and trainer.state.status == "completed":
            trainer.model.load_state_arrays(self.best_weights)

    def state_arrays(self):
        arrays = {**super().state_arrays(), "best_epoch": np.array(self.best_epoch)}
        arrays.update({f"weights/{k}": v for k, v in self.best_weights.items()})
        return arrays

    def load_state_arrays(self, arrays):
        super().load_state_arrays(arrays)
        self.best_epoch = int(arrays["best_epoch"])
        self.best_weights = split_arrays(arrays, "weights")
