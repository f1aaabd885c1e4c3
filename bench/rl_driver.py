"""A small episode loop for dnnexp's function-approximation agents on gymnasium environments,
as the issue measures them: it reads a `kind: rl` spec (configs/day4/rl/*.yaml: its env, agent,
model and optimizer), trains for up to `--steps` env steps, and every `--eval-every` steps checks
whether the greedy policy solves the task (the mean return of `--eval-episodes` greedy episodes at
least `--solved`); it prints the env steps and the time it took.

    PYTHONPATH=. python bench/rl_driver.py configs/day4/rl/cartpole_dqn.yaml --seeds 0-4

Seeds: one SeedSequence per seed spawns the weights' stream, the agent's and the environment's;
evaluation runs on its own environment, seeded apart, and draws nothing from the agent.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any, Callable

import gymnasium as gym
import numpy as np
import yaml

from dnnexp.core.agents.base import Agent, EnvInfo, Network, Transition
from dnnexp.core.agents.exploration import Exploration
from dnnexp.core.agents.features import input_shape
from dnnexp.core.kinds import declared
from dnnexp.spec.build import sequential
from dnnexp.spec.registry import OPTIMIZERS
from dnnexp.train.threads import blas_threads

OUTPUTS = {"actions": lambda info: info.n_actions, "value": lambda info: 1}


def env_name(spec: dict[str, Any]) -> str:
    """`env: NAME` or `env: {name: NAME, …}`."""
    return spec["env"] if isinstance(spec["env"], str) else spec["env"]["name"]


def env_info(env: gym.Env) -> EnvInfo:
    space = env.observation_space
    discrete = isinstance(space, gym.spaces.Discrete)
    return EnvInfo(int(space.n) if discrete else None, () if discrete else tuple(space.shape), int(env.action_space.n))


def build_agent(spec: dict[str, Any], info: EnvInfo, seed: int) -> Agent:
    """The spec's agent, its networks built from `model.layers` + a last dense layer of the size
    each asks for, each with its own `optimizer:` instance."""
    init_seed, agent_seed = np.random.SeedSequence(seed).spawn(3)[:2]
    init_rng = np.random.default_rng(init_seed)
    args = dict(spec["agent"])
    cls = declared(Agent)[args.pop("kind")]
    if isinstance(args.get("epsilon"), dict):
        schedule = dict(args["epsilon"])
        args["epsilon"] = declared(Exploration)[schedule.pop("kind")](**schedule)
    for name, output in cls.networks.items():
        if name == "value" and args.get("baseline", "value") != "value":
            continue
        layers = [*spec["model"]["layers"], {"type": "dense", "units": OUTPUTS[output](info)}]
        args[name] = Network(sequential(input_shape(info), layers, rng=init_rng), OPTIMIZERS.build(spec["optimizer"]))
    return cls(info, np.random.default_rng(agent_seed), **args)


def evaluate(act: Callable[[Any], int], env: gym.Env, episodes: int) -> float:
    """Mean return of `episodes` episodes acting by `act` (greedy)."""
    returns = []
    for _ in range(episodes):
        state, _ = env.reset()
        total, done = 0.0, False
        while not done:
            state, reward, terminated, truncated, _ = env.step(act(state))
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    return float(np.mean(returns))


class SolvedCheck:
    """Whether a policy solves its environment: every `every` env steps a 10-episode greedy
    screen, and where that reaches `solved`, the full `episodes`-episode evaluation. Remembers the
    first step (and training seconds, evaluations left out) at which the full one passed."""

    def __init__(self, env: gym.Env, seed: int, every: int, episodes: int, solved: float):
        self.env, self.every, self.episodes, self.solved = env, every, episodes, solved
        self.env.reset(seed=seed)
        self.eval_seconds, self.last = 0.0, None
        self.solved_step = self.solved_train_s = None

    def __call__(self, act: Callable[[Any], int], step: int, elapsed: float) -> bool:
        """Evaluate at `step` (`elapsed` seconds since training began); True once solved."""
        t0, before = time.perf_counter(), self.eval_seconds
        self.last = evaluate(act, self.env, 10)
        if self.last >= self.solved:
            self.last = evaluate(act, self.env, self.episodes)
        self.eval_seconds += time.perf_counter() - t0
        if self.last >= self.solved and self.solved_step is None:
            self.solved_step, self.solved_train_s = step, round(elapsed - before, 1)
        return self.last >= self.solved


def env_seeds(seed: int) -> tuple[int, int]:
    """The training and the evaluation environment's seeds for a run seed."""
    state = np.random.SeedSequence(seed).spawn(3)[2].generate_state(2)
    return int(state[0]), int(state[1])


def solve(spec: dict[str, Any], seed: int, steps: int, eval_every: int, eval_episodes: int, solved: float,
          stop: bool = True) -> dict[str, Any]:
    """Train for `steps` env steps, checking every `eval_every` whether the greedy policy solves the
    environment (SolvedCheck) and stopping there when `stop`; returns what happened."""
    env = gym.make(env_name(spec))
    info = env_info(env)
    agent = build_agent(spec, info, seed)
    train_seed, eval_seed = env_seeds(seed)
    check = SolvedCheck(gym.make(env_name(spec)), eval_seed, eval_every, eval_episodes, solved)
    state, _ = env.reset(seed=train_seed)
    start, episode_return, returns = time.perf_counter(), 0.0, []
    for step in range(1, steps + 1):
        action = agent.act(state)
        next_state, reward, terminated, truncated, _ = env.step(action)
        agent.learn(Transition(state, action, float(reward), next_state, terminated, truncated))
        episode_return += float(reward)
        state = next_state
        if terminated or truncated:
            agent.end_episode()
            returns.append(episode_return)
            episode_return = 0.0
            state, _ = env.reset()
        if step % eval_every == 0:
            done = check(lambda s: agent.act(s, greedy=True), step, time.perf_counter() - start)
            print(f"  seed {seed} step {step:>7} episodes {len(returns):>5} train(20) {np.mean(returns[-20:] or [0]):6.1f} "
                  f"greedy {check.last:6.1f} wall {time.perf_counter() - start:6.1f}s", flush=True)
            if done and stop:
                break
    wall = time.perf_counter() - start
    return {"seed": seed, "solved": check.solved_step is not None, "solved_step": check.solved_step,
            "solved_train_s": check.solved_train_s, "steps": step, "episodes": len(returns), "greedy_return": check.last,
            "wall_s": round(wall, 1), "train_wall_s": round(wall - check.eval_seconds, 1)}


def seed_list(text: str) -> list[int]:
    if "-" in text:
        low, high = text.split("-")
        return list(range(int(low), int(high) + 1))
    return [int(s) for s in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("spec")
    parser.add_argument("--seeds", default="0", help="0-4 or 0,2")
    parser.add_argument("--steps", type=int, default=100_000, help="env-step budget")
    parser.add_argument("--eval-every", type=int, default=5_000, help="env steps between checks")
    parser.add_argument("--eval-episodes", type=int, default=100)
    parser.add_argument("--solved", type=float, default=475.0)
    parser.add_argument("--set", action="append", default=[], help="agent.lr=… style overrides (YAML values)")
    args = parser.parse_args()
    with open(args.spec) as file:
        spec = yaml.safe_load(file)
    for item in args.set:
        key, value = item.split("=", 1)
        *path, last = key.split(".")
        node = spec
        for part in path:
            node = node[part]
        node[last] = yaml.safe_load(value)
    results = []
    for seed in seed_list(args.seeds):
        with blas_threads():  # one BLAS thread, as dnnexp trains
            result = solve(spec, seed, args.steps, args.eval_every, args.eval_episodes, args.solved)
        print(json.dumps(result), flush=True)
        results.append(result)
    solved = [r for r in results if r["solved"]]
    print(f"{len(solved)} of {len(results)} seeds solved; medians (an unsolved seed counts as the whole budget): "
          f"steps {statistics.median(r['steps'] for r in results)}, training {statistics.median(r['train_wall_s'] for r in results)} s, "
          f"wall with evaluations {statistics.median(r['wall_s'] for r in results)} s")


if __name__ == "__main__":
    main()
