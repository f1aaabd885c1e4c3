"""The time-step gradient plot: a line per run (and layer), normalised at the last step, first and last epoch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dnnexp.errors import RunDirError
from dnnexp.plots.time_grads import plot_time_grads, time_grads_figure
from dnnexp.runs.rundir import RunDir

T = 8


def with_time_grads(path: Path, decay: float, layers: tuple[str, ...] = ("lstm1",), epochs: int = 3) -> RunDir:
    """A fake run's time_grads.csv: norms growing towards the last step by `decay` per step."""
    rows = [
        {"epoch": epoch, "layer": layer, "t": t, "grad_norm": 2.0 * epoch * decay ** (T - t)}
        for epoch in range(1, epochs + 1) for layer in layers for t in range(1, T + 1)
    ]
    pd.DataFrame(rows).to_csv(path / "time_grads.csv", index=False)
    return RunDir.open(path)


def test_runs_overlaid_in_the_first_and_last_epoch(make_run, tmp_path):
    rnn = with_time_grads(make_run("simple_rnn"), decay=0.5)
    lstm = with_time_grads(make_run("lstm"), decay=0.9, layers=("bidirectional1.forward", "bidirectional1.backward"))
    fig = time_grads_figure([rnn, lstm])
    first, last = fig.axes
    assert (first.get_title(), last.get_title()) == ("first epoch", "last epoch")
    assert first.get_yscale() == "log"
    labels = [line.get_label() for line in first.get_lines()]
    assert labels == ["simple_rnn", "lstm: bidirectional1.forward", "lstm: bidirectional1.backward"]
    # Divided by the last step's norm: the epoch's overall size drops out, the decay stays.
    rnn_line = first.get_lines()[0]
    np.testing.assert_allclose(rnn_line.get_ydata(), 0.5 ** (T - np.arange(1, T + 1)))
    np.testing.assert_allclose(last.get_lines()[0].get_ydata(), rnn_line.get_ydata())
    out = plot_time_grads([rnn, lstm], tmp_path / "time_grads.png")
    assert out.stat().st_size > 5000


def test_one_epoch_one_panel(make_run):
    fig = time_grads_figure([with_time_grads(make_run(), decay=0.7, epochs=1)])
    assert [ax.get_title() for ax in fig.axes] == ["epoch 1"]


def test_a_run_without_time_grads_says_how_to_get_them(make_run):
    with pytest.raises(RunDirError, match=r"no time_grads\.csv; a supervised recurrent run records it: set `logging\.time_grads: true`"):
        time_grads_figure([RunDir.open(make_run())])
