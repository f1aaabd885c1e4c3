"""Comparing runs: differing settings, the comparison table, its sorting and its text formats."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from rich.console import Console

from dnnexp.errors import DnnexpError
from dnnexp.runs.compare import compare_runs, render, rich_table
from dnnexp.runs.rundir import RunDir


@pytest.fixture
def three_runs(make_run) -> list[RunDir]:
    """sgd (slow), adam (fast), momentum (diverged) — in that order."""
    paths = [
        make_run("sgd", epochs=4, speed=0.2),
        make_run("adam", {"optimizer.name": "adam", "optimizer.lr": 0.001}, epochs=4, speed=0.8),
        make_run("momentum", {"optimizer.name": "momentum"}, epochs=4, speed=0.5, status="diverged"),
    ]
    return [RunDir.open(path) for path in paths]


def test_compare_runs_has_a_row_per_run_with_settings_then_results(three_runs: list[RunDir]) -> None:
    frame = compare_runs(three_runs)
    assert list(frame.columns) == [
        "run", "status", "optimizer.name", "optimizer.lr",
        "final_train_loss", "final_train_acc", "final_val_loss", "final_val_acc",
        "best_val_loss", "best_val_acc", "best_epoch", "test_loss", "test_acc", "epochs", "wall_time_s",
    ]
    assert frame["run"].tolist() == [run.name for run in three_runs]
    assert frame["status"].tolist() == ["completed", "completed", "diverged"]
    assert frame["optimizer.name"].tolist() == ["sgd", "adam", "momentum"]
    assert frame["optimizer.lr"].tolist() == [0.01, 0.001, 0.01]
    metrics = three_runs[1].metrics()
    assert frame["final_train_loss"][1] == pytest.approx(metrics["train_loss"].iloc[-1])
    assert frame["best_val_acc"][1] == pytest.approx(metrics["val_acc"].max())
    assert frame["epochs"].tolist() == [4, 4, 4]


def test_compare_leaves_out_results_no_run_has(make_run) -> None:
    runs = [RunDir.open(make_run(task="regression", validation=False, speed=s)) for s in (0.1, 0.2)]
    frame = compare_runs(runs)
    assert [c for c in frame.columns if "acc" in c or "val" in c] == []
    assert {"final_train_loss", "test_loss", "epochs"} <= set(frame.columns)


def test_a_run_without_summary_shows_as_unknown(make_run) -> None:
    frame = compare_runs([RunDir.open(make_run(summary=False))])
    assert frame["status"].tolist() == ["unknown"]
    assert list(frame.columns) == ["run", "status"]


@pytest.mark.parametrize(
    ("column", "order"),
    [("best_val_acc", ["adam", "momentum", "sgd"]), ("final_train_loss", ["adam", "momentum", "sgd"]),
     ("optimizer.name", ["adam", "momentum", "sgd"])],
)
def test_sort_puts_the_best_first(three_runs: list[RunDir], column: str, order: list[str]) -> None:
    assert compare_runs(three_runs, sort=column)["optimizer.name"].tolist() == order


def test_sort_by_an_unknown_column_lists_the_choices(three_runs: list[RunDir]) -> None:
    with pytest.raises(DnnexpError, match=r"no column 'val_acc'; did you mean 'best_val_acc'\? choose one of: run, status"):
        compare_runs(three_runs, sort="val_acc")


def test_csv_and_json_parse_back(three_runs: list[RunDir]) -> None:
    frame = compare_runs(three_runs)
    from_csv = pd.read_csv(io.StringIO(render(frame, "csv")))
    pd.testing.assert_frame_equal(from_csv, frame, check_dtype=False)
    records = json.loads(render(frame, "json"))
    assert [r["run"] for r in records] == frame["run"].tolist()
    assert records[1]["final_val_acc"] == pytest.approx(frame["final_val_acc"][1])


def test_markdown_is_a_pipe_table_with_four_significant_digits() -> None:
    frame = pd.DataFrame({"run": ["a|b", "c"], "val_acc": [0.123456, None], "epochs": [10, 3]})
    assert render(frame, "markdown").splitlines() == [
        "| run | val_acc | epochs |",
        "| --- | ---: | ---: |",
        "| a\\|b | 0.1235 | 10 |",
        "| c |  | 3 |",
    ]


def test_unknown_format_lists_the_choices() -> None:
    with pytest.raises(DnnexpError, match="choose one of: table, csv, markdown, json"):
        render(pd.DataFrame(), "xml")


def test_rich_table_shows_numbers_to_four_significant_digits(three_runs: list[RunDir]) -> None:
    frame = compare_runs(three_runs)
    table = rich_table(frame, width=400)
    assert [str(c.header) for c in table.columns] == list(frame.columns)
    console = Console(record=True, width=400, color_system=None)
    console.print(table)
    text = console.export_text()
    assert f"{frame['final_val_acc'][0]:.4g}" in text
    assert repr(float(frame["final_val_acc"][0])) not in text
    assert "diverged" in text and three_runs[2].name in text


def test_a_table_too_wide_for_the_terminal_is_turned_on_its_side(three_runs: list[RunDir]) -> None:
    frame = compare_runs(three_runs)
    table = rich_table(frame, width=60)
    assert [str(c.header) for c in table.columns] == ["", *frame["run"]]
    assert table.row_count == len(frame.columns) - 1
    console = Console(record=True, width=60, color_system=None)
    console.print(table)
    assert "final_val_acc" in console.export_text()


def test_different_architectures_get_one_line_each_in_a_layers_column(make_run) -> None:
    cnn = [
        {"type": "conv2d", "filters": 8, "kernel_size": [3, 3], "stride": 1, "padding": "same", "init": {"name": "he_normal"},
         "activation": "relu"},
        {"type": "maxpool2d", "pool_size": 2, "stride": None},
        {"type": "flatten"},
        {"type": "dense", "units": 10, "init": {"name": "xavier_normal"}, "use_bias": True, "activation": "softmax"},
    ]
    runs = [RunDir.open(make_run("mlp")), RunDir.open(make_run("cnn", {"model.layers": cnn, "optimizer.lr": 0.1}))]
    frame = compare_runs(runs)
    assert [c for c in frame.columns if c.startswith("model")] == ["model.layers"]
    assert "optimizer.lr" in frame.columns
    assert frame["model.layers"].tolist() == [
        "dense(units=50, init=xavier)+sigmoid → dense(units=10, init=xavier)",
        "conv2d(filters=8, kernel_size=3×3, padding=same, init=he_normal)+relu → maxpool2d → flatten → dense(units=10)+softmax",
    ]
    dense = {"type": "dense", "units": 80, "activation": "sigmoid", "init": "xavier"}
    wider = RunDir.open(make_run("wide", {"model.layers": [dense, {**dense, "units": 10, "activation": None}]}))
    assert [c for c in compare_runs([runs[0], wider]).columns if c.startswith("model")] == ["model.layers[0].units"]


@pytest.mark.parametrize("markup", [True, False], ids=["rich's default console", "dnnexp's console"])
def test_rich_table_shows_values_with_markup_as_written(make_run, markup) -> None:
    runs = [RunDir(make_run("mlp", {"optimizer.name": name}, status=status)) for name, status in
            [("[/x]", "completed"), ("[red]adam", "diverged")]]
    console = Console(record=True, width=400, color_system=None, markup=markup)
    console.print(rich_table(compare_runs(runs)))
    text = console.export_text()
    assert "[/x]" in text and "[red]adam" in text and "diverged" in text and "\\[" not in text


@pytest.mark.parametrize("content", ["[1, 2]", '"completed"', "3"])
def test_a_summary_that_is_not_an_object_is_named_in_one_message(make_run, cli, content) -> None:
    """It parses, but holds a list: compare crashed on it; now it is named as damaged."""
    good, bad = make_run(name="a"), make_run(name="b")
    (bad / "summary.json").write_text(content)
    result = cli("compare", good, bad)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{bad / 'summary.json'} cannot be read (a JSON" in " ".join(result.output.split())


def test_summary_sections_of_the_wrong_shape_are_left_empty(make_run) -> None:
    run = make_run(name="a")
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**summary, "final": 3, "test": ["x"]}))
    frame = compare_runs([RunDir(run)])
    assert frame["run"].tolist() == [run.name] and "test_acc" not in frame
