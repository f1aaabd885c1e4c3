"""Two-dimensional functions for watching optimizers move (course Day 2 §2).

Each maps points (x, y) to f and its gradient, so an optimizer can walk them exactly as it walks a
network's weights.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

Surface = Callable[[np.ndarray], tuple[float, np.ndarray]]


def ellipse(p: np.ndarray) -> tuple[float, np.ndarray]:
    """f = x²/20 + y²: a long, narrow valley; steep across (y), flat along (x)."""
    x, y = p
    return x * x / 20.0 + y * y, np.array([x / 10.0, 2.0 * y])


def rosenbrock(p: np.ndarray) -> tuple[float, np.ndarray]:
    """f = (1 − x)² + 100(y − x²)²: a curved valley with its minimum at (1, 1)."""
    x, y = p
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2, np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def saddle(p: np.ndarray) -> tuple[float, np.ndarray]:
    """f = x² − y²: a saddle point at the origin, where plain gradient descent stalls."""
    x, y = p
    return x * x - y * y, np.array([2 * x, -2 * y])


SURFACES: dict[str, Surface] = {"ellipse": ellipse, "rosenbrock": rosenbrock, "saddle": saddle}


def descend(surface: Surface, optimizer, start: tuple[float, float], steps: int) -> np.ndarray:
    """The points an optimizer visits on `surface` from `start`: array (steps + 1, 3) of x, y, f."""
    params = {"p": np.array(start, dtype=np.float64)}
    path = []
    for _ in range(steps):
        value, grad = surface(params["p"])
        path.append((*params["p"], value))
        optimizer.update(params, {"p": grad})
    path.append((*params["p"], surface(params["p"])[0]))
    return np.array(path)
