"""Initializers: shape, float type, the spread theory asks for, and seeded determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dnnexp.spec.registry import INITIALIZERS

FAN_IN, FAN_OUT = 400, 300
SHAPE = (FAN_IN, FAN_OUT)

#: per registered initializer: (mean, std, bound on |w| or None) that theory gives for SHAPE
THEORY: dict[str, tuple[float, float, float | None]] = {
    "zeros": (0.0, 0.0, 0.0),
    "constant": (0.0, 0.0, 0.0),
    "ones": (1.0, 0.0, 1.0),
    "normal": (0.0, 0.01, None),
    "uniform": (0.0, 0.05 / math.sqrt(3), 0.05),
    "xavier": (0.0, 1 / math.sqrt(FAN_IN), None),  # the course's: 1/√n, n the previous layer's width
    "xavier_normal": (0.0, math.sqrt(2 / (FAN_IN + FAN_OUT)), None),
    "glorot_normal": (0.0, math.sqrt(2 / (FAN_IN + FAN_OUT)), None),
    "xavier_uniform": (0.0, math.sqrt(2 / (FAN_IN + FAN_OUT)), math.sqrt(6 / (FAN_IN + FAN_OUT))),
    "glorot_uniform": (0.0, math.sqrt(2 / (FAN_IN + FAN_OUT)), math.sqrt(6 / (FAN_IN + FAN_OUT))),
    "he_normal": (0.0, math.sqrt(2 / FAN_IN), None),
    "kaiming_normal": (0.0, math.sqrt(2 / FAN_IN), None),
    "he_uniform": (0.0, math.sqrt(2 / FAN_IN), math.sqrt(6 / FAN_IN)),
    "kaiming_uniform": (0.0, math.sqrt(2 / FAN_IN), math.sqrt(6 / FAN_IN)),
    # 300 orthonormal columns of length 400: squares sum to 300 over 120,000 weights
    "orthogonal": (0.0, math.sqrt(1 / FAN_IN), None),
}


def draw(name: str, seed: int = 0, dtype: type = np.float32) -> np.ndarray:
    return INITIALIZERS.build(name)(SHAPE, FAN_IN, FAN_OUT, np.random.default_rng(seed), dtype)


@pytest.mark.parametrize("name", INITIALIZERS.names())
def test_spread_matches_theory(name: str) -> None:
    assert name in THEORY, f"initializer '{name}' has no expected spread: add it to THEORY in {__file__}"
    mean, std, bound = THEORY[name]
    w = draw(name).astype(np.float64)
    # Five standard errors of n draws: the mean's is std/√n, a normal sample std's std/√(2n) (a
    # uniform's is smaller). For SHAPE that is 1.0%, while xavier and glorot differ by 7%.
    n = w.size
    assert w.mean() == pytest.approx(mean, abs=5 * std / math.sqrt(n) + 1e-12)
    assert w.std() == pytest.approx(std, rel=5 / math.sqrt(2 * n), abs=1e-12)
    if bound is not None:
        assert np.abs(w).max() <= bound
        assert np.abs(w).max() == pytest.approx(bound, rel=0.01, abs=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", INITIALIZERS.names())
def test_shape_and_dtype(name: str, dtype: type) -> None:
    w = draw(name, dtype=dtype)
    assert w.shape == SHAPE and w.dtype == dtype


@pytest.mark.parametrize("name", INITIALIZERS.names())
def test_same_seed_same_weights(name: str) -> None:
    np.testing.assert_array_equal(draw(name, seed=3), draw(name, seed=3))
    if THEORY[name][1] > 0:
        assert not np.array_equal(draw(name, seed=3), draw(name, seed=4))


@pytest.mark.parametrize(("alias", "name"), [("xavier_normal", "glorot_normal"), ("xavier_uniform", "glorot_uniform")])
def test_old_xavier_names_are_glorot(alias: str, name: str) -> None:
    np.testing.assert_array_equal(draw(alias), draw(name))


def test_xavier_is_the_course_formula_not_glorot() -> None:
    # Equal fans make the two agree; unequal ones tell them apart.
    rng = np.random.default_rng(0)
    w = INITIALIZERS.build("xavier")((100, 10_000), 100, 10_000, rng, np.float64)
    assert w.std() == pytest.approx(0.1, rel=5 / math.sqrt(2 * w.size))
    assert not w.std() == pytest.approx(math.sqrt(2 / 10_100), rel=0.5)


def test_constant_and_normal_take_their_argument() -> None:
    rng = np.random.default_rng(0)
    constant = INITIALIZERS.build({"name": "constant", "value": 0.25})(SHAPE, FAN_IN, FAN_OUT, rng)
    normal = INITIALIZERS.build({"name": "normal", "std": 2.0})(SHAPE, FAN_IN, FAN_OUT, rng)
    assert np.all(constant == 0.25)
    assert normal.std() == pytest.approx(2.0, rel=0.01)


@pytest.mark.parametrize("shape", [(5, 5), (8, 3), (3, 8)])
def test_orthogonal_is_orthogonal_along_its_shorter_side(shape: tuple[int, int]) -> None:
    w = INITIALIZERS.build({"name": "orthogonal", "gain": 2.0})(shape, 0, 0, np.random.default_rng(0), np.float64)
    gram = w.T @ w if shape[0] >= shape[1] else w @ w.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(min(shape)), atol=1e-12)
