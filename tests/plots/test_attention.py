"""Attention heatmaps: one panel per map, output tokens down, input tokens across, one 0–1 scale."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dnnexp.plots.attention import AttentionMaps, attention_figure, plot_attention


def maps(count: int, inputs: str = "sep 27", outputs: str = "09-27") -> AttentionMaps:
    rng = np.random.default_rng(0)
    weights = {f"head {k}": rng.dirichlet(np.ones(len(inputs)), len(outputs)) for k in range(count)}
    return AttentionMaps(list(inputs), list(outputs), weights)


def test_one_heatmap_per_map_with_the_tokens_on_its_axes():
    attention = maps(1)
    (ax, _colorbar) = attention_figure(attention).axes
    (image,) = ax.get_images()
    np.testing.assert_array_equal(image.get_array(), attention.maps["head 0"])
    assert image.get_clim() == (0.0, 1.0)
    assert [label.get_text() for label in ax.get_xticklabels()] == ["s", "e", "p", "␣", "2", "7"]  # a space shows
    assert [label.get_text() for label in ax.get_yticklabels()] == list("09-27")
    assert ax.get_title() == "head 0"


def test_several_maps_fill_a_grid_four_to_a_row():
    fig = attention_figure(maps(6), title="run: sep 27")
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert [ax.get_title() for ax in panels] == [f"head {k}" for k in range(6)]
    assert len([ax for ax in fig.axes if not ax.axison]) == 2  # the grid's two empty cells
    assert fig.get_suptitle() == "run: sep 27"


def test_weights_that_do_not_fit_the_tokens_are_refused():
    attention = AttentionMaps(list("ab"), list("xyz"), {"dot attention": np.zeros((2, 3))})
    with pytest.raises(ValueError, match=r"dot attention: weights \(2, 3\) do not match 3 output × 2 input tokens"):
        attention_figure(attention)


def test_written_as_png_or_svg(tmp_path: Path):
    assert plot_attention(maps(2), tmp_path / "a.png").stat().st_size > 5000
    assert plot_attention(maps(1), tmp_path / "a.svg").read_text().startswith("<?xml")
