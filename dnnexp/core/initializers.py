"""Weight initializers: how the first weights are drawn (course Day 2 §1).

Each is called with the weight shape and its fan-in and fan-out, the number of inputs and outputs
each unit sees: for a dense layer W of shape (D, U) they are D and U; for a convolution, the
channels times the kernel area.
"""

from __future__ import annotations

import math

import numpy as np

from dnnexp.registry import INITIALIZERS


class Initializer:
    """Base initializer: `init(shape, fan_in, fan_out, rng, dtype)` returns a new array."""

    def __call__(
        self, shape: tuple[int, ...], fan_in: int, fan_out: int, rng: np.random.Generator, dtype: type = np.float32
    ) -> np.ndarray:
        return self.draw(shape, fan_in, fan_out, rng).astype(dtype, copy=False)

    def draw(self, shape: tuple[int, ...], fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError


@INITIALIZERS.register("zeros")
class Zeros(Initializer):
    """All zeros (every unit then learns the same thing: fine for biases, not for weights)."""

    def draw(self, shape, fan_in, fan_out, rng):
        return np.zeros(shape)


@INITIALIZERS.register("constant")
class Constant(Initializer):
    """Every weight equal to `value`."""

    def __init__(self, value: float = 0.0):
        self.value = value

    def draw(self, shape, fan_in, fan_out, rng):
        return np.full(shape, self.value)


@INITIALIZERS.register("ones")
class Ones(Initializer):
    """All ones: the LSTM forget gate's bias, so a new cell starts out remembering (Keras's unit_forget_bias)."""

    def draw(self, shape, fan_in, fan_out, rng):
        return np.ones(shape)


@INITIALIZERS.register("normal")
class Normal(Initializer):
    """Gaussian N(0, std²) with a fixed std, e.g. the course's 0.01 that starves deep sigmoid nets."""

    def __init__(self, std: float = 0.01):
        self.std = std

    def draw(self, shape, fan_in, fan_out, rng):
        return rng.normal(0.0, self.std, shape)


@INITIALIZERS.register("uniform")
class Uniform(Initializer):
    """Uniform on [-limit, limit] with a fixed limit."""

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


# Glorot & Bengio average the fans; for equal layer widths that is the course's 1/√n.
@INITIALIZERS.register("xavier_normal")
@INITIALIZERS.register("glorot_normal")
class XavierNormal(_VarianceScaling):
    """Xavier/Glorot normal: std = √(2 / (fan_in + fan_out)); for sigmoid and tanh."""


@INITIALIZERS.register("xavier_uniform")
@INITIALIZERS.register("glorot_uniform")
class XavierUniform(_VarianceScaling):
    """Xavier/Glorot uniform: limit = √(6 / (fan_in + fan_out)); for sigmoid and tanh."""

    distribution = "uniform"


# ReLU zeroes half the units, so He doubles the variance: std = √2 / √n (course Day 2 §1).
@INITIALIZERS.register("he_normal")
@INITIALIZERS.register("kaiming_normal")
class HeNormal(_VarianceScaling):
    """He/Kaiming normal: std = √(2 / fan_in); for ReLU."""

    gain, fan_mode = 2.0, "in"


@INITIALIZERS.register("he_uniform")
@INITIALIZERS.register("kaiming_uniform")
class HeUniform(_VarianceScaling):
    """He/Kaiming uniform: limit = √(6 / fan_in); for ReLU."""

    gain, fan_mode, distribution = 2.0, "in", "uniform"


@INITIALIZERS.register("orthogonal")
class Orthogonal(Initializer):
    """A random orthogonal matrix times `gain` (Saxe et al. 2014): for recurrent weights, whose
    repeated product h W W W … then neither shrinks nor grows at the start.

    For a non-square (rows, cols) shape the shorter side's vectors are orthonormal; larger
    shapes are flattened to (shape[0], rest).
    """

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
