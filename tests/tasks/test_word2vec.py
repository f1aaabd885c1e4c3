"""word2vec as a task: a run folder from a spec, resume bit for bit, what the commands read back
(similar, analogy, export, plot --embeddings), and the mistakes refused before any folder."""

from __future__ import annotations

import json
import typing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from dnnexp.runs.rundir import RunDir
from dnnexp.tasks import word2vec as task_module
from tests.tasks.conftest import StopAt, train, without_times

#: a small corpus with structure: kings and queens, men and women do the same things
LINES = [
    f"the {who} {verb} the {what}"
    for who in ("king", "queen", "man", "woman", "prince", "princess")
    for verb in ("rules", "sees", "loves", "keeps")
    for what in ("land", "city", "house", "field", "sheep")
]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(LINES * 3) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def spec(corpus: Path, tmp_path: Path) -> dict:
    questions = tmp_path / "questions.txt"
    questions.write_text(": royal\nman king woman queen\nking man queen woman\nman king zebra queen\n")
    return {
        "kind": "word2vec",
        "name": "tiny_w2v",
        "seed": 0,
        "data": {"name": "text", "path": str(corpus), "min_count": 2, "sample": 0.01},
        "model": {"kind": "skipgram", "dim": 8, "window": 2, "negative": 3, "negative_block": 2},
        "train": {"epochs": 2, "batch_size": 64},
        "eval": {"probes": ["king", "land"], "top": 3, "analogies": str(questions)},
    }


@pytest.fixture
def extra_callbacks(monkeypatch: pytest.MonkeyPatch) -> list:
    added: list = []
    callbacks = task_module.run_callbacks
    monkeypatch.setattr(task_module, "run_callbacks", lambda *args: [*added, *callbacks(*args)])
    return added


@pytest.mark.parametrize("kind, output", [("skipgram", "negative_sampling"), ("cbow", "negative_sampling"), ("cbow", "softmax")])
def test_a_run_writes_metrics_vocabulary_neighbours_and_summary(spec, runs_dir, kind, output):
    spec["model"].update(kind=kind, output=output)
    run, outcome = train(spec, runs_dir)
    assert outcome.status == "completed"
    metrics = run.metrics()
    assert list(metrics.columns) == ["epoch", "step", "lr", "train_loss", "words_per_s", "analogy_acc", "epoch_time_s"]
    assert len(metrics) == 2 and (metrics["words_per_s"] > 0).all() and metrics["train_loss"].is_monotonic_decreasing
    vocabulary = (run.path / "vocabulary.tsv").read_text().splitlines()
    assert vocabulary[0] == "the\t720" and len(vocabulary) == 16
    neighbours = pd.read_csv(run.file("neighbours.csv"))
    assert len(neighbours) == 2 * 2 * 3 and set(neighbours["word"]) == {"king", "land"}
    summary = json.loads(run.file("summary.json").read_text())
    assert summary["kind"] == "word2vec" and summary["analogies"] == {"questions": 3, "asked": 2}
    assert summary["corpus"]["vocabulary"] == 16 and summary["parameters"] == 2 * 16 * 8


def test_resume_mid_epoch_reaches_the_same_vectors_bit_for_bit(spec, runs_dir, extra_callbacks):
    whole, _ = train(spec, runs_dir)
    extra_callbacks.append(StopAt(5))
    cut, outcome = train(spec, runs_dir)
    extra_callbacks.clear()
    assert outcome.status == "interrupted" and cut.summary()["status"] == "interrupted"
    resumed, again = train(spec, runs_dir, resume=RunDir.open(cut.path))
    assert again.status == "completed"
    ours, theirs = resumed.load_npz("checkpoint.npz"), whole.load_npz("checkpoint.npz")
    for key in ("model/W_in", "model/W_out"):
        np.testing.assert_array_equal(ours[key], theirs[key])
    pd.testing.assert_frame_equal(without_times(resumed.metrics()).drop(columns="words_per_s"), without_times(whole.metrics()).drop(columns="words_per_s"))
    assert pd.read_csv(resumed.file("neighbours.csv")).equals(pd.read_csv(whole.file("neighbours.csv")))


def test_the_commands_read_a_run_back(spec, runs_dir, cli, tmp_path):
    run, _ = train(spec, runs_dir)
    similar = cli("similar", run.path, "King", "--top", "4")
    assert similar.exit_code == 0, similar.output
    lines = similar.output.splitlines()
    assert len(lines) == 4 and all(len(line.split("\t")) == 2 for line in lines) and "king\t" not in similar.output
    answer = cli("analogy", run.path, "man", "king", "woman", "--top", "2")
    assert answer.exit_code == 0 and len(answer.output.splitlines()) == 2
    assert not {"man", "king", "woman"} & {line.split("\t")[0] for line in answer.output.splitlines()}
    unknown = cli("similar", run.path, "kingg")
    assert unknown.exit_code == 2 and "'kingg' is not in the vocabulary" in unknown.output and "king" in unknown.output
    unknown = cli("analogy", run.path, "man", "zebra", "woman")
    assert unknown.exit_code == 2 and "'zebra'" in unknown.output
    picture = cli("plot", run.path, "--embeddings", "--words", "king,queen,man,woman")
    assert picture.exit_code == 0 and run.has("embeddings.png"), picture.output
    assert cli("plot", run.path, "--embeddings", "--words", "king,kingg").exit_code == 2
    for words in ("king", "king, king", " , "):
        fewer = cli("plot", run.path, "--embeddings", "--words", words)
        assert fewer.exit_code == 2 and "at least two different words" in fewer.output
    network = cli("plot", run.path, "--fit")
    assert network.exit_code == 2 and "a run of kind word2vec has none" in network.output
    both = cli("plot", run.path, "--embeddings", "--layer-stats")
    assert both.exit_code == 2 and "--layer-stats and --embeddings each draw a picture" in both.output


def test_the_cli_draws_the_loss_and_the_analogy_accuracy(spec, cli, tmp_path, runs_dir):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({**spec, "train": {"epochs": 1, "batch_size": 64}}))
    result = cli("train", path, "--runs-dir", runs_dir)
    assert result.exit_code == 0 and "analogy_acc" in result.output, result.output
    (run,) = runs_dir.iterdir()
    assert (run / "learning_curves.png").is_file() and (run / "analogy_acc.png").is_file()


def test_export_writes_the_text_format_gensim_reads(spec, runs_dir, cli, tmp_path):
    gensim_models = pytest.importorskip("gensim.models")
    run, _ = train(spec, runs_dir)
    out = tmp_path / "vectors.txt"
    result = cli("export", run.path, "--format", "word2vec", "-o", out)
    assert result.exit_code == 0, result.output
    vectors = gensim_models.KeyedVectors.load_word2vec_format(str(out), binary=False)
    W_in = run.load_npz("checkpoint.npz")["model/W_in"]
    words = [line.split("\t")[0] for line in run.file("vocabulary.tsv").read_text().splitlines()]
    assert vectors.index_to_key == words
    np.testing.assert_allclose(vectors["king"], W_in[words.index("king")], rtol=1e-5)


def test_a_supervised_run_has_no_word_vectors(cli, write_spec, runs_dir):
    result = cli("train", write_spec(), "--runs-dir", runs_dir, "-q", "--set", "train.epochs=1")
    assert result.exit_code == 0
    (run,) = runs_dir.iterdir()
    answer = cli("similar", run, "king")
    assert answer.exit_code == 2 and "has no word vectors" in answer.output


@pytest.mark.parametrize(
    "content, told",
    [(b"", "holds no words"), (b"\n  \n", "holds no words"), (b"caf\xe9 au lait\n", "is not UTF-8 text")],
)
def test_an_empty_or_undecodable_corpus_is_refused_before_any_folder(spec, cli, tmp_path, runs_dir, content, told):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    spec["data"]["path"] = str(bad)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    result = cli("train", path, "--runs-dir", runs_dir)
    assert result.exit_code == 2 and told in result.output
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


@pytest.mark.parametrize(
    "change, told",
    [
        ({"eval": {"probes": ["zebra"]}}, "eval.probes: zebra not in the vocabulary"),
        ({"data": {"name": "text"}}, "data.path: the text corpus reads a file"),
        ({"data": {"name": "kjv", "path": "x.txt"}}, "data.path: the kjv corpus comes from the bible program"),
        ({"model": {"kind": "glove"}}, "model.kind"),
    ],
)
def test_spec_mistakes_are_named_before_any_folder(spec, cli, tmp_path, runs_dir, change, told):
    for key, value in change.items():
        spec[key] = value if key != "data" or "path" in value or value["name"] != "text" else value
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    result = cli("train", path, "--runs-dir", runs_dir)
    assert result.exit_code == 2 and told in result.output, result.output
    assert not runs_dir.exists()


def test_list_models_names_the_word2vec_kinds_with_their_keys(cli):
    """skipgram and cbow are the word2vec task's own kinds, not a registry's: `dnnexp list models`
    names them beside the rest, each with its model section's keys."""
    assert set(task_module.MODEL_KINDS) == set(typing.get_args(task_module.Word2VecModelSection.model_fields["kind"].annotation))
    output = cli("list", "models").output
    for kind in ("skipgram", "cbow", "sequential", "seq2seq"):
        assert f"  {kind} " in output
    assert "window: int ≥ 1 = 5" in output and "output: negative_sampling | softmax = negative_sampling" in output
