"""MonitorCallback: the base of the callbacks that act when a logged metric stops improving."""

from __future__ import annotations

import math

import numpy as np

from dnnexp.train.callbacks.base import Callback


class MonitorCallback(Callback):
    """Base of the callbacks that watch one logged metric: tracks its best value (lower is better
    for losses, higher otherwise) and how many epochs have passed without gaining `min_delta` on it."""

    def __init__(self, monitor: str, min_delta: float):
        self.monitor, self.min_delta = monitor, min_delta
        self.sign = 1.0 if "loss" in monitor else -1.0
        self.best, self.wait = math.inf, 0

    def improved(self, logs: dict[str, float]) -> bool:
        """Whether this epoch's `logs` beat the best by more than `min_delta`; counts the wait if not."""
        if self.monitor not in logs:
            raise KeyError(f"'{self.monitor}' is not logged; logged metrics: {', '.join(sorted(logs))}")
        value = self.sign * logs[self.monitor]
        if value < self.best - self.min_delta:
            self.best, self.wait = value, 0
            return True
        self.wait += 1
        return False

    def state_arrays(self):
        return {"best": np.array(self.best), "wait": np.array(self.wait)}

    def load_state_arrays(self, arrays):
        self.best, self.wait = float(arrays["best"]), int(arrays["wait"])
