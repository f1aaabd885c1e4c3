"""FiniteLoss: an episode with a NaN or infinite loss ends the run as diverged."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from dnnexp.train.callbacks import FiniteLoss
from dnnexp.train.episodes import EpisodeState


@pytest.mark.parametrize("loss, diverged", [(None, False), (0.5, False), (math.nan, True), (math.inf, True)])
def test_a_broken_loss_stops_the_loop(loss, diverged):
    loop = SimpleNamespace(state=EpisodeState())
    FiniteLoss().on_epoch_end(loop, {"episode": 3, "step": 40, "loss": loss})
    assert loop.state.stop is diverged
    assert (loop.state.status == "diverged") is diverged
    if diverged:
        assert "episode 3, step 40" in loop.state.message
