from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core.agents.base import Transition
from dnnexp.core.agents.dqn import DQN
from dnnexp.core.agents.exploration import LinearEpsilon
from dnnexp.core.gradcheck import numerical_gradient, relative_error
from tests.core.agents.conftest import Bandit, Corridor, greedy_accuracy, network, run


def dqn(world, dtype=np.float32, **args) -> DQN:
    defaults = {"batch_size": 16, "learning_starts": 50, "target_update": 50, "buffer_size": 1000}
    return DQN(world.info, np.random.default_rng(0), network(world.info, 2, lr=0.01, dtype=dtype), **{**defaults, **args})


@pytest.mark.parametrize("double", [False, True], ids=["dqn", "double"])
def test_dqn_learns_the_bandit(double: bool) -> None:
    agent = dqn(Bandit(0), double=double, epsilon=0.2)
    run(agent, Bandit(0), 600)
    assert greedy_accuracy(agent, Bandit(1)) > 0.9


def test_dqn_learns_the_corridor_through_its_target_network() -> None:
    world = Corridor(4)
    agent = dqn(world, gamma=0.9, epsilon=LinearEpsilon(1.0, 0.1, 400), target_update=100)
    run(agent, world, 1500)
    assert all(agent.act(s, greedy=True) == 1 for s in range(3))
    np.testing.assert_allclose(agent.q_values()[:3, 1], [0.81, 0.9, 1.0], atol=0.1)


@pytest.mark.parametrize("double", [False, True], ids=["dqn", "double"])
def test_td_loss_gradient_matches_finite_differences(double: bool) -> None:
    world = Corridor(4)
    agent = dqn(world, dtype=np.float64, double=double, gamma=0.9)
    run(agent, world, 40)  # fills the buffer; no step yet (learning_starts 50)
    # a target network apart from the online one, as after training
    for value in agent.target.params.values():
        value += np.random.default_rng(1).normal(0, 0.5, value.shape)
    batch = agent.buffer.sample(8, np.random.default_rng(2))
    agent.td_loss(batch)
    for key, grad in {key: g.copy() for key, g in agent.q.model.grads.items()}.items():
        numeric = numerical_gradient(lambda: agent.td_loss(batch), agent.q.model.params[key])
        assert relative_error(grad, numeric) < 1e-6, key


def test_training_waits_for_learning_starts_and_runs_every_train_freq_steps() -> None:
    world = Bandit(0)
    agent = dqn(world, learning_starts=10, train_freq=4, gradient_steps=3)
    step = Transition(np.zeros(2, np.float32), 0, 1.0, np.zeros(2, np.float32), True, False)
    losses = [agent.learn(step) for _ in range(20)]
    assert [i + 1 for i, loss in enumerate(losses) if loss is not None] == [12, 16, 20]
    assert agent.q.optimizer.steps == 9


def test_target_is_copied_every_target_update_steps_or_averaged_with_tau() -> None:
    world = Bandit(0)
    hard, soft = dqn(world, target_update=5, learning_starts=100), dqn(world, target_update=1, tau=0.25, learning_starts=1)
    step = Transition(np.ones(2, np.float32), 1, 1.0, np.ones(2, np.float32), True, False)
    key = "dense1.W"
    for _ in range(3):
        hard.learn(step)
        soft.learn(step)
    hard.q.model.params[key] += 1.0
    hard.learn(step)
    assert not np.array_equal(hard.target.params[key], hard.q.model.params[key])
    hard.learn(step)  # the 5th step
    np.testing.assert_array_equal(hard.target.params[key], hard.q.model.params[key])
    # the target moves first, toward the online weights before this step's training (as in SB3)
    target, online = soft.target.params[key].copy(), soft.q.model.params[key].copy()
    soft.learn(step)
    np.testing.assert_allclose(soft.target.params[key], 0.75 * target + 0.25 * online, rtol=1e-6)
