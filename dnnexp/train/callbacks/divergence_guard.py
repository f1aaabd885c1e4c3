"""DivergenceGuard: a loss that is NaN or infinite, or that leaves its sensible range, ends the run
at once, as diverged (the course's "too large a learning rate diverges")."""

from __future__ import annotations

import math

import numpy as np

from dnnexp.train.callbacks.base import Callback


class DivergenceGuard(Callback):
    """Ends the run as `diverged` the moment a batch's loss (with its penalties) is NaN or infinite,
    exceeds `factor` times the run's first batch's loss (taken before any update), or exceeds `max_loss`.

    A loss of 10³⁰ is finite but is no training any more: without the range a run that explodes slowly
    enough to stay below float32's overflow would end `completed`. `factor` and `max_loss` may be
    None (no such bound); the NaN check always holds.
    """

    def __init__(self, factor: float | None = None, max_loss: float | None = None, remedy: str = "or clip gradients (regularization.clip_norm)"):
        self.factor, self.max_loss, self.remedy = factor, max_loss, remedy  # remedy: what besides a lower rate helps
        self.first_loss = math.nan  # the first batch's loss; kept in the checkpoint so a resume bounds alike

    def on_batch_end(self, trainer):
        loss, state = trainer.last_loss, trainer.state
        if math.isnan(self.first_loss) and math.isfinite(loss):
            self.first_loss = float(loss)
        if not math.isfinite(loss):
            why = ""
        elif self.factor is not None and self.first_loss > 0 and loss > self.factor * self.first_loss:
            why = f", over {self.factor:g} × the first batch's loss {self.first_loss:.4g} (train.divergence.factor)"
        elif self.max_loss is not None and loss > self.max_loss:
            why = f", over {self.max_loss:g} (train.divergence.max_loss)"
        else:
            return
        # A finite loss's step was taken and counted; a NaN's was not (no update from a broken loss).
        step = state.step if math.isfinite(loss) else state.step + 1
        state.stop, state.status = True, "diverged"
        state.message = (
            f"the loss became {loss:.4g}{why} at epoch {state.epoch + 1}, step {step}; "
            f"lower the learning rate (optimizer.lr is {trainer.base_lr:g}) {self.remedy}"
        )

    def state_arrays(self):
        return {"first_loss": np.array(self.first_loss)}

    def load_state_arrays(self, arrays):
        # Checkpoints from before the range check hold no first loss: the next batch's then stands in.
        self.first_loss = float(arrays.get("first_loss", math.nan))
