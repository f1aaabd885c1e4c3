"""Dropout (course Day 2 §3): randomly silence units while training."""

from __future__ import annotations

import numpy as np

from dnnexp.core.layers.base import BuildContext, Layer


class Dropout(Layer):
    """Inverted dropout: in training, zero each unit with probability `rate` and scale the survivors
    by 1/(1 − rate), so evaluation needs no rescaling and is the identity."""

    kind = "dropout"

    def __init__(self, rate: float = 0.5):
        super().__init__()
        self.rate = rate

    def build(self, input_shape, ctx: BuildContext):
        self.rng = ctx.noise_rng
        return self.compute_output_shape(input_shape)

    def forward(self, x, train=False):
        if not train or self.rate == 0.0:
            self.mask = None
            return x
        keep = self.rng.random(x.shape, dtype=np.float32) >= self.rate
        self.mask = keep.astype(x.dtype) * (1.0 / (1.0 - self.rate))
        return x * self.mask

    def backward(self, dout):
        return dout if self.mask is None else dout * self.mask
