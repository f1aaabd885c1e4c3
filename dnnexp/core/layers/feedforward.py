"""The Transformer's position-wise feed-forward block (Vaswani et al. 2017, §3.3)."""

from __future__ import annotations

from dnnexp.core.layers.base import ShapeError
from dnnexp.core.layers.dense import Dense
from dnnexp.core.layers.wrappers import TimeDistributed


class FeedForward(TimeDistributed):
    """FFN(x) = max(0, x W1 + b1) W2 + b2 at every step alone, one set of weights for all steps.

    Two dense layers around a ReLU, widening to `units` and back to the input's width D, applied
    as time_distributed applies them: (N, T, D) folded into (N·T, D). Input (N, T, D), output
    (N, T, D); parameters "dense1.W" (D, units), "dense1.b", "dense2.W" (units, D), "dense2.b".
    """

    kind = "feed_forward"

    def __init__(self, units: int, init: str | dict = "xavier_uniform"):
        super().__init__(layer=[])
        self.units, self.init = units, init

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ShapeError(f"feed_forward takes sequences (T, D), got {tuple(input_shape)}")
        # Imported here: dnnexp.core.activations imports this package, so a module-level import is a cycle.
        from dnnexp.core.activations import ReLU

        # The way back to D is known only now, from the input.
        self.layer = [Dense(self.units, self.init), ReLU(), Dense(input_shape[-1], self.init)]
        return super().compute_output_shape(input_shape)
