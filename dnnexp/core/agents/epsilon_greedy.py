"""What every value-based agent shares: ε-greedy action choice on its action values, with ε from a
schedule over the env steps taken (dnnexp.core.agents.exploration)."""

from __future__ import annotations

from typing import Any

import numpy as np

from dnnexp.core.agents.base import Agent, EnvInfo
from dnnexp.core.agents.exploration import Exploration, epsilon_greedy, schedule


class EpsilonGreedy(Agent):
    """Base of agents that act ε-greedily on `action_values(state)`; `steps` counts `learn` calls.

    Greedy choices take the first of tied actions and draw nothing, so evaluating never moves the
    agent's generator; exploring is `epsilon_greedy`'s (ties broken at random).
    """

    def __init__(self, info: EnvInfo, rng: np.random.Generator, gamma: float = 0.99, epsilon: float | Exploration = 0.1):
        super().__init__(info, rng, gamma)
        self.schedule = schedule(epsilon)
        self.steps = 0

    def action_values(self, state: Any) -> np.ndarray:
        """Q(state, ·), shape (n_actions,)."""
        raise NotImplementedError

    @property
    def epsilon(self) -> float:
        return self.schedule.value(self.steps)

    def act(self, state, greedy=False):
        q = self.action_values(state)
        return int(np.argmax(q)) if greedy else epsilon_greedy(q, self.epsilon, self.rng)
