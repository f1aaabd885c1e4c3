"""FiniteLoss: an episode whose loss is NaN or infinite ends a reinforcement-learning run as diverged."""

from __future__ import annotations

import math

from dnnexp.train.callbacks.base import Callback


class FiniteLoss(Callback):
    """Ends the episode loop as `diverged` after an episode whose mean loss is NaN or infinite (a
    network's weights broken by too large a step); the last checkpoint, from before, stays."""

    def on_epoch_end(self, loop, logs):
        loss = logs.get("loss")
        if loss is None or math.isfinite(loss):
            return
        state = loop.state
        state.stop, state.status = True, "diverged"
        state.message = f"the loss became {loss} in episode {logs['episode']}, step {logs['step']}; lower the learning rate"
