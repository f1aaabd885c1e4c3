"""Convolutional networks end to end: a tiny CNN trained through the CLI on a few hundred CIFAR-format
images, its summary and pictures, shape errors from validate and train, and augmentation that
leaves the batch order alone and resumes bit for bit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from dnnexp.data.cifar import TEST_FILE, TRAIN_FILES
from dnnexp.errors import SpecError
from dnnexp.runs.rundir import RunDir
from dnnexp.tasks import load_spec, spec_from_dict
from dnnexp.tasks.supervised import CHECKPOINT, SupervisedTask
from tests.tasks.conftest import StopAt, interrupted_run, train

PER_FILE = 60  # 5 × 60 training images, 60 test images
CONFIGS = Path(__file__).parents[2] / "configs"


@pytest.fixture
def cifar_folder(tmp_path: Path) -> Path:
    """Six small CIFAR-10 binary files whose label is the brightest colour channel (0, 1 or 2): a
    rule a small CNN learns in a few epochs."""
    folder = tmp_path / "cifar"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for file in (*TRAIN_FILES, TEST_FILE):
        labels = rng.integers(0, 3, PER_FILE)
        images = rng.integers(0, 120, (PER_FILE, 3, 32, 32))
        images[np.arange(PER_FILE), labels] += 100
        records = np.concatenate([labels[:, None], images.reshape(PER_FILE, -1)], axis=1).astype(np.uint8)
        (folder / file).write_bytes(records.tobytes())
    return folder


def tiny_cnn(folder: Path, **changes: Any) -> dict[str, Any]:
    spec = {
        "name": "tiny_cnn",
        "seed": 0,
        "data": {"name": "cifar10", "folder": str(folder), "validation": 60},
        "model": {
            "input_shape": [3, 32, 32],
            "layers": [
                {"type": "conv2d", "filters": 4, "kernel_size": 3, "stride": 2, "padding": "same", "activation": "relu",
                 "init": "he_normal"},
                {"type": "maxpool2d", "pool_size": 2},
                {"type": "conv2d", "filters": 4, "kernel_size": 3, "padding": 1, "activation": "relu", "init": "he_normal"},
                {"type": "global_avg_pool2d"},
                {"type": "dense", "units": 10, "activation": "softmax"},
            ],
        },
        "loss": "cross_entropy",
        "optimizer": {"name": "adam", "lr": 0.01},
        "train": {"epochs": 6, "batch_size": 30},
    }
    spec.update(changes)
    return spec


def write(spec: dict[str, Any], path: Path) -> Path:
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_a_tiny_cnn_trains_through_the_cli_and_draws_its_filters_and_feature_maps(cli, cifar_folder, tmp_path) -> None:
    spec, runs_dir = write(tiny_cnn(cifar_folder), tmp_path / "tiny.yaml"), tmp_path / "runs"
    result = cli("train", spec, "--runs-dir", runs_dir)
    assert result.exit_code == 0, result.output
    # The summary comes first: each layer's output shape and parameters (3·3·3·4 + 4 = 112 for conv2d1).
    assert result.output.index("conv2d1") < result.output.index("epoch 1/6")
    for row in ("(4, 16, 16)", "(4, 8, 8)", "(4,)", "112", "148", "310 parameters"):
        assert row in result.output
    (run,) = runs_dir.iterdir()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["test"]["acc"] > 0.6  # chance: 1/3
    for flag, picture in (("--filters", "filters.png"), ("--feature-maps", "feature_maps.png")):
        drawn = cli("plot", run, flag)
        assert drawn.exit_code == 0, drawn.output
        assert (run / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    other = tmp_path / "maps.svg"
    assert cli("plot", run, "--feature-maps", "-o", other).exit_code == 0 and other.stat().st_size > 0


def test_a_run_without_conv_layers_has_no_filters_to_draw(cli, write_spec, tmp_path) -> None:
    runs_dir = tmp_path / "runs"
    assert cli("train", write_spec(), "--runs-dir", runs_dir, "--quiet").exit_code == 0
    (run,) = runs_dir.iterdir()
    result = cli("plot", run, "--filters")
    assert result.exit_code == 2 and "has no conv2d layer" in result.output


SHAPE_MESSAGE = (
    "model.layers[2] (maxpool2d): input 7×7, pool 2, stride 2, padding 0 → "
    "(7 + 0 − 2)/2 + 1 = 3.5 is not a whole number"
)


@pytest.mark.parametrize("command", ["validate", "train"])
@pytest.mark.parametrize("input_shape", [[3, 32, 32], None], ids=["given", "from the data"])
def test_a_pooling_that_does_not_divide_is_refused_with_the_formula(
    cli, cifar_folder, tmp_path, command, input_shape
) -> None:
    spec = tiny_cnn(cifar_folder)
    spec["model"]["input_shape"] = input_shape
    # 32 → 16 (the stride-2 convolution) → 7 ((16 − 4)/2 + 1, a 4×4 pooling): odd for the 2×2 one after it.
    spec["model"]["layers"][1] = {"type": "maxpool2d", "pool_size": 4, "stride": 2}
    spec["model"]["layers"][2] = {"type": "maxpool2d", "pool_size": 2, "stride": 2}
    runs_dir = tmp_path / "runs"
    result = cli(command, write(spec, tmp_path / "odd.yaml"), "--runs-dir", runs_dir) if command == "train" else cli(
        command, write(spec, tmp_path / "odd.yaml")
    )
    assert result.exit_code == 2 and SHAPE_MESSAGE in " ".join(result.output.split()), result.output
    assert not runs_dir.exists()


def augmented(folder: Path) -> dict[str, Any]:
    spec = tiny_cnn(folder, train={"epochs": 2, "batch_size": 30})
    spec["data"]["augment"] = {"crop_padding": 3, "horizontal_flip": True}
    spec["model"]["layers"].insert(3, {"type": "dropout", "rate": 0.3})
    return spec_from_dict(spec).resolved()


def test_an_augmented_run_resumed_mid_epoch_ends_bit_for_bit_as_an_uninterrupted_one(
    cifar_folder, tmp_path, extra_callbacks
) -> None:
    config = augmented(cifar_folder)
    whole, _ = train(config, tmp_path / "whole")
    cut = interrupted_run(config, tmp_path / "cut", extra_callbacks, StopAt(11))  # 8 steps an epoch: mid-way through the second
    resumed, outcome = train(config, tmp_path / "cut", resume=RunDir.open(cut.path))
    assert (outcome.status, outcome.exit_code) == ("completed", 0)
    expected, got = whole.load_npz(CHECKPOINT), resumed.load_npz(CHECKPOINT)
    assert sorted(got) == sorted(expected)
    assert [key for key in expected if not np.array_equal(expected[key], got[key])] == []


def training_inputs(config: dict[str, Any]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The sample indices of each training batch, and the inputs the model was trained on."""
    trainer = SupervisedTask().prepare(spec_from_dict(config)).trainer
    data = trainer.data
    indices: list[np.ndarray] = []
    inputs: list[np.ndarray] = []
    batch, step = data.train.batch, trainer._train_step
    data.train.batch = lambda index: (indices.append(index), batch(index))[1]
    trainer._train_step = lambda x, t: (inputs.append(x), step(x, t))[1]
    trainer.fit()
    return indices, inputs


def test_augmentation_changes_the_training_inputs_but_not_the_batch_order(cifar_folder) -> None:
    config = augmented(cifar_folder)
    plain = {**config, "data": {**config["data"], "augment": None}}
    indices, inputs = training_inputs(config)
    plain_indices, plain_inputs = training_inputs(plain)
    assert len(indices) == len(plain_indices) == 16 and all(map(np.array_equal, indices, plain_indices))
    assert not any(np.array_equal(a, b) for a, b in zip(inputs, plain_inputs))
    assert [x.shape for x in inputs] == [x.shape for x in plain_inputs]


def test_augmenting_vectors_is_refused(cifar_folder) -> None:
    config = augmented(cifar_folder)
    config["data"]["flatten"] = True
    with pytest.raises(SpecError, match="data.augment: random crops and flips need images"):
        SupervisedTask().prepare(spec_from_dict(config))


def test_the_alexnet_spec_trains_on_cifar_format_files(cifar_folder, tmp_path) -> None:
    spec = CONFIGS / "day2/cnn/alexnet_cifar10.yaml"
    overrides = [f"data.folder={cifar_folder}", "data.validation=20", "data.subset=32", "train.epochs=1", "train.batch_size=16"]
    run, outcome = train(load_spec(spec, overrides).resolved(), tmp_path / "runs", overrides=overrides)
    assert (outcome.status, outcome.results["steps"]) == ("completed", 2) and np.isfinite(run.summary()["test"]["loss"])


CNN_SPECS = {  # spec → (parameters, the model's shapes after its last conv layer's pooling)
    "day2/cnn/mlp.yaml": (89_610, None),
    "day2/cnn/simple_convnet.yaml": (433_890, (30, 12, 12)),
    "day4/keras_cnn.yaml": (889_834, (64, 5, 5)),  # Keras's count: 11×11 pooled to 5×5
    "day2/cnn/alexnet_cifar10.yaml": (1_040_074, (64, 4, 4)),
}


@pytest.mark.parametrize("name", CNN_SPECS)
def test_the_course_cnn_specs_are_valid_and_have_their_shapes(cli, name) -> None:
    result = cli("validate", CONFIGS / name)
    assert result.exit_code == 0, result.output
    parameters, pooled = CNN_SPECS[name]
    assert f"{parameters:,} parameters" in result.output
    if pooled is not None:
        assert str(pooled) in result.output
