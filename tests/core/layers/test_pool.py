"""Max, average and global average pooling against slow loops, their gradients (max pooling's also
against its course-form reference), ties, and shapes."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core.gradcheck import check_layer
from dnnexp.core.layers import ShapeError

TOLERANCE = 1e-6


# (spec arguments, input (C, H, W), window, stride, pads, output (C, OH, OW))
CASES = {
    "2×2 side by side": ({"pool_size": 2}, (2, 6, 4), (2, 2), (2, 2), (0, 0, 0, 0), (2, 3, 2)),
    "overlapping 3×3 stride 2 same": (
        {"pool_size": 3, "stride": 2, "padding": "same"}, (1, 7, 6), (3, 3), (2, 2), (1, 1, 0, 1), (1, 4, 3),
    ),
    "non-square, padding 1": ({"pool_size": [2, 3], "stride": 1, "padding": 1}, (2, 4, 5), (2, 3), (1, 1), (1, 1, 1, 1), (2, 5, 5)),
    "drop remainder": ({"pool_size": 2, "drop_remainder": True}, (1, 7, 5), (2, 2), (2, 2), (0, 0, 0, 0), (1, 3, 2)),
    "gaps between windows": ({"pool_size": 2, "stride": 3, "drop_remainder": True}, (2, 6, 6), (2, 2), (3, 3), (0, 0, 0, 0), (2, 2, 2)),
}
KINDS = {"maxpool2d": (np.max, -np.inf), "avgpool2d": (np.mean, 0.0)}


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("kind", KINDS)
def test_forward_matches_the_loop_over_windows(build_layer, loop_windows, kind, case, batch) -> None:
    args, shape, size, stride, pads, out_shape = CASES[case]
    layer = build_layer({"type": kind, **args}, shape)
    x = np.random.default_rng(0).normal(size=(batch, *shape))
    out = layer.forward(x)
    assert out.shape == (batch, *out_shape)
    reduce, fill = KINDS[kind]
    np.testing.assert_allclose(out, reduce(loop_windows(x, size, stride, pads, fill), axis=(4, 5)), rtol=1e-12)


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("kind", KINDS)
def test_gradients_match_finite_differences(build_layer, kind, case, batch) -> None:
    args, shape, *_ = CASES[case]
    layer = build_layer({"type": kind, **args}, shape)
    errors = check_layer(layer, np.random.default_rng(1).normal(size=(batch, *shape)))
    assert set(errors) == {"x"} and errors["x"] < TOLERANCE, errors


@pytest.mark.parametrize("channels_last", [False, True], ids=["NCHW in memory", "channels-last input"])
@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
@pytest.mark.parametrize("case", CASES)
def test_max_pool_backward_matches_the_course_form_argmax_scatter(build_layer, case, ties, channels_last) -> None:
    """The fast backward (winners claimed offset by offset) against backward_reference (dout
    written at each window's argmax, then col2im): overlapping windows, padding, and inputs of
    three values only, where most windows hold their maximum more than once; also an input
    channels-last in memory (a convolution's output) with dout in NCHW order, laid out anew."""
    args, shape, *_ = CASES[case]
    layer = build_layer({"type": "maxpool2d", **args}, shape)
    rng = np.random.default_rng(4)
    x = rng.integers(0, 3, size=(2, *shape)).astype(np.float64) if ties else rng.normal(size=(2, *shape))
    if channels_last:
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    dout = rng.normal(size=layer.forward(x).shape)
    np.testing.assert_allclose(layer.backward(dout), layer.backward_reference(dout), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("args", [{"pool_size": 2}, {"pool_size": 2, "stride": 1}], ids=["apart", "overlapping"])
def test_a_tied_maximum_passes_the_gradient_to_its_first_element_only(build_layer, args) -> None:
    layer = build_layer({"type": "maxpool2d", **args}, (1, 2, 4))
    x = np.array([[[[0.0, 5.0, 5.0, 1.0], [5.0, 1.0, 5.0, 5.0]]]])
    out = layer.forward(x)
    np.testing.assert_array_equal(out, np.full(out.shape, 5.0))
    dx = layer.backward(np.ones_like(out))
    # Each window's gradient goes to its first 5 in row-major order, as an argmax picks it.
    expected = [[0.0, 1.0, 1.0, 0.0], [0.0] * 4] if "stride" not in args else [[0.0, 2.0, 1.0, 0.0], [0.0] * 4]
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_global_average_pooling_averages_each_channel(build_layer) -> None:
    layer = build_layer({"type": "global_avg_pool2d"}, (3, 4, 5))
    x = np.random.default_rng(2).normal(size=(2, 3, 4, 5))
    np.testing.assert_allclose(layer.forward(x), x.mean(axis=(2, 3)))
    for batch in (1, 4):
        assert check_layer(layer, np.random.default_rng(3).normal(size=(batch, 3, 4, 5)))["x"] < TOLERANCE


@pytest.mark.parametrize(
    "spec, shape, message",
    [
        (
            {"type": "maxpool2d", "pool_size": 2, "stride": 2}, (3, 7, 7),
            "input 7×7, pool 2, stride 2, padding 0 → (7 + 0 − 2)/2 + 1 = 3.5 is not a whole number",
        ),
        ({"type": "avgpool2d", "pool_size": 3, "padding": 2}, (1, 6, 6), "padding 2 is more than half the pool 3"),
        ({"type": "maxpool2d"}, (10,), "takes images (C, H, W), got (10,)"),
        ({"type": "global_avg_pool2d"}, (10,), "takes images (C, H, W), got (10,)"),
    ],
)
def test_shapes_that_do_not_fit_are_refused(output_shape, spec, shape, message) -> None:
    with pytest.raises(ShapeError) as caught:
        output_shape(spec, shape)
    assert message in str(caught.value)
