"""Semi-gradient Q-learning with a linear action-value function (course Day 4 §2, function
approximation; Sutton & Barto §10.1 with Q-learning's target).

Q(s, a; w) = w_a · x(s) for binary features x (dnnexp.core.agents.features), so ∇_w Q(s, a) is
x(s) in the row of action a, and each step is

    δ = r + γ max_a' Q(s', a') − Q(s, a)        (0 in place of the max after a terminal step)
    w_a ← w_a + α δ x(s)

"semi-gradient" because the target r + γ max Q(s', ·) also depends on w but is held fixed. With
tile coding α is divided by the number of active tiles, so that α = 0.1 moves Q(s, a) a tenth of
the way to the target whatever the number of tilings.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dnnexp.core.agents.base import EnvInfo, Transition, generator_state, set_generator_state
from dnnexp.core.agents.epsilon_greedy import EpsilonGreedy
from dnnexp.core.agents.exploration import Exploration
from dnnexp.core.agents.features import OneHot, build_features


class LinearQ(EpsilonGreedy):
    """Semi-gradient Q-learning, linear on binary `features` (one_hot, or tile_coding with low, high,
    tilings, tiles): Q(s, a) = Σ w[i, a] over the features i active in s, w float32 from 0, each
    step w_a += α δ / (active features)."""

    kind = "linear_q"

    def __init__(
        self,
        info: EnvInfo,
        rng: np.random.Generator,
        gamma: float = 0.99,
        epsilon: float | Exploration = 0.1,
        alpha: float = 0.1,
        features: str | dict[str, Any] = "one_hot",
    ):
        super().__init__(info, rng, gamma, epsilon)
        self.features = build_features(features, info)
        self.alpha = float(alpha)
        self.w = np.zeros((self.features.size, info.n_actions), dtype=np.float32)

    def action_values(self, state):
        return self.w[self.features.active(state)[0]].sum(axis=0)

    def learn(self, step: Transition) -> float:
        active = self.features.active(step.state)[0]
        q = self.w[active, step.action].sum()
        target = step.reward + (0.0 if step.terminated else self.gamma * float(self.action_values(step.next_state).max()))
        delta = float(target - q)
        self.w[active, step.action] += np.float32(self.alpha / self.features.active_count * delta)
        self.steps += 1
        return 0.5 * delta * delta

    def q_values(self):
        # With one-hot features the weights are the Q-table itself.
        return self.w.astype(np.float64) if isinstance(self.features, OneHot) else None

    def state_arrays(self):
        return {"w": self.w.copy(), "steps": np.array(self.steps), "rng": generator_state(self.rng)}

    def load_state_arrays(self, arrays):
        self.w[...] = arrays["w"]
        self.steps = int(arrays["steps"])
        set_generator_state(self.rng, arrays["rng"])
