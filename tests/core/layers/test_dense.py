"""The dense layer: u = xW + b, its shapes, and its gradients written in place."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core.layers import ShapeError


def test_forward_is_x_times_W_plus_b(build_layer) -> None:
    layer = build_layer({"type": "dense", "units": 2}, (3,))
    layer.params["W"][...] = [[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]]
    layer.params["b"][...] = [0.5, -0.5]
    np.testing.assert_array_equal(layer.forward(np.array([[1.0, 2.0, 3.0]])), [[4.5, -1.5]])


@pytest.mark.parametrize("use_bias, params", [(True, {"W": (3, 2), "b": (2,)}), (False, {"W": (3, 2)})])
def test_parameters_and_gradients_match_in_name_shape_and_dtype(build_layer, use_bias: bool, params: dict) -> None:
    layer = build_layer({"type": "dense", "units": 2, "use_bias": use_bias}, (3,), dtype=np.float32)
    assert {key: value.shape for key, value in layer.params.items()} == params
    assert {key: value.shape for key, value in layer.grads.items()} == params
    assert {value.dtype for value in [*layer.params.values(), *layer.grads.values()]} == {np.dtype(np.float32)}
    assert layer.penalized == ("W",)


def test_init_spec_with_arguments(build_layer) -> None:
    layer = build_layer({"type": "dense", "units": 2, "init": {"name": "constant", "value": 0.5}}, (3,))
    np.testing.assert_array_equal(layer.params["W"], np.full((3, 2), 0.5))


def test_backward_writes_into_the_same_gradient_arrays(build_layer) -> None:
    layer = build_layer({"type": "dense", "units": 2}, (3,))
    grads = dict(layer.grads)
    x, dout = np.ones((4, 3)), np.ones((4, 2))
    layer.forward(x)
    dx = layer.backward(dout)
    assert all(layer.grads[key] is grads[key] for key in grads)
    np.testing.assert_array_equal(layer.grads["W"], x.T @ dout)
    np.testing.assert_array_equal(layer.grads["b"], [4.0, 4.0])
    np.testing.assert_array_equal(dx, dout @ layer.params["W"].T)


def test_first_layer_skips_the_input_gradient(build_layer) -> None:
    layer = build_layer({"type": "dense", "units": 2}, (3,))
    layer.needs_input_grad = False
    layer.forward(np.ones((4, 3)))
    assert layer.backward(np.ones((4, 2))) is None
    np.testing.assert_array_equal(layer.grads["b"], [4.0, 4.0])


def test_image_input_is_a_shape_error_that_says_to_flatten(output_shape) -> None:
    with pytest.raises(ShapeError, match="flatten"):
        output_shape({"type": "dense", "units": 2}, (1, 28, 28))
