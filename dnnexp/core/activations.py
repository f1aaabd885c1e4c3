"""Activation functions as parameterless layers (course Day 1 §2).

Each keeps what its backward pass needs from the forward pass: sigmoid and tanh keep their
output, since their derivatives are written in terms of it.
"""

from __future__ import annotations

import numpy as np

from dnnexp.core import parallel
from dnnexp.core.functions import sigmoid, softmax
from dnnexp.core.layers.base import Layer


class Activation(Layer):
    """Base activation: elementwise unless it says otherwise."""

    #: bounds of the outputs (None: unbounded on that side), over which histograms draw them
    output_range: tuple[float | None, float | None] = (None, None)
    #: the output of an input of 0 where the outputs are symmetric about it: where small weights leave them
    centre: float | None = None

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        raise NotImplementedError


class Identity(Activation):
    """f(u) = u: the output activation for regression."""

    kind = "identity"

    def forward(self, x, train=False):
        return x

    def backward(self, dout):
        return dout


class Step(Activation):
    """f(u) = 1 if u > 0 else 0; its gradient is zero everywhere, so nothing before it can learn."""

    kind = "step"
    output_range = (0.0, 1.0)

    def forward(self, x, train=False):
        return (x > 0).astype(x.dtype)

    def backward(self, dout):
        return np.zeros_like(dout)


class Sigmoid(Activation):
    """f(u) = 1 / (1 + e^-u); f' = f(1 - f) is at most 0.25, hence vanishing gradients."""

    kind = "sigmoid"
    output_range, centre = (0.0, 1.0), 0.5

    def forward(self, x, train=False):
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        return dout * self.out * (1.0 - self.out)


class Tanh(Activation):
    """f(u) = tanh(u); f' = 1 - f²."""

    kind = "tanh"
    output_range, centre = (-1.0, 1.0), 0.0

    def forward(self, x, train=False):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out * self.out)


class ReLU(Activation):
    """f(u) = max(0, u); gradient 1 for u > 0, so it does not vanish through depth."""

    kind = "relu"
    output_range = (0.0, None)

    def forward(self, x, train=False):
        work = parallel.PASS * x.size  # of each of its two passes: the GIL changes lanes between them
        if not parallel.shared(len(x), work):
            self.positive = x > 0
            return np.maximum(x, 0)
        self.positive, out = np.empty_like(x, dtype=bool), np.empty_like(x)  # in x's memory layout

        def samples(part: slice) -> None:  # a part of the batch: the two halves of a large one side by side
            np.greater(x[part], 0, out=self.positive[part])
            np.maximum(x[part], 0, out=out[part])

        parallel.split(samples, len(x), work, exact=True)
        return out

    def backward(self, dout):
        work = parallel.PASS * dout.size
        if not parallel.shared(len(dout), work):
            return dout * self.positive
        dx = np.empty_like(dout)
        parallel.split(lambda part: np.multiply(dout[part], self.positive[part], out=dx[part]), len(dout), work, exact=True)
        return dx


class LeakyReLU(Activation):
    """f(u) = u for u > 0, alpha·u otherwise: a ReLU whose dead units still get a gradient."""

    kind = "leaky_relu"

    def __init__(self, alpha: float = 0.01):
        super().__init__()
        self.alpha = alpha

    def forward(self, x, train=False):
        self.slope = np.where(x > 0, 1.0, self.alpha).astype(x.dtype)
        return x * self.slope

    def backward(self, dout):
        return dout * self.slope


class Softmax(Activation):
    """f(u)_k = e^{u_k} / Σ_j e^{u_j} over the last axis: class probabilities for multi-class output."""

    kind = "softmax"
    output_range = (0.0, 1.0)

    def forward(self, x, train=False):
        self.out = softmax(x)
        return self.out

    def backward(self, dout):
        # Jacobian-vector product of softmax: y ⊙ (dout − Σ_k dout_k y_k)
        y = self.out
        return y * (dout - np.sum(dout * y, axis=-1, keepdims=True))
