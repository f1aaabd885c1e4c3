from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core.agents.base import Transition
from dnnexp.core.agents.policy_gradient import ActorCritic, Reinforce, discounted_returns, policy_loss
from dnnexp.core.functions import softmax
from dnnexp.core.gradcheck import numerical_gradient, relative_error
from tests.core.agents.conftest import Bandit, Corridor, greedy_accuracy, network, run


@pytest.mark.parametrize("entropy", [0.0, 0.3])
def test_policy_loss_gradient_matches_finite_differences(entropy: float) -> None:
    rng = np.random.default_rng(0)
    u, actions, advantages = rng.normal(size=(6, 3)), rng.integers(0, 3, 6), rng.normal(size=6)
    _, du = policy_loss(u, actions, advantages, entropy)
    numeric = numerical_gradient(lambda: policy_loss(u, actions, advantages, entropy)[0], u)
    assert relative_error(du, numeric) < 1e-7


def test_policy_loss_is_the_advantage_weighted_cross_entropy_of_the_actions_taken() -> None:
    u, actions, advantages = np.array([[0.0, np.log(3.0)], [0.0, 0.0]]), np.array([1, 0]), np.array([2.0, -1.0])
    loss, du = policy_loss(u, actions, advantages)
    # π = (¼, ¾) and (½, ½): −(2 log ¾ − log ½) / 2
    assert loss == pytest.approx(-(2 * np.log(0.75) - np.log(0.5)) / 2)
    # a descent step raises the logit of an action with a positive advantage, lowers one with a negative
    assert du[0, 1] < 0 and du[1, 0] > 0


def test_discounted_returns_look_ahead_through_the_episode() -> None:
    returns = discounted_returns(np.array([1.0, 0.0, 2.0], np.float32), 0.5)
    np.testing.assert_allclose(returns, [1.5, 1.0, 2.0])
    assert returns.dtype == np.float32


@pytest.mark.parametrize("baseline", ["none", "mean", "value"])
def test_reinforce_learns_the_bandit(baseline: str) -> None:
    world = Bandit(0)
    agent = Reinforce(world.info, np.random.default_rng(0), network(world.info, 2, lr=0.02),
                      network(world.info, 1, lr=0.02, seed=1), baseline=baseline)
    run(agent, world, 800)
    assert greedy_accuracy(agent, Bandit(1)) > 0.9


@pytest.mark.parametrize("agent_class", [Reinforce, ActorCritic])
def test_the_agents_learn_the_corridor(agent_class) -> None:
    """REINFORCE from whole episodes, actor-critic step by step."""
    world = Corridor(4, limit=12)
    agent = agent_class(world.info, np.random.default_rng(0), network(world.info, 2, lr=0.05),
                        network(world.info, 1, lr=0.05, seed=1), gamma=0.9)
    returns = run(agent, world, 1500)
    assert np.mean(returns[-20:]) == 1.0 and all(agent.act(s, greedy=True) == 1 for s in range(3))
    # the value network knows the values: γ², γ, 1 before the goal
    v = agent.value.model.forward(np.eye(4, dtype=np.float32))[:3, 0]
    np.testing.assert_allclose(v, [0.81, 0.9, 1.0], atol=0.1)


def test_reinforce_learns_only_at_the_end_of_an_episode() -> None:
    world = Corridor(4)
    agent = Reinforce(world.info, np.random.default_rng(0), network(world.info, 2), baseline="none")
    before = agent.policy.model.params["dense1.W"].copy()
    assert agent.learn(Transition(0, 1, 1.0, 1, False, False)) is None
    np.testing.assert_array_equal(agent.policy.model.params["dense1.W"], before)
    assert agent.end_episode() is not None and agent.end_episode() is None
    assert not np.array_equal(agent.policy.model.params["dense1.W"], before)


def test_reinforce_refuses_an_unknown_baseline_or_a_value_baseline_without_a_network() -> None:
    world = Bandit(0)
    with pytest.raises(ValueError, match="not one of none, mean, value"):
        Reinforce(world.info, np.random.default_rng(0), network(world.info, 2), baseline="median")
    with pytest.raises(ValueError, match="needs a value network"):
        Reinforce(world.info, np.random.default_rng(0), network(world.info, 2))


def test_the_mean_baseline_follows_the_returns_of_the_episodes_before() -> None:
    world = Corridor(4)
    agent = Reinforce(world.info, np.random.default_rng(0), network(world.info, 2), baseline="mean", gamma=1.0)
    for reward in (10.0, 20.0):
        agent.learn(Transition(0, 1, reward, 1, True, False))
        agent.end_episode()
    # 0 → 1 (a tenth of the way to 10) → 2.9 (a tenth of the way to 20)
    assert agent.mean_return == pytest.approx(2.9) and agent.mean_return.dtype == np.float32


def test_actions_are_drawn_from_the_softmax_policy() -> None:
    world = Bandit(0)
    agent = Reinforce(world.info, np.random.default_rng(0), network(world.info, 2), baseline="none")
    agent.policy.model.params["dense2.b"][...] = [0.0, np.log(3.0)]
    agent.policy.model.params["dense2.W"][...] = 0.0
    state = np.zeros(2, np.float32)
    share = np.mean([agent.act(state) for _ in range(4000)])
    expected = softmax(np.array([0.0, np.log(3.0)]))[1]
    assert share == pytest.approx(expected, abs=0.03) and agent.act(state, greedy=True) == 1


def test_actor_critic_gradients_match_finite_differences() -> None:
    """The critic's gradient is that of ½(V(s) − target)² with the target r + γV(s') held fixed,
    the actor's that of −δ log π(a|s); checked with both learning rates 0, so nothing moves."""
    world = Bandit(0)
    policy, value = network(world.info, 2, dtype=np.float64), network(world.info, 1, dtype=np.float64, seed=1)
    policy.optimizer.lr = value.optimizer.lr = 0.0
    agent = ActorCritic(world.info, np.random.default_rng(0), policy, value, gamma=0.9, entropy=0.1)
    s, s2 = np.array([0.3, -0.5]), np.array([-0.2, 0.7])
    agent.learn(Transition(s, 1, 0.5, s2, False, False))
    target = 0.5 + 0.9 * value.model.forward(s2[None])[0, 0]
    delta = target - value.model.forward(s[None])[0, 0]

    def critic() -> float:
        return 0.5 * float(value.model.forward(s[None])[0, 0] - target) ** 2

    def actor() -> float:
        return policy_loss(policy.model.forward(s[None]), np.array([1]), np.array([delta]), 0.1)[0]

    for net, loss in ((value, critic), (policy, actor)):
        for key, param in net.model.params.items():
            assert relative_error(net.model.grads[key], numerical_gradient(loss, param)) < 1e-6, key
