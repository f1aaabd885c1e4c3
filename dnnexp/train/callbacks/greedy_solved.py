"""GreedySolved: when a reinforcement-learning run first solved its environment — the first
greedy evaluation whose mean return reaches the threshold."""

from __future__ import annotations

import time

import numpy as np

from dnnexp.train.callbacks.base import Callback


class GreedySolved(Callback):
    """Remembers the first evaluation row whose `eval_return_mean` reaches `threshold`: its
    episode, environment step and the wall time since training began (evaluations included).

    The clock is saved with each checkpoint, so a resumed run counts on from the time its
    checkpoint was taken (the minutes between that checkpoint and the interruption are lost)."""

    def __init__(self, threshold: float):
        self.threshold = threshold
        self.episode: int | None = None
        self.step: int | None = None
        self.wall_time_s: float | None = None
        self.before_s = 0.0  # training time of the run's earlier parts, up to their checkpoint
        self.started = time.perf_counter()

    def elapsed(self) -> float:
        return self.before_s + time.perf_counter() - self.started

    def on_train_begin(self, loop) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, loop, logs) -> None:
        reached = logs.get("eval_return_mean")
        if self.episode is None and reached is not None and reached >= self.threshold:
            self.episode, self.step, self.wall_time_s = int(logs["episode"]), int(logs["step"]), round(self.elapsed(), 3)

    def record(self) -> dict[str, int | float | None]:
        """What summary.json says of it: episode, step and wall_time_s, None until solved."""
        return {"episode": self.episode, "step": self.step, "wall_time_s": self.wall_time_s}

    def state_arrays(self) -> dict[str, np.ndarray]:
        # −1: not solved yet (an npz holds no None)
        return {
            "elapsed_s": np.array(self.elapsed(), dtype=np.float64),
            "episode": np.array(-1 if self.episode is None else self.episode, dtype=np.int64),
            "step": np.array(-1 if self.step is None else self.step, dtype=np.int64),
            "wall_time_s": np.array(-1.0 if self.wall_time_s is None else self.wall_time_s, dtype=np.float64),
        }

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        if not arrays:  # a checkpoint from before runs recorded it: the clock starts again
            return
        self.before_s = float(arrays["elapsed_s"])
        if int(arrays["episode"]) >= 0:
            self.episode, self.step = int(arrays["episode"]), int(arrays["step"])
            self.wall_time_s = float(arrays["wall_time_s"])
