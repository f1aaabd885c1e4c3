"""seq2seq (with and without attention), HRED and VHRED runs from spec to run folder: metrics,
resume bit for bit (KL annealing included), `dnnexp sample` decoding with a run's saved model, and
`dnnexp plot --attention` drawing where an attending one looked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from dnnexp.data.text import decode
from dnnexp.errors import SpecError
from dnnexp.plots.curves import curves_figure
from dnnexp.runs.compare import compare_runs
from dnnexp.runs.rundir import RunDir
from dnnexp.tasks import spec_from_dict
from dnnexp.tasks.supervised import CHECKPOINT, SupervisedTask
from tests.tasks.conftest import StopAfterEpoch, StopAt, interrupted_run, resolved, train, without_times

#: 8 steps an epoch (256 training questions in batches of 32), as the interrupts of test_supervised expect
SEQ2SEQ: dict[str, Any] = {
    "name": "addition",
    "data": {"name": "addition", "digits": 2, "n": 296, "n_test": 40, "validation": 40},
    "model": {"kind": "seq2seq", "embedding": 4, "units": 8, "reverse_input": True},
    "loss": "cross_entropy",
    "optimizer": {"name": "adam", "lr": 0.01},
    "regularization": {"clip_norm": 5.0},
    "train": {"epochs": 3, "batch_size": 32},
}

#: the KL weight still rising when the runs below are cut (step 19 of 24); per-layer and per-step statistics
VHRED: dict[str, Any] = {
    **SEQ2SEQ,
    "name": "vhred",
    "data": {"name": "dialogue", "n": 296, "n_test": 40, "validation": 40},
    "model": {"kind": "vhred", "embedding": 4, "units": 8, "context_units": 6, "latent": 3, "samples": 3, "kl_anneal_steps": 20},
    "logging": {"layer_stats": True, "time_grads": True},
}


#: seq2seq with additive attention over a bidirectional GRU encoder; per-layer statistics
ATTENTION: dict[str, Any] = {
    **SEQ2SEQ,
    "name": "attention",
    "model": {"kind": "seq2seq", "embedding": 4, "units": 8, "cell": "gru", "attention": "additive", "bidirectional": True},
    "logging": {"layer_stats": True},
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, RunDir]:
    """A finished run of each spec above, shared by the tests that only read them."""
    folder = tmp_path_factory.mktemp("runs")
    return {spec["name"]: train(resolved(spec), folder)[0] for spec in (SEQ2SEQ, VHRED, ATTENTION)}


def test_metrics_come_from_the_model(trained):
    assert list(trained["addition"].metrics().columns) == [
        "epoch", "step", "lr", "train_loss", "train_acc", "train_seq_acc",
        "train_running_loss", "train_running_acc", "train_running_seq_acc", "val_loss", "val_acc", "val_seq_acc", "epoch_time_s",
    ]
    # Evaluated, the training set gets the validation set's metrics (greedy replies, distinct-n);
    # the running means are the teacher-forced ones of the training steps.
    assert list(trained["vhred"].metrics().columns)[3:-1] == [
        "train_loss", "train_acc", "train_seq_acc", "train_distinct1", "train_distinct2", "train_kl",
        "train_running_loss", "train_running_acc", "train_running_seq_acc", "train_running_kl",
        "val_loss", "val_acc", "val_seq_acc", "val_distinct1", "val_distinct2", "val_kl",
    ]
    summary = trained["vhred"].summary()
    assert set(summary["test"]) == {"loss", "acc", "seq_acc", "distinct1", "distinct2", "kl"}
    assert summary["best"]["val_seq_acc"] == trained["vhred"].metrics()["val_seq_acc"].max()
    checkpoint = trained["vhred"].load_npz(CHECKPOINT)
    assert int(checkpoint["model/kl_steps"]) == summary["steps"] == 24
    layers = set(trained["vhred"].table("layer_stats.csv")["layer"])
    assert {"encoder.gru1", "posterior.dense2", "decoder.time_distributed1"} <= layers
    assert set(trained["vhred"].table("time_grads.csv")["layer"]) == {"encoder.gru1", "context.gru1", "decoder.gru1"}


def test_layer_statistics_include_the_attention(trained):
    """The attention is no part's layer: the model keeps its contexts and their gradients itself."""
    stats = trained["attention"].table("layer_stats.csv")
    attention = stats[stats["layer"] == "decoder.attention"]
    assert list(attention["epoch"]) == [1, 2, 3] and set(attention["kind"]) == {"additive_attention"}
    assert np.isfinite(attention[["act_mean", "act_std", "dout_norm"]].to_numpy()).all()
    assert (attention["grad_norm"] > 0).all() and (attention["act_std"] > 0).all()


def test_compare_and_plot_show_the_models_own_metrics(trained):
    frame = compare_runs([trained["addition"], trained["vhred"]])
    assert {"best_val_seq_acc", "test_seq_acc", "final_val_distinct2", "test_kl"} <= set(frame.columns)
    assert frame["test_kl"].isna().tolist() == [True, False]  # seq2seq logs no KL
    titles = [ax.get_title() for ax in curves_figure([trained["vhred"]]).axes if ax.axison]
    assert titles == ["loss", "accuracy", "exact-sequence accuracy", "distinct-2 of replies", "KL(q ‖ p)"]


@pytest.mark.parametrize("spec", [SEQ2SEQ, VHRED, ATTENTION], ids=["seq2seq", "vhred", "attention"])
@pytest.mark.parametrize("interrupt", [StopAt(19), StopAfterEpoch(1)], ids=["mid-epoch", "at-an-epoch-end"])
def test_a_resumed_run_ends_exactly_as_an_uninterrupted_one(spec, interrupt, trained, runs_dir, extra_callbacks):
    config = resolved(spec)
    whole = trained[spec["name"]]
    cut = interrupted_run(config, runs_dir, extra_callbacks, interrupt)
    resumed, outcome = train(config, runs_dir, resume=RunDir.open(cut.path))
    assert (outcome.status, outcome.exit_code) == ("completed", 0)
    for key in ("steps", "best", "test"):
        assert resumed.summary()[key] == whole.summary()[key], key
    arrays, resumed_arrays = whole.load_npz(CHECKPOINT), resumed.load_npz(CHECKPOINT)
    assert sorted(resumed_arrays) == sorted(arrays)
    assert [key for key in arrays if not np.array_equal(arrays[key], resumed_arrays[key])] == []
    for filename in ("metrics.csv", *(("layer_stats.csv", "time_grads.csv") if whole.has("time_grads.csv") else ())):
        pd.testing.assert_frame_equal(without_times(resumed.table(filename)), without_times(whole.table(filename)), check_exact=True)


def test_sample_decodes_with_the_saved_model_as_evaluation_does(trained, cli):
    run = trained["addition"]
    rebuilt = SupervisedTask().rebuild(run)
    data, tokens = rebuilt.data, rebuilt.data.vocabulary.tokens
    assert list(tokens) == list(data.classes)
    x, _ = data.test.batch(slice(0, 5))
    questions = decode(x, tokens)
    answers = decode(rebuilt.model.generate(x, greedy=True), tokens)
    for question, answer in zip(questions, answers):
        result = cli("sample", run.path, question)
        assert result.exit_code == 0 and result.output == answer + "\n", (question, result.output)
    assert all(answer.isdigit() for answer in answers)  # whatever sum it got to, it writes a number


def test_sample_writes_several_replies_to_a_dialogue_context(trained, cli):
    run = trained["vhred"]
    context = "how was work today ? | quiet and relaxed"
    result = cli("sample", run.path, context, "--samples", "4")
    assert result.exit_code == 0, result.output
    replies = result.output.splitlines()
    assert len(replies) == 4  # an untrained model may well write nothing but the end token
    assert cli("sample", run.path, context, "--samples", "4").output == result.output  # the same seed, the same draws
    greedy = cli("sample", run.path, context, "-n", "2", "--decoding", "greedy", "--seed", "1")
    assert greedy.exit_code == 0 and len(greedy.output.splitlines()) == 2


@pytest.mark.parametrize(
    "run, text, options, message",
    [
        ("addition", "16+7x", [], "'x' not in the vocabulary the model learned: 0 1 2 3 4 5 6 7 8 9 +"),
        ("addition", "123+45", [], "'123+45' has 6 characters; the model read at most 5"),
        ("addition", "16+75", ["--decoding", "beam"], "'--decoding': Value error, 'beam' is not one of 'greedy', 'sample'"),
        ("vhred", "hello", [], "the run's replies follow 2 utterances, and 'hello' has 1"),
        ("vhred", "hello | bonjour", [], "'bonjour' not in the vocabulary"),
    ],
)
def test_sample_explains_what_it_cannot_read(trained, cli, run, text, options, message):
    result = cli("sample", trained[run].path, text, *options)
    assert result.exit_code == 2 and message in " ".join(result.output.split()), result.output


def test_sample_needs_an_encoder_decoder_run(cli, blobs_spec, runs_dir):
    run, _ = train(resolved(blobs_spec), runs_dir)
    result = cli("sample", run.path, "1")
    assert result.exit_code == 2 and "seq2seq, hred, vhred and transformer" in result.output


CONFIGS = Path(__file__).parents[2] / "configs/day3"


@pytest.mark.parametrize("spec", sorted((CONFIGS / "seq2seq").glob("*.yaml")) + sorted((CONFIGS / "hred").glob("*.yaml")), ids=lambda p: p.stem)
def test_the_course_specs_validate_and_show_their_parts(cli, spec):
    result = cli("validate", spec)
    assert result.exit_code == 0, result.output
    assert all(part in result.output for part in ("encoder.", "decoder.lstm1" if "seq2seq" in str(spec) else "context.gru1"))


def test_list_names_the_model_kinds(cli):
    output = cli("list", "models").output
    assert all(kind in output for kind in ("sequential", "seq2seq", "hred", "vhred"))


@pytest.mark.parametrize(
    "changes, parts",
    [
        (
            {"data": {"name": "blobs", "n": 100}},
            # what and where, then how: the corpora each kind reads
            ("model.kind: seq2seq reads and writes token ids, but the data is not a text corpus", "blobs",
             "data.name: addition or dates (seq2seq), dialogue (hred, vhred)"),
        ),
        (
            {"data": {"name": "dialogue", "n": 100}},
            ("model.kind: seq2seq reads token sequences (T,), but the samples are (2, 7); "
             "dialogues (utterances × words) need kind: hred or vhred",),
        ),
        ({"model": {"kind": "hred"}}, ("model.kind: hred reads dialogues", "token sequences (T,) need kind: seq2seq")),
    ],
    ids=["blobs", "dialogue-to-seq2seq", "addition-to-hred"],
)
def test_a_kind_refuses_data_it_cannot_read(changes, parts):
    with pytest.raises(SpecError) as caught:
        SupervisedTask().prepare(spec_from_dict({**SEQ2SEQ, **changes}))
    assert [part for part in parts if part not in str(caught.value)] == [], str(caught.value)


def test_more_replies_than_memory_holds_are_refused_with_the_numbers(trained, cli):
    """--samples 10**12 was a MemoryError traceback; the allocation now fails fast and is told."""
    result = cli("sample", trained["addition"].path, "16+75", "--samples", str(10**12))
    text = " ".join(result.output.split())
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert "--samples 1000000000000: writing that many replies at once needs more memory than the" in text
    assert "Unable to allocate" in text and "ask for fewer replies" in text


def test_an_attending_run_keeps_the_attention_of_some_validation_inputs(cli, write_spec, runs_dir, trained):
    result = cli("train", write_spec(resolved(ATTENTION, train={"epochs": 1, "batch_size": 32})), "--runs-dir", runs_dir, "--quiet")
    assert result.exit_code == 0, result.output
    (folder,) = runs_dir.iterdir()
    run = RunDir.open(folder)
    saved = run.load_npz("attention_samples.npz")
    assert saved["titles"].tolist() == ["additive attention"]
    assert saved["inputs"].shape == (4, 5) and saved["outputs"].shape == (4, 3)
    weights = saved["weights"]
    assert weights.shape == (4, 1, 3, 5) and weights.dtype == np.float32
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-5)
    data = SupervisedTask().rebuild(run).data
    np.testing.assert_array_equal(saved["inputs"], data.val.batch(slice(0, 4))[0])
    assert run.file("attention_samples.png").stat().st_size > 5000
    assert not trained["addition"].has("attention_samples.npz")


def test_plot_attention_draws_the_weights_for_a_text(trained, cli, tmp_path):
    run = trained["attention"]
    result = cli("plot", run.path, "--attention", "16+75")
    assert result.exit_code == 0 and run.file("attention.png").stat().st_size > 5000, result.output
    maps = SupervisedTask().attention(run, "16+75")
    assert list(maps.inputs) == list("16+75") and len(maps.outputs) == 3  # two-digit sums: 3 characters
    assert "".join(maps.outputs).strip() == cli("sample", run.path, "16+75").output.strip()  # what it writes
    (weights,) = maps.maps.values()
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-5)
    assert cli("plot", run.path, "--attention", "16+75", "-o", tmp_path / "a.svg").exit_code == 0


@pytest.mark.parametrize(
    "runs, text, message",
    [
        (["addition"], "16+75", "its seq2seq model has no attention, so there are no weights to draw; --attention "
         "draws runs of a model that attends, such as seq2seq with model.attention: dot or additive"),
        (["addition", "attention"], "16+75", "--attention draws one run; give a single run folder (those with attention: {attention})"),
        (["addition", "vhred"], "16+75", "(none of these has attention)"),
        (["attention"], "16+7x", "'x' not in the vocabulary the model learned"),
    ],
    ids=["no-attention", "several-runs", "none-attends", "unknown-character"],
)
def test_plot_attention_says_which_runs_have_it(trained, cli, runs, text, message):
    result = cli("plot", *(trained[name].path for name in runs), "--attention", text)
    output = " ".join(result.output.split()).replace(" ", "")
    expected = message.format(attention=trained["attention"].path).replace(" ", "")
    assert result.exit_code == 2 and expected in output and "Traceback" not in result.output, result.output


@pytest.mark.parametrize("spec", sorted((CONFIGS / "attention").glob("*.yaml")), ids=lambda p: p.stem)
def test_the_attention_specs_validate_and_show_their_parts(cli, spec):
    result = cli("validate", spec)
    assert result.exit_code == 0, result.output
    attends = "no_attention" not in spec.stem and "peeky" not in spec.stem
    assert ("decoder.attention" in result.output) == attends
