"""EpisodeProgress: a line on the console at each greedy evaluation of a reinforcement-learning run."""

from __future__ import annotations

import math

from dnnexp.train.callbacks.base import Callback


class EpisodeProgress(Callback):
    """One line per evaluation: episode, env steps, the mean return of the episodes since the last
    line, the greedy policy's mean ± std return, ε."""

    def __init__(self, console):
        self.console = console
        self.returns: list[float] = []

    def on_epoch_end(self, loop, logs):
        self.returns.append(logs["return"])
        if logs.get("eval_return_mean") is None:
            return
        epsilon = "" if logs["epsilon"] is None else f"  ε {logs['epsilon']:.3g}"
        error = f"  max|Q−Q*| {logs['q_error']:.3g}" if logs.get("q_error") is not None else ""
        loss = f"  loss {logs['loss']:.4g}" if logs["loss"] is not None and math.isfinite(logs["loss"]) else ""
        self.console.print(
            f"episode {logs['episode']}/{loop.episodes}  step {logs['step']}  "
            f"return {sum(self.returns) / len(self.returns):.4g}  "
            f"greedy {logs['eval_return_mean']:.4g} ± {logs['eval_return_std']:.3g}{epsilon}{loss}{error}",
            soft_wrap=True,
        )
        self.returns = []
