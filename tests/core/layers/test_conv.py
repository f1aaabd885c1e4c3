"""conv2d against a slow loop over every output position (the independent oracle), its backward
pass against the course-form reference and finite differences, its shapes, and the messages for
shapes that do not fit."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core.gradcheck import check_layer, check_model
from dnnexp.core.layers import ShapeError
from dnnexp.core.layers.conv import conv2d_backward_reference
from dnnexp.spec.build import sequential
from dnnexp.spec.registry import LOSSES

TOLERANCE = 1e-6


# (spec arguments, input (C, H, W), stride, pads (top, bottom, left, right), output (F, OH, OW))
CASES = {
    "valid": ({"filters": 3, "kernel_size": 3}, (2, 6, 5), (1, 1), (0, 0, 0, 0), (3, 4, 3)),
    "stride 2, padding 1": (
        {"filters": 2, "kernel_size": 3, "stride": 2, "padding": 1}, (1, 7, 5), (2, 2), (1, 1, 1, 1), (2, 4, 3),
    ),
    "non-square kernel, stride and padding": (
        {"filters": 2, "kernel_size": [3, 2], "stride": [1, 2], "padding": [1, 0]}, (3, 5, 6), (1, 2), (1, 1, 0, 0), (2, 5, 3),
    ),
    "same, odd kernel": ({"filters": 2, "kernel_size": 3, "padding": "same"}, (2, 5, 4), (1, 1), (1, 1, 1, 1), (2, 5, 4)),
    # Keras pads an even kernel's extra row and column after: 1 above, 2 below for a 4-row kernel.
    "same, even kernel": (
        {"filters": 2, "kernel_size": [4, 2], "padding": "same"}, (1, 5, 4), (1, 1), (1, 2, 0, 1), (2, 5, 4),
    ),
    "same, stride 2": (
        {"filters": 2, "kernel_size": 3, "stride": 2, "padding": "same"}, (1, 7, 6), (2, 2), (1, 1, 0, 1), (2, 4, 3),
    ),
    "drop remainder": (
        {"filters": 2, "kernel_size": 2, "stride": 2, "drop_remainder": True}, (1, 5, 7), (2, 2), (0, 0, 0, 0), (2, 2, 3),
    ),
}


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("case", CASES)
def test_forward_matches_the_loop_over_positions(build_layer, loop_windows, case, batch) -> None:
    args, shape, stride, pads, out_shape = CASES[case]
    layer = build_layer({"type": "conv2d", **args}, shape)
    rng = np.random.default_rng(0)
    layer.params["b"][...] = rng.normal(size=args["filters"])
    x = rng.normal(size=(batch, *shape))
    out = layer.forward(x)
    assert out.shape == (batch, *out_shape)
    W, b = layer.params["W"], layer.params["b"]
    windows = loop_windows(x, W.shape[2:], stride, pads)  # (N, C, OH, OW, f_h, f_w)
    expected = np.einsum("ncijhw,fchw->nfij", windows, W) + b[:, None, None]  # Σ W[f] · window + b[f]
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_backward_matches_the_course_form_reference(build_layer, case) -> None:
    """dx, dW and db of the fast backward (dcol one kernel offset at a time) against
    conv2d_backward_reference (the whole dcol, then col2im): stride 2, padding, 'same', leftovers."""
    args, shape, *_ = CASES[case]
    layer = build_layer({"type": "conv2d", **args}, shape)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, *shape))
    dout = rng.normal(size=layer.forward(x).shape)
    dx = layer.backward(dout)
    expected = conv2d_backward_reference(x, layer.params["W"], dout, layer.window)
    for name, got, want in zip(("x", "W", "b"), (dx, layer.grads["W"], layer.grads["b"]), expected):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("case", CASES)
def test_gradients_match_finite_differences(build_layer, case, batch) -> None:
    args, shape, *_ = CASES[case]
    layer = build_layer({"type": "conv2d", **args}, shape)
    errors = check_layer(layer, np.random.default_rng(1).normal(size=(batch, *shape)))
    assert set(errors) == {"x", "W", "b"}
    assert max(errors.values()) < TOLERANCE, errors


def test_float32_output_and_gradients_written_into_the_same_arrays(build_layer) -> None:
    layer = build_layer({"type": "conv2d", "filters": 4, "kernel_size": 3, "padding": "same"}, (2, 6, 6), dtype=np.float32)
    grads = dict(layer.grads)
    x = np.random.default_rng(2).normal(size=(3, 2, 6, 6)).astype(np.float32)
    out = layer.forward(x)
    dx = layer.backward(np.ones_like(out))
    assert out.dtype == dx.dtype == np.float32 and dx.shape == x.shape
    assert all(layer.grads[key] is grads[key] for key in grads)
    np.testing.assert_allclose(layer.grads["b"], np.full(4, 3 * 36))
    assert layer.penalized == ("W",) and layer.params["W"].shape == (4, 2, 3, 3)


def test_first_layer_skips_the_input_gradient(build_layer) -> None:
    layer = build_layer({"type": "conv2d", "filters": 2, "kernel_size": 3, "use_bias": False}, (1, 5, 5))
    layer.needs_input_grad = False
    layer.forward(np.ones((2, 1, 5, 5)))
    assert layer.backward(np.ones((2, 2, 3, 3))) is None
    assert set(layer.grads) == {"W"}
    np.testing.assert_array_equal(layer.grads["W"], np.full((2, 1, 3, 3), 18.0))


def test_he_normal_draws_with_the_receptive_field_as_fan_in(build_layer) -> None:
    layer = build_layer({"type": "conv2d", "filters": 64, "kernel_size": 5, "init": "he_normal"}, (8, 9, 9))
    assert layer.params["W"].std() == pytest.approx(np.sqrt(2 / (8 * 5 * 5)), rel=0.05)


@pytest.mark.parametrize(
    "args, shape, message",
    [
        (
            {"kernel_size": 2, "stride": 2}, (1, 7, 7),
            "input 7×7, kernel 2, stride 2, padding 0 → (7 + 0 − 2)/2 + 1 = 3.5 is not a whole number; "
            "change the kernel size, stride or padding, or set drop_remainder: true to leave out the last row and column",
        ),
        (
            {"kernel_size": 3, "stride": 2, "padding": 1}, (1, 8, 9), "input 8×9, kernel 3, stride 2, padding 1 → "
            "height: (8 + 2 − 3)/2 + 1 = 4.5 is not a whole number; change the kernel size, stride or padding, "
            "or set drop_remainder: true to leave out the last row as",
        ),
        (
            {"kernel_size": [3, 5]}, (1, 6, 4), "input 6×4, kernel 3×5, stride 1, padding 0 → width: (4 + 0 − 5)/1 + 1 = 0 "
            "leaves nothing: the kernel is larger than the padded input; use a smaller kernel or more padding",
        ),
        ({"kernel_size": 3}, (784,), "takes images (C, H, W), got (784,)"),
    ],
)
def test_sizes_that_do_not_fit_are_refused_with_the_formula(output_shape, args, shape, message) -> None:
    with pytest.raises(ShapeError) as caught:
        output_shape({"type": "conv2d", "filters": 2, **args}, shape)
    assert message in str(caught.value)


def test_a_small_cnn_has_right_gradients_through_the_fused_loss() -> None:
    layers = [
        {"type": "conv2d", "filters": 2, "kernel_size": 3, "padding": "same", "activation": "tanh"},
        {"type": "maxpool2d", "pool_size": 2},
        {"type": "conv2d", "filters": 2, "kernel_size": 2, "activation": "relu"},
        {"type": "flatten"},
        {"type": "dense", "units": 3, "activation": "softmax"},
    ]
    model = sequential((1, 6, 6), layers, dtype=np.float64)
    rng = np.random.default_rng(5)
    errors = check_model(model, rng.normal(size=(2, 1, 6, 6)), rng.integers(0, 3, 2), LOSSES.build("cross_entropy"))
    assert set(errors) == set(model.params) and max(errors.values()) < TOLERANCE, errors
