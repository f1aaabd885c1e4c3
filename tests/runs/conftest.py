"""Fake run folders in the trainer's format, written with plain yaml/json/pandas/numpy (not RunDir)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest
import yaml

MakeRun = Callable[..., Path]

BASE_CONFIG: dict[str, Any] = {
    "name": "mlp",
    "seed": 0,
    "data": {"name": "mnist", "flatten": True, "validation": 0.1, "subset": 1000},
    "model": {
        "input_shape": [784],
        "layers": [
            {"type": "dense", "units": 50, "activation": "sigmoid", "init": "xavier"},
            {"type": "dense", "units": 10, "activation": None, "init": "xavier"},
        ],
    },
    "loss": "cross_entropy",
    "optimizer": {"name": "sgd", "lr": 0.01},
    "schedule": {"name": "constant"},
    "regularization": {"l2": 0.0, "l1": 0.0, "clip_norm": None},
    "train": {"epochs": 5, "batch_size": 100},
    "logging": {"layer_stats": False},
}

# layer → kind, in network order; the activation layers have no parameters.
LAYERS = {"dense1": "dense", "sigmoid1": "sigmoid", "dense2": "dense", "softmax": "softmax"}


def _set(config: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        config = config.setdefault(key, {})
    config[last] = value


def _metrics(epochs: int, speed: float, task: str, validation: bool) -> pd.DataFrame:
    epoch = np.arange(1, epochs + 1)
    frame = pd.DataFrame({"epoch": epoch, "step": epoch * 10, "lr": 0.01})
    frame["train_loss"] = 2.3 * np.exp(-speed * epoch)
    if task == "classification":
        frame["train_acc"] = 1.0 - 0.9 * np.exp(-speed * epoch)
    if validation:
        frame["val_loss"] = frame["train_loss"] + 0.05 * epoch
        if task == "classification":
            frame["val_acc"] = frame["train_acc"] - 0.02 * epoch
    frame["epoch_time_s"] = 0.5
    return frame


def _layer_stats(epochs: int) -> pd.DataFrame:
    rows = []
    for epoch in range(1, epochs + 1):
        for depth, (layer, kind) in enumerate(LAYERS.items()):
            # Gradients shrink towards the input, as with sigmoid: the picture of vanishing gradients.
            grad = 10.0 ** (depth - 3) / epoch if kind == "dense" else None
            rows.append({"epoch": epoch, "layer": layer, "kind": kind, "act_mean": 0.5 - 0.01 * epoch,
                         "act_std": 0.2 / epoch, "grad_norm": grad, "dout_norm": 10.0 ** (depth - 3)})
    return pd.DataFrame(rows)


def _activations(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays = {}
    for stage, spread in (("init", 3.0), ("final", 1.0)):
        for layer in ("sigmoid1", "softmax"):
            arrays[f"{stage}/{layer}"] = (1 / (1 + np.exp(-spread * rng.normal(size=500)))).astype(np.float32)
    return arrays


@pytest.fixture
def make_run(tmp_path: Path) -> MakeRun:
    """Writes a fake run folder under tmp_path/runs and returns its path.

    make_run(name="mlp", settings={"optimizer.name": "adam"}, epochs=5, task="classification"|"regression",
             validation=True, status="completed", summary=True, layer_stats=False, activations=False,
             speed=0.5)
    """
    made: list[Path] = []

    def make(name: str = "mlp", settings: dict[str, Any] | None = None, *, epochs: int = 5,
             task: str = "classification", validation: bool = True, status: str = "completed",
             summary: bool = True, layer_stats: bool = False, activations: bool = False,
             speed: float = 0.5) -> Path:
        path = tmp_path / "runs" / f"{name}-20240101-120000-{len(made)}"
        path.mkdir(parents=True)
        made.append(path)
        config = copy.deepcopy(BASE_CONFIG)
        config["name"] = name
        for dotted, value in (settings or {}).items():
            _set(config, dotted, value)
        (path / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        metrics = _metrics(epochs, speed, task, validation)
        metrics.to_csv(path / "metrics.csv", index=False)
        if summary:
            monitored = "val_loss" if validation else "train_loss"
            best = {c: (metrics[c].max() if c.endswith("acc") else metrics[c].min())
                    for c in ("val_loss", "val_acc", "train_loss", "train_acc") if c in metrics}
            best["epoch"] = int(metrics.loc[metrics[monitored].idxmin(), "epoch"])
            test = {"loss": 0.4, "acc": 0.9} if task == "classification" else {"loss": 0.4, "acc": None}
            (path / "summary.json").write_text(json.dumps({
                "name": name, "status": status, "epochs_completed": epochs,
                "final": metrics.iloc[-1].to_dict(), "best": best, "test": test, "wall_time_s": 12.5,
                "seed": config["seed"], "versions": {"python": "3.11", "numpy": "2", "dnnexp": "0.1.0"},
                "git_commit": None,
            }))
        if layer_stats:
            _layer_stats(epochs).to_csv(path / "layer_stats.csv", index=False)
        if activations:
            np.savez(path / "activations.npz", **_activations(len(made)))
        return path

    return make
