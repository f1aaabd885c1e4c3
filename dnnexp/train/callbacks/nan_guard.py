"""NaNGuard: a NaN or infinite loss ends the run at once, as diverged."""

from __future__ import annotations

import math

from dnnexp.train.callbacks.base import Callback


class NaNGuard(Callback):
    """Ends the run as `diverged` the moment the loss is NaN or infinite."""

    def on_batch_end(self, trainer):
        if not math.isfinite(trainer.last_loss):
            state = trainer.state
            state.stop, state.status = True, "diverged"
            state.message = (
                f"the loss became {trainer.last_loss} at epoch {state.epoch + 1}, step {state.step + 1}; "
                f"lower the learning rate (optimizer.lr is {trainer.base_lr:g}) "
                "or clip gradients (regularization.clip_norm)"
            )
