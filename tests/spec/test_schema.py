"""The spec format against the real registries: defaults, limits, cross-key checks, shapes, kinds."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from dnnexp.errors import SpecError
from dnnexp.spec import read_yaml
from dnnexp.tasks import spec_from_dict
from dnnexp.tasks.optimizer_paths import OptimizerPathsSpec
from dnnexp.tasks.supervised import SupervisedSpec as Spec


def problems_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(SpecError) as caught:
        spec_from_dict(raw)
    return caught.value.problems


def test_resolved_fills_every_default_and_loads_back_equal(raw):
    spec = spec_from_dict(raw)
    config = spec.resolved()
    assert config["optimizer"] == {"name": "sgd", "lr": 0.1}
    assert config["schedule"] == {"name": "constant", "warmup_steps": 0}
    assert config["model"]["layers"][0] == {
        "type": "dense", "activation": "tanh", "units": 8, "init": {"name": "xavier_normal"}, "use_bias": True,
    }
    assert config["data"] == {
        "name": "xor", "flatten": False, "sequence": False, "validation": 20, "subset": None, "test_every_epoch": False,
        "augment": None, "noise": 0.3, "n": 200, "n_test": 200,
    }
    assert config["train"] == {
        "epochs": 3, "batch_size": 100, "checkpoint_every": 1, "divergence": {"factor": 1e4, "max_loss": None},
        "early_stopping": None, "reduce_lr_on_plateau": None,
    }
    assert config["kind"] == "supervised" and config["seed"] == 0
    assert spec_from_dict(config) == spec
    written = yaml.safe_dump(config, sort_keys=False)
    assert spec_from_dict(read_yaml(written, "config.yaml").data) == spec


def test_typed_sections(raw):
    spec = spec_from_dict(raw)
    assert isinstance(spec, Spec)
    assert spec.data.name == "xor" and spec.data.validation == 20
    assert spec.data.dataset_arguments() == {"noise": 0.3, "n": 200, "n_test": 200}
    assert spec.model.layers[1]["type"] == "dense" and spec.train.epochs == 3 and spec.optimizer["lr"] == 0.1


def test_data_set_arguments_come_from_its_function(raw):
    raw["data"] = {"name": "fashion_mnist", "folder": "/data/fashion", "flatten": True}
    raw["model"]["input_shape"] = [784]
    assert spec_from_dict(raw).data.dataset_arguments() == {"folder": "/data/fashion"}
    raw["data"] = {"name": "xor", "folder": "/data", "rng": 3, "noise": -1}
    assert problems_of(raw) == [
        "<spec>: data.folder: unknown key; choose from: name, flatten, sequence, validation, subset, test_every_epoch, augment, noise, n, n_test",
        "<spec>: data.noise: should be greater than or equal to 0, got -1",
        "<spec>: data.rng: unknown key; choose from: name, flatten, sequence, validation, subset, test_every_epoch, augment, noise, n, n_test",
    ]


def test_an_unknown_data_set_still_has_its_split_checked(raw):
    raw["data"] = {"name": "xorr", "validation": -1}
    assert problems_of(raw) == [
        "<spec>: data.name: 'xorr' is not a dataset; did you mean 'xor'?",
        "<spec>: data.validation: should be greater than or equal to 0, got -1",
    ]


def test_divergence_bounds_are_set_apart_or_turned_off(raw):
    raw["train"]["divergence"] = {"max_loss": 1000, "factor": None}
    assert spec_from_dict(raw).train.divergence.model_dump() == {"factor": None, "max_loss": 1000.0}
    raw["train"]["divergence"] = None
    assert spec_from_dict(raw).train.divergence is None


def test_callback_settings_get_their_defaults(raw):
    raw["train"].update(early_stopping={"patience": 2}, reduce_lr_on_plateau={})
    train = spec_from_dict(raw).resolved()["train"]
    assert train["early_stopping"] == {"monitor": "val_loss", "patience": 2, "min_delta": 0.0, "restore_best": True}
    assert train["reduce_lr_on_plateau"] == {"monitor": "val_loss", "factor": 0.5, "patience": 3, "min_lr": 1e-6}


def test_layer_shapes_are_checked_when_the_input_shape_is_given(raw):
    raw["model"]["input_shape"] = [1, 4, 4]
    (problem,) = problems_of(raw)
    assert problem.startswith("<spec>: model.layers[0] (dense): dense takes flat inputs (D,), got (1, 4, 4)")
    raw["model"]["input_shape"] = None
    assert spec_from_dict(raw).model.input_shape is None


def test_activation_layers_and_activation_arguments(raw):
    raw["model"]["layers"][0] = {"type": "dense", "units": 8, "activation": {"name": "leaky_relu"}}
    raw["model"]["layers"].insert(1, {"type": "activation", "activation": "tanh"})
    layers = spec_from_dict(raw).model.layers
    assert layers[0]["activation"] == {"name": "leaky_relu", "alpha": 0.01}
    assert layers[1] == {"type": "activation", "activation": "tanh"}
    raw["model"]["layers"][1] = {"type": "activation"}
    assert problems_of(raw) == ["<spec>: model.layers[1].activation: missing; this key is required"]
    raw["model"]["layers"][1] = {"type": "activation", "activation": {"name": "leaky_relu", "alpha": 0.2}}
    assert spec_from_dict(raw).model.layers[1]["activation"] == {"name": "leaky_relu", "alpha": 0.2}


def test_a_wrappers_layer_is_checked_as_a_layer_at_its_own_path(raw):
    raw["model"] = {"input_shape": [8, 2], "layers": [
        {"type": "simple_rnn", "units": 16, "activation": "relu", "return_sequences": True},
        {"type": "time_distributed", "layer": {"type": "dense", "units": 1, "activation": "sigmoid"}},
    ]}
    layers = spec_from_dict(raw).model.layers
    # Defaults are filled in inside the wrapped layer too; simple_rnn keeps its activation as its own.
    assert layers[1]["layer"] == {"type": "dense", "activation": "sigmoid", "units": 1, "init": {"name": "xavier_normal"}, "use_bias": True}
    assert layers[0]["activation"] == "relu" and layers[0]["truncate_bptt"] is None
    raw["model"]["layers"] = [
        {"type": "bidirectional", "layer": {"type": "lstmm", "units": 4}, "merge": "cat"},
        {"type": "time_distributed", "layer": {"type": "dense", "units": 0, "activation": "sigmoidd"}},
        {"type": "simple_rnn", "units": 2, "activation": "sigmoid"},
        {"type": "time_distributed", "layer": "dense"},
    ]
    assert problems_of(raw) == [
        "<spec>: model.layers[0].layer.type: 'lstmm' is not a layer; did you mean 'lstm'?",
        "<spec>: model.layers[0].merge: should be 'concat' or 'sum', got 'cat'",
        "<spec>: model.layers[1].layer.activation: 'sigmoidd' is not an activation; did you mean 'sigmoid'?",
        "<spec>: model.layers[1].layer.units: should be greater than or equal to 1, got 0",
        "<spec>: model.layers[2].activation: should be 'tanh' or 'relu', got 'sigmoid'",
        "<spec>: model.layers[3].layer: should be a mapping {type: NAME, ...}, got 'dense'",
    ]


def test_schedules_take_warmup_steps(raw):
    raw["schedule"] = {"name": "cosine", "warmup_steps": 100}
    assert spec_from_dict(raw).schedule == {"name": "cosine", "min_factor": 0.0, "warmup_steps": 100}
    raw["schedule"] = {"name": "cosine", "warmup_steps": -1}
    assert problems_of(raw) == ["<spec>: schedule.warmup_steps: should be greater than or equal to 0, got -1"]


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("name", "my run", "name: 'my run' cannot name a run folder; use up to 64 letters, digits, '_', '-' and '.', not starting with '.' or '-'"),
        ("name", "-v", "name: '-v' cannot name a run folder; use up to 64 letters, digits, '_', '-' and '.', not starting with '.' or '-'"),
        ("optimizer", {"name": "sgd", "lr": float("nan")}, "optimizer.lr: should be a finite number, got nan"),
        ("regularization", {"l2": float("inf")}, "regularization.l2: should be a finite number, got inf"),
        ("seed", -1, "seed: should be greater than or equal to 0, got -1"),
        ("seed", 1.5, "seed: should be a valid integer, got 1.5"),
        ("loss", "ce", "loss: 'ce' is not a loss; choose from: binary_cross_entropy, cross_entropy, huber, mse"),
        ("optimizer", "adamm", "optimizer: 'adamm' is not an optimizer; did you mean 'adam'?"),
        ("optimizer", {"name": "sgd", "lr": 0}, "optimizer.lr: should be greater than 0, got 0"),
        ("regularization", {"clip_norm": 0}, "regularization.clip_norm: should be greater than 0, got 0"),
        ("logging", {"layer_stats": "yes"}, "logging.layer_stats: should be a valid boolean, got 'yes'"),
        ("logging", {"time_gradz": True}, "logging.time_gradz: unknown key; did you mean 'time_grads'?"),
        ("train", {"epochs": 1, "batch_size": 0}, "train.batch_size: should be greater than 0, got 0"),
        ("train", {"epochs": 0}, "train.epochs: should be greater than 0, got 0"),
        ("train", {}, "train.epochs: missing; this key is required"),
        ("train", {"epochs": 1, "divergence": {"factor": 0.5}}, "train.divergence.factor: should be greater than 1, got 0.5"),
        ("train", {"epochs": 1, "divergence": {"limit": 9}}, "train.divergence.limit: unknown key; choose from: factor, max_loss"),
    ],
)
def test_one_bad_value(raw, key, value, problem):
    raw[key] = value
    assert problems_of(raw) == [f"<spec>: {problem}"]


def test_missing_sections_are_named(raw):
    del raw["model"], raw["loss"]
    assert problems_of(raw) == [
        "<spec>: loss: missing; this key is required",
        "<spec>: model: missing; this key is required",
    ]


def test_an_optimizer_paths_spec():
    raw = {
        "kind": "optimizer_paths",
        "name": "paths",
        "function": "ellipse",
        "start": [-7, 2.0],
        "optimizers": [{"name": "sgd", "lr": 0.95}, "adam"],
    }
    spec = spec_from_dict(raw)
    assert isinstance(spec, OptimizerPathsSpec)
    config = spec.resolved()
    assert config["function"] == {"name": "ellipse"} and config["start"] == [-7.0, 2.0] and config["steps"] == 30
    assert config["optimizers"][1] == {"name": "adam", "lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
    assert spec_from_dict(config) == spec
    raw.update(function={"name": "himmelblau"}, start=[1.0], optimizers=[])
    assert problems_of(raw) == [
        "<spec>: function.name: should be 'ellipse', 'rosenbrock' or 'saddle', got 'himmelblau'",
        "<spec>: optimizers: should have at least 1 item, not 0",
        "<spec>: start: should have at least 2 items, not 1",
    ]


def test_the_older_kind_name_train_reads_as_supervised(raw):
    """config.yaml files written before the kinds were tasks say `kind: train`."""
    assert spec_from_dict({**raw, "kind": "train"}).resolved() == spec_from_dict(raw).resolved()


@pytest.mark.parametrize(
    ("layer", "problem"),
    [
        ({"type": "dropout", "rate": 1.0}, "model.layers[0].rate: should be less than 1, got 1.0"),
        ({"type": "simple_rnn", "units": 3, "activation": "sigmoid"}, "model.layers[0].activation: should be 'tanh' or 'relu', got 'sigmoid'"),
        ({"type": "gru", "units": 3, "truncate_bptt": 0}, "model.layers[0].truncate_bptt: should be greater than or equal to 1, got 0"),
    ],
)
def test_argument_bounds_are_checked_by_the_spec_alone(raw, layer, problem):
    """The bounds live in spec.arguments' table (and the signatures' Literals), not in the constructors."""
    raw["model"] = {"layers": [layer]}
    assert problem in "\n".join(problems_of(raw))


@pytest.mark.parametrize("lr", [-0.1, 0.0])
def test_every_optimizer_refuses_a_learning_rate_that_is_not_positive(raw, lr):
    raw["optimizer"] = {"name": "adam", "lr": lr}
    assert problems_of(raw) == [f"<spec>: optimizer.lr: should be greater than 0, got {lr}"]
