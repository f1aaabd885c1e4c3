"""What the report collects of runs: their table, how each differs from the others, their pictures."""

from __future__ import annotations

from dnnexp.runs.report import report_data
from dnnexp.runs.rundir import RunDir


def test_each_run_differs_from_the_others_in_its_own_values(make_run) -> None:
    runs = [RunDir.open(make_run(settings={"optimizer.lr": lr})) for lr in (0.1, 0.01, 0.01)]
    runs.append(RunDir.open(make_run(settings={"optimizer.name": "momentum", "optimizer.momentum": 0.9})))
    data = report_data(runs)

    assert list(data.table["run"]) == [run.name for run in runs]
    first, second, _, last = data.sections
    # The others' values, each once: a value this run shares with another is among them.
    assert [(d.key, d.value, d.others) for d in first.differences] == [
        ("optimizer.name", "sgd", ["sgd", "momentum"]), ("optimizer.lr", 0.1, [0.01]), ("optimizer.momentum", "(not set)", ["(not set)", 0.9]),
    ]
    assert [(d.key, d.value, d.others) for d in second.differences][1] == ("optimizer.lr", 0.01, [0.1, 0.01])
    assert [(d.key, d.value, d.others) for d in last.differences] == [
        ("optimizer.name", "momentum", ["sgd"]), ("optimizer.lr", 0.01, [0.1, 0.01]), ("optimizer.momentum", 0.9, ["(not set)"]),
    ]
    assert first.status == "completed" and "optimizer:" in first.config


def test_pictures_held_are_those_not_redrawn_from_logs(make_run) -> None:
    path = make_run(layer_stats=True)
    for name in ("filters.png", "fit.svg", "learning_curves.png", "layer_stats.png", ".filters.png.1a2b.tmp.png", "notes.txt"):
        (path / name).write_bytes(b"x")
    (section,) = report_data([RunDir.open(path)]).sections
    assert [p.name for p in section.pictures] == ["filters.png", "fit.svg"]
    assert section.differences == []
