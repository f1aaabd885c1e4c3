"""Reinforcement learning (`kind: rl`, course Day 4 §2): an agent learns to act in an environment
episode by episode — dynamic programming where the world's model is known, tabular learners
(Q-learning, SARSA, Monte Carlo) and the function-approximation agents — and is evaluated greedily
every few episodes.

metrics.csv holds a row per episode (return, length, ε, loss; at evaluations the greedy policy's
mean and std return, and in worlds whose optimum is known max|Q − Q*|); summary.json the best
100-episode mean return and when the environment was solved: `solved`, the first greedy evaluation
whose mean return reached the threshold (episode, env step, wall time since training began), and
`online_solved`, the first time the 100-episode mean of the training returns (exploring, still
learning) did.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import gymnasium
import numpy as np
from pydantic import Field
from rich.console import Console

from dnnexp.console import styled
from dnnexp.core.agents.base import Agent, WorldModel
from dnnexp.core.agents.dynamic_programming import value_iteration
from dnnexp.data.environments import env_info, solved_threshold
from dnnexp.errors import DnnexpError, RunDirError
from dnnexp.runs.lifecycle import Lifecycle, Outcome
from dnnexp.runs.rundir import RunDir
from dnnexp.spec.agents import AgentSpec, AgentStreams, EnvSpec, build_agent, check_agent_fits
from dnnexp.spec.schema import ModelSection, NonNegativeInt, OptimizerSpec, PositiveInt, Section, SpecBase
from dnnexp.tasks.base import Task
from dnnexp.train import callbacks as cb
from dnnexp.train.arrays import split_arrays
from dnnexp.train.episodes import EpisodeLoop, first_reaching, moving_mean

CHECKPOINT = "checkpoint.npz"
#: the window of the mean return that counts as solving an environment (gymnasium's convention)
SOLVED_WINDOW = 100


class EpisodesSection(Section):
    """`train:` how many episodes, and when a run counts as solving its environment."""

    episodes: PositiveInt
    checkpoint_every: NonNegativeInt = 100  # episodes between checkpoints; 0: only at the end
    #: the mean return that counts as solved (of a greedy evaluation; for online_solved of the last
    #: 100 training episodes); null: the environment's reward_threshold
    solved_threshold: float | None = None


class EvaluationSection(Section):
    """`evaluation:` the greedy policy's return, measured every `every` episodes (and after the
    last) over `episodes` episodes of their own, seeded from the run's seed."""

    every: PositiveInt = 100
    episodes: PositiveInt = 10


class RLSpec(SpecBase):
    """An agent learning in an environment (`kind: rl`)."""

    kind: Literal["rl"]
    seed: NonNegativeInt = 0
    env: EnvSpec
    agent: AgentSpec
    model: ModelSection | None = None  # the hidden layers of an agent's networks
    optimizer: OptimizerSpec | None = None  # each network's own optimizer
    train: EpisodesSection
    evaluation: EvaluationSection = Field(default_factory=EvaluationSection)


@dataclass
class Prepared:
    """An RL spec built: the episode loop (environments, agent) and, when resuming, the checkpoint."""

    spec: RLSpec
    loop: EpisodeLoop
    threshold: float | None
    checkpoint: dict[str, np.ndarray] | None = None


@dataclass
class Rebuilt:
    """A run's trained agent in a fresh environment of its spec."""

    spec: RLSpec
    agent: Agent
    env: gymnasium.Env


def make_agent(spec: RLSpec, env: gymnasium.Env) -> Agent:
    """The spec's agent for `env`, with its streams from the run's seed."""
    info = env_info(env)
    check_agent_fits(spec.agent, spec.env.name, info, spec.model, spec.optimizer)
    return build_agent(spec.agent, info, AgentStreams.from_seed(spec.seed), spec.model, spec.optimizer)


class RLTask(Task):
    """Episodes of an agent in an environment (course Day 4 §2)."""

    kind = "rl"
    spec_class = RLSpec
    length_key = "train.episodes"

    def prepare(self, spec: RLSpec, resume: RunDir | None = None) -> Prepared:
        env, eval_env = spec.env.make(), spec.env.make()
        agent = make_agent(spec, env)
        model = agent.info.model
        optimal_q = None
        if model is not None and agent.q_values() is not None:
            optimal_q, _, _ = value_iteration(model, agent.gamma)
            # States no transition leads to (CliffWalking's cliff, the grid world's wall) are never
            # stood in, and their Q is never learned: left out of max|Q − Q*|.
            optimal_q[~reachable(model)] = np.nan
        loop = EpisodeLoop(
            env=env, agent=agent, episodes=spec.train.episodes, seed=AgentStreams.from_seed(spec.seed).env_seed,
            eval_env=eval_env, eval_every=spec.evaluation.every, eval_episodes=spec.evaluation.episodes,
            optimal_q=optimal_q,
        )
        threshold = spec.train.solved_threshold if spec.train.solved_threshold is not None else solved_threshold(env)
        checkpoint = None
        if resume is not None:
            if not resume.has(CHECKPOINT):
                raise RunDirError(f"{resume.path} has no {CHECKPOINT} to resume from; start a new run instead")
            checkpoint = resume.load_npz(CHECKPOINT)
        return Prepared(spec, loop, threshold, checkpoint)

    def describe(self, prepared: Prepared) -> str:
        spec, info = prepared.spec, prepared.loop.agent.info
        states = f"{info.n_states} states" if info.n_states is not None else f"observations of shape {info.obs_shape}"
        known = ", model known" if info.model is not None else ""
        return (f"agent {spec.agent['kind']} in {spec.env.name} ({states}, {info.n_actions} actions{known}), "
                f"{spec.train.episodes} episodes")

    def run(self, prepared: Prepared, life: Lifecycle, console: Console | None) -> Outcome:
        loop, spec, run = prepared.loop, prepared.spec, life.run
        if console is not None:
            console.print(styled((spec.name, "bold"), f"  {spec.agent['kind']} in {spec.env.name}, seed {spec.seed}"))
        greedy_solved = None if prepared.threshold is None else cb.GreedySolved(prepared.threshold)
        loop.callbacks = run_callbacks(spec, loop, life, console, greedy_solved)
        if prepared.checkpoint is not None:
            try:
                loop.restore(prepared.checkpoint)
            except (KeyError, ValueError) as error:
                raise RunDirError(f"{run.file(CHECKPOINT)} does not fit this run ({error}); start a new run") from None
            for log in life.logs:
                log.resume_from(loop.state.episode, counter="episode")
            loop.state.status, loop.state.stop, loop.state.message = "running", False, ""
        state = loop.fit()
        summary = results(run, spec, prepared.threshold, state.episode, state.step, greedy_solved)
        headline = f"best {SOLVED_WINDOW}-episode mean return {summary['best'].get('return_mean_100', float('nan')):.4g}"
        if summary["final"].get("eval_return_mean") is not None:
            headline += f"  greedy return {summary['final']['eval_return_mean']:.4g}"
        return Outcome(state.status, state.message, summary, headline)

    def draw(self, prepared: Prepared, run: RunDir) -> None:
        from dnnexp.data.environments import grid_layout
        from dnnexp.plots.curves import plot_curves
        from dnnexp.plots.values import plot_values

        if len(run.metrics()):
            plot_curves([run], run.file("learning_curves.png"))
        layout, q = grid_layout(prepared.loop.env), prepared.loop.agent.q_values()
        if layout is not None and q is not None:
            plot_values(run, q, layout, run.file("values.png"))

    def rebuild(self, run: RunDir, spec: RLSpec | None = None, render_mode: str | None = None) -> Rebuilt:
        """The run's agent as its checkpoint left it, in a fresh environment of its spec."""
        from dnnexp.tasks import run_spec

        spec = spec or run_spec(run)
        env = spec.env.make(render_mode)
        agent = make_agent(spec, env)
        if not run.has(CHECKPOINT):
            raise RunDirError(f"{run.path} has no {CHECKPOINT}: the run ended before its first checkpoint")
        arrays = run.load_npz(CHECKPOINT)
        try:
            agent.load_state_arrays(split_arrays(arrays, "agent"))
        except (KeyError, ValueError) as error:
            raise RunDirError(f"{run.file(CHECKPOINT)} does not fit the agent of its config.yaml ({error})") from None
        return Rebuilt(spec, agent, env)

    def plot_values(self, run: RunDir, out: Path | None) -> Path:
        from dnnexp.data.environments import grid_layout
        from dnnexp.plots.values import plot_values

        rebuilt = self.rebuild(run)
        layout, q = grid_layout(rebuilt.env), rebuilt.agent.q_values()
        if layout is None:
            raise DnnexpError(f"{run.path}: --values draws grid worlds (GridWorld-v0, FrozenLake, CliffWalking); "
                              f"{rebuilt.spec.env.name} is not one")
        if q is None:
            raise DnnexpError(f"{run.path}: agent {rebuilt.spec.agent['kind']} keeps no Q-table to draw")
        return plot_values(run, q, layout, out or run.file("values.png"))

    def play(self, run: RunDir, episodes: int, out: Path | None, seed: int, console: Console) -> Path | None:
        """The trained agent acting greedily for `episodes` episodes: text frames on `console` for
        worlds drawn as text, else (or with `out`) an animation written to `out` (.gif)."""
        from dnnexp.plots.play import play_frames, play_text
        from dnnexp.tasks import run_spec

        spec = run_spec(run)
        modes = spec.env.make().metadata.get("render_modes", [])
        if out is not None and "rgb_array" not in modes:
            raise DnnexpError(f"--out: {spec.env.name} draws itself only as text; play it without --out")
        if out is None and "ansi" in modes:
            play_text(self.rebuild(run, spec, "ansi"), episodes, seed, console)
            return None
        try:
            rebuilt = self.rebuild(run, spec, "rgb_array")
            return play_frames(rebuilt, episodes, seed, out or run.file("episode.gif"))
        except ImportError as missing:  # gymnasium draws with pygame, an optional extra
            raise DnnexpError(
                f"drawing {spec.env.name} needs pygame ({missing}); install it with `pip install 'dnnexp[render]'`"
            ) from None


def reachable(model: WorldModel) -> np.ndarray:
    """Whether each state is where some transition of `model` arrives, (n_states,) bool."""
    arrived = np.zeros(len(model.transitions), dtype=bool)
    arrived[[s2 for actions in model.transitions.values() for outcomes in actions.values() for _, s2, _, _ in outcomes]] = True
    return arrived


def run_callbacks(
    spec: RLSpec, loop: EpisodeLoop, life: Lifecycle, console: Console | None, greedy_solved: cb.GreedySolved | None
) -> list[cb.Callback]:
    """The callbacks of an RL run: metrics.csv, the divergence check, progress lines, when the
    greedy policy first solved the environment, checkpoints (last, so that they record the others'
    state after their episode end)."""
    run = life.run
    callbacks: list[cb.Callback] = [cb.MetricsLogger(life.log("metrics.csv", loop.columns)), cb.FiniteLoss()]
    if console is not None:
        callbacks.insert(0, cb.EpisodeProgress(console))
    if greedy_solved is not None:
        callbacks.append(greedy_solved)
    callbacks.append(cb.Checkpoint(lambda arrays: run.save_npz(CHECKPOINT, arrays), spec.train.checkpoint_every))
    return callbacks


def results(
    run: RunDir, spec: RLSpec, threshold: float | None, episodes: int, steps: int, greedy_solved: cb.GreedySolved | None
) -> dict[str, Any]:
    """What summary.json records of an RL run: the last episode's row (with the last evaluation),
    the best 100-episode mean return (of as many episodes as a shorter run has) and best greedy
    return; `solved`, when a greedy evaluation's mean return first reached the threshold (episode,
    step, wall time), and `online_solved`, when the 100-episode mean of the training returns did
    (episode, step); both null without a threshold, their episode null until reached."""
    metrics = run.metrics()
    final: dict[str, Any] = {}
    best: dict[str, Any] = {}
    window = min(SOLVED_WINDOW, spec.train.episodes)
    solved = None
    online = None if threshold is None else {"threshold": threshold, "window": window, "episode": None, "step": None}
    if greedy_solved is not None:
        solved = {"threshold": threshold, "evaluation_episodes": spec.evaluation.episodes, **greedy_solved.record()}
    if len(metrics):
        final = {key: _number(value) for key, value in metrics.iloc[-1].items() if value == value}  # NaN: not logged
        for counter in ("episode", "step", "length"):
            final[counter] = int(final[counter])
        evaluated = metrics.dropna(subset=["eval_return_mean"])
        if len(evaluated):
            last = evaluated.iloc[-1]
            final.update({c: _number(last[c]) for c in evaluated.columns if c.startswith("eval_") or c == "q_error"})
            best["eval_return_mean"] = float(evaluated["eval_return_mean"].max())
        means = moving_mean(metrics["return"].to_numpy(), window)[window - 1 :]
        if len(means):
            best["return_mean_100"] = float(means.max())
            best["episode"] = int(metrics["episode"].iloc[window - 1 + int(means.argmax())])
            if online is not None:
                reached = first_reaching(means, threshold)
                if reached is not None:
                    row = metrics.iloc[window - 1 + reached]
                    online.update(episode=int(row["episode"]), step=int(row["step"]))
    return {
        "episodes_completed": episodes, "steps": steps, "final": final, "best": best,
        "solved": solved, "online_solved": online, "seed": spec.seed,
    }


def _number(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
