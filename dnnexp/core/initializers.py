"""Weight initializers: how the first weights are drawn (course Day 2 §1).

Each is called with the weight shape and its fan-in and fan-out, the number of inputs and outputs
each unit sees: for a dense layer W of shape (D, U) they are D and U; for a convolution, the
channels times the kernel area.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dnnexp.core.kinds import declared



class Initializer:
    """Base initializer: `init(shape, fan_in, fan_out, rng, dtype)` returns a new array."""

    def __call__(
        self, shape: tuple[int, ...], fan_in: int, fan_out: int, rng: np.random.Generator, dtype: type = np.float32
    ) -> np.ndarray:
        return self.draw(shape, fan_in, fan_out, rng).astype(dtype, copy=False)

    def draw(self, shape: tuple[int, ...], fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError


class Zeros(Initializer):
    """All zeros (every unit then learns the same thing: fine for biases, not for weights)."""

    kind = "zeros"

    def draw(self, shape, fan_in, fan_out, rng):
        return np.zeros(shape)


class Constant(Initializer):
    """Every weight equal to `value`."""

    kind = "constant"

    def __init__(self, value: float = 0.0):
        self.value = value

    def draw(self, shape, fan_in, fan_out, rng):
        return np.full(shape, self.value)


class Ones(Initializer):
    """All ones: the LSTM forget gate's bias, so a new cell starts out remembering (Keras's unit_forget_bias)."""

    kind = "ones"

    def draw(self, shape, fan_in, fan_out, rng):
        return np.ones(shape)


class Normal(Initializer):
    """Gaussian N(0, std²) with a fixed std, e.g. the course's 0.01 that starves deep sigmoid nets."""

    kind = "normal"

    def __init__(self, std: float = 0.01):
        self.std = std

    def draw(self, shape, fan_in, fan_out, rng):
        return rng.normal(0.0, self.std, shape)


class Uniform(Initializer):
    """Uniform on [-limit, limit] with a fixed limit."""

    kind = "uniform"

    def __init__(self, limit: float = 0.05):
        self.limit = limit

    def draw(self, shape, fan_in, fan_out, rng):
        return rng.uniform(-self.limit, self.limit, shape)


class _VarianceScaling(Initializer):
    """Draws with variance gain / fan, from a normal or from a uniform of the same variance."""

    gain = 1.0
    fan_mode = "avg"  # "avg": (fan_in + fan_out) / 2, "in": fan_in
    distribution = "normal"

    def draw(self, shape, fan_in, fan_out, rng):
        fan = (fan_in + fan_out) / 2.0 if self.fan_mode == "avg" else float(fan_in)
        std = math.sqrt(self.gain / fan)
        if self.distribution == "normal":
            return rng.normal(0.0, std, shape)
        limit = math.sqrt(3.0) * std  # a uniform on [-a, a] has variance a²/3
        return rng.uniform(-limit, limit, shape)


# The course's Xavier (Day 2 §1, and deep-learning-from-scratch's weight_init_std='xavier'): each
# weight divided by √n, n the previous layer's node count, so a unit's input keeps the spread of
# one previous unit's output. The course draws it from a Gaussian only, so there is no uniform twin.
class Xavier(_VarianceScaling):
    """The course's Xavier: normal with std = 1 / √fan_in; for sigmoid and tanh."""

    kind = "xavier"

    fan_mode = "in"


# Glorot & Bengio (2010) average the fans, so that the backward pass keeps its spread as well;
# for equal layer widths that is the course's 1/√n. `xavier_normal`/`xavier_uniform` stay names
# for these (as in PyTorch's init.xavier_normal_), so configs written before `xavier` existed
# rebuild the same weights.
class GlorotNormal(_VarianceScaling):
    """Glorot normal (Keras's name): std = √(2 / (fan_in + fan_out)); for sigmoid and tanh."""

    kind = "glorot_normal"
    aliases = ("xavier_normal",)


class GlorotUniform(_VarianceScaling):
    """Glorot uniform (Keras's name, its layers' default): limit = √(6 / (fan_in + fan_out))."""

    kind = "glorot_uniform"
    aliases = ("xavier_uniform",)

    distribution = "uniform"


# ReLU zeroes half the units, so He doubles the variance: std = √2 / √n (course Day 2 §1).
class HeNormal(_VarianceScaling):
    """He/Kaiming normal: std = √(2 / fan_in); for ReLU."""

    kind = "he_normal"
    aliases = ("kaiming_normal",)

    gain, fan_mode = 2.0, "in"


class HeUniform(_VarianceScaling):
    """He/Kaiming uniform: limit = √(6 / fan_in); for ReLU."""

    kind = "he_uniform"
    aliases = ("kaiming_uniform",)

    gain, fan_mode, distribution = 2.0, "in", "uniform"


class Orthogonal(Initializer):
    """A random orthogonal matrix times `gain` (Saxe et al. 2014): for recurrent weights, whose
    repeated product h W W W … then neither shrinks nor grows at the start.

    For a non-square (rows, cols) shape the shorter side's vectors are orthonormal; larger
    shapes are flattened to (shape[0], rest).
    """

    kind = "orthogonal"

    def __init__(self, gain: float = 1.0):
        self.gain = gain

    def draw(self, shape, fan_in, fan_out, rng):
        rows, cols = shape[0], int(np.prod(shape[1:]))
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        # QR's signs are arbitrary; fixing them by diag(r) makes q uniform over orthogonal matrices.
        q *= np.sign(np.diag(r))
        q = q if rows >= cols else q.T
        return self.gain * q.reshape(shape)


def initializer(reference: str | dict[str, Any]) -> Initializer:
    """The initializer a layer's `init` names: `he_normal`, or `{name: normal, std: 0.01}` with
    its arguments (as Keras's `initializers.get` takes a name or a config)."""
    if isinstance(reference, str):
        return declared(Initializer)[reference]()
    arguments = dict(reference)
    return declared(Initializer)[arguments.pop("name")](**arguments)
