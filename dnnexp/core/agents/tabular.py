"""Tabular learners (course Day 4 §2, deep-learning-from-scratch-4 ch. 5–6): a Q-table learned
from experience alone, without the world's model, exploring ε-greedily.

- Q-learning (off-policy TD): Q(s, a) += α [r + γ max_a' Q(s', a') − Q(s, a)]
- SARSA (on-policy TD):       Q(s, a) += α [r + γ Q(s', a') − Q(s, a)], a' the action it will take
- Monte Carlo control:        Q(s, a) += α [G − Q(s, a)] after the episode, G the return from (s, a)

The loss each reports is ½ δ², δ the error its update corrected (TD error, or G − Q), averaged
over the updates of a step or episode. Q-tables are float64: they are small, and sums of many
tiny TD corrections are where float32 would lose digits.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dnnexp.core.agents.base import Agent, EnvInfo, Transition, generator_state, set_generator_state
from dnnexp.core.agents.exploration import Exploration, epsilon_greedy, schedule


class Tabular(Agent):
    """Base of the table learners: Q (n_states, n_actions) from 0, ε-greedy behaviour whose ε
    follows `epsilon` (a number, or a schedule over the env steps this agent has learned from), and
    greedy evaluation that draws no random number (so evaluating never changes what training sees)."""

    needs_discrete_states = True

    def __init__(
        self, info: EnvInfo, rng: np.random.Generator, gamma: float = 0.99, alpha: float = 0.1,
        epsilon: float | Exploration = 0.1,
    ):
        super().__init__(info, rng, gamma)
        assert info.n_states is not None  # needs_discrete_states: the spec layer refuses others
        self.alpha = alpha
        self.schedule = schedule(epsilon)
        self.q = np.zeros((info.n_states, info.n_actions))
        self.steps = 0  # env steps learned from: the clock of the ε schedule

    @property
    def epsilon(self) -> float:
        return self.schedule.value(self.steps)

    def act(self, state: Any, greedy: bool = False) -> int:
        if greedy:
            return int(np.argmax(self.q[state]))
        return epsilon_greedy(self.q[state], self.epsilon, self.rng)

    def q_values(self) -> np.ndarray:
        return self.q

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {"q": self.q, "steps": np.array(self.steps), "rng": generator_state(self.rng)}

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.q = np.array(arrays["q"], dtype=np.float64)
        self.steps = int(arrays["steps"])
        set_generator_state(self.rng, arrays["rng"])

    def _update(self, state: Any, action: int, target: float) -> float:
        """Move Q(s, a) a step α towards `target`; ½ δ²."""
        error = target - self.q[state, action]
        self.q[state, action] += self.alpha * error
        return 0.5 * float(error) ** 2


class QLearning(Tabular):
    """Q-learning: off-policy TD control; learns the greedy policy's values while exploring."""

    kind = "q_learning"

    def learn(self, step: Transition) -> float:
        self.steps += 1
        future = 0.0 if step.terminated else self.gamma * self.q[step.next_state].max()
        return self._update(step.state, step.action, step.reward + future)


class Sarsa(Tabular):
    """SARSA: on-policy TD control; learns the values of the ε-greedy policy it follows, so it keeps
    away from where exploring is costly (CliffWalking's edge)."""

    kind = "sarsa"

    def __init__(self, info: EnvInfo, rng: np.random.Generator, gamma: float = 0.99, alpha: float = 0.1,
                 epsilon: float | Exploration = 0.1):
        super().__init__(info, rng, gamma, alpha, epsilon)
        self.next = None  # (s', a'): the action the update chose for s', taken by the next act(s')

    def act(self, state: Any, greedy: bool = False) -> int:
        if not greedy and self.next is not None and self.next[0] == state:
            action, self.next = self.next[1], None
            return action
        return super().act(state, greedy)

    def learn(self, step: Transition) -> float:
        self.steps += 1
        if step.terminated:
            self.next, future = None, 0.0
        else:
            action = epsilon_greedy(self.q[step.next_state], self.epsilon, self.rng)
            # A truncated episode still bootstraps from a' (time ran out, the world did not end); a' is then not taken.
            self.next = None if step.truncated else (step.next_state, action)
            future = self.gamma * self.q[step.next_state, action]
        return self._update(step.state, step.action, step.reward + future)


class MonteCarlo(Tabular):
    """Monte Carlo control: after each episode, every (s, a) visited moves towards the return that
    followed it. Every-visit by default (`first_visit: true`: only each pair's first visit counts);
    `alpha: null` averages the returns seen (step 1/N(s, a)), a number is a constant step."""

    kind = "monte_carlo"

    def __init__(self, info: EnvInfo, rng: np.random.Generator, gamma: float = 0.99, alpha: float | None = None,
                 epsilon: float | Exploration = 0.1, first_visit: bool = False):
        super().__init__(info, rng, gamma, alpha or 0.0, epsilon)
        self.averaging, self.first_visit = alpha is None, first_visit
        self.visits = np.zeros_like(self.q)
        self.episode: list[tuple[Any, int, float]] = []

    def learn(self, step: Transition) -> None:
        self.steps += 1
        self.episode.append((step.state, step.action, step.reward))
        return None

    def end_episode(self) -> float | None:
        if not self.episode:
            return None
        returns, g = [], 0.0
        for _, _, reward in reversed(self.episode):
            g = reward + self.gamma * g
            returns.append(g)
        returns.reverse()
        first = {}
        for t, (state, action, _) in enumerate(self.episode):
            first.setdefault((state, action), t)
        losses = []
        for t, ((state, action, _), g) in enumerate(zip(self.episode, returns)):
            if self.first_visit and first[(state, action)] != t:
                continue
            self.visits[state, action] += 1
            if self.averaging:
                self.alpha = 1.0 / self.visits[state, action]
            losses.append(self._update(state, action, g))
        self.episode = []
        return float(np.mean(losses))

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {**super().state_arrays(), "visits": self.visits}

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        super().load_state_arrays(arrays)
        self.visits = np.array(arrays["visits"], dtype=np.float64)
