"""Learning-rate schedules: the rate at known points of a run."""

from __future__ import annotations

import math
from typing import Any

import pytest

from dnnexp.spec.registry import SCHEDULES

BASE_LR, STEPS_PER_EPOCH, EPOCHS = 0.1, 10, 4

#: (schedule spec, step, expected learning rate) with BASE_LR, STEPS_PER_EPOCH and EPOCHS
CASES: list[tuple[dict[str, Any], int, float]] = [
    ({"name": "constant"}, 0, 0.1),
    ({"name": "constant"}, 39, 0.1),
    ({"name": "step", "step_size": 2, "gamma": 0.5}, 0, 0.1),
    ({"name": "step", "step_size": 2, "gamma": 0.5}, 19, 0.1),  # epoch 1.9: not yet decayed
    ({"name": "step", "step_size": 2, "gamma": 0.5}, 20, 0.05),
    ({"name": "step", "step_size": 2, "gamma": 0.5}, 40, 0.025),
    ({"name": "exponential", "gamma": 0.5}, 10, 0.05),
    ({"name": "exponential", "gamma": 0.5}, 5, 0.1 * math.sqrt(0.5)),  # smooth within the epoch
    ({"name": "cosine"}, 0, 0.1),
    ({"name": "cosine"}, 20, 0.05),
    ({"name": "cosine"}, 40, 0.0),
    ({"name": "cosine", "min_factor": 0.1}, 40, 0.01),
    ({"name": "cosine", "min_factor": 0.1}, 80, 0.01),  # past the end it stays at the floor
    ({"name": "constant", "warmup_steps": 4}, 0, 0.025),
    ({"name": "constant", "warmup_steps": 4}, 2, 0.075),
    ({"name": "constant", "warmup_steps": 4}, 3, 0.1),
    ({"name": "constant", "warmup_steps": 4}, 4, 0.1),
    ({"name": "step", "step_size": 1, "gamma": 0.5, "warmup_steps": 20}, 14, 0.1 * 0.5 * 15 / 20),
    # word2vec's line: halfway down from 1 to 0.004 halfway through, the floor at the end and after
    ({"name": "linear", "min_factor": 0.004}, 20, 0.1 * (1 - 0.996 / 2)),
    ({"name": "linear", "min_factor": 0.004}, 40, 0.1 * 0.004),
    ({"name": "linear"}, 60, 0.0),
]


@pytest.mark.parametrize("spec, step, expected", CASES)
def test_rate_at_known_points(spec: dict[str, Any], step: int, expected: float) -> None:
    rate = SCHEDULES.build(spec).lr(BASE_LR, step, STEPS_PER_EPOCH, EPOCHS)
    assert rate == pytest.approx(expected, abs=1e-15)
    # A NumPy scalar here would turn float32 updates into float64 ones under NumPy 2.
    assert type(rate) is float


@pytest.mark.parametrize("name", SCHEDULES.names())
def test_every_schedule_has_cases(name: str) -> None:
    assert any(spec["name"] == name for spec, _, _ in CASES), f"schedule '{name}' is not tested: add to CASES in {__file__}"
