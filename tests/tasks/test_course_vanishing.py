"""configs/day3/vanishing/ as they are: at their initial weights, the gradient through 100 time
steps tells the course's Day 3 §1–2 story that `make rnn-vanishing` draws."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import dnnexp
from dnnexp.core.layers.recurrent import recurrent_layers
from dnnexp.tasks import load_spec
from dnnexp.tasks.supervised import SupervisedTask

SPECS = Path(dnnexp.__file__).parents[1] / "configs/day3/vanishing"


def first_to_last_ratio(spec_name: str) -> float:
    """‖dL/ds_1‖ / ‖dL/ds_T‖ of the spec's recurrent layer on its first 256 training samples, before any update."""
    trainer = SupervisedTask().prepare(load_spec(SPECS / f"{spec_name}.yaml")).trainer
    [(_, layer)] = recurrent_layers({layer.name: layer for layer in trainer.model.layers})
    layer.record_time_grads = True
    x, t = trainer.data.train.x[:256], trainer.data.train.t[:256]
    trainer.model.forward_loss(x, t, trainer.loss, train=True)
    trainer.model.backward_loss(trainer.loss)
    norms = layer.time_grad_norms
    assert len(norms) == 100
    return float(norms[0] / norms[-1])


@pytest.fixture(scope="module")
def ratios() -> dict[str, float]:
    return {path.stem: first_to_last_ratio(path.stem) for path in sorted(SPECS.glob("*.yaml"))}


def test_small_weights_vanish_faster_than_orthogonal_ones_which_vanish_too(ratios) -> None:
    assert ratios["small_weights"] < 1e-8 < ratios["simple_rnn"] < 1e-3


def test_large_weights_explode_and_clipping_changes_only_the_update(ratios) -> None:
    assert ratios["large_weights"] > 100
    assert ratios["large_weights_clipped"] == ratios["large_weights"]


def test_the_lstm_cell_carries_the_gradient_further_than_the_simple_rnn(ratios) -> None:
    assert ratios["lstm"] > 100 * ratios["simple_rnn"]
