from __future__ import annotations

import numpy as np

from dnnexp.core.agents.base import Transition
from dnnexp.core.agents.exploration import LinearEpsilon
from dnnexp.core.agents.linear_q import LinearQ
from tests.core.agents.conftest import Bandit, Corridor, greedy_accuracy, run


def test_one_step_moves_q_alpha_of_the_way_to_the_target() -> None:
    world = Corridor(3)
    agent = LinearQ(world.info, np.random.default_rng(0), gamma=0.5, alpha=0.5)
    agent.w[2] = [4.0, 8.0]
    agent.learn(Transition(1, 1, 1.0, 2, False, False))
    # target 1 + 0.5 · max(4, 8) = 5, from Q = 0: half way
    assert agent.w[1, 1] == 2.5 and agent.q_values().dtype == np.float64
    agent.learn(Transition(1, 0, 1.0, 2, True, False))
    assert agent.w[1, 0] == 0.5  # a terminal step does not bootstrap


def test_one_hot_linear_q_learns_the_corridor_and_its_weights_are_the_q_table() -> None:
    world = Corridor(5)
    agent = LinearQ(world.info, np.random.default_rng(0), gamma=0.9, alpha=0.5, epsilon=LinearEpsilon(1.0, 0.1, 500))
    run(agent, world, 1500)
    assert all(agent.act(s, greedy=True) == 1 for s in range(4))
    np.testing.assert_allclose(agent.q_values()[:4, 1], 0.9 ** np.arange(3, -1, -1), atol=0.05)


def test_tile_coded_linear_q_learns_the_bandit() -> None:
    world = Bandit(0)
    features = {"kind": "tile_coding", "low": [-1, -1], "high": [1, 1], "tilings": 4, "tiles": 4}
    agent = LinearQ(world.info, np.random.default_rng(0), alpha=0.2, epsilon=0.2, features=features)
    run(agent, world, 1000)
    assert agent.q_values() is None
    assert greedy_accuracy(agent, Bandit(1)) > 0.9
