"""YAML loading: floats, line numbers, repeated keys, boolean words, syntax errors, overrides."""

from __future__ import annotations

import pytest
import yaml

from dnnexp.errors import SpecError
from dnnexp.spec.yamlio import Document, apply_overrides, read_yaml


def test_exponents_without_a_dot_are_floats():
    data = read_yaml("a: 1e-3\nb: 1E+5\nc: -2.5e2\nd: 1.5\ne: 1_000\nf: .inf\ng: '1e-3'\n", "s.yaml").data
    assert data == {"a": 0.001, "b": 100000.0, "c": -250.0, "d": 1.5, "e": 1000, "f": float("inf"), "g": "1e-3"}
    assert isinstance(data["b"], float) and isinstance(data["e"], int)


def test_the_fix_leaves_pyyaml_itself_alone():
    read_yaml("a: 1e-3", "s.yaml")
    assert yaml.safe_load("a: 1e-3") == {"a": "1e-3"}


def test_every_key_and_item_keeps_its_line():
    document = read_yaml("name: x\nmodel:\n  layers:\n    - {type: dense}\n    - type: dropout\n      rate: 0.5\n", "s.yaml")
    assert document.lines[("name",)] == 1
    assert document.lines[("model", "layers")] == 3
    assert document.lines[("model", "layers", 1)] == 5
    assert document.lines[("model", "layers", 1, "rate")] == 6
    assert document.locate(("model", "layers", 0, "units")) == ("s.yaml:4", 4)
    assert document.locate(("nowhere",)) == ("s.yaml", 0)


def test_duplicate_keys_are_refused_with_both_lines():
    with pytest.raises(SpecError) as caught:
        read_yaml("train:\n  epochs: 3\n  batch_size: 10\n  epochs: 5\nseed: 1\nseed: 2\n", "s.yaml")
    assert caught.value.problems == [
        "s.yaml:4: train.epochs: duplicate key (first at line 2); keep one of them",
        "s.yaml:6: seed: duplicate key (first at line 5); keep one of them",
    ]


def test_merge_keys_are_not_duplicates_and_own_keys_win():
    text = "base: &dense {type: dense, units: 10}\nlayer:\n  <<: *dense\n  units: 20\n"
    assert read_yaml(text, "s.yaml").data["layer"] == {"type": "dense", "units": 20}


def test_a_syntax_error_says_file_line_column_and_problem():
    with pytest.raises(SpecError) as caught:
        read_yaml("name: x\ndata: {name: mnist\nseed: 1\n", "s.yaml")
    (problem,) = caught.value.problems
    assert problem.startswith("s.yaml:3:5: YAML syntax error: ")
    assert "expected ',' or '}'" in problem


def test_boolean_words_are_kept_as_written():
    document = read_yaml("activation: off\nflatten: Yes\nname: 'on'\n", "s.yaml")
    assert document.data == {"activation": False, "flatten": True, "name": "on"}
    assert document.words == {("activation",): "off", ("flatten",): "Yes"}



def test_overrides_parse_values_as_yaml_and_leave_the_input_alone():
    raw = {"optimizer": {"name": "adam", "lr": 0.001}, "model": {"layers": [{"units": 10}]}, "data": {"subset": 5}}
    result = apply_overrides(
        raw,
        [
            "optimizer.lr=1e-2",
            "model.layers[0].units=256",
            "model.layers[0].kernel=[3, 3]",
            "data.subset=null",
            "train.early_stopping.patience=2",
        ],
    )
    assert result == {
        "optimizer": {"name": "adam", "lr": 0.01},
        "model": {"layers": [{"units": 256, "kernel": [3, 3]}]},
        "data": {"subset": None},
        "train": {"early_stopping": {"patience": 2}},
    }
    assert raw["optimizer"]["lr"] == 0.001 and raw["model"]["layers"][0] == {"units": 10}


def test_an_override_into_a_name_makes_it_a_mapping():
    assert apply_overrides({"optimizer": "adam"}, ["optimizer.lr=0.1"]) == {"optimizer": {"name": "adam", "lr": 0.1}}


@pytest.mark.parametrize("text", ["optimizer.lr", "=3", "optimizer..lr=1", "layers[x]=1", "a.b[0=1", "1a=2"])
def test_a_malformed_override_names_the_form(text):
    with pytest.raises(SpecError, match=r"KEY\.PATH=VALUE"):
        apply_overrides({}, [text])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model.layers[3].units=1", r"index \[3\] is out of range; the list has 1 items"),
        ("model[0]=1", r"\[0\] indexes a list, but here the spec has the value"),
        ("model.layers.units=1", r"\.units names a key, but here the spec has a list"),
    ],
)
def test_an_override_that_does_not_fit_the_spec(text, message):
    with pytest.raises(SpecError, match=message):
        apply_overrides({"model": {"layers": [{"units": 10}]}}, [text])


def test_overridden_values_are_located_at_their_override():
    document = read_yaml("optimizer:\n  name: adam\n  lr: 0.1\nmodel:\n  layers: []\n", "s.yaml")
    document.apply_overrides(["optimizer={name: sgd, lr: off}"])
    assert document.locate(("optimizer", "lr")) == ("--set optimizer={name: sgd, lr: off}", float("inf"))
    assert document.words == {("optimizer", "lr"): "off"}
    assert document.locate(("model", "layers")) == ("s.yaml:5", 5)


def test_a_document_without_lines_is_located_by_its_source():
    assert Document({"a": 1}, "<spec>").locate(("a",)) == ("<spec>", 0)
