"""Finite-difference gradient checks: every backward pass measured against the definition of a derivative.

The course checks backpropagation against the numerical gradient (f(x + h) − f(x − h)) / 2h, one
element at a time. Here that is one function, `numerical_gradient`, and three checks built on it:

- `check_layer`: dL/dx and every dL/dparam of a built layer, for L = Σ forward(x) · R;
- `check_loss`: dL/dy of a loss, on probabilities or fused on pre-activations;
- `check_model`: every parameter of a model (`Sequential`, an encoder-decoder) through its loss.

Each returns relative errors (see `relative_error`); in float64 a correct backward pass gives about
1e-9, a wrong one 1e-2 or more. Build layers and models with `dtype=np.float64`: in float32 the
rounding noise of a central difference is as large as the derivative of many elements.
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from dnnexp.core.layers.base import Layer
from dnnexp.core.losses import Loss
from dnnexp.core.models.base import Model

#: central-difference step: the truncation error grows as h², the float64 rounding error as 1e-16 / h;
#: at 1e-5 both stay near 1e-10
STEP = 1e-5

#: smallest denominator of a relative error, so two gradients that are both exactly zero (a step
#: function, a dropped unit) compare as 0 instead of 0/0
RELATIVE_ERROR_FLOOR = 1e-12


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = STEP) -> np.ndarray:
    """Central-difference gradient of the scalar `f()` with respect to the float64 array `x`.

    `x` is perturbed in place, one element at a time, and restored; `f` must read it (e.g. a
    layer's own parameter array, or a closure over the input). Returns an array shaped like `x`.
    """
    if x.dtype != np.float64:
        raise TypeError(f"numerical gradients need float64 arrays, got {x.dtype}: build with dtype=np.float64")
    grad = np.zeros_like(x)
    # A loop over elements is the point here: each one is its own pair of forward passes.
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + h
        plus = f()
        x[index] = original - h
        minus = f()
        x[index] = original
        grad[index] = (plus - minus) / (2 * h)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """‖a − b‖ / (‖a‖ + ‖b‖): 0 for equal gradients, 1 for opposite ones, ~0.7 for unrelated ones.

    One number per array, in L2 norm: an element-wise ratio would blow up on the elements whose
    derivative is near zero, where the finite difference's rounding noise (~1e-10) is all there is.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"gradients of different shapes: {a.shape} and {b.shape}")
    scale = max(float(np.linalg.norm(a) + np.linalg.norm(b)), RELATIVE_ERROR_FLOOR)
    return float(np.linalg.norm(a - b)) / scale


def fixed_noise(layers: Iterable[Layer], seed: int = 0) -> Callable[[], None]:
    """A hook that gives every layer with a random stream (`layer.rng`, e.g. dropout) a fresh one
    seeded with `seed`, so that each forward pass draws the same noise (the same dropout mask)."""
    noisy = [layer for layer in layers if hasattr(layer, "rng")]

    def reseed() -> None:
        for layer in noisy:
            layer.rng = np.random.default_rng(seed)

    return reseed


def check_layer(
    layer: Layer,
    x: np.ndarray,
    train: bool = True,
    seed: int = 0,
    before_forward: Callable[[], None] | None = None,
) -> dict[str, float]:
    """Relative errors of a built layer's backward pass against finite differences.

    The scalar checked is L = Σ forward(x) · R with a fixed random R (seeded by `seed`), so every
    output element counts and dL/dout = R. Returns {"x": error of dL/dx, "<param>": error of
    dL/dparam, …}; "x" is left out when the layer skips its input gradient (`needs_input_grad`
    False, as for a model's first layer). `before_forward` runs before every forward
    pass; by default it re-seeds the layer's `rng`, if it has one, so dropout keeps one mask.
    """
    reseed = before_forward or fixed_noise([layer], seed)
    x = np.array(x, dtype=np.float64)
    reseed()
    R = np.random.default_rng(seed).standard_normal(layer.forward(x, train).shape)
    dx = layer.backward(R.copy())
    # Copies: later forward passes may overwrite what backward returned or wrote.
    analytic = {key: grad.copy() for key, grad in layer.grads.items()}
    if layer.needs_input_grad:
        analytic["x"] = np.array(dx)

    def scalar() -> float:
        reseed()
        return float(np.sum(layer.forward(x, train) * R))

    wrt = {**layer.params, "x": x}
    return {key: relative_error(analytic[key], numerical_gradient(scalar, wrt[key])) for key in analytic}


def check_loss(loss: Loss, y: np.ndarray, t: np.ndarray, logits: bool = False) -> float:
    """Relative error of a loss's gradient dL/dy against finite differences.

    `logits=False` checks `forward(y, t)`/`backward()` on outputs y (probabilities for the
    cross-entropies); `logits=True` checks the fused `forward_logits(u, t)`/`backward_logits()`
    on pre-activations u passed as `y`.
    """
    forward, backward = (loss.forward_logits, loss.backward_logits) if logits else (loss.forward, loss.backward)
    y = np.array(y, dtype=np.float64)
    forward(y, t)
    analytic = np.array(backward())
    return relative_error(analytic, numerical_gradient(lambda: forward(y, t), y))


def check_model(
    model: Model,
    x: np.ndarray,
    t: np.ndarray,
    loss: Loss,
    train: bool = True,
    seed: int = 0,
    before_forward: Callable[[], None] | None = None,
) -> dict[str, float]:
    """Relative errors of every parameter gradient of a model, through `forward_loss`/`backward_loss`.

    The path is the one training takes: fused (softmax + cross-entropy, sigmoid + binary
    cross-entropy) when the model ends in the loss's output activation, plain otherwise. Returns
    {"dense1.W": error, …}. `before_forward` as in `check_layer` (default: fixed dropout masks).
    """
    reseed = before_forward or fixed_noise(model.layers, seed)
    x = np.asarray(x, dtype=np.float64)

    def scalar() -> float:
        reseed()
        return model.forward_loss(x, t, loss, train)[0]

    scalar()
    model.backward_loss(loss)
    analytic = {key: grad.copy() for key, grad in model.grads.items()}
    return {key: relative_error(analytic[key], numerical_gradient(scalar, model.params[key])) for key in analytic}
