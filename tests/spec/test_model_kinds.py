"""`model: {kind: …}`: the encoder-decoder kinds' keys, checked against their constructors, with YAML places."""

from __future__ import annotations

from typing import Any

import pytest

from dnnexp.errors import SpecError
from dnnexp.tasks import load_spec, spec_from_dict

ADDITION: dict[str, Any] = {
    "name": "addition",
    "data": {"name": "addition", "n": 300},
    "model": {"kind": "seq2seq", "units": 16},
    "loss": "cross_entropy",
    "optimizer": "adam",
    "train": {"epochs": 1},
}


def problems_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(SpecError) as caught:
        spec_from_dict(raw)
    return caught.value.problems


def with_model(**model: Any) -> dict[str, Any]:
    return {**ADDITION, "model": model}


def test_a_kind_gets_every_default_of_its_arguments():
    config = spec_from_dict(ADDITION).resolved()
    assert config["model"] == {
        "kind": "seq2seq", "embedding": 16, "units": 16, "cell": "lstm", "reverse_input": False, "peeky": False,
        "attention": None, "bidirectional": False,
    }
    vhred = spec_from_dict({**ADDITION, "model": {"kind": "vhred"}}).resolved()["model"]
    assert vhred == {
        "kind": "vhred", "embedding": 16, "units": 64, "context_units": 64, "cell": "gru", "samples": 5,
        "decoding": "sample", "peeky": False, "latent": 16, "kl_anneal_steps": 2000,
    }
    assert spec_from_dict(config).resolved() == config


def test_sequential_is_the_default_kind_and_is_not_written_out(raw):
    assert spec_from_dict(raw).resolved()["model"] == spec_from_dict(
        {**raw, "model": {"kind": "sequential", **raw["model"]}}
    ).resolved()["model"]
    assert "kind" not in spec_from_dict(raw).resolved()["model"]


@pytest.mark.parametrize(
    "model, problem",
    [
        ({"kind": "seq2sq"}, "model.kind: 'seq2sq' is not a model; did you mean 'seq2seq'?"),
        ({"kind": 3}, "model.kind: should be the name of a model, got 3"),
        ({"kind": "seq2seq", "hidden": 4}, "model.hidden: unknown key; choose from: kind, embedding, units, cell, reverse_input, peeky, attention, bidirectional"),
        ({"kind": "seq2seq", "attention": "dott"}, "model.attention: should be 'dot' or 'additive', got 'dott'"),
        ({"kind": "seq2seq", "units": 0}, "model.units: should be greater than or equal to 1, got 0"),
        ({"kind": "seq2seq", "cell": "rnn"}, "model.cell: should be 'lstm', 'gru' or 'simple_rnn', got 'rnn'"),
        ({"kind": "seq2seq", "reverse_input": "yes"}, "model.reverse_input: should be a valid boolean, got 'yes'"),
        ({"kind": "hred", "samples": 0}, "model.samples: should be greater than or equal to 1, got 0"),
        ({"kind": "hred", "decoding": "beam"}, "model.decoding: should be 'sample' or 'greedy', got 'beam'"),
        ({"kind": "vhred", "latent": 0}, "model.latent: should be greater than or equal to 1, got 0"),
        ({"kind": "vhred", "kl_anneal_steps": -1}, "model.kl_anneal_steps: should be greater than or equal to 0, got -1"),
        ({"kind": "sequential", "layers": [{"type": "dense", "units": 2}], "units": 3}, "model.units: unknown key"),
    ],
)
def test_mistakes_in_a_kind_are_named_by_their_path(model, problem):
    problems = problems_of(with_model(**model))
    assert len(problems) == 1 and problems[0].startswith(f"<spec>: {problem}"), problems


def test_without_a_kind_a_model_is_sequential():
    assert problems_of(with_model(units=4)) == [
        "<spec>: model.layers: missing; this key is required",
        "<spec>: model.units: unknown key; choose from: input_shape, layers",
    ]


def test_an_encoder_decoder_trains_with_cross_entropy_only():
    assert problems_of({**ADDITION, "loss": "mse"}) == [
        "<spec>: loss: 'mse': a seq2seq model predicts tokens through a softmax; use loss: cross_entropy"
    ]


def test_problems_point_at_their_line(tmp_path):
    spec = tmp_path / "seq2seq.yaml"
    spec.write_text(
        "data: {name: addition}\nmodel:\n  kind: seq2seq\n  units: -2\n  cell: lsmt\nloss: cross_entropy\n"
        "optimizer: adam\ntrain: {epochs: 1}\n"
    )
    with pytest.raises(SpecError) as caught:
        load_spec(spec)
    assert caught.value.problems == [
        f"{spec}:4: model.units: should be greater than or equal to 1, got -2",
        f"{spec}:5: model.cell: should be 'lstm', 'gru' or 'simple_rnn', got 'lsmt'",
    ]
