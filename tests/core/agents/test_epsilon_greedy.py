from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core.agents.exploration import LinearEpsilon
from dnnexp.core.agents.linear_q import LinearQ
from tests.core.agents.conftest import Corridor, run


def test_greedy_actions_draw_nothing_and_epsilon_follows_the_schedule_over_steps() -> None:
    world = Corridor(5)
    agent = LinearQ(world.info, np.random.default_rng(0), epsilon=LinearEpsilon(1.0, 0.0, 10))
    state = agent.rng.bit_generator.state
    agent.act(0, greedy=True)
    assert agent.rng.bit_generator.state == state and agent.epsilon == 1.0
    run(agent, world, 5)
    assert agent.epsilon == pytest.approx(0.5)


def test_a_constant_epsilon_explores_that_often_uniformly() -> None:
    world = Corridor(5)
    agent = LinearQ(world.info, np.random.default_rng(0), epsilon=0.5)
    agent.w[0] = [0.0, 1.0]
    # greedy is 1; exploring picks 0 half the time: 0 in a quarter of all choices
    assert np.mean([agent.act(0) == 0 for _ in range(4000)]) == pytest.approx(0.25, abs=0.03)
    assert agent.act(0, greedy=True) == 1
