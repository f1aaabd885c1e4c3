"""Transformer runs from spec to run folder: metrics and per-layer statistics, resume bit for bit,
`dnnexp sample` writing with the saved model, the shipped specs, and the mistakes a spec can make."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from dnnexp.data.text import decode
from dnnexp.errors import SpecError
from dnnexp.runs.rundir import RunDir
from dnnexp.tasks import spec_from_dict
from dnnexp.tasks.supervised import CHECKPOINT, SupervisedTask
from tests.tasks.conftest import StopAt, interrupted_run, resolved, train, without_times

#: 8 steps an epoch (256 training questions in batches of 32); dropout, so that resuming must restore its stream too
TRANSFORMER: dict[str, Any] = {
    "name": "transformer",
    "data": {"name": "addition", "digits": 2, "n": 296, "n_test": 40, "validation": 40},
    "model": {"kind": "transformer", "d_model": 8, "heads": 2, "d_ff": 16, "blocks": 1, "dropout": 0.1},
    "loss": "cross_entropy",
    "optimizer": {"name": "adam", "lr": 0.01},
    "regularization": {"clip_norm": 5.0},
    "train": {"epochs": 3, "batch_size": 32},
    "logging": {"layer_stats": True},
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> RunDir:
    return train(resolved(TRANSFORMER), tmp_path_factory.mktemp("runs"))[0]


def test_metrics_and_layer_statistics(trained):
    columns = list(trained.metrics().columns)
    assert {"train_acc", "train_seq_acc", "val_acc", "val_seq_acc"} <= set(columns)
    assert set(trained.summary()["test"]) == {"loss", "acc", "seq_acc"}
    layers = set(trained.table("layer_stats.csv")["layer"])
    expected = {"encoder.block1.self_attention", "decoder.block1.cross_attention", "decoder.block1.layer_norm3", "decoder.output"}
    assert expected <= layers


def test_a_resumed_run_ends_exactly_as_an_uninterrupted_one(trained, runs_dir, extra_callbacks):
    config = resolved(TRANSFORMER)
    cut = interrupted_run(config, runs_dir, extra_callbacks, StopAt(11))
    resumed, outcome = train(config, runs_dir, resume=RunDir.open(cut.path))
    assert (outcome.status, outcome.exit_code) == ("completed", 0)
    for key in ("steps", "best", "test"):
        assert resumed.summary()[key] == trained.summary()[key], key
    arrays, resumed_arrays = trained.load_npz(CHECKPOINT), resumed.load_npz(CHECKPOINT)
    assert [key for key in arrays if not np.array_equal(arrays[key], resumed_arrays[key])] == []
    pd.testing.assert_frame_equal(without_times(resumed.metrics()), without_times(trained.metrics()), check_exact=True)


def test_sample_writes_what_the_saved_model_writes(trained, cli):
    rebuilt = SupervisedTask().rebuild(trained)
    tokens = rebuilt.data.vocabulary.tokens
    x, _ = rebuilt.data.test.batch(slice(0, 3))
    for question, answer in zip(decode(x, tokens), decode(rebuilt.model.generate(x, greedy=True), tokens)):
        result = cli("sample", trained.path, question)
        assert result.exit_code == 0 and result.output == answer + "\n", (question, result.output)
    drawn = cli("sample", trained.path, "16+75", "--samples", "3", "--decoding", "sample")
    assert drawn.exit_code == 0 and len(drawn.output.splitlines()) == 3


CONFIGS = Path(__file__).parents[2] / "configs/day3/transformer"


@pytest.mark.parametrize("spec", sorted(CONFIGS.glob("*.yaml")), ids=lambda path: path.stem)
def test_the_shipped_specs_validate_and_show_their_layers(cli, spec):
    result = cli("validate", spec)
    assert result.exit_code == 0, result.output
    assert all(part in result.output for part in ("multi_head_attention", "layer_norm", "feed_forward", "positional_encoding"))


def test_list_names_the_kind_and_its_layers(cli):
    assert "transformer" in cli("list", "models").output
    layers = cli("list", "layers").output
    assert all(kind in layers for kind in ("multi_head_attention", "layer_norm", "feed_forward", "positional_encoding"))


@pytest.mark.parametrize(
    "model, message",
    [
        (
            {"d_model": 10, "heads": 4},
            "model.heads: d_model 10 does not split into 4 heads of equal size; make d_model a multiple of heads",
        ),
        ({"dropout": 1.0}, "model.dropout"),
        ({"blocks": 0}, "model.blocks"),
    ],
)
def test_a_spec_that_does_not_fit_is_told_where(model, message):
    spec = {**TRANSFORMER, "model": {**TRANSFORMER["model"], **model}}
    with pytest.raises(SpecError) as caught:
        SupervisedTask().prepare(spec_from_dict(spec))
    assert message in " ".join(str(caught.value).split())


def test_plot_attention_draws_every_cross_attention_head(trained, cli):
    result = cli("plot", trained.path, "--attention", "16+75")
    assert result.exit_code == 0 and trained.file("attention.png").stat().st_size > 5000, result.output
    maps = SupervisedTask().attention(trained, "16+75")
    assert list(maps.maps) == ["decoder cross-attention, layer 1, head 1", "decoder cross-attention, layer 1, head 2"]
