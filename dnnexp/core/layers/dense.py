"""Fully connected layer (course Day 1 §1: u = Wx + b)."""

from __future__ import annotations

import numpy as np

from dnnexp.core import parallel
from dnnexp.core.functions import batch_sum
from dnnexp.core.initializers import initializer
from dnnexp.core.layers.base import BuildContext, Layer, ShapeError


class Dense(Layer):
    """Fully connected layer u = xW + b.

    Input (N, D), output (N, units); W is (D, units), so a batch of row vectors multiplies from
    the left — the course's u = Wx + b with x as rows.
    """

    kind = "dense"

    penalized = ("W",)

    def __init__(self, units: int, init: str | dict = "xavier_normal", use_bias: bool = True):
        super().__init__()
        self.units, self.init, self.use_bias = units, init, use_bias

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) != 1:
            raise ShapeError(
                f"dense takes flat inputs (D,), got {tuple(input_shape)}; "
                "put {type: flatten} before it or set data.flatten: true"
            )
        return (self.units,)

    def build(self, input_shape, ctx: BuildContext):
        output_shape = self.compute_output_shape(input_shape)
        (fan_in,) = input_shape
        self.params["W"] = initializer(self.init)((fan_in, self.units), fan_in, self.units, ctx.init_rng, ctx.dtype)
        if self.use_bias:
            self.params["b"] = np.zeros(self.units, dtype=ctx.dtype)
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        return output_shape

    def forward(self, x, train=False):
        self.x = x
        out = parallel.matmul(x, self.params["W"])  # a large batch in two row blocks (core/parallel.py)
        if self.use_bias:
            out += self.params["b"]
        return out

    def backward(self, dout):
        if not self.needs_input_grad:
            self._weight_grads(self.x, dout)  # nothing else to do: a large product's blocks go to both lanes
            return None
        # dW is not needed before the update: on another lane while the layers below go on, unless
        # it is small and BLAS's threads can share its sum over the batch (core/parallel.py `later`).
        parallel.later(self._weight_grads, self.x.size * dout.shape[1], self.x, dout, depth=len(dout))
        return parallel.matmul(dout, self.params["W"].T)

    def _weight_grads(self, x: np.ndarray, dout: np.ndarray) -> None:
        # Written into the existing gradient arrays: no allocation per step.
        parallel.matmul(x.T, dout, out=self.grads["W"])
        if self.use_bias:
            batch_sum(dout, out=self.grads["b"])
