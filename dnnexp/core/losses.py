"""Loss functions with the course's output-layer table (Day 1 §3).

| task        | output activation | loss                 |
|-------------|-------------------|----------------------|
| regression  | identity          | mse                  |
| binary      | sigmoid           | binary_cross_entropy |
| multi-class | softmax           | cross_entropy        |

Every loss is averaged over the batch. When a model ends in a loss's usual output activation, the
model hands the loss the pre-activation `u` instead (`forward_logits`): softmax + cross-entropy and
sigmoid + binary cross-entropy are then computed together, never taking the log of a rounded 0,
and their gradient is simply (y − t) / N.
"""

from __future__ import annotations

import numpy as np

from dnnexp.core.functions import log_softmax, sigmoid

#: keeps log() finite for probabilities that round to 0 or 1 when a loss is not fused
PROBABILITY_FLOOR = 1e-7


class Loss:
    """Base loss: `forward(y, t)` → mean loss, `backward()` → dL/dy; the same for logits."""

    output_activation = "identity"
    task = "regression"

    def forward(self, y: np.ndarray, t: np.ndarray) -> float:
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        raise NotImplementedError

    def forward_logits(self, u: np.ndarray, t: np.ndarray) -> float:
        """The loss of `output_activation(u)`, computed stably from the pre-activation `u`."""
        raise NotImplementedError

    def backward_logits(self) -> np.ndarray:
        raise NotImplementedError

    def accuracy(self, y: np.ndarray, t: np.ndarray) -> float | None:
        """Fraction of samples predicted right (see `accuracy`), or None for regression."""
        return None if self.task == "regression" else accuracy(y, t, self.task)


class MeanSquaredError(Loss):
    """Squared error ½‖y − t‖², averaged over the batch; for regression with identity output."""

    kind = "mse"

    def forward(self, y, t):
        self.diff = y - t.reshape(y.shape)
        return float(0.5 * np.sum(self.diff * self.diff) / len(y))

    def backward(self):
        return self.diff / len(self.diff)

    # With identity output the pre-activation is the output.
    forward_logits, backward_logits = forward, backward


class Huber(Loss):
    """Huber loss: ½d² for |d| ≤ δ, δ(|d| − ½δ) beyond, d = y − t, summed over outputs, averaged over
    the batch; for regression with identity output (DQN's TD error, where a squared error would let
    one surprising reward dominate the step).

    Its gradient is d clipped to [−δ, δ]: the squared error's inside the band, ±δ outside.
    """

    kind = "huber"

    def __init__(self, delta: float = 1.0):
        self.delta = float(delta)

    def forward(self, y, t):
        self.diff = y - t.reshape(y.shape)
        size = np.abs(self.diff)
        quadratic = np.minimum(size, self.delta)
        # ½q² + δ(|d| − q) is ½d² inside the band and δ(|d| − ½δ) outside it
        loss = 0.5 * quadratic * quadratic + self.delta * (size - quadratic)
        return float(np.sum(loss) / len(y))

    def backward(self):
        return np.clip(self.diff, -self.delta, self.delta) / len(self.diff)

    forward_logits, backward_logits = forward, backward


class BinaryCrossEntropy(Loss):
    """−[t log y + (1 − t) log(1 − y)], summed over outputs, averaged over the batch; sigmoid output."""

    kind = "binary_cross_entropy"

    output_activation = "sigmoid"
    task = "binary"

    def forward(self, y, t):
        self.y, self.t = np.clip(y, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR), t.reshape(y.shape)
        loss = self.t * np.log(self.y) + (1 - self.t) * np.log(1 - self.y)
        return float(-np.sum(loss) / len(y))

    def backward(self):
        return (self.y - self.t) / (self.y * (1 - self.y)) / len(self.y)

    def forward_logits(self, u, t):
        self.y, self.t = sigmoid(u), t.reshape(u.shape)
        # log(1 + e^u) − t·u, rearranged so that no exp overflows
        loss = np.maximum(u, 0) - u * self.t + np.log1p(np.exp(-np.abs(u)))
        return float(np.sum(loss) / len(u))

    def backward_logits(self):
        return (self.y - self.t) / len(self.y)


class CrossEntropy(Loss):
    """Categorical cross-entropy −Σ_k t_k log y_k, averaged over the batch; softmax output.

    Targets are class indices (N,) or one-hot rows (N, K); for outputs per time step (N, T, K),
    indices (N, T), the loss summed over the steps.
    """

    kind = "cross_entropy"

    output_activation = "softmax"
    task = "multiclass"

    def forward(self, y, t):
        self.y, self.t = np.clip(y, PROBABILITY_FLOOR, 1.0), one_hot(t, y.shape[-1], y.dtype)
        return float(-np.sum(self.t * np.log(self.y)) / len(y))

    def backward(self):
        return -self.t / self.y / len(self.y)

    def forward_logits(self, u, t):
        self.t = one_hot(t, u.shape[-1], u.dtype)
        log_y = log_softmax(u)
        self.y = np.exp(log_y)
        return float(-np.sum(self.t * log_y) / len(u))

    def backward_logits(self):
        return (self.y - self.t) / len(self.y)


def accuracy(y: np.ndarray, t: np.ndarray, task: str) -> float:
    """Fraction of the samples in a batch that the outputs y get right, for a classification `task`.

    multiclass: the largest output is the label; t holds labels (N,) or one-hot rows (N, K), and
    sequences (N, T, K) count every step (labels (N, T)).
    binary: each output is read as 1 above 0.5, and a sample counts only if *every* one of its
    outputs is right. For one output per sample that is the usual binary accuracy; for a sequence
    of bits, such as binary addition's sum (N, 8, 1), it is the exact-sum accuracy.
    """
    if task == "binary":
        right = (y > 0.5) == (t.reshape(y.shape) > 0.5)
        return float(np.mean(right.reshape(len(y), -1).all(axis=1)))
    labels = t.argmax(axis=-1) if t.ndim == y.ndim else t
    return float(np.mean(y.argmax(axis=-1) == labels))


def one_hot(t: np.ndarray, classes: int, dtype: type) -> np.ndarray:
    """Class indices (N,) or (N, T) (integers) → one-hot rows (N, [T,] classes); one-hot input
    (floats) is returned as it is."""
    if np.issubdtype(t.dtype, np.floating):
        return t.astype(dtype, copy=False)
    return np.eye(classes, dtype=dtype)[t]
