"""The command line end to end: train → compare → plot, and bad input of every kind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml


def only_run(runs_dir: Path) -> Path:
    (run,) = [p for p in runs_dir.iterdir() if p.is_dir()]
    return run


def test_train_compare_plot_on_a_synthetic_spec(cli, write_spec, runs_dir, tmp_path):
    first = cli("train", write_spec(), "--runs-dir", runs_dir, "--quiet")
    assert first.exit_code == 0, first.output
    second = cli("train", write_spec(), "--runs-dir", runs_dir, "--quiet", "--set", "optimizer.lr=0.001")
    assert second.exit_code == 0, second.output
    runs = sorted(p for p in runs_dir.iterdir())
    assert len(runs) == 2 and all(p.name.startswith("blobs-") for p in runs)
    for run in runs:
        assert {"config.yaml", "metrics.csv", "summary.json", "checkpoint.npz", "learning_curves.png"} <= {
            p.name for p in run.iterdir()
        }
        summary = json.loads((run / "summary.json").read_text())
        assert summary["status"] == "completed" and summary["epochs_completed"] == 4
        metrics = pd.read_csv(run / "metrics.csv")
        assert list(metrics["epoch"]) == [1, 2, 3, 4]
        assert {"train_loss", "train_acc", "val_loss", "val_acc", "lr", "epoch_time_s"} <= set(metrics.columns)
    lrs = sorted(yaml.safe_load((r / "config.yaml").read_text())["optimizer"]["lr"] for r in runs)
    assert lrs == [0.001, 0.01]

    table = cli("compare", runs_dir, "--format", "csv", "--sort", "best_val_acc")
    assert table.exit_code == 0, table.output
    frame = pd.read_csv(pd.io.common.StringIO(table.output))
    assert "optimizer.lr" in frame.columns and len(frame) == 2

    out = tmp_path / "curves.svg"
    drawn = cli("plot", *runs, "-o", out)
    assert drawn.exit_code == 0, drawn.output
    assert out.read_text().lstrip().startswith("<?xml")


def test_a_few_hundred_fashion_mnist_images_end_to_end(cli, write_spec, runs_dir):
    spec = write_spec(
        name="fashion_small",
        data={"name": "fashion_mnist", "flatten": True, "validation": 100, "subset": 300},
        model={
            "input_shape": [784],
            "layers": [
                {"type": "dense", "units": 32, "activation": "relu", "init": "he_normal"},
                {"type": "batchnorm"},
                {"type": "dense", "units": 10, "activation": "softmax"},
            ],
        },
        train={"epochs": 2, "batch_size": 50},
        logging={"layer_stats": True},
    )
    result = cli("train", spec, "--runs-dir", runs_dir, "--quiet")
    assert result.exit_code == 0, result.output
    run = only_run(runs_dir)
    summary = json.loads((run / "summary.json").read_text())
    assert 0.0 <= summary["test"]["acc"] <= 1.0 and summary["test"]["loss"] > 0
    stats = pd.read_csv(run / "layer_stats.csv")
    assert set(stats["epoch"]) == {1, 2} and "dense1" in set(stats["layer"])
    for flag in ("--layer-stats", "--activations"):
        drawn = cli("plot", run, flag)
        assert drawn.exit_code == 0, drawn.output
    assert (run / "layer_stats.png").stat().st_size > 0 and (run / "activations.png").stat().st_size > 0
    assert cli("compare", run, "--format", "json").exit_code == 0


def test_recurrent_nets_on_fashion_mnist_rows_and_their_time_step_gradients(cli, write_spec, runs_dir, tmp_path):
    spec = write_spec(
        name="fashion_rows",
        data={"name": "fashion_mnist", "sequence": True, "validation": 50, "subset": 150},
        model={"layers": [{"type": "lstm", "units": 8}, {"type": "dense", "units": 10, "activation": "softmax"}]},
        train={"epochs": 2, "batch_size": 50},
        logging={"time_grads": True},
    )
    validated = cli("validate", spec)
    assert validated.exit_code == 0, validated.output
    assert "lstm1" in validated.output and "(8,)" in validated.output
    for kind in ("lstm", "simple_rnn"):
        result = cli("train", spec, "--runs-dir", runs_dir, "--quiet", "--set", f"model.layers[0].type={kind}")
        assert result.exit_code == 0, result.output
    runs = sorted(runs_dir.iterdir())
    grads = pd.read_csv(runs[0] / "time_grads.csv")
    assert list(grads.columns) == ["epoch", "layer", "t", "grad_norm"]
    assert len(grads) == 2 * 28 and set(grads["layer"]) in ({"lstm1"}, {"simple_rnn1"})
    out = tmp_path / "time_grads.png"
    drawn = cli("plot", *runs, "--time-grads", "-o", out)
    assert drawn.exit_code == 0, drawn.output
    assert out.stat().st_size > 5000


def test_plot_fit_draws_a_one_input_regression_and_refuses_other_runs(cli, write_spec, runs_dir, tmp_path):
    line = write_spec(
        name="line", data={"name": "linear_regression", "n": 100, "validation": 20},
        model={"input_shape": [1], "layers": [{"type": "dense", "units": 1, "init": "zeros"}]},
        loss="mse", optimizer={"name": "sgd", "lr": 0.1}, train={"epochs": 2, "batch_size": 20},
    )
    assert cli("train", line, "--runs-dir", runs_dir / "line", "--quiet").exit_code == 0
    drawn = cli("plot", only_run(runs_dir / "line"), "--fit")
    assert drawn.exit_code == 0, drawn.output
    assert (only_run(runs_dir / "line") / "fit.png").stat().st_size > 5000

    assert cli("train", write_spec(), "--runs-dir", runs_dir / "blobs", "--quiet").exit_code == 0
    refused = cli("plot", only_run(runs_dir / "blobs"), "--fit", "-o", tmp_path / "fit.png")
    assert refused.exit_code == 2 and "--fit draws a model of one input and one output" in refused.output
    assert "(2,) → 3 output" in refused.output and "Traceback" not in refused.output
    assert not (tmp_path / "fit.png").exists()


def test_validate_prints_the_model_summary(cli, write_spec):
    result = cli("validate", write_spec())
    assert result.exit_code == 0, result.output
    # 2·16 + 16 and 16·3 + 3 parameters
    assert "dense1" in result.output and "48" in result.output and "51" in result.output


def test_validate_warns_on_an_unusual_output_pairing(cli, write_spec):
    result = cli("validate", write_spec(loss="mse"))
    assert result.exit_code == 0
    assert "warning" in result.output and "cross_entropy" in result.output


@pytest.mark.parametrize("kind", ["models", "layers", "activations", "losses", "initializers", "optimizers", "datasets"])
def test_list_shows_each_kind_with_descriptions(cli, kind):
    result = cli("list", kind)
    assert result.exit_code == 0, result.output
    assert len(result.output.strip().splitlines()) >= 3


def test_list_without_kind_shows_every_registry(cli):
    output = cli("list").output
    for name in ("dense", "he_normal", "adam", "cross_entropy", "fashion_mnist", "cosine", "l2"):
        assert name in output


def spec_with(spec: dict, **changes) -> dict:
    """`spec` with values at dotted paths replaced."""
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        target = spec
        for key in parents:
            target = target[key]
        target[last] = value
    return spec


BAD_SPECS = {
    "typo in an activation": (
        {"model.layers": [{"type": "dense", "units": 3, "activation": "rellu"}]},
        ["model.layers[0].activation", "did you mean 'relu'"],
    ),
    "unknown key": ({"trian": {"epochs": 1}}, ["trian", "train"]),
    "negative learning rate": ({"optimizer.lr": -0.1}, ["optimizer.lr"]),
    "batch larger than the data": ({"train.batch_size": 5000}, ["train.batch_size", "5000"]),
    "unknown data set": ({"data.name": "fashion_mnsit"}, ["data.name", "fashion_mnist"]),
    "time steps of a model without them": ({"logging": {"time_grads": True}}, ["logging.time_grads", "no recurrent layer"]),
    "images read as sequences by a dense net": (
        {"data": {"name": "fashion_mnist", "sequence": True, "subset": 100}, "model.input_shape": None},
        ["dense takes flat inputs", "(28, 28)"],
    ),
}


@pytest.mark.parametrize("case", BAD_SPECS, ids=list(BAD_SPECS))
def test_bad_specs_get_one_clear_message_and_no_run_folder(cli, write_spec, blobs_spec, runs_dir, case):
    changes, expected = BAD_SPECS[case]
    result = cli("train", write_spec(spec_with(blobs_spec, **changes)), "--runs-dir", runs_dir)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for text in expected:
        assert text in result.output
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


def test_several_problems_are_reported_together(cli, write_spec, blobs_spec):
    spec = spec_with(blobs_spec, **{"optimizer.lr": -1.0, "train.epochs": 0, "data.validation": -5})
    output = cli("validate", write_spec(spec)).output
    assert "optimizer.lr" in output and "train.epochs" in output and "data.validation" in output


def test_yaml_traps(cli, tmp_path, blobs_spec):
    path = tmp_path / "trap.yaml"
    text = yaml.safe_dump(blobs_spec, sort_keys=False)
    path.write_text(text.replace("lr: 0.01", "lr: 1e-3"))
    assert cli("validate", path).exit_code == 0
    path.write_text(text.replace("activation: relu", "activation: off"))
    result = cli("validate", path)
    assert result.exit_code == 2 and "quote" in result.output


def test_yaml_syntax_error_names_file_line_and_column(cli, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nmodel: {layers: [\n")
    result = cli("validate", path)
    assert result.exit_code == 2 and "broken.yaml:" in result.output and "Traceback" not in result.output


def test_missing_spec_file(cli, tmp_path):
    result = cli("train", tmp_path / "nope.yaml")
    assert result.exit_code == 2 and "nope.yaml" in result.output


def test_a_folder_that_is_not_a_run(cli, tmp_path):
    for command in (["compare"], ["plot"], ["train", "--resume"]):
        result = cli(*command, tmp_path)
        assert result.exit_code == 2, (command, result.output)
        assert "not a run folder" in result.output or "neither a run folder" in result.output


def test_a_corrupt_checkpoint_is_refused_on_resume(cli, write_spec, runs_dir):
    assert cli("train", write_spec(), "--runs-dir", runs_dir, "-q").exit_code == 0
    run = only_run(runs_dir)
    checkpoint = run / "checkpoint.npz"
    checkpoint.write_bytes(checkpoint.read_bytes()[:200])
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**summary, "status": "interrupted"}))  # else there is nothing to resume
    result = cli("train", "--resume", run)
    assert result.exit_code == 2 and "checkpoint.npz" in result.output


def test_a_diverging_run_stops_with_exit_code_3_and_keeps_its_metrics(cli, write_spec, blobs_spec, runs_dir):
    spec = spec_with(blobs_spec, **{"optimizer": {"name": "sgd", "lr": 1e6}, "train.epochs": 3})
    spec["model"]["layers"] = [{"type": "dense", "units": 64, "activation": "relu"}] * 3 + [
        {"type": "dense", "units": 3, "activation": "softmax"}
    ]
    result = cli("train", write_spec(spec), "--runs-dir", runs_dir, "-q")
    assert result.exit_code == 3, result.output
    assert "lower the learning rate" in result.output and "step" in result.output
    summary = json.loads((only_run(runs_dir) / "summary.json").read_text())
    assert summary["status"] == "diverged"


def test_resume_refuses_a_different_spec(cli, write_spec, runs_dir):
    assert cli("train", write_spec(), "--runs-dir", runs_dir, "-q").exit_code == 0
    run = only_run(runs_dir)
    result = cli("train", write_spec(), "--resume", run, "--set", "optimizer.lr=0.5")
    assert result.exit_code == 2 and "optimizer.lr" in result.output


def test_debug_shows_the_traceback(tmp_path):
    missing = tmp_path / "missing.yaml"
    quiet = subprocess.run([sys.executable, "-m", "dnnexp", "validate", str(missing)], capture_output=True, text=True)
    loud = subprocess.run(
        [sys.executable, "-m", "dnnexp", "--debug", "validate", str(missing)], capture_output=True, text=True
    )
    assert quiet.returncode == 2 and "Traceback" not in quiet.stderr
    assert loud.returncode != 0 and "Traceback" in loud.stderr


def test_run_names_stay_inside_the_runs_folder(cli, write_spec, runs_dir):
    result = cli("train", write_spec(name="../escape"), "--runs-dir", runs_dir)
    assert result.exit_code == 2 and "name" in result.output
    assert not (runs_dir.parent / "escape").exists()


def test_optimizer_paths_spec_draws_every_path(cli, runs_dir):
    result = cli("train", "configs/day2/optimizer_paths.yaml", "--runs-dir", runs_dir)
    assert result.exit_code == 0, result.output
    run = only_run(runs_dir)
    paths = pd.read_csv(run / "paths.csv")
    start, final = paths.groupby("optimizer").first(), paths.groupby("optimizer").last()
    assert len(final) == 7 and (start["f"] == 49 / 20 + 4).all()
    # every optimizer moves from (-7, 2) down towards the minimum at the origin
    assert (final["f"] < 0.5 * start["f"]).all()
    assert (run / "paths.png").stat().st_size > 10_000


def test_help_imports_no_heavy_module():
    code = "import sys, dnnexp.cli; print(sorted(m for m in ('numpy', 'pandas', 'matplotlib') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ})
    assert done.stdout.strip() == "[]"


def test_plot_of_several_runs_leaves_runs_listing_runs_only(cli, write_spec, runs_dir, tmp_path, monkeypatch):
    for lr in ("0.01", "0.001"):
        assert cli("train", write_spec(), "--runs-dir", runs_dir, "--quiet", "--set", f"optimizer.lr={lr}").exit_code == 0
    monkeypatch.chdir(tmp_path)
    drawn = cli("plot", *sorted(runs_dir.iterdir()))
    assert drawn.exit_code == 0, drawn.output
    (picture,) = tmp_path.glob("compare-*.png")
    assert f"wrote {picture.name}" in drawn.output
    assert all(p.is_dir() for p in runs_dir.iterdir())
    # What `runs/*` expands to when something else sits there: noted, skipped, the runs compared.
    (runs_dir / "notes.txt").write_text("mine\n")
    table = cli("compare", *sorted(runs_dir.iterdir()), "--format", "csv")
    assert table.exit_code == 0, table.output
    assert f"note: skipped {runs_dir / 'notes.txt'}: a file, not a run folder" in table.output
    assert "optimizer.lr" in table.output
    alone = cli("compare", runs_dir / "notes.txt")
    assert alone.exit_code == 2 and "is a file, not a run folder" in alone.output


def test_version_short_help_and_shell_completion(cli):
    from dnnexp import __version__

    version = cli("--version")
    assert version.exit_code == 0 and version.output.strip() == f"dnnexp {__version__}"
    short = cli("compare", "-h")
    assert short.exit_code == 0 and "--format" in short.output
    main_help = cli("-h").output
    assert "--install-completion" in main_help and "--show-completion" in main_help
    script = subprocess.run(
        [sys.executable, "-m", "dnnexp", "--show-completion", "bash"], capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    assert script.returncode == 0 and "complete" in script.stdout and "_DNNEXP_COMPLETE" in script.stdout


@pytest.mark.parametrize(
    ("args", "choices"),
    [
        (("compare", "-h"), "table|csv|markdown|json"),
        (("sample", "-h"), "greedy|sample"),
        (("list", "-h"), "models|layers|activations"),
        (("data", "fetch", "-h"), "mnist|fashion_mnist|cifar10"),
    ],
)
def test_help_shows_the_choices_an_option_takes(cli, args, choices):
    result = cli(*args)
    assert result.exit_code == 0 and choices in result.output


def test_a_choice_outside_the_list_is_refused_by_name(cli, tmp_path):
    result = cli("compare", tmp_path, "--format", "xml")
    assert result.exit_code == 2 and "'xml' is not one of 'table', 'csv', 'markdown', 'json'" in result.output


def test_the_declared_choices_are_what_the_code_has():
    import typing

    from dnnexp.cli import FetchableDataset, RegistryName
    from dnnexp.data.fetch import SHA256
    from dnnexp.spec.registry import REGISTRIES

    assert set(typing.get_args(FetchableDataset)) == set(SHA256)
    assert [name.removesuffix("es" if name.endswith("ses") else "s") for name in typing.get_args(RegistryName)] == list(REGISTRIES)


def test_help_names_every_environment_variable_the_code_reads(cli):
    import re

    package = Path(__file__).parents[1] / "dnnexp"
    read = set()
    for source in package.rglob("*.py"):
        read |= set(re.findall(r"\b(DNNEXP_[A-Z_]+)\b", source.read_text(encoding="utf-8")))
    assert {"DNNEXP_THREADS", "DNNEXP_DEBUG", "DNNEXP_DATA", "DNNEXP_MIRROR"} <= read
    help_text = cli("--help").output
    assert all(name in help_text for name in read | {"XDG_CACHE_HOME"}), read - set(help_text.split())


def test_validate_resolved_prints_a_spec_that_resolves_to_itself(cli, write_spec, tmp_path):
    result = cli("validate", write_spec(), "--resolved", "--set", "optimizer.lr=0.05")
    assert result.exit_code == 0, result.output
    resolved = yaml.safe_load(result.output)
    assert resolved["optimizer"] == {"name": "adam", "lr": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-08}
    assert resolved["model"]["layers"][0]["init"] == {"name": "he_normal"}
    assert resolved["train"]["epochs"] == 4 and "early_stopping" in resolved["train"]
    again = tmp_path / "resolved.yaml"
    again.write_text(result.output)
    assert yaml.safe_load(cli("validate", again, "--resolved").output) == resolved


def test_list_of_one_kind_shows_arguments_with_bounds_and_defaults(cli):
    result = cli("list", "optimizers")
    assert result.exit_code == 0, result.output
    for line in ("lr: float > 0 = 0.001", "beta1: 0 ≤ float < 1 = 0.9", "momentum: 0 ≤ float < 1 = 0.9"):
        assert line in result.output
    layers = cli("list", "layers").output
    assert "units: int ≥ 1 (required)" in layers and "activation: tanh | relu = tanh" in layers


def test_list_descriptions_are_whole_sentences():
    from dnnexp.spec.registry import REGISTRIES

    for registry in REGISTRIES.values():
        for name in registry.names():
            assert registry.describe(name).endswith((".", ")")), (registry.kind, name, registry.describe(name))


def test_report_of_a_sweep_folder_beside_a_single_run(cli, write_spec, runs_dir, tmp_path):
    assert cli("train", write_spec(), "--runs-dir", runs_dir, "--quiet").exit_code == 0
    swept = cli("train", write_spec(), "--runs-dir", runs_dir, "--quiet", "--set", "optimizer.lr=0.01,0.001", "--sweep")
    assert swept.exit_code == 0, swept.output
    out = tmp_path / "report.html"
    result = cli("report", runs_dir, "-o", out)
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    # the single run and the sweep's two trials, found below its folder
    assert page.count('<section id="run-') == 3 and "optimizer.lr" in page
    assert "http://" not in page and "https://" not in page
    assert cli("report", runs_dir / "nothing-here").exit_code == 2


def billion_laughs(levels: int = 10) -> str:
    """A flow mapping of anchors, each a list of nine aliases of the one before: 9¹⁰ values."""
    anchors = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    anchors += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "{" + ", ".join(anchors) + "}"


#: a hostile or careless spec → (files to write beside it, the spec's text, --set values, what the message says)
HOSTILE = {
    "alias bomb": ({}, f"data: {billion_laughs()}\n", [], "once its aliases (*name) are expanded"),
    "alias bomb in --set": ({}, None, [f"data={billion_laughs()}"], "once its aliases (*name) are expanded"),
    "alias bomb in an extended file": (
        {"base.yaml": f"data: {billion_laughs()}\n"}, "extends: base.yaml\n", [], "once its aliases (*name) are expanded"
    ),
    "extends /dev/zero": ({}, "extends: /dev/zero\n", [], "/dev/zero is an absolute path"),
    "extends a named pipe": ({"pipe.yaml": os.mkfifo}, "extends: pipe.yaml\n", [], "pipe.yaml is a named pipe, not a file"),
    "deep nesting": ({}, "data: " + "[" * 400 + "]" * 400 + "\n", [], "nested more than 50 levels deep"),
    "a long extends chain": (
        {f"s{i}.yaml": f"extends: s{i + 1}.yaml\n" for i in range(300)}, "extends: s0.yaml\n", [],
        "more than 10 specs extend one another",
    ),
    "a control character": ({}, "name: x\x00\n", [], "spec.yaml:1:8: the control character U+0000 cannot be in a YAML file"),
    "a control character in --set": ({}, None, ["name=a\x07"], "--set name=a\\x07:1:2: the control character U+0007"),
    "a NaN learning rate": ({}, None, ["optimizer.lr=.nan"], "optimizer.lr: .nan is not a finite number"),
    "an infinite penalty": ({}, None, ["regularization={l2: 1e999}"], "regularization.l2: 1e999 is not a finite number"),
    "a run name that reads as an option": ({}, None, ["name=-rf"], "'-rf' cannot name a run folder"),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_hostile_specs_fail_fast_with_one_message_and_no_run_folder(cli, blobs_spec, tmp_path, runs_dir, case):
    beside, text, overrides, message = HOSTILE[case]
    for name, content in beside.items():
        content(tmp_path / name) if callable(content) else (tmp_path / name).write_text(content)
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(blobs_spec) if text is None else text)
    started = time.perf_counter()
    result = cli("train", spec, "--runs-dir", runs_dir, *(arg for value in overrides for arg in ("--set", value)))
    assert time.perf_counter() - started < 5  # the alias bombs took minutes and gigabytes
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.output.count("error:") == 1
    assert message in result.output, result.output
    assert "learning rate" not in result.output
    assert not runs_dir.exists()


@pytest.mark.parametrize("path", ["/dev/zero", "pipe.yaml"])
def test_a_spec_that_is_not_a_regular_file_is_refused_at_once(tmp_path, path):
    os.mkfifo(tmp_path / "pipe.yaml")
    done = subprocess.run(  # a separate process, so that a read that never ends fails the test rather than hangs it
        [sys.executable, "-m", "dnnexp", "train", path, "--runs-dir", "runs"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{path} is a {'device' if path == '/dev/zero' else 'named pipe'}, not a file" in done.stderr
    assert not (tmp_path / "runs").exists()


def test_rich_markup_in_paths_is_printed_as_written(cli, write_spec, tmp_path):
    folder = tmp_path / "[red]specs[/x]"  # '[/x]' is also a folder 'x]' in a folder '[red]specs['
    folder.mkdir(parents=True)
    spec = write_spec(filename="spec.yaml").rename(folder / "spec.yaml")
    runs_dir = tmp_path / "runs[/x]"
    trained = cli("train", spec, "--runs-dir", runs_dir)  # with progress: the run name line, the per-epoch lines
    assert trained.exit_code == 0, trained.output
    run = only_run(runs_dir)
    assert f"completed: {run}" in trained.output
    missing = cli("validate", folder / "nope.yaml")
    assert missing.exit_code == 2 and f"error: {folder / 'nope.yaml'}: no such spec file" in missing.output
    compared = cli("compare", runs_dir)
    assert compared.exit_code == 0 and run.name in compared.output
    drawn = cli("plot", run, "-o", folder / "curves.png")
    assert drawn.exit_code == 0 and f"wrote {folder / 'curves.png'}" in drawn.output


@pytest.mark.parametrize("option", [["--dry-run"], ["--yes"], ["--workers", "2"]])
def test_sweep_options_without_a_sweep_are_refused_before_anything_trains(cli, write_spec, runs_dir, option):
    result = cli("train", write_spec(), "--runs-dir", runs_dir, *option)
    assert result.exit_code == 2 and "are for sweeps (with --sweep or --seeds)" in result.output
    assert not runs_dir.exists()


def test_a_shipped_sweep_file_given_to_train_names_the_command_that_runs_it(cli):
    result = cli("train", "configs/sweeps/init-compare.yaml")
    assert result.exit_code == 2 and "dnnexp sweep" in result.output
