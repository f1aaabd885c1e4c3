"""EpisodeProgress: a line at each evaluation."""

from __future__ import annotations

import io
from types import SimpleNamespace

from rich.console import Console

from dnnexp.train.callbacks import EpisodeProgress


def test_a_line_at_each_evaluation_with_the_mean_return_since_the_last():
    out = io.StringIO()
    progress = EpisodeProgress(Console(file=out, width=200))
    loop = SimpleNamespace(episodes=4)
    row = {"step": 10, "epsilon": 0.1, "loss": 0.25}
    progress.on_epoch_end(loop, {**row, "episode": 1, "return": 1.0})
    assert out.getvalue() == ""
    progress.on_epoch_end(loop, {**row, "episode": 2, "return": 0.0, "eval_return_mean": 0.5, "eval_return_std": 0.5,
                                 "q_error": 0.125})
    line = out.getvalue()
    assert "episode 2/4" in line and "return 0.5" in line and "greedy 0.5 ± 0.5" in line and "max|Q−Q*| 0.125" in line
