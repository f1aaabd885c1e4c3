"""DQN on CartPole-v1 with the RL Zoo's hyperparameters, in stable-baselines3 (PyTorch CPU) and in
dnnexp, side by side: env steps per second over the Zoo's 50,000 steps, and whether (and when)
each one's greedy policy solves the task (mean return ≥ 475 over 100 episodes, checked every 5,000
steps; evaluation time left out of the training time).

    PYTHONPATH=. python bench/rl_speed.py [--seeds 0] [--steps 50000]

The same algorithm and settings on both sides: a 256-256 ReLU network, Adam at 2.3e-3, batch 64,
buffer 100,000, learning from step 1,000, 128 gradient steps every 256 env steps, the target network
copied every 10 env steps, Huber loss, gradients clipped to norm 10, ε from 1 to 0.04 over the first
16% of the steps. stable-baselines3 runs with 1 torch thread, as dnnexp's BLAS (and with torch's
default, `--torch-default`); all on the same seeds (the two libraries draw their numbers differently, so a seed's
trajectories differ).
"""

from __future__ import annotations

import argparse
import statistics
import time

import gymnasium as gym

from rl_driver import SolvedCheck, env_seeds, seed_list, solve

from dnnexp.train.threads import blas_threads

ZOO = {  # rl-baselines3-zoo hyperparams/dqn.yml, CartPole-v1
    "learning_rate": 2.3e-3, "batch_size": 64, "buffer_size": 100_000, "learning_starts": 1000, "gamma": 0.99,
    "target_update_interval": 10, "train_freq": 256, "gradient_steps": 128, "exploration_fraction": 0.16,
    "exploration_final_eps": 0.04, "net_arch": [256, 256], "max_grad_norm": 10.0,
}


def dnnexp_spec(steps: int) -> dict:
    """The Zoo's settings as a dnnexp spec."""
    return {
        "env": "CartPole-v1",
        "agent": {
            "kind": "dqn", "gamma": ZOO["gamma"], "buffer_size": ZOO["buffer_size"], "batch_size": ZOO["batch_size"],
            "learning_starts": ZOO["learning_starts"], "train_freq": ZOO["train_freq"],
            "gradient_steps": ZOO["gradient_steps"], "target_update": ZOO["target_update_interval"],
            "max_grad_norm": ZOO["max_grad_norm"],
            "epsilon": {"kind": "linear", "start": 1.0, "end": ZOO["exploration_final_eps"],
                        "steps": int(ZOO["exploration_fraction"] * steps)},
        },
        "model": {"layers": [{"type": "dense", "units": units, "activation": "relu", "init": "he_uniform"}
                             for units in ZOO["net_arch"]]},
        "optimizer": {"name": "adam", "lr": ZOO["learning_rate"]},
    }


def run_sb3(seed: int, steps: int, threads: int | None, every: int) -> dict:
    import torch
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import BaseCallback

    if threads:
        torch.set_num_threads(threads)
    train_seed, eval_seed = env_seeds(seed)
    check = SolvedCheck(gym.make("CartPole-v1"), eval_seed, every, 100, 475.0)

    class Check(BaseCallback):
        def _on_training_start(self) -> None:
            self.start = time.perf_counter()

        def _on_step(self) -> bool:
            if self.num_timesteps % every == 0:
                check(lambda s: int(self.model.predict(s, deterministic=True)[0]), self.num_timesteps,
                      time.perf_counter() - self.start)
            return True

    env = gym.make("CartPole-v1")
    env.reset(seed=train_seed)
    settings = {k: v for k, v in ZOO.items() if k != "net_arch"}
    model = DQN("MlpPolicy", env, policy_kwargs={"net_arch": ZOO["net_arch"]}, seed=seed, device="cpu", verbose=0, **settings)
    start = time.perf_counter()
    model.learn(steps, callback=Check())
    train = time.perf_counter() - start - check.eval_seconds
    return {"steps_per_s": steps / train, "solved_step": check.solved_step, "solved_train_s": check.solved_train_s,
            "last_greedy": check.last, "threads": torch.get_num_threads()}


def report(seed: int, name: str, rows: dict[str, list[dict]], result: dict) -> None:
    """Keep one run's result and print it at once (a long benchmark cut short keeps what it measured)."""
    rows[name].append(result)
    print(f"seed {seed}  {name:<24} {result}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--eval-every", type=int, default=5_000)
    parser.add_argument("--torch-default", action="store_true",
                        help="also run stable-baselines3 with torch's default thread count (slow on a busy machine)")
    args = parser.parse_args()
    import torch

    default_threads = torch.get_num_threads()
    rows: dict[str, list[dict]] = {"dnnexp (1 BLAS thread)": [], "sb3, 1 torch thread": []}
    if args.torch_default:
        rows[f"sb3, {default_threads} torch threads"] = []
    for seed in seed_list(args.seeds):
        # interleaved, seed by seed, so that a busy spell of the shared machine hits every side
        with blas_threads(1):
            result = solve(dnnexp_spec(args.steps), seed, args.steps, args.eval_every, 100, 475.0, stop=False)
        report(seed, "dnnexp (1 BLAS thread)", rows, {
            "steps_per_s": args.steps / result["train_wall_s"], "solved_step": result["solved_step"],
            "solved_train_s": result["solved_train_s"], "last_greedy": result["greedy_return"],
        })
        report(seed, "sb3, 1 torch thread", rows, run_sb3(seed, args.steps, 1, args.eval_every))
        if args.torch_default:
            report(seed, f"sb3, {default_threads} torch threads", rows, run_sb3(seed, args.steps, default_threads, args.eval_every))
    print(f"\n{'':<26}{'env steps/s (median)':>22}{'ratio dnnexp/it':>17}  solved at step (train s), per seed")
    ours = statistics.median(r["steps_per_s"] for r in rows["dnnexp (1 BLAS thread)"])
    for name, results in rows.items():
        speed = statistics.median(r["steps_per_s"] for r in results)
        solved = ", ".join(f"{r['solved_step']} ({r['solved_train_s']} s)" if r["solved_step"] else
                           f"no (greedy {r['last_greedy']:.0f})" for r in results)
        print(f"{name:<26}{speed:>22,.0f}{ours / speed:>17.2f}  {solved}")


if __name__ == "__main__":
    main()
