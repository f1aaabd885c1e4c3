"""Dynamic programming against what is known: the course book's grid world, and an independent
linear solve of the Bellman equation."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core.agents.base import EnvInfo, WorldModel
from dnnexp.core.agents.dynamic_programming import (
    PolicyIteration,
    Tables,
    ValueIteration,
    greedy_policy,
    policy_evaluation,
    policy_iteration,
    value_iteration,
)
from dnnexp.data.environments import env_info, make_env

START, GOAL, TRAP = 8, 3, 7  # cells (2, 0), (0, 3), (1, 3) numbered row by row


@pytest.fixture(scope="module")
def grid() -> WorldModel:
    model = env_info(make_env("GridWorld-v0")).model
    assert model is not None
    return model


def test_value_iteration_finds_the_books_optimum(grid):
    q, v, sweeps = value_iteration(grid, gamma=0.9)
    # Five steps from the start to the goal: its reward discounted four times.
    assert v[START] == pytest.approx(0.9**4, abs=1e-9)
    assert q[START].max() == pytest.approx(0.6561, abs=1e-9)
    assert v[GOAL] == 0.0
    expected = np.array([[0.81, 0.9, 1.0, 0.0], [0.729, 0.0, 0.9, 1.0], [0.6561, 0.729, 0.81, 0.729]])
    np.testing.assert_allclose(v.reshape(3, 4), expected, atol=1e-9)
    assert sweeps < 50


def test_policy_iteration_reaches_the_same_optimum_as_value_iteration(grid):
    q_pi, v_pi, improvements = policy_iteration(grid, gamma=0.9)
    q_vi, v_vi, _ = value_iteration(grid, gamma=0.9)
    np.testing.assert_allclose(v_pi, v_vi, atol=1e-8)
    np.testing.assert_array_equal(greedy_policy(q_pi).argmax(1), greedy_policy(q_vi).argmax(1))
    assert 1 < improvements < 10


def test_policy_evaluation_solves_the_bellman_equation_of_the_random_policy(grid):
    policy = np.full((12, 4), 0.25)
    v = policy_evaluation(grid, policy, gamma=0.9)
    # The oracle: V = (I − γ P_π)⁻¹ r_π, solved directly.
    tables = Tables.of(grid)
    p_pi = np.einsum("sa,sat->st", policy, tables.continuing)
    r_pi = (policy * tables.expected_reward).sum(1)
    np.testing.assert_allclose(v, np.linalg.solve(np.eye(12) - 0.9 * p_pi, r_pi), atol=1e-8)
    # The book's figure of the random policy's values: −0.10 at the start, −0.79 below the trap.
    assert v[START] == pytest.approx(-0.10, abs=0.005)
    assert v[11] == pytest.approx(-0.79, abs=0.005)


def test_terminal_transitions_have_no_future():
    # One state that ends the episode with reward 1 whatever is done: Q = 1, never 1/(1 − γ).
    model = WorldModel({0: {0: [(1.0, 0, 1.0, True)]}})
    q, v, _ = value_iteration(model, gamma=0.99)
    assert q[0, 0] == pytest.approx(1.0)


def test_planners_act_greedily_on_q_star_and_save_it(grid):
    info = EnvInfo(n_states=12, obs_shape=(), n_actions=4, model=grid)
    for cls in (ValueIteration, PolicyIteration):
        agent = cls(info, np.random.default_rng(0), gamma=0.9)
        assert agent.act(START) in (0, 3)  # up or right: both start a shortest path
        assert agent.learn(None) is None  # type: ignore[arg-type]
        other = cls(info, np.random.default_rng(1), gamma=0.5)
        other.load_state_arrays(agent.state_arrays())
        np.testing.assert_array_equal(other.q_values(), agent.q_values())
