"""Tiny worlds the agents must learn in well under a second, networks to learn them with, and the
episode loop that drives an agent through one (what the `kind: rl` task's loop does at scale)."""

from __future__ import annotations

import numpy as np

from dnnexp.core.activations import Tanh
from dnnexp.core.agents.base import Agent, EnvInfo, Network, Transition
from dnnexp.core.agents.features import input_shape
from dnnexp.core.layers import BuildContext
from dnnexp.core.layers.dense import Dense
from dnnexp.core.models.sequential import Sequential
from dnnexp.core.optimizers import Adam


class Bandit:
    """A contextual bandit: the state is a point of [−1, 1]², action 1 pays 1 where x₀ > 0 and
    action 0 pays 1 elsewhere; every episode is one step."""

    info = EnvInfo(None, (2,), 2)

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)

    def reset(self) -> np.ndarray:
        self.state = self.rng.uniform(-1, 1, 2).astype(np.float32)
        return self.state

    def best(self, state: np.ndarray) -> int:
        return int(state[0] > 0)

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool]:
        reward = float(action == self.best(self.state))
        return self.reset(), reward, True, False


class Corridor:
    """States 0 … n−1 in a row; action 1 steps right, 0 left (a wall at 0); reaching n−1 pays 1 and
    ends the episode, which is cut off after `limit` steps."""

    def __init__(self, n: int = 5, limit: int = 20):
        self.n, self.limit = n, limit
        self.info = EnvInfo(n, (), 2)

    def reset(self) -> int:
        self.state, self.t = 0, 0
        return self.state

    def step(self, action: int) -> tuple[int, float, bool, bool]:
        self.state = max(0, self.state + (1 if action == 1 else -1))
        self.t += 1
        terminated = self.state == self.n - 1
        return self.state, float(terminated), terminated, self.t >= self.limit and not terminated


def network(info: EnvInfo, outputs: int, hidden: int = 16, lr: float = 0.01, dtype: type = np.float32, seed: int = 0) -> Network:
    """A one-hidden-layer tanh network for `info`'s states with `outputs` outputs, and its Adam."""
    ctx = BuildContext(np.random.default_rng(seed), np.random.default_rng(seed + 1), dtype)
    model = Sequential([Dense(hidden), Tanh(), Dense(outputs)], input_shape(info)).build(ctx=ctx)
    return Network(model, Adam(lr))


class EpisodeLoop:
    """Drives agents through `world`, episode after episode, keeping the state between calls (so
    that a copy of the loop can replay a run's continuation with another agent)."""

    def __init__(self, world: Bandit | Corridor):
        self.world, self.state, self.total = world, world.reset(), 0.0

    def run(self, agent: Agent, steps: int) -> tuple[list[int], list[float]]:
        """`steps` steps: the actions taken and the return of each episode finished."""
        actions, returns = [], []
        for _ in range(steps):
            action = agent.act(self.state)
            next_state, reward, terminated, truncated = self.world.step(action)
            agent.learn(Transition(self.state, action, reward, next_state, terminated, truncated))
            actions.append(action)
            self.total += reward
            self.state = next_state
            if terminated or truncated:
                agent.end_episode()
                returns.append(self.total)
                self.total, self.state = 0.0, self.world.reset()
        return actions, returns


def run(agent: Agent, world: Bandit | Corridor, steps: int) -> list[float]:
    """Drive `agent` through `world` for `steps` steps; the return of each finished episode."""
    return EpisodeLoop(world).run(agent, steps)[1]


def greedy_accuracy(agent: Agent, world: Bandit, n: int = 200) -> float:
    """How often the greedy action is the paying one, on `n` fresh states."""
    states = [world.reset() for _ in range(n)]
    return float(np.mean([agent.act(s, greedy=True) == world.best(s) for s in states]))
