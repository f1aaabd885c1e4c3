"""Every agent here resumes exactly: its state, saved mid-episode through a checkpoint file and
loaded into an agent built with other seeds, continues with the same actions and ends with the
same arrays (all float32) as the agent that never stopped."""

from __future__ import annotations

import copy
from typing import Callable

import numpy as np
import pytest

from dnnexp.core.agents.base import Agent
from dnnexp.core.agents.dqn import DQN
from dnnexp.core.agents.exploration import LinearEpsilon
from dnnexp.core.agents.linear_q import LinearQ
from dnnexp.core.agents.policy_gradient import ActorCritic, Reinforce
from tests.core.agents.conftest import Bandit, Corridor, EpisodeLoop, network

TILES = {"kind": "tile_coding", "low": [-1, -1], "high": [1, 1], "tilings": 2, "tiles": 3}

#: agent examples: (world, agent for that world's info and a seed)
AGENTS: dict[str, tuple[Callable, Callable[..., Agent]]] = {
    "linear_q one_hot": (Corridor, lambda info, seed: LinearQ(info, np.random.default_rng(seed), epsilon=0.3)),
    "linear_q tile_coding": (Bandit, lambda info, seed: LinearQ(info, np.random.default_rng(seed), epsilon=0.3, features=TILES)),
    "dqn": (Corridor, lambda info, seed: DQN(
        info, np.random.default_rng(seed), network(info, 2, seed=seed), epsilon=LinearEpsilon(1.0, 0.1, 50),
        buffer_size=30, batch_size=4, learning_starts=10, train_freq=2, gradient_steps=2, target_update=7, double=True,
    )),
    "dqn polyak": (Bandit, lambda info, seed: DQN(
        info, np.random.default_rng(seed), network(info, 2, seed=seed), buffer_size=30, batch_size=4,
        learning_starts=10, target_update=1, tau=0.1,
    )),
    "reinforce value": (Corridor, lambda info, seed: Reinforce(
        info, np.random.default_rng(seed), network(info, 2, seed=seed), network(info, 1, seed=seed + 1),
    )),
    "reinforce mean": (Bandit, lambda info, seed: Reinforce(
        info, np.random.default_rng(seed), network(info, 2, seed=seed), baseline="mean", entropy=0.01,
    )),
    "actor_critic": (Corridor, lambda info, seed: ActorCritic(
        info, np.random.default_rng(seed), network(info, 2, seed=seed), network(info, 1, seed=seed + 1), entropy=0.01,
    )),
}


@pytest.mark.parametrize("example", AGENTS)
def test_a_resumed_agent_continues_exactly(example: str, through_npz) -> None:
    world, make = AGENTS[example]
    loop = EpisodeLoop(world())
    agent = make(loop.world.info, 0)
    loop.run(agent, 37)
    saved, resumed_loop = through_npz(agent.state_arrays()), copy.deepcopy(loop)
    resumed = make(loop.world.info, 9)
    resumed.load_state_arrays(saved)
    assert loop.run(agent, 60) == resumed_loop.run(resumed, 60)
    final, again = agent.state_arrays(), resumed.state_arrays()
    assert final.keys() == again.keys()
    # learning kept float32 throughout: no NumPy 2 float64 scalar widened an update
    assert [key for key, value in final.items() if value.dtype == np.float64] == []
    for key in final:
        np.testing.assert_array_equal(final[key], again[key], err_msg=key)


def test_state_arrays_are_copies_not_the_live_weights() -> None:
    _, make = AGENTS["dqn"]
    world = Corridor()
    agent = make(world.info, 0)
    saved = agent.state_arrays()
    EpisodeLoop(world).run(agent, 40)
    assert not np.array_equal(saved["q/dense1.W"], agent.q.model.params["dense1.W"])
