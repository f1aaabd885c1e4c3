"""Learning curves: panels, line styles, legend labels, files and default paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from dnnexp.errors import DnnexpError, RunDirError
from dnnexp.plots import default_plot_path
from dnnexp.plots.curves import curves_figure, plot_curves
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


def test_several_runs_keep_one_colour_each_and_are_labelled_by_their_spec_names(make_run) -> None:
    runs = [RunDir.open(make_run("sgd")), RunDir.open(make_run("adam", {"optimizer.name": "adam", "optimizer.lr": 0.001}))]
    fig = curves_figure(runs)
    loss = fig.axes[0]
    colours = [line.get_color() for line in loss.get_lines()]
    assert colours == ["C0", "C0", "C1", "C1"]
    # The later run's lines are thinner, so one lying on an earlier one still shows.
    assert loss.get_lines()[0].get_linewidth() > loss.get_lines()[2].get_linewidth()
    assert legend_labels(fig) == ["sgd", "adam", "train", "validation"]


def test_a_comparison_is_titled_with_what_differs(make_run) -> None:
    optimizers = [RunDir.open(make_run("sgd")), RunDir.open(make_run("adam", {"optimizer.name": "adam"}))]
    assert curves_figure(optimizers).get_suptitle() == "optimizer: 2 runs"


def test_diverged_runs_are_marked_where_they_diverged(make_run) -> None:
    fine = RunDir.open(make_run("fine"))
    late = RunDir.open(make_run("late", epochs=3, status="diverged"))  # epochs_completed 3: diverged in epoch 4
    early = RunDir.open(make_run("early", epochs=0, summary=False))  # no row: diverged in epoch 1
    early.write_json("summary.json", {"status": "diverged", "epochs_completed": 0})
    fig = curves_figure([fine, late, early])
    loss = fig.axes[0]
    marks = [line for line in loss.get_lines() if line.get_marker() == "x"]
    # late: one ✕ at the end of each of its curves; early: one on the top edge at epoch 1
    assert [(m.get_color(), list(m.get_xdata())) for m in marks] == [("C1", [3]), ("C1", [3]), ("C2", [1])]
    assert list(marks[1].get_ydata()) == pytest.approx([late.metrics()["val_loss"].iloc[-1]])
    assert marks[2].get_clip_on() is False and list(marks[2].get_ydata()) == [1.0]
    assert legend_labels(fig)[:3] == ["fine", "late: diverged at epoch 4", "early: diverged at epoch 1"]
    assert fig.legends[0].legend_handles[1].get_marker() == "x"
    # The accuracy panel has no top edge to mean "off the scale": only the curves' ends are marked.
    assert len([line for line in fig.axes[1].get_lines() if line.get_marker() == "x"]) == 2


def test_a_diverged_run_alone_says_so_in_its_title(make_run) -> None:
    run = RunDir.open(make_run("alone", epochs=2, status="diverged"))
    assert curves_figure([run]).get_suptitle() == f"{run.name}: diverged at epoch 3"


def test_epoch_ticks_are_whole_numbers(make_run) -> None:
    fig = curves_figure([RunDir.open(make_run(epochs=2))])
    for ax in fig.axes:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks == [1.0, 2.0]


def test_long_labels_fit_inside_the_figure(make_run) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    runs = [RunDir.open(make_run(f"addition_reversed_input_and_peeky_decoder_{k}")) for k in range(3)]
    fig = curves_figure(runs, metric="val_acc")
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    legend, figure = fig.legends[0].get_window_extent(renderer), fig.bbox
    assert figure.x0 <= legend.x0 and legend.x1 <= figure.x1 and figure.y0 <= legend.y0


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
    # Several runs: the current folder, so that `runs/*` lists runs only.
    assert default_plot_path([one, two], ".png") == Path("compare-20240101-120000.png")


def test_a_loss_over_many_decades_is_drawn_on_a_log_scale(make_run) -> None:
    steady = curves_figure([RunDir.open(make_run(speed=0.5))])
    assert steady.axes[0].get_yscale() == "linear" and steady.axes[0].get_ylabel() == "loss"
    # 2.3·e^(−3·5) ≈ 7e-7: five epochs span more than three decades
    steep = curves_figure([RunDir.open(make_run(speed=0.5)), RunDir.open(make_run(speed=3.0))])
    assert steep.axes[0].get_yscale() == "log" and steep.axes[0].get_ylabel() == "loss (log scale)"
    assert steep.axes[1].get_yscale() == "linear"  # accuracy stays as it is


def test_an_output_the_system_refuses_is_one_message_and_no_file(make_run, tmp_path: Path, cli, monkeypatch) -> None:
    """plot -o under a file, or where the disk is full (a write that raises ENOSPC): one message, no picture."""
    import errno
    import os

    from dnnexp.runs import rundir

    run = make_run(epochs=2)
    (tmp_path / "file").write_text("x")
    result = cli("plot", run, "-o", tmp_path / "file" / "curves.png")
    assert result.exit_code == 2 and "file (File exists): a file of that name is in the way" in result.output
    assert "Traceback" not in result.output

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(rundir.os, "fsync", full)
    result = cli("plot", run, "-o", tmp_path / "curves.png")
    assert result.exit_code == 1 and "curves.png (No space left on device): the disk is full" in result.output
    assert [p.name for p in tmp_path.iterdir() if p.suffix in (".png", ".tmp")] == []
