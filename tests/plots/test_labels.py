"""Runs in words: legend labels and the title of a comparison, from the settings that differ."""

from __future__ import annotations

import copy
from typing import Any

from dnnexp.plots.labels import comparison_title, differences, run_labels
from dnnexp.runs.rundir import RunDir


def with_layers(make_run, name: str, layers: list[dict[str, Any]]) -> RunDir:
    run = RunDir.open(make_run(name))
    config = run.config()
    config["model"]["layers"] = copy.deepcopy(layers)
    run.write_yaml("config.yaml", config)
    return run


def dense(activation: str, init: dict[str, Any]) -> dict[str, Any]:
    return {"type": "dense", "units": 40, "activation": activation, "init": init}


def test_runs_of_one_spec_are_labelled_by_their_differing_settings_in_short(make_run) -> None:
    runs = [RunDir.open(make_run("addition", {"model.reverse_input": r, "model.peeky": p})) for r, p in
            ((False, False), (True, False))]
    assert run_labels(runs) == ["reverse_input=False", "reverse_input=True"]
    lrs = [RunDir.open(make_run("mlp", {"optimizer.name": name, "optimizer.lr": lr})) for name, lr in
           (("sgd", 0.1), ("adam", 0.001))]
    assert run_labels(lrs) == ["optimizer=sgd, lr=0.1", "optimizer=adam, lr=0.001"]


def test_labels_fall_back_to_run_folders(make_run) -> None:
    many = [RunDir.open(make_run("a")),
            RunDir.open(make_run("a", {"seed": 1, "loss": "mse", "optimizer.name": "adam", "train.epochs": 9}))]
    assert run_labels(many) == [run.name for run in many]
    twins = [RunDir.open(make_run("a")), RunDir.open(make_run("a"))]
    assert run_labels(twins) == [run.name for run in twins]


def test_a_comparison_is_titled_with_what_differs(make_run) -> None:
    optimizers = [RunDir.open(make_run("sgd")), RunDir.open(make_run("adam", {"optimizer.name": "adam"}))]
    assert comparison_title(optimizers) == "optimizer: 2 runs"
    lrs = [RunDir.open(make_run(settings={"optimizer.lr": lr})) for lr in (0.1, 0.01, 0.001)]
    assert comparison_title(lrs) == "optimizer lr: 3 runs"
    twins = [RunDir.open(make_run("a")), RunDir.open(make_run("b"))]
    assert comparison_title(twins) == "2 runs"  # nothing but the name differs
    single = RunDir.open(make_run())
    assert comparison_title([single]) == single.name


def test_layer_settings_are_named_by_what_they_set(make_run) -> None:
    out = {"type": "dense", "units": 10, "activation": "softmax", "init": {"name": "normal", "std": 0.01}}
    runs = [
        with_layers(make_run, "sigmoid_normal", [dense("sigmoid", {"name": "normal", "std": 0.01}), out]),
        with_layers(make_run, "relu_he", [dense("relu", {"name": "he_normal"}), out]),
    ]
    assert differences(runs) == ["activation", "init"]
    assert comparison_title(runs) == "activation × init: 2 runs"


def test_layers_of_other_types_are_the_layers_that_differ(make_run) -> None:
    def net(std: float, batchnorm: bool) -> list[dict[str, Any]]:
        hidden = {"type": "dense", "units": 100, "init": {"name": "normal", "std": std}}
        middle = [{"type": "batchnorm"}] if batchnorm else []
        return [hidden, *middle, {"type": "activation", "activation": "relu"}, {**hidden, "units": 10}]

    runs = [with_layers(make_run, f"std{std}_bn_{bn}", net(std, bn)) for std in (0.01, 1.0) for bn in (False, True)]
    assert comparison_title(runs) == "init std × layers: 4 runs"
