"""The episode loop of reinforcement learning (course Day 4 §2): an agent acts in an environment,
learns from each step, and is evaluated greedily now and then.

As the mini-batch trainer, the loop only acts and learns; metrics.csv, checkpoints and progress
are callbacks, which see an episode where the trainer has an epoch (`state.epoch` counts
episodes). A checkpoint is taken at an episode's end only, with the agent's state (its table or
weights, its generator), the environment's generators and the loop's counters, so that a resumed
run acts, draws and learns exactly as an uninterrupted one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gymnasium
import numpy as np

from dnnexp.core.agents.base import Agent, Transition
from dnnexp.data.environments import random_state, seed_env, set_random_state
from dnnexp.train.arrays import split_arrays
from dnnexp.train import loop

#: metrics.csv's columns of every RL run; evaluation rows add EVALUATION_COLUMNS, worlds with a
#: known optimum Q_ERROR
COLUMNS = ["episode", "step", "return", "length", "epsilon", "loss"]
EVALUATION_COLUMNS = ["eval_return_mean", "eval_return_std"]
Q_ERROR = "q_error"  # max over (s, a) of |Q − Q*|, Q* from dynamic programming


@dataclass
class EpisodeState:
    """Where the loop stands; everything in it is saved in a checkpoint."""

    episode: int = 0  # episodes completed
    step: int = 0  # environment steps taken
    status: str = "running"  # → completed | diverged | interrupted | failed
    message: str = ""
    stop: bool = False
    finished: bool = False

    @property
    def epoch(self) -> int:
        """The callbacks' clock (Checkpoint's `every`, logs cut back on resume): episodes."""
        return self.episode

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {k: np.array(getattr(self, k)) for k in ("episode", "step", "finished", "message")}

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        for key, value in arrays.items():
            setattr(self, key, type(getattr(self, key))(value))


def evaluation_seed(seed: int, index: int) -> int:
    """The seed of every evaluation's episode `index`: from the run's seed alone, so evaluating
    draws nothing from the training streams, and every evaluation of every agent of a seed meets
    the same episodes (common random numbers: two policies' returns differ by the policies, not
    by the draws; a resumed run repeats them)."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


@dataclass
class EpisodeLoop:
    """Runs `agent` for `episodes` episodes of `env` (seeded `seed` at the first reset), with
    `eval_episodes` greedy episodes of `eval_env` every `eval_every` episodes and after the last;
    `optimal_q` (S, A), where the world's optimum is known, gives each evaluation's q_error (rows of
    NaN: states left out of it)."""

    env: gymnasium.Env
    agent: Agent
    episodes: int
    seed: int
    eval_env: gymnasium.Env
    eval_every: int
    eval_episodes: int
    optimal_q: np.ndarray | None = None
    callbacks: list = field(default_factory=list)
    state: EpisodeState = field(default_factory=EpisodeState)

    @property
    def columns(self) -> list[str]:
        """metrics.csv's header for this run."""
        return COLUMNS + EVALUATION_COLUMNS + ([Q_ERROR] if self.optimal_q is not None else [])

    def fit(self) -> EpisodeState:
        return loop.fit(self.state, self.episodes, self._run_episode, self._call)

    def _run_episode(self) -> None:
        """One episode, learning from every step; its row of metrics for the callbacks."""
        state, agent = self.state, self.agent
        self._call("on_epoch_begin")
        # Seeded once, at the first episode; later resets continue the environment's generators.
        observation = seed_env(self.env, self.seed) if state.episode == 0 else self.env.reset()[0]
        total, length, losses = 0.0, 0, []
        done = False
        while not done:
            action = agent.act(observation)
            following, reward, terminated, truncated, _ = self.env.step(action)
            loss = agent.learn(Transition(observation, action, float(reward), following, terminated, truncated))
            if loss is not None:
                losses.append(loss)
            total, length, state.step = total + float(reward), length + 1, state.step + 1
            observation, done = following, terminated or truncated
        last = agent.end_episode()
        if last is not None:
            losses.append(last)
        state.episode += 1
        logs: dict[str, Any] = {
            "episode": state.episode, "step": state.step, "return": total, "length": length,
            "epsilon": agent.epsilon, "loss": float(np.mean(losses)) if losses else None,
        }
        if state.episode % self.eval_every == 0 or state.episode == self.episodes:
            logs.update(self.evaluate())
        self._call("on_epoch_end", logs)

    def evaluate(self) -> dict[str, float]:
        """The greedy policy's mean and std of return over `eval_episodes` episodes, and q_error."""
        returns = np.array([self._greedy_return(evaluation_seed(self.seed, i)) for i in range(self.eval_episodes)])
        logs = {"eval_return_mean": float(returns.mean()), "eval_return_std": float(returns.std())}
        q = self.agent.q_values()
        if self.optimal_q is not None and q is not None:
            logs[Q_ERROR] = float(np.nanmax(np.abs(q - self.optimal_q)))
        return logs

    def _greedy_return(self, seed: int) -> float:
        observation, _ = self.eval_env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            observation, reward, terminated, truncated, _ = self.eval_env.step(self.agent.act(observation, greedy=True))
            total, done = total + float(reward), terminated or truncated
        return total

    def checkpoint_arrays(self) -> dict[str, np.ndarray]:
        """Everything needed to continue exactly after the last episode, as named arrays."""
        arrays = {f"agent/{k}": v for k, v in self.agent.state_arrays().items()}
        arrays.update({f"state/{k}": v for k, v in self.state.to_arrays().items()})
        arrays.update({f"env/{k}": v for k, v in random_state(self.env).items()})
        for callback in self.callbacks:
            arrays.update({f"callback/{type(callback).__name__}/{k}": v for k, v in callback.state_arrays().items()})
        return arrays

    def restore(self, arrays: dict[str, np.ndarray]) -> None:
        """Load what `checkpoint_arrays` saved. The environment is seeded first (a reset), so that
        what only seeding sets up is there, and then given its generators' saved states."""
        self.agent.load_state_arrays(split_arrays(arrays, "agent"))
        self.state.load_arrays(split_arrays(arrays, "state"))
        seed_env(self.env, self.seed)
        set_random_state(self.env, split_arrays(arrays, "env"))
        for callback in self.callbacks:
            callback.load_state_arrays(split_arrays(arrays, f"callback/{type(callback).__name__}"))

    def _call(self, hook: str, *args) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)


def moving_mean(values: np.ndarray, window: int) -> np.ndarray:
    """The mean of each value and the `window` − 1 before it (of as many as there are, early on)."""
    sums = np.cumsum(np.insert(np.asarray(values, dtype=np.float64), 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    ends = np.arange(1, len(values) + 1)
    return (sums[ends] - sums[ends - counts]) / counts


def first_reaching(means: np.ndarray, threshold: float) -> int | None:
    """The index of the first value ≥ threshold, None if none."""
    reached = np.flatnonzero(means >= threshold)
    return int(reached[0]) if len(reached) else None

