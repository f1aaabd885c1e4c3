"""Small data sets drawn from the run's random generator: regressions and 2-D classification toys.

Each draws its n + n_test samples in one go and keeps the last n_test for testing (`drawn_dataset`), so
both splits come from one distribution and one seed gives one data set.
"""

from __future__ import annotations

from typing import Callable, Literal

import numpy as np

from dnnexp.data.base import Dataset, Target, Truth, registered
from dnnexp.errors import SpecError

Draw = Callable[[int], tuple[np.ndarray, np.ndarray]]  # m → (x, t) for m samples

CURVES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sine": lambda x: np.sin(np.pi * x),  # one period over [-1, 1]
    "cubic": lambda x: 4 * x**3 - 3 * x,  # two bends, staying within [-1, 1]
}


@registered("linear_regression")
def linear_regression(
    a: float = 2.0, b: float = 1.0, noise: float = 0.1, n: int = 200, n_test: int = 200,
    *, rng: np.random.Generator,
) -> Dataset:
    """Points on the line t = a·x + b plus Gaussian noise, x uniform in [-1, 1]: x (N, 1), t (N, 1)."""

    def line(x: np.ndarray) -> np.ndarray:
        return a * x + b

    def draw(m: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.uniform(-1, 1, (m, 1))
        return x, line(x) + noise * rng.standard_normal((m, 1))

    return drawn_dataset(draw, n, n_test, "regression", truth=line)


@registered("nonlinear_regression")
def nonlinear_regression(
    function: Literal["sine", "cubic"] = "sine", noise: float = 0.1, n: int = 200, n_test: int = 200,
    *, rng: np.random.Generator,
) -> Dataset:
    """Points on a sine or cubic curve plus Gaussian noise, x uniform in [-1, 1]: x (N, 1), t (N, 1)."""
    if function not in CURVES:
        raise SpecError(f"data.function: '{function}' is not a curve; choose one of: {', '.join(CURVES)}")

    def draw(m: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.uniform(-1, 1, (m, 1))
        return x, CURVES[function](x) + noise * rng.standard_normal((m, 1))

    return drawn_dataset(draw, n, n_test, "regression", truth=CURVES[function])


@registered("xor")
def xor(noise: float = 0.3, n: int = 200, n_test: int = 200, *, rng: np.random.Generator) -> Dataset:
    """2-D points around the corners (±1, ±1); class 1 where the corner's signs differ (XOR)."""

    def draw(m: int) -> tuple[np.ndarray, np.ndarray]:
        corner = rng.integers(0, 2, (m, 2))
        x = 2 * corner - 1 + noise * rng.standard_normal((m, 2))
        return x, corner[:, 0] ^ corner[:, 1]

    return drawn_dataset(draw, n, n_test, "binary")


@registered("spirals")
def spirals(
    turns: float = 1.0, noise: float = 0.05, n: int = 200, n_test: int = 200, *, rng: np.random.Generator
) -> Dataset:
    """Two interleaved 2-D spirals of `turns` turns from the origin, one per class (binary)."""

    def draw(m: int) -> tuple[np.ndarray, np.ndarray]:
        t = rng.integers(0, 2, m)
        radius = rng.uniform(0.05, 1, m)
        angle = 2 * np.pi * turns * radius + np.pi * t  # the second spiral is the first turned half a turn
        x = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
        return x + noise * rng.standard_normal((m, 2)), t

    return drawn_dataset(draw, n, n_test, "binary")


@registered("blobs")
def blobs(
    classes: int = 3, std: float = 1.0, n: int = 300, n_test: int = 300, *, rng: np.random.Generator
) -> Dataset:
    """Gaussian blobs in 2-D, one per class, centres uniform in [-5, 5]²: multiclass."""
    if classes < 2:
        raise SpecError(f"data.classes: {classes} blobs make no classification problem; use 2 or more")
    centres = rng.uniform(-5, 5, (classes, 2))

    def draw(m: int) -> tuple[np.ndarray, np.ndarray]:
        t = rng.integers(0, classes, m)
        return centres[t] + std * rng.standard_normal((m, 2)), t

    return drawn_dataset(draw, n, n_test, "multiclass", classes=[str(k) for k in range(classes)])


def drawn_dataset(
    draw: Draw, n: int, n_test: int, task: Target, classes: list[str] | None = None, truth: Truth | None = None
) -> Dataset:
    """Draw n + n_test samples and keep the last n_test for testing; float32 x, t typed for `task`
    (a vector of targets becomes a column (N, 1); targets per time step (N, T, k) stay as they are).
    `truth`: the noiseless function the targets scatter around, if the set has one."""
    if n < 1 or n_test < 0:
        raise SpecError(f"data.n must be at least 1 and data.n_test at least 0, not {n} and {n_test}")
    x, t = draw(n + n_test)
    x = x.astype(np.float32)
    t = t.astype(np.int64) if task == "multiclass" else t.astype(np.float32).reshape(len(t), *(t.shape[1:] or (1,)))
    test = (x[n:], t[n:]) if n_test else (None, None)
    return Dataset(x[:n], t[:n], *test, task=task, classes=classes, truth=truth)
