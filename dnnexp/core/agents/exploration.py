"""ε schedules for ε-greedy agents: the exploration rate as a function of env steps taken.

Spec form: `epsilon: 0.1` (constant) or `epsilon: {kind: linear, start: 1.0, end: 0.05, steps: 10000}`.
"""

from __future__ import annotations

import numpy as np


class Exploration:
    """Base ε schedule: `value(step)` → ε after `step` environment steps."""

    def value(self, step: int) -> float:
        raise NotImplementedError


class ConstantEpsilon(Exploration):
    """The same ε throughout (the course's ε-greedy)."""

    kind = "constant"

    def __init__(self, value: float = 0.1):
        self.epsilon = value

    def value(self, step):
        return self.epsilon


class LinearEpsilon(Exploration):
    """ε from `start` down to `end` in a straight line over `steps` env steps, then `end`."""

    kind = "linear"

    def __init__(self, start: float = 1.0, end: float = 0.05, steps: int = 10_000):
        self.start, self.end, self.steps = start, end, steps

    def value(self, step):
        done = min(step / self.steps, 1.0)
        return self.start + (self.end - self.start) * done


class ExponentialEpsilon(Exploration):
    """ε = max(`end`, `start` · `decay`^step): fast exploration early, a floor late."""

    kind = "exponential"

    def __init__(self, start: float = 1.0, end: float = 0.01, decay: float = 0.999):
        self.start, self.end, self.decay = start, end, decay

    def value(self, step):
        return max(self.end, self.start * self.decay**step)


def epsilon_greedy(q: np.ndarray, epsilon: float, rng: np.random.Generator) -> int:
    """ε-greedy on one state's action values q (n_actions,): a uniformly random action with
    probability ε, else the best one, ties broken at random (with Q initialised to 0, argmax's
    first-index rule would always try the same action first)."""
    if rng.random() < epsilon:
        return int(rng.integers(len(q)))
    best = np.flatnonzero(q == q.max())
    return int(best[rng.integers(len(best))]) if len(best) > 1 else int(best[0])


def schedule(epsilon: float | Exploration) -> Exploration:
    """An ε schedule from a number (constant ε) or a schedule."""
    return epsilon if isinstance(epsilon, Exploration) else ConstantEpsilon(float(epsilon))
