"""Configs as runs record them: dotted paths, and which settings differ between runs."""

from __future__ import annotations

from dnnexp.runs.configs import differing_keys, dotted, flatten_config


def test_dotted_paths_read_as_a_spec_writes_them() -> None:
    assert dotted(("model", "layers", 2, "activation")) == "model.layers[2].activation"
    assert dotted(()) == ""


def test_flatten_config_gives_dotted_paths_with_list_indices() -> None:
    config = {"model": {"layers": [{"units": 3, "init": "he"}, {"units": 1}]}, "tags": [], "l2": None}
    assert flatten_config(config) == {
        "model.layers[0].units": 3,
        "model.layers[0].init": "he",
        "model.layers[1].units": 1,
        "tags": [],
        "l2": None,
    }


def test_differing_keys_of_nested_configs() -> None:
    base = {"name": "a", "optimizer": {"name": "sgd", "lr": 0.01},
            "model": {"layers": [{"init": "xavier"}, {"init": "xavier"}]}, "regularization": {"l2": 0.0}}
    other = {"name": "b", "optimizer": {"name": "adam", "lr": 0.01},
             "model": {"layers": [{"init": "he_normal"}, {"init": "xavier"}]}, "regularization": {"l2": 1e-4}}
    assert differing_keys([base, other]) == ["optimizer.name", "model.layers[0].init", "regularization.l2"]
    assert differing_keys([base, base]) == []


def test_differing_keys_count_a_missing_key_and_keep_types_apart() -> None:
    assert differing_keys([{"a": {"b": 1}}, {"a": {}}]) == ["a.b", "a"]
    assert differing_keys([{"x": 1}, {"x": "1"}, {"x": 1}]) == ["x"]
    assert differing_keys([{"lr": 0.001}, {"lr": 1e-3}]) == []


def test_lists_of_different_lengths_differ_at_the_extra_items() -> None:
    assert differing_keys([{"layers": [1]}, {"layers": [1, 2]}]) == ["layers[1]"]
    assert differing_keys([{"a": None}, {"a": {}}]) == ["a"]
