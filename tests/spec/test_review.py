"""Pairing warnings and spec differences."""

from __future__ import annotations

from dnnexp.spec import diff_specs, pairing_warnings, spec_from_dict
from dnnexp.spec.review import USUAL_PAIRINGS


def test_equal_specs_do_not_differ(raw):
    config = spec_from_dict(raw).resolved()
    assert diff_specs(config, spec_from_dict(raw).resolved()) == []


def test_differences_are_dotted_paths():
    a = {"optimizer": {"name": "adam", "lr": 0.1}, "model": {"layers": [{"units": 1}, {"units": 2}]}, "seed": 0}
    b = {"optimizer": {"name": "adam", "lr": 0.2}, "model": {"layers": [{"units": 1}, {"units": 3}]}, "kind": "x"}
    assert diff_specs(a, b) == ["optimizer.lr", "model.layers[1].units", "seed", "kind"]
    assert diff_specs({"layers": [1]}, {"layers": [1, 2]}) == ["layers"]
    assert diff_specs({"a": None}, {"a": {}}) == ["a"]


def test_the_usual_pairings_do_not_warn(raw):
    assert pairing_warnings(spec_from_dict(raw)) == []  # sigmoid + binary_cross_entropy
    raw["loss"] = "mse"
    raw["model"]["layers"][-1]["activation"] = None
    assert pairing_warnings(spec_from_dict(raw)) == []  # identity + mse
    raw["loss"] = "cross_entropy"
    raw["model"]["layers"].append({"type": "activation", "activation": "softmax"})
    assert pairing_warnings(spec_from_dict(raw)) == []


def test_softmax_with_mse_warns_with_the_course_table(raw):
    raw["loss"] = "mse"
    raw["model"]["layers"][-1]["activation"] = "softmax"
    assert pairing_warnings(spec_from_dict(raw)) == [
        "model.layers[1]: the model's output activation is softmax, but loss mse usually follows identity; "
        f"the usual pairings are {USUAL_PAIRINGS}"
    ]
    assert "regression → identity + mse; binary → sigmoid + binary_cross_entropy" in USUAL_PAIRINGS


def test_optimizer_paths_specs_have_no_pairing():
    spec = spec_from_dict({"kind": "optimizer_paths", "name": "p", "function": "saddle", "start": [1, 1], "optimizers": ["sgd"]})
    assert pairing_warnings(spec) == []


def test_the_output_activation_of_a_time_distributed_layer_is_its_layers(raw):
    raw["model"] = {"input_shape": [8, 2], "layers": [
        {"type": "simple_rnn", "units": 4, "return_sequences": True},
        {"type": "time_distributed", "layer": {"type": "dense", "units": 1, "activation": "sigmoid"}},
    ]}
    assert pairing_warnings(spec_from_dict(raw)) == []  # sigmoid + binary_cross_entropy
    raw["loss"] = "mse"  # the course's Day 4 choice, which the table does not list
    (warning,) = pairing_warnings(spec_from_dict(raw))
    assert warning.startswith("model.layers[1]: the model's output activation is sigmoid, but loss mse")
