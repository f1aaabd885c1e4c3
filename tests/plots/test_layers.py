"""Layer statistics and activation histograms: panels, lines per layer, missing and damaged files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dnnexp.errors import RunDirError
from dnnexp.plots.layers import activations_figure, layer_stats_figure, plot_activations, plot_layer_stats
from dnnexp.runs.rundir import RunDir

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_layer_stats_draw_one_line_per_layer_and_log_gradients(make_run, tmp_path: Path) -> None:
    run = RunDir.open(make_run(epochs=4, layer_stats=True))
    fig = layer_stats_figure(run)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["activation mean", "activation std", "parameter gradient norm", "output gradient norm"]
    mean, _, grad, dout = fig.axes
    assert [line.get_label() for line in mean.get_lines()] == ["dense1", "sigmoid1", "dense2", "softmax"]
    # Only the dense layers have parameters, so only they have a parameter gradient norm.
    assert [line.get_label() for line in grad.get_lines()] == ["dense1", "dense2"]
    assert grad.get_yscale() == "log" and dout.get_yscale() == "log" and mean.get_yscale() == "linear"
    assert list(grad.get_lines()[0].get_ydata()) == pytest.approx([1e-3 / e for e in range(1, 5)])
    # Each layer looks different from every other, neighbours by colour as well.
    looks = [(line.get_color(), line.get_marker()) for line in mean.get_lines()]
    assert len(set(looks)) == len(looks)
    assert all(a[0] != b[0] for a, b in zip(looks, looks[1:]))
    assert all(float(t).is_integer() for t in grad.get_xticks())

    out = plot_layer_stats(run, tmp_path / "stats.png")
    assert out.read_bytes()[:8] == PNG_MAGIC and out.stat().st_size > 5000


def test_activation_histograms_have_a_row_per_stage_and_a_column_per_layer(make_run, tmp_path: Path) -> None:
    run = RunDir.open(make_run(activations=True))
    fig = activations_figure(run)
    assert len(fig.axes) == 4
    top_left, top_right, bottom_left, _ = fig.axes
    assert [top_left.get_title(), top_right.get_title()] == ["sigmoid1", "softmax"]
    assert [top_left.get_ylabel(), bottom_left.get_ylabel()] == ["init: count", "final: count"]
    assert bottom_left.get_xlabel() == "sigmoid output"
    # Every sample lands in a bar; init and final share the layer's range so the pictures line up.
    assert sum(patch.get_height() for patch in top_left.patches) == 500
    assert top_left.patches[0].get_x() == pytest.approx(bottom_left.patches[0].get_x())

    out = plot_activations(run, tmp_path / "activations.svg")
    assert "<svg" in out.read_text()


def test_each_histogram_spans_its_activations_range_with_the_middle_marked(make_run) -> None:
    run = RunDir.open(make_run())
    bunched = np.full(200, 0.5, np.float32) + np.linspace(-0.01, 0.01, 200, dtype=np.float32)
    run.save_npz("activations.npz", {
        "init/sigmoid1": bunched, "init/tanh1": bunched - 0.5, "init/relu1": np.linspace(0, 3, 200, dtype=np.float32),
        "init/decoder.softmax2": bunched / 5, "init/leaky_relu1": np.linspace(-0.1, 2, 200, dtype=np.float32),
    })
    sigmoid, tanh, relu, softmax, leaky = activations_figure(run).axes
    # Outputs bunched at 0.5 stay a narrow spike inside [0, 1] instead of filling a zoomed-in panel.
    assert sigmoid.get_xlim() == (0.0, 1.0) and tanh.get_xlim() == (-1.0, 1.0) and softmax.get_xlim() == (0.0, 1.0)
    assert relu.get_xlim() == pytest.approx((0.0, 3.0))  # no top of its own: up to the largest output
    assert leaky.get_xlim() == pytest.approx((-0.1, 2.0))
    assert [list(ax.lines[0].get_xdata()) for ax in (sigmoid, tanh)] == [[0.5, 0.5], [0.0, 0.0]]
    assert not relu.lines and not softmax.lines  # no middle to mark
    assert [ax.get_xlabel() for ax in (sigmoid, softmax)] == ["sigmoid output", "softmax output"]


def test_missing_files_say_to_turn_layer_stats_on(make_run) -> None:
    run = RunDir.open(make_run())
    with pytest.raises(RunDirError, match=r"no layer_stats\.csv; a supervised run records it: set `logging\.layer_stats: true`"):
        layer_stats_figure(run)
    with pytest.raises(RunDirError, match=r"no activations\.npz; a supervised run records it: set `logging\.layer_stats: true`"):
        activations_figure(run)


def test_a_model_without_activation_layers_is_told_so(make_run) -> None:
    """A transformer's or a seq2seq's layers keep their nonlinearities inside: nothing to draw."""
    run = RunDir.open(make_run())
    run.save_npz("activations.npz", {})
    with pytest.raises(RunDirError, match="no activation layers of its own to draw; `--layer-stats` shows"):
        activations_figure(run)


def test_badly_keyed_activations_are_refused(make_run) -> None:
    run = RunDir.open(make_run())
    run.save_npz("activations.npz", {"relu1": np.zeros(3, np.float32)})
    with pytest.raises(RunDirError, match="key 'relu1' is not 'init/<layer>'"):
        activations_figure(run)


def test_non_finite_activations_do_not_break_the_histogram(make_run) -> None:
    run = RunDir.open(make_run())
    run.save_npz("activations.npz", {"init/relu": np.array([0.0, 1.0, 2.0], np.float32),
                                     "final/relu": np.array([np.nan, np.inf, 1.0], np.float32)})
    fig = activations_figure(run)
    assert sum(patch.get_height() for patch in fig.axes[1].patches) == 1
