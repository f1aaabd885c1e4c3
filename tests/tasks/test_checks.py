"""What the supervised task checks and tells once the model is built: monitors that the run logs,
and output activations the loss does not usually follow."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from dnnexp.data.base import Batches, Split
from dnnexp.errors import SpecError
from dnnexp.spec.build import sequential
from dnnexp.tasks import spec_from_dict
from dnnexp.tasks.supervised import (
    USUAL_PAIRINGS,
    SupervisedTask,
    batch_statistics,
    check_batch_statistics,
    check_inputs,
    check_training_memory,
    training_memory,
)

def prepared(raw: dict[str, Any]):
    return SupervisedTask().prepare(spec_from_dict(raw))


def warnings(raw: dict[str, Any]) -> list[str]:
    return SupervisedTask().warnings(prepared(raw))


def test_monitors_must_be_logged_by_the_run(raw):
    """mse on 0/1 targets still logs accuracy (it follows the targets), so train_acc may be watched."""
    raw["data"]["validation"] = 0
    raw["train"]["early_stopping"] = {"monitor": "val_loss"}
    raw["train"]["reduce_lr_on_plateau"] = {"monitor": "train_acc"}
    raw["loss"] = "mse"
    raw["model"]["layers"][-1]["activation"] = None
    with pytest.raises(SpecError) as caught:
        prepared(raw)
    assert caught.value.problems == [
        "train.early_stopping.monitor: 'val_loss' is not logged by this run; choose one of train_loss, train_acc, "
        "train_running_loss, train_running_acc (set data.validation to log val_loss and val_acc)",
    ]


def test_a_model_s_own_metrics_can_be_monitored():
    """seq_acc is logged by encoder-decoders, so early stopping may watch it."""
    raw = {
        "name": "s2s", "data": {"name": "addition", "n": 200, "n_test": 20, "validation": 20},
        "model": {"kind": "seq2seq", "units": 8, "embedding": 4}, "loss": "cross_entropy",
        "optimizer": "adam", "train": {"epochs": 1, "batch_size": 20, "early_stopping": {"monitor": "val_seq_acc"}},
    }
    assert prepared(raw).trainer.model.kind == "seq2seq"


def test_the_usual_pairings_do_not_warn(raw):
    assert warnings(raw) == []  # sigmoid + binary_cross_entropy
    raw["loss"] = "mse"
    raw["model"]["layers"][-1]["activation"] = None
    assert warnings(raw) == []  # identity + mse
    raw["data"] = {"name": "blobs", "validation": 20}
    raw["loss"] = "cross_entropy"
    raw["model"]["input_shape"] = None
    raw["model"]["layers"][-1]["units"] = 3
    raw["model"]["layers"].append({"type": "activation", "activation": "softmax"})
    assert warnings(raw) == []


def test_softmax_with_mse_warns_with_the_course_table(raw):
    raw["loss"] = "mse"
    raw["model"]["layers"][-1]["activation"] = "softmax"
    assert warnings(raw) == [
        "model.layers[1]: the model's output activation is softmax, but loss mse usually follows identity; "
        f"the usual pairings are {USUAL_PAIRINGS}"
    ]


def test_the_output_activation_of_a_time_distributed_layer_is_its_layers(raw):
    raw["data"] = {"name": "binary_addition", "n": 40, "n_test": 10}
    raw["model"] = {"layers": [
        {"type": "simple_rnn", "units": 4, "return_sequences": True},
        {"type": "time_distributed", "layer": {"type": "dense", "units": 1, "activation": "sigmoid"}},
    ]}
    raw["train"]["batch_size"] = 10
    assert warnings(raw) == []  # sigmoid + binary_cross_entropy
    raw["loss"] = "mse"  # the course's Day 4 choice, which the table does not list
    (warning,) = warnings(raw)
    assert warning.startswith("model.layers[1]: the model's output activation is sigmoid, but loss mse")


def test_token_ids_beyond_an_embedding_anywhere_are_refused_with_the_layer():
    """The check tries the first batch and the samples holding each split's extreme ids: an id
    beyond the vocabulary in the last test sample is found too."""
    x = np.zeros((30, 4), np.int64)
    x[-1, 2] = 47
    splits = [Split(x[:20], np.zeros(20, np.int64)), None, Split(x[20:], np.zeros(10, np.int64))]
    data = Batches(splits[0], splits[1], splits[2], "multiclass", (4,), 3)
    model = sequential((4,), [{"type": "embedding", "vocab_size": 10, "dim": 2}, {"type": "flatten"}])
    with pytest.raises(SpecError) as caught:
        check_inputs(SimpleNamespace(data=data, model=model, batch_size=5))
    assert caught.value.problems == [
        "model.layers[0] (embedding): token ids run from 0 to 47, but vocab_size is 10; raise vocab_size to at least 48"
    ]


def test_a_stack_of_layers_on_token_sequences_is_pointed_to_an_encoder_decoder(cli, write_spec, runs_dir):
    spec = write_spec({
        "name": "emb", "data": {"name": "dates", "n": 200, "n_test": 20},
        "model": {"layers": [
            {"type": "embedding", "vocab_size": 48, "dim": 4}, {"type": "lstm", "units": 4},
            {"type": "dense", "units": 48, "activation": "softmax"},
        ]},
        "loss": "cross_entropy", "optimizer": "adam", "train": {"epochs": 1, "batch_size": 20},
    })
    result = cli("train", spec, "--runs-dir", runs_dir)
    assert result.exit_code == 2
    assert "model.kind: the targets are sequences of 11 tokens" in result.output and "model.kind: seq2seq" in result.output
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


@pytest.mark.parametrize(
    "data, loss, units, told",
    [
        ({"name": "blobs"}, "mse", 3, "loss: mse compares each output with a target of the same shape, but the "
         "targets of data set blobs are class labels of 3 classes; use loss: cross_entropy after a softmax output"),
        ({"name": "linear_regression"}, "cross_entropy", 1, "loss: cross_entropy reads targets as class labels, but "
         "the targets of data set linear_regression are real numbers; use loss: mse after an identity output"),
        ({"name": "xor"}, "cross_entropy", 1, "loss: cross_entropy reads targets as class labels, but the targets of "
         "data set xor are 0/1 values; use loss: binary_cross_entropy after a sigmoid output"),
        ({"name": "linear_regression"}, "binary_cross_entropy", 1, "loss: binary_cross_entropy reads targets as 0/1 "
         "values, but the targets of data set linear_regression are real numbers; use loss: mse after an identity output"),
    ],
)
def test_a_loss_that_cannot_read_the_targets_is_refused_before_any_folder(cli, write_spec, runs_dir, raw, data, loss, units, told):
    """mse on class labels crashed in its first batch, and cross_entropy on a regression's one
    output scored every sample right (test_acc 1.0000): both are told before a folder exists."""
    raw["data"] = {**data, "validation": 20}
    raw["model"] = {"layers": [{"type": "dense", "units": units}]}
    raw["loss"] = loss
    result = cli("train", write_spec(raw), "--runs-dir", runs_dir)
    assert result.exit_code == 2, result.output
    assert told in " ".join(result.output.split()) and "Traceback" not in result.output
    assert not runs_dir.exists()


def test_mse_reads_0_1_targets_as_in_the_course_s_binary_addition(raw):
    """Day 4 trains binary addition's sigmoid outputs with mse: the check lets it through."""
    raw["data"] = {"name": "binary_addition", "n": 40, "n_test": 10}
    raw["model"] = {"layers": [
        {"type": "simple_rnn", "units": 4, "return_sequences": True},
        {"type": "time_distributed", "layer": {"type": "dense", "units": 1, "activation": "sigmoid"}},
    ]}
    raw["loss"], raw["train"]["batch_size"] = "mse", 10
    assert prepared(raw).trainer.task == "binary"


def with_batchnorm(raw: dict[str, Any], batch_size: int, n: int = 200) -> dict[str, Any]:
    first, *rest = raw["model"]["layers"]
    raw["model"]["layers"] = [first, {"type": "batchnorm"}, *rest]
    raw["data"]["n"] = n
    raw["train"]["batch_size"] = batch_size
    return raw


def test_batch_norm_with_batches_of_one_is_refused_with_the_reason(raw):
    """It trained silently into garbage: one value's variance is 0, so every output is β."""
    with pytest.raises(SpecError) as caught:
        prepared(with_batchnorm(raw, batch_size=1))
    assert caught.value.problems == [
        "train.batch_size: 1 leaves model.layers[1] (batchnorm) one value of each feature to normalise, whose "
        "variance is 0: every output would be β whatever the input, and nothing would learn; use a batch size of "
        "at least 2 (the course uses 100), or drop the batchnorm layer"
    ]


def test_a_last_batch_of_one_before_batch_norm_warns(raw):
    """200 samples less 20 for validation: batches of 179 leave one over, batches of 20 do not."""
    assert warnings(with_batchnorm(raw, batch_size=20)) == []
    (warning,) = warnings(with_batchnorm(raw, batch_size=179))
    assert warning.startswith("train.batch_size: the 180 training samples leave a last batch of one sample")
    assert "model.layers[1] (batchnorm)" in warning and "data.subset to 179" in warning


def test_batch_norm_over_images_may_take_one_image():
    """Over an image each channel has H·W values: a batch of one is enough, but not of 1×1 maps."""
    model = sequential((1, 2, 2), [{"type": "batchnorm"}, {"type": "global_avg_pool2d"}, {"type": "batchnorm"}])
    trainer = SimpleNamespace(model=model, batch_size=1)
    assert batch_statistics(trainer) == [("model.layers[0] (batchnorm)", 4), ("model.layers[2] (batchnorm)", 1)]
    check_batch_statistics(SimpleNamespace(model=sequential((1, 2, 2), [{"type": "batchnorm"}]), batch_size=1))
    model = sequential((1, 2, 2), [{"type": "batchnorm"}, {"type": "maxpool2d", "pool_size": 2}, {"type": "batchnorm"}])
    with pytest.raises(SpecError, match=r"model.layers\[2\] \(batchnorm\) one value of each feature"):
        check_batch_statistics(SimpleNamespace(model=model, batch_size=1))


@pytest.mark.parametrize(
    "change, told",
    [
        ({"model": {"layers": [{"type": "dense", "units": 10**8}, {"type": "dense", "units": 1, "activation": "sigmoid"}]}},
         "model: its parameters needs more memory than the 16 MiB available (Unable to allocate"),
        ({"data": {"name": "xor", "n": 10**8, "validation": 20}},
         "data: the data set needs more memory than the 16 MiB available (Unable to allocate"),
    ],
)
def test_huge_sizes_are_refused_with_the_numbers_before_any_folder(cli, write_spec, runs_dir, raw, monkeypatch, change, told):
    """units: 10**8 and data.n: 10**8 were MemoryError tracebacks (or the OOM killer): with 16 MiB
    said to be available they are refused at their first allocation, which reserves nothing."""
    from dnnexp.data import memory

    monkeypatch.setattr(memory, "available_bytes", lambda: 16 * 2**20)
    raw.update(change)
    result = cli("train", write_spec(raw), "--runs-dir", runs_dir)
    assert result.exit_code == 2 and told in " ".join(result.output.split()), result.output
    assert "Traceback" not in result.output and not runs_dir.exists()


def test_random_crops_beyond_memory_are_refused_naming_crop_padding(monkeypatch):
    """The crops' padded batch was allocated mid-run, after the folder existed."""
    from dnnexp.data import memory
    from dnnexp.data.augment import Augmentation

    monkeypatch.setattr(memory, "available_bytes", lambda: 2**30)
    model = sequential((1, 8, 8), [{"type": "conv2d", "filters": 2, "kernel_size": 3}, {"type": "flatten"}])
    trainer = SimpleNamespace(model=model, batch_size=100, data=SimpleNamespace(augment=Augmentation(crop_padding=2000), input_shape=(1, 8, 8)))
    parts = training_memory(trainer)
    # a 6×6 output, each of 1 channel × 3×3 window, float32, with its gradient
    assert parts["the convolutions' im2col matrices"] == (2 * 100 * 36 * 9 * 4, "train.batch_size")
    assert parts["random crops' padded images"][0] == 3 * 100 * 4008**2 * 4
    with pytest.raises(SpecError, match=r"^training \(.*random crops' padded images 18 GiB\) would take about 18 GiB of "
                                        r"memory, and 1 GiB are available; make data.augment.crop_padding smaller$"):
        check_training_memory(trainer)
