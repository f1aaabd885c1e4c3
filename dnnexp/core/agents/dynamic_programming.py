"""Dynamic programming (course Day 4 §2, deep-learning-from-scratch-4 ch. 4): the "perfect
knowledge" case, where the world's transition table is known, solved exactly — policy evaluation,
policy iteration, value iteration — and the reference the learners are measured against.

The Bellman equations as array products over the whole table at once (synchronous sweeps, where
the book updates state by state in place; both converge to the same fixed point):

    Q(s, a) = Σ_s' p(s' | s, a) [r(s, a, s') + γ · (1 − done) · V(s')]
    policy evaluation  V(s) = Σ_a π(a | s) Q(s, a)
    value iteration    V(s) = max_a Q(s, a)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from dnnexp.core.agents.base import Agent, EnvInfo, Transition, WorldModel

#: sweeps stop when no value changes by more than this
THETA = 1e-10
#: and at the latest after this many (γ = 1 on a world where a policy can walk forever never settles)
MAX_SWEEPS = 100_000


@dataclass(frozen=True)
class Tables:
    """A world model as arrays: `expected_reward` (S, A) = Σ_s' p r; `continuing` (S, A, S') = p of
    arriving in s' without the episode ending (the terminal transitions' future is 0)."""

    expected_reward: np.ndarray
    continuing: np.ndarray

    @classmethod
    def of(cls, model: WorldModel) -> Tables:
        S = len(model.transitions)
        A = len(model.transitions[0])
        reward, continuing = np.zeros((S, A)), np.zeros((S, A, S))
        for s, actions in model.transitions.items():
            for a, outcomes in actions.items():
                for p, s2, r, done in outcomes:
                    reward[s, a] += p * r
                    continuing[s, a, s2] += 0.0 if done else p
        return cls(reward, continuing)

    def q(self, v: np.ndarray, gamma: float) -> np.ndarray:
        """Q (S, A) from V (S,): one Bellman backup."""
        return self.expected_reward + gamma * self.continuing @ v


def policy_evaluation(model: WorldModel, policy: np.ndarray, gamma: float, theta: float = THETA) -> np.ndarray:
    """V_π (S,) of a policy given as probabilities π(a | s) (S, A), by sweeps until no value moves
    by more than `theta`."""
    tables, v = Tables.of(model), np.zeros(len(policy))
    for _ in range(MAX_SWEEPS):
        new = (policy * tables.q(v, gamma)).sum(axis=1)
        if np.abs(new - v).max() <= theta:
            return new
        v = new
    return v


def greedy_policy(q: np.ndarray) -> np.ndarray:
    """The deterministic policy that takes argmax_a Q(s, a) (the first on ties), as one-hot π (S, A)."""
    return np.eye(q.shape[1])[q.argmax(axis=1)]


def policy_iteration(model: WorldModel, gamma: float, theta: float = THETA) -> tuple[np.ndarray, np.ndarray, int]:
    """Evaluate the policy, improve it greedily, until it no longer changes: (Q* (S, A), V* (S,),
    the improvements made), starting from the uniform random policy."""
    tables = Tables.of(model)
    S, A = tables.expected_reward.shape
    policy = np.full((S, A), 1.0 / A)
    for improvements in range(1, MAX_SWEEPS + 1):
        v = policy_evaluation(model, policy, gamma, theta)
        q = tables.q(v, gamma)
        improved = greedy_policy(q)
        if np.array_equal(improved, policy):
            return q, v, improvements
        policy = improved
    return q, v, MAX_SWEEPS


def value_iteration(model: WorldModel, gamma: float, theta: float = THETA) -> tuple[np.ndarray, np.ndarray, int]:
    """V(s) ← max_a Q(s, a) until no value moves by more than `theta`: (Q* (S, A), V* (S,), sweeps)."""
    tables = Tables.of(model)
    v = np.zeros(tables.expected_reward.shape[0])
    for sweeps in range(1, MAX_SWEEPS + 1):
        q = tables.q(v, gamma)
        new = q.max(axis=1)
        if np.abs(new - v).max() <= theta:
            return tables.q(new, gamma), new, sweeps
        v = new
    return q, v, MAX_SWEEPS


class DynamicProgramming(Agent):
    """Base of the planners: solved once from the world's model when made, then acting greedily on
    Q* (exploring or not); they learn nothing from steps."""

    needs_model = True
    needs_discrete_states = True
    solve: ClassVar[Any]

    def __init__(self, info: EnvInfo, rng: np.random.Generator, gamma: float = 0.99, theta: float = THETA):
        super().__init__(info, rng, gamma)
        assert info.model is not None  # needs_model: the spec layer refuses worlds without one
        self.q, self.v, self.iterations = type(self).solve(info.model, gamma, theta)

    def act(self, state: Any, greedy: bool = False) -> int:
        return int(np.argmax(self.q[state]))

    def learn(self, step: Transition) -> float | None:
        return None

    def q_values(self) -> np.ndarray:
        return self.q

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {"q": self.q}

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.q = np.array(arrays["q"])


class ValueIteration(DynamicProgramming):
    """Value iteration on the world's known model (perfect knowledge): V ← max_a Q until it settles."""

    kind = "value_iteration"
    solve = staticmethod(value_iteration)


class PolicyIteration(DynamicProgramming):
    """Policy iteration on the world's known model: evaluate the policy, improve it greedily, repeat."""

    kind = "policy_iteration"
    solve = staticmethod(policy_iteration)
