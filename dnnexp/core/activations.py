"""Activation functions as parameterless layers (course Day 1 §2).

Each keeps what its backward pass needs from the forward pass: sigmoid and tanh keep their
output, since their derivatives are written in terms of it.
"""

from __future__ import annotations

import numpy as np

from dnnexp.core.layers.base import Layer
from dnnexp.registry import ACTIVATIONS


class Activation(Layer):
    """Base activation: elementwise unless it says otherwise."""

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        raise NotImplementedError


@ACTIVATIONS.register("identity")
class Identity(Activation):
    """f(u) = u: the output activation for regression."""

    def forward(self, x, train=False):
        return x

    def backward(self, dout):
        return dout


@ACTIVATIONS.register("step")
class Step(Activation):
    """f(u) = 1 if u > 0 else 0; its gradient is zero everywhere, so nothing before it can learn."""

    def forward(self, x, train=False):
        return (x > 0).astype(x.dtype)

    def backward(self, dout):
        return np.zeros_like(dout)


@ACTIVATIONS.register("sigmoid")
class Sigmoid(Activation):
    """f(u) = 1 / (1 + e^-u); f' = f(1 - f) is at most 0.25, hence vanishing gradients."""

    def forward(self, x, train=False):
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        return dout * self.out * (1.0 - self.out)


@ACTIVATIONS.register("tanh")
class Tanh(Activation):
    """f(u) = tanh(u); f' = 1 - f²."""

    def forward(self, x, train=False):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out * self.out)


@ACTIVATIONS.register("relu")
class ReLU(Activation):
    """f(u) = max(0, u); gradient 1 for u > 0, so it does not vanish through depth."""

    def forward(self, x, train=False):
        self.positive = x > 0
        return np.maximum(x, 0)

    def backward(self, dout):
        return dout * self.positive


@ACTIVATIONS.register("leaky_relu")
class LeakyReLU(Activation):
    """f(u) = u for u > 0, alpha·u otherwise: a ReLU whose dead units still get a gradient."""

    def __init__(self, alpha: float = 0.01):
        super().__init__()
        self.alpha = alpha

    def forward(self, x, train=False):
        self.slope = np.where(x > 0, 1.0, self.alpha).astype(x.dtype)
        return x * self.slope

    def backward(self, dout):
        return dout * self.slope


@ACTIVATIONS.register("softmax")
class Softmax(Activation):
    """f(u)_k = e^{u_k} / Σ_j e^{u_j} over the last axis: class probabilities for multi-class output."""

    def forward(self, x, train=False):
        self.out = softmax(x)
        return self.out

    def backward(self, dout):
        # Jacobian-vector product of softmax: y ⊙ (dout − Σ_k dout_k y_k)
        y = self.out
        return y * (dout - np.sum(dout * y, axis=-1, keepdims=True))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function that never overflows: e^-|x| is at most 1."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, shifted by the max so exp never overflows."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(x: np.ndarray) -> np.ndarray:
    """log softmax(x) computed without forming the probabilities (no log of 0)."""
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
