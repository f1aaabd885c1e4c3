"""ε schedules and ε-greedy choice."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core.agents.exploration import ConstantEpsilon, ExponentialEpsilon, LinearEpsilon, epsilon_greedy, schedule


def test_schedules():
    assert ConstantEpsilon(0.2).value(10**6) == 0.2
    linear = LinearEpsilon(start=1.0, end=0.1, steps=100)
    assert [linear.value(s) for s in (0, 50, 100, 1000)] == pytest.approx([1.0, 0.55, 0.1, 0.1])
    assert ExponentialEpsilon(start=1.0, end=0.05, decay=0.5).value(3) == 0.125
    assert ExponentialEpsilon(start=1.0, end=0.05, decay=0.5).value(30) == 0.05
    assert schedule(0.3).value(5) == 0.3
    assert schedule(linear) is linear


def test_greedy_choice_breaks_ties_at_random_and_explores_uniformly():
    rng = np.random.default_rng(0)
    q = np.array([1.0, 0.0, 1.0, 0.5])
    greedy = [epsilon_greedy(q, 0.0, rng) for _ in range(400)]
    assert set(greedy) == {0, 2}
    explored = np.bincount([epsilon_greedy(q, 1.0, rng) for _ in range(4000)], minlength=4)
    assert explored.min() > 900  # about 1,000 each
