"""Learning curves: panels, line styles, legend labels, files and default paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from dnnexp.errors import DnnexpError, RunDirError
from dnnexp.plots import default_plot_path
from dnnexp.plots.curves import curves_figure, plot_curves, run_labels
from dnnexp.runs.rundir import RunDir

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def legend_labels(fig) -> list[str]:
    """The figure's legend (runs), then the first panel's (splits)."""
    legends = [*fig.legends, fig.axes[0].get_legend()]
    return [text.get_text() for legend in legends for text in legend.get_texts()]


def test_single_classification_run_has_loss_and_accuracy_panels(make_run, tmp_path: Path) -> None:
    run = RunDir.open(make_run(epochs=6))
    fig = curves_figure([run])
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    loss = fig.axes[0]
    assert [line.get_linestyle() for line in loss.get_lines()] == ["--", "-"]  # train dashed, validation solid
    assert list(loss.get_lines()[1].get_ydata()) == pytest.approx(run.metrics()["val_loss"].tolist())
    assert legend_labels(fig) == ["train", "validation"]

    out = plot_curves([run], tmp_path / "curves.png")
    assert out == tmp_path / "curves.png"
    assert out.read_bytes()[:8] == PNG_MAGIC and out.stat().st_size > 5000


def test_regression_run_has_only_a_loss_panel(make_run) -> None:
    fig = curves_figure([RunDir.open(make_run(task="regression", validation=False))])
    assert [ax.get_title() for ax in fig.axes] == ["loss"]
    assert len(fig.axes[0].get_lines()) == 1


def test_several_runs_keep_one_colour_each_and_are_labelled_by_their_settings(make_run) -> None:
    runs = [RunDir.open(make_run("sgd")), RunDir.open(make_run("adam", {"optimizer.name": "adam", "optimizer.lr": 0.001}))]
    fig = curves_figure(runs)
    loss = fig.axes[0]
    colours = [line.get_color() for line in loss.get_lines()]
    assert colours == ["C0", "C0", "C1", "C1"]
    assert legend_labels(fig) == [
        "optimizer.name=sgd, optimizer.lr=0.01",
        "optimizer.name=adam, optimizer.lr=0.001",
        "train",
        "validation",
    ]


def test_labels_fall_back_to_spec_names_then_run_folders(make_run) -> None:
    same = [RunDir.open(make_run("a")), RunDir.open(make_run("b"))]
    assert run_labels(same) == ["a", "b"]
    many = [RunDir.open(make_run("a")),
            RunDir.open(make_run("b", {"seed": 1, "loss": "mse", "optimizer.name": "adam", "train.epochs": 9}))]
    assert run_labels(many) == ["a", "b"]
    twins = [RunDir.open(make_run("a")), RunDir.open(make_run("a"))]
    assert run_labels(twins) == [run.name for run in twins]


def test_one_metric_gives_one_panel(make_run, tmp_path: Path) -> None:
    runs = [RunDir.open(make_run(speed=s)) for s in (0.2, 0.4, 0.8)]
    fig = curves_figure(runs, metric="val_acc")
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == "val_acc"
    assert len(fig.axes[0].get_lines()) == 3
    out = plot_curves(runs, tmp_path / "val_acc.svg", metric="val_acc")
    assert out.read_text().lstrip().startswith("<?xml") and "<svg" in out.read_text()


def test_unknown_metric_lists_the_choices(make_run) -> None:
    with pytest.raises(DnnexpError, match=r"no run has 'val_accuracy'; choose one of: step, lr, train_loss, train_acc"):
        curves_figure([RunDir.open(make_run())], metric="val_accuracy")


def test_a_run_without_metrics_yet(tmp_path: Path) -> None:
    run = RunDir.create(tmp_path, "empty")
    run.write_yaml("config.yaml", {"name": "empty"})
    with pytest.raises(RunDirError, match="no rows yet"):
        curves_figure([run])


def test_a_single_epoch_still_shows(make_run) -> None:
    fig = curves_figure([RunDir.open(make_run(epochs=1))])
    assert all(line.get_marker() == "o" for line in fig.axes[0].get_lines())


def test_output_must_be_png_or_svg(make_run, tmp_path: Path) -> None:
    with pytest.raises(DnnexpError, match=r"must end in \.png or \.svg"):
        plot_curves([RunDir.open(make_run())], tmp_path / "curves.jpg")
    assert not (tmp_path / "curves.jpg").exists()


def test_default_plot_path(make_run, monkeypatch: pytest.MonkeyPatch) -> None:
    from dnnexp import plots

    monkeypatch.setattr(plots, "timestamp", lambda: "20240101-120000")
    one, two = RunDir.open(make_run()), RunDir.open(make_run())
    assert default_plot_path([one], ".svg") == one.path / "learning_curves.svg"
    assert default_plot_path([one], ".png", kind="layer_stats") == one.path / "layer_stats.png"
    assert default_plot_path([one, two], ".png") == one.path.parent / "compare-20240101-120000.png"
