"""YAML loading: floats, line numbers, repeated keys, boolean words, syntax errors, overrides."""

from __future__ import annotations

import time

import pytest
import yaml

from dnnexp.errors import SpecError
from dnnexp.spec.yamlio import MAX_DEPTH, MAX_VALUES, Document, apply_overrides, read_yaml


def test_exponents_without_a_dot_are_floats():
    data = read_yaml("a: 1e-3\nb: 1E+5\nc: -2.5e2\nd: 1.5\ne: 1_000\ng: '1e-3'\n", "s.yaml").data
    assert data == {"a": 0.001, "b": 100000.0, "c": -250.0, "d": 1.5, "e": 1000, "g": "1e-3"}
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


def laughs(levels: int, fanout: int = 9) -> str:
    """The "billion laughs" spec: each anchor a list of `fanout` aliases of the one before."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fanout)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_before_it_is_built():
    text = laughs(10)  # 9¹⁰ ≈ 3.5 billion values from under 600 bytes
    assert len(text) < 1000
    started = time.perf_counter()
    with pytest.raises(SpecError) as caught:
        read_yaml(text, "s.yaml")
    assert time.perf_counter() - started < 5  # measured: about 1 ms
    (problem,) = caught.value.problems
    assert problem.startswith("s.yaml:6:5: this value holds 597,871 values once its aliases (*name) are expanded")
    assert f"{MAX_VALUES:,} a spec may hold" in problem


def test_a_few_aliases_still_read_as_independent_copies():
    document = read_yaml("base: &b {units: 10}\nlayers: [*b, *b]\n", "s.yaml")
    document.apply_overrides(["layers[0].units=3"])
    assert document.data["layers"] == [{"units": 3}, {"units": 10}] and document.data["base"] == {"units": 10}


def test_an_aliased_mapping_with_a_merge_key_reads_the_same_each_time():
    text = "a: &a {x: 1}\nb: &b {<<: *a, x: 2, y: 3}\nc: *b\nd: [*b]\n"
    data = read_yaml(text, "s.yaml").data
    assert data["b"] == data["c"] == data["d"][0] == {"x": 2, "y": 3}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: " + "[" * 60 + "]" * 60 + "\n", f"s.yaml:1:{MAX_DEPTH + 3}: nested more than {MAX_DEPTH} levels deep"),
        ("a: " + "{b: " * 60 + "1" + "}" * 60 + "\n", f"s.yaml:1:197: nested more than {MAX_DEPTH} levels deep"),
        ("a: &a " + "[" * 30 + "1" + "]" * 30 + "\nb: &b " + "[" * 30 + "*a" + "]" * 30 + "\n",
         "s.yaml:2:17: this value nests 51 levels deep once its aliases (*name) are expanded"),
        ("a: &a [1, *a]\n", "s.yaml:1:11: *a refers to a value that holds it; a spec cannot contain itself"),
    ],
    ids=["brackets", "mappings", "through aliases", "an alias inside itself"],
)
def test_deep_or_circular_documents_are_refused_with_their_line(text, problem):
    with pytest.raises(SpecError) as caught:
        read_yaml(text, "s.yaml")
    assert caught.value.problems[0].startswith(problem)


def test_a_control_character_is_named_with_its_line_and_column():
    with pytest.raises(SpecError) as caught:
        read_yaml("name: x\nseed: 1\x07\n", "s.yaml")
    assert caught.value.problems == ["s.yaml:2:8: the control character U+0007 cannot be in a YAML file; delete it"]


def test_a_control_character_in_an_override_is_shown_escaped():
    with pytest.raises(SpecError) as caught:
        apply_overrides({}, ["name=\x1b[31mred"])
    assert caught.value.problems == [
        "--set name=\\x1b[31mred:1:1: the control character U+001B cannot be in a YAML file; delete it"
    ]


@pytest.mark.parametrize("word", [".nan", ".inf", "-.Inf", "1e999"])
def test_a_number_that_is_not_finite_is_refused_where_it_is_given(word):
    with pytest.raises(SpecError) as caught:
        read_yaml(f"optimizer:\n  lr: {word}\n", "s.yaml")
    assert caught.value.problems == [f"s.yaml:2: optimizer.lr: {word} is not a finite number; give a number such as 0.01"]
    with pytest.raises(SpecError) as caught:
        apply_overrides({}, [f"optimizer.lr={word}"])
    assert caught.value.problems == [
        f"--set optimizer.lr={word}: optimizer.lr: {word} is not a finite number; give a number such as 0.01"
    ]


def test_an_override_path_deeper_than_a_spec_may_nest_is_refused():
    with pytest.raises(SpecError, match=f"the key path has 61 parts, more than the {MAX_DEPTH} a spec may nest"):
        apply_overrides({}, ["a" + ".b" * 60 + "=1"])
