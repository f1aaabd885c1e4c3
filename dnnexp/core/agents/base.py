"""What an agent is, as the episode loop (dnnexp.train.episodes) sees it.

The loop owns the environment; an agent only sees what a step gives it::

    action = agent.act(state)                   # exploring, as in training
    ...env step...
    loss = agent.learn(Transition(state, action, reward, next_state, terminated, truncated))
    ...at the end of an episode...
    loss = agent.end_episode()                  # Monte Carlo / REINFORCE update; None for most
    greedy = agent.act(state, greedy=True)      # evaluation and `dnnexp play`

Everything random an agent does comes from the generator it is given, and everything it has
learned or remembers (Q-table, weights, optimizer slots, replay buffer, counters, its generator's
state) is in `state_arrays`, so that a resumed run continues exactly where it stopped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from dnnexp.core.models.sequential import Sequential
from dnnexp.core.optimizers import Optimizer


@dataclass(frozen=True)
class Transition:
    """One environment step: `state` and `next_state` are what the environment observed (an int
    index for a discrete world, a float32 vector otherwise)."""

    state: Any
    action: int
    reward: float
    next_state: Any
    terminated: bool
    truncated: bool


@dataclass(frozen=True)
class WorldModel:
    """Perfect knowledge of a discrete world (the dynamic-programming case): `transitions[s][a]` is a
    list of (probability, next_state, reward, terminated), gymnasium's toy-text `P` layout."""

    transitions: dict[int, dict[int, list[tuple[float, int, float, bool]]]]


@dataclass(frozen=True)
class EnvInfo:
    """What an agent may know of its environment before acting.

    n_states: number of states for a discrete world, None for a continuous one;
    obs_shape: the shape of one observation ((), for a discrete world);
    n_actions: number of discrete actions;
    model: the world's transition table where it is known (grid worlds, FrozenLake, …), else None.
    """

    n_states: int | None
    obs_shape: tuple[int, ...]
    n_actions: int
    model: WorldModel | None = None


@dataclass
class Network:
    """A network an agent learns with, built by the spec layer from the spec's `model:` layer list
    (with a last Dense of the size the agent asks for appended) and its own `optimizer:` instance."""

    model: Sequential
    optimizer: Optimizer


class Agent:
    """Base agent; subclasses declare `kind` and override `act` and `learn` (and `end_episode`
    when they learn from whole episodes)."""

    kind: ClassVar[str]
    #: whether the agent needs `EnvInfo.model` (dynamic programming) or a discrete world (tables)
    needs_model: ClassVar[bool] = False
    needs_discrete_states: ClassVar[bool] = False
    #: the networks the agent learns with: constructor keyword → output size, "actions" (one per
    #: action: Q-values or policy logits) or "value" (one: a state value). The spec layer builds a
    #: `Network` for each and passes it by that keyword, e.g. DQN {"q": "actions"},
    #: actor-critic {"policy": "actions", "value": "value"}.
    networks: ClassVar[dict[str, str]] = {}

    def __init__(self, info: EnvInfo, rng: np.random.Generator, gamma: float = 0.99):
        self.info = info
        self.rng = rng
        self.gamma = gamma

    def act(self, state: Any, greedy: bool = False) -> int:
        """The action to take in `state`: the agent's behaviour policy, or its greedy one."""
        raise NotImplementedError

    def learn(self, step: Transition) -> float | None:
        """Learn from one step; the loss of the update it made, None when it made none."""
        raise NotImplementedError

    def end_episode(self) -> float | None:
        """Called after an episode's last step; learners from whole episodes update here."""
        return None

    @property
    def epsilon(self) -> float | None:
        """The exploration rate now, for agents that explore ε-greedily."""
        return None

    def q_values(self) -> np.ndarray | None:
        """Q(s, a) for every state of a discrete world, shape (n_states, n_actions), float64; None
        where the agent has no such table (policy-gradient agents, continuous worlds)."""
        return None

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Everything learned or remembered, for checkpoints and exact resume."""
        raise NotImplementedError

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        raise NotImplementedError


def generator_state(rng: np.random.Generator) -> np.ndarray:
    """A generator's state as an array of JSON text, for `state_arrays` (it holds 128-bit integers,
    which no numeric array keeps)."""
    return np.array(json.dumps(rng.bit_generator.state))


def set_generator_state(rng: np.random.Generator, state: np.ndarray) -> None:
    """Put back a state `generator_state` saved: the generator then draws what it would have."""
    rng.bit_generator.state = json.loads(str(state))
