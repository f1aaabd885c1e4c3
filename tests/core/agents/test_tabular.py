"""Tabular learners: each update as its formula says, on hand-made steps; learning the grid world's
Q*; exact continuation from saved state."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core.agents.base import EnvInfo, Transition
from dnnexp.core.agents.dynamic_programming import value_iteration
from dnnexp.core.agents.tabular import MonteCarlo, QLearning, Sarsa
from dnnexp.data.environments import env_info, make_env

INFO = EnvInfo(n_states=3, obs_shape=(), n_actions=2)


def test_q_learning_moves_towards_the_best_next_value():
    agent = QLearning(INFO, np.random.default_rng(0), gamma=0.5, alpha=0.5, epsilon=0.0)
    agent.q[1] = [2.0, 4.0]
    loss = agent.learn(Transition(0, 1, 1.0, 1, False, False))
    # target 1 + 0.5 · max(2, 4) = 3; Q moves half way from 0; the loss is ½ δ².
    assert agent.q[0, 1] == 1.5 and loss == 4.5
    agent.learn(Transition(0, 0, 1.0, 1, True, False))
    assert agent.q[0, 0] == 0.5  # a terminal step has no future
    assert agent.steps == 2


def test_sarsa_bootstraps_from_the_action_it_then_takes():
    agent = Sarsa(INFO, np.random.default_rng(0), gamma=0.5, alpha=1.0, epsilon=0.0)
    agent.q[1] = [2.0, 4.0]
    agent.learn(Transition(0, 0, 0.0, 1, False, False))
    assert agent.next == (1, 1)  # greedy (ε = 0): action 1 in state 1
    assert agent.q[0, 0] == 2.0
    assert agent.act(1) == 1 and agent.next is None
    agent.q[1] = [4.0, 2.0]
    agent.learn(Transition(0, 0, 0.0, 1, False, True))
    assert agent.next is None  # truncated: a' bootstraps but is not taken


def test_sarsa_with_exploration_learns_what_it_will_do():
    agent = Sarsa(INFO, np.random.default_rng(3), gamma=1.0, alpha=1.0, epsilon=1.0)
    agent.q[1] = [0.0, 10.0]
    taken = []
    for _ in range(50):
        agent.learn(Transition(0, 0, 0.0, 1, False, False))
        taken.append((agent.q[0, 0], agent.act(1)))
    # Q(0, 0) is the value of the action then taken in state 1, explored or not.
    assert all(q == (10.0 if a == 1 else 0.0) for q, a in taken)
    assert {a for _, a in taken} == {0, 1}


@pytest.mark.parametrize("first_visit, expected", [(False, (3.0 + 2.0) / 2), (True, 3.0)])
def test_monte_carlo_averages_the_returns_that_followed_each_visit(first_visit, expected):
    agent = MonteCarlo(INFO, np.random.default_rng(0), gamma=1.0, alpha=None, epsilon=0.0, first_visit=first_visit)
    # State 0, action 0 visited twice: returns 3 (from the first visit) and 2 (from the second).
    for step in [Transition(0, 0, 1.0, 0, False, False), Transition(0, 0, 1.0, 1, False, False),
                 Transition(1, 1, 1.0, 2, True, False)]:
        assert agent.learn(step) is None
    agent.end_episode()
    assert agent.q[0, 0] == pytest.approx(expected)
    assert agent.q[1, 1] == 1.0
    assert agent.episode == []


def test_monte_carlo_with_a_constant_step():
    agent = MonteCarlo(INFO, np.random.default_rng(0), gamma=1.0, alpha=0.1, epsilon=0.0)
    agent.learn(Transition(0, 0, 2.0, 1, True, False))
    agent.end_episode()
    assert agent.q[0, 0] == pytest.approx(0.2)


def test_epsilon_follows_the_schedule_over_steps_learned():
    from dnnexp.core.agents.exploration import LinearEpsilon

    agent = QLearning(INFO, np.random.default_rng(0), epsilon=LinearEpsilon(1.0, 0.0, 10))
    for _ in range(5):
        agent.learn(Transition(0, 0, 0.0, 1, False, False))
    assert agent.epsilon == pytest.approx(0.5)


def run_episodes(agent, env, episodes: int, seed: int | None = 0) -> None:
    """`episodes` episodes of learning; the first reset seeded with `seed` (None: go on as the
    environment's generator stands)."""
    for episode in range(episodes):
        state, _ = env.reset(seed=seed if episode == 0 else None)
        done = False
        while not done:
            action = agent.act(state)
            following, reward, terminated, truncated, _ = env.step(action)
            agent.learn(Transition(state, action, float(reward), following, terminated, truncated))
            state, done = following, terminated or truncated
        agent.end_episode()


def test_q_learning_learns_the_grid_worlds_optimum():
    env = make_env("GridWorld-v0")
    info = env_info(env)
    agent = QLearning(info, np.random.default_rng(0), gamma=0.9, alpha=0.5, epsilon=0.5)
    run_episodes(agent, env, 800)
    q_star, _, _ = value_iteration(info.model, 0.9)
    assert agent.q[8].max() == pytest.approx(0.6561, abs=1e-3)
    assert np.abs(agent.q - q_star).max() < 0.01


@pytest.mark.parametrize("cls", [QLearning, Sarsa, MonteCarlo])
def test_saved_state_continues_exactly(cls):
    def fresh():
        env = make_env("FrozenLake-v1")
        return cls(env_info(env), np.random.default_rng(7), gamma=0.9, epsilon=0.3), env

    whole, env = fresh()
    run_episodes(whole, env, 60)
    first, env_a = fresh()
    run_episodes(first, env_a, 30)
    saved = first.state_arrays()
    second, env_b = fresh()
    second.load_state_arrays({k: np.copy(v) for k, v in saved.items()})
    env_b.reset(seed=0)
    env_b.unwrapped.np_random.bit_generator.state = env_a.unwrapped.np_random.bit_generator.state
    run_episodes(second, env_b, 30, seed=None)  # the rest, on the environment as the first half left it
    np.testing.assert_array_equal(second.q, whole.q)
    assert second.steps == whole.steps
