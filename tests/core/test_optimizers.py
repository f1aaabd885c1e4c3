"""Optimizers: the course's update rules by hand, fast Adam against its course-form reference,
float32 kept, checkpointable state, descent."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from dnnexp.core import parallel
from dnnexp.core.optimizers import Adam, AdamReference
from dnnexp.core.surfaces import descend, ellipse
from dnnexp.spec.registry import OPTIMIZERS

W0 = [1.0, -2.0]
GRADS = ([0.5, -1.0], [-0.25, 1.0])

#: per registered optimizer: (arguments, w after the first gradient, w after the second), worked by
#: hand from the update rules on W0 and GRADS (ε is lr; θ, the small denominators, are left out
#: where they change nothing at 1e-6)
TWO_STEPS: dict[str, tuple[dict[str, Any], list[float], list[float]]] = {
    # w − εg: 1 − 0.1·0.5, then 0.95 + 0.1·0.25
    "sgd": ({"lr": 0.1}, [0.95, -1.9], [0.975, -2.0]),
    # V = −εg = −0.05, w = 0.95; V = 0.9·(−0.05) + 0.025 = −0.02, w = 0.93
    "momentum": ({"lr": 0.1, "momentum": 0.9}, [0.95, -1.9], [0.93, -1.91]),
    # w − μV_prev + (1 + μ)V: 1 + 1.9·(−0.05) = 0.905; 0.905 + 0.045 + 1.9·(−0.02) = 0.912
    "nesterov": ({"lr": 0.1, "momentum": 0.9}, [0.905, -1.81], [0.912, -1.919]),
    # h = g², w − εg/√h = w − ε sign g; h = 0.25 + 0.0625, 0.9 + 0.1·0.25/√0.3125
    "adagrad": ({"lr": 0.1}, [0.9, -1.9], [0.9447213595, -1.9707106781]),
    # h = 0.1·0.25, 1 − 0.1·0.5/√0.025; h = 0.9·0.025 + 0.1·0.0625, …
    "rmsprop": ({"lr": 0.1, "alpha": 0.9}, [0.6837722340, -1.6837722340], [0.8312141901, -1.9131879679]),
    # Δ = √(0 + 1e-6)/√(0.1·0.25 + 1e-6)·0.5 ≈ 0.0031622; then with E[Δ²] = 0.1·Δ²
    "adadelta": ({"rho": 0.9}, [0.9968377856, -1.9968377382], [0.9989228726, -2.0000821499]),
    # bias-corrected m̂ = g, v̂ = g²: the first step is ε sign g; then m̂ = (0.09·0.5 − 0.025)/0.19, …
    "adam": ({"lr": 0.1}, [0.9, -1.9], [0.8733662987, -1.9052631588]),
    # w(1 − ε·0.5) then Adam's step: 1·0.95 − 0.1; 0.85·0.95 − 0.0266337…
    "adamw": ({"lr": 0.1, "weight_decay": 0.5}, [0.85, -1.8], [0.7808662986, -1.7152631588]),
}

#: per registered optimizer: arguments that descend f(x, y) = x²/20 + y² (the course's comparison)
DESCENT: dict[str, dict[str, Any]] = {
    "sgd": {"lr": 0.95},
    "momentum": {"lr": 0.1},
    "nesterov": {"lr": 0.1},
    "adagrad": {"lr": 1.5},
    "rmsprop": {"lr": 0.1},
    "adadelta": {"eps": 1e-2},  # no learning rate: √eps sets the size of the first steps
    "adam": {"lr": 0.3},
    "adamw": {"lr": 0.3},
}


def table_entry(table: dict[str, Any], name: str, table_name: str) -> Any:
    assert name in table, f"optimizer '{name}' is not tested: add it to {table_name} in {__file__}"
    return table[name]


def ellipse_grads(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The gradient of the course's ellipse x²/20 + y² at params["w"] = (x, y)."""
    return {"w": ellipse(params["w"])[1]}


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_two_steps_by_hand(name: str) -> None:
    args, first, second = table_entry(TWO_STEPS, name, "TWO_STEPS")
    optimizer, params = OPTIMIZERS.build({"name": name, **args}), {"w": np.array(W0)}
    for grad, expected in zip(GRADS, (first, second)):
        optimizer.update(params, {"w": np.array(grad)})
        np.testing.assert_allclose(params["w"], expected, rtol=1e-6)


def test_adam_matches_the_course_three_lines_step_after_step() -> None:
    """The fast Adam (bias corrections folded into lr_t, one compiled pass) against
    AdamReference over ten steps, so both bias corrections change each step: the same m, v and
    parameter changes. Gradients span 1e-6…10, so ε's place matters for the small ones."""
    rng = np.random.default_rng(0)
    args = {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-4}
    fast, reference = OPTIMIZERS.build({"name": "adam", **args}), AdamReference(**args)
    start = {"W": rng.normal(size=(4, 3)), "b": rng.normal(size=3)}
    fast_params, reference_params = ({key: value.copy() for key, value in start.items()} for _ in range(2))
    for _ in range(10):
        grads = {key: rng.normal(size=value.shape) * 10.0 ** rng.uniform(-6, 1, value.shape) for key, value in start.items()}
        fast.update(fast_params, grads)
        reference.update(reference_params, grads)
        for key, value in start.items():
            np.testing.assert_allclose(fast_params[key] - value, reference_params[key] - value, rtol=1e-10, err_msg=key)
        assert fast.state.keys() == reference.state.keys()
        for name, state in fast.state.items():
            np.testing.assert_allclose(state, reference.state[name], rtol=1e-12, err_msg=name)


@pytest.mark.parametrize("name", ["adam", "adamw"])
@pytest.mark.parametrize(
    "lanes, rows, in_one", [(1, 50, False), (2, 450, False), (1, 50, True), (2, 450, True)],
    ids=["small", "in halves on two lanes", "flat", "flat in halves on two lanes"],
)
def test_adam_packed_from_its_second_step_gives_the_per_parameter_numbers(name, lanes, rows, in_one, through_npz) -> None:
    """From the second step on the same arrays, every m and v are views of two flat arrays, one
    set of passes for all; the parameters and the state come out the same bits as stepping each
    parameter alone (one optimizer each: one array is never packed), also across a checkpoint,
    after which the slots are packed again from the loaded ones. `in_one`: the parameters, and
    each step's gradients, are views of one flat array each, as a Sequential packs them
    (core/flat.py), which the optimizer then steps as such (a new one each step here)."""
    rng = np.random.default_rng(0)
    start = {"W": rng.normal(size=(rows, 1000)).astype(np.float32), "b": rng.normal(size=1000).astype(np.float32)}
    copied = in_one_array if in_one else (lambda arrays: {key: value.copy() for key, value in arrays.items()})
    packed_params, alone_params = copied(start), {key: value.copy() for key, value in start.items()}
    make = lambda: OPTIMIZERS.build({"name": name, "lr": 0.01})  # noqa: E731
    packed, alone = make(), {key: make() for key in start}
    with parallel.using(lanes):
        for step in range(6):
            grads = {key: rng.normal(size=value.shape).astype(np.float32) for key, value in start.items()}
            if in_one:
                grads = in_one_array(grads)
            if step == 3:  # resumed from a checkpoint
                packed_params = copied(packed_params)
                packed, saved = make(), packed.state_arrays()
                packed.load_state_arrays(through_npz(saved))
            packed.update(packed_params, grads)
            for key, optimizer in alone.items():
                optimizer.update({key: alone_params[key]}, {key: grads[key]})
    assert packed.state["W/m"].base is packed.state["b/m"].base  # packed again after the checkpoint
    size = sum(value.size for value in start.values())
    assert parallel.splits(size, Adam.WORK * size, exact=True) == (lanes == 2)  # halves, one a lane
    if in_one:
        assert packed._packed.flat_params is not None and packed._packed.flat_grads is not None  # taken whole
    for key in start:
        np.testing.assert_array_equal(packed_params[key], alone_params[key], err_msg=key)
        for slot in "mv":
            np.testing.assert_array_equal(packed.state[f"{key}/{slot}"], alone[key].state[f"{key}/{slot}"], err_msg=slot)


def in_one_array(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Copies of `arrays` that are consecutive views of one flat array."""
    flat = np.concatenate([array.reshape(-1) for array in arrays.values()])
    bounds = np.cumsum([0, *(array.size for array in arrays.values())])
    return {key: flat[start:stop].reshape(array.shape) for (key, array), start, stop in zip(arrays.items(), bounds, bounds[1:])}


def test_adam_reference_keeps_float32() -> None:
    reference, params = AdamReference(lr=0.1), {"w": np.array([-7.0, 2.0], np.float32)}
    for _ in range(3):
        reference.update(params, ellipse_grads(params))
    assert {array.dtype for array in [*params.values(), *reference.state.values()]} == {np.dtype(np.float32)}


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_float32_stays_float32(name: str) -> None:
    optimizer = OPTIMIZERS.build({"name": name, **table_entry(DESCENT, name, "DESCENT")})
    params = {"w": np.array([-7.0, 2.0], np.float32), "b": np.ones((2, 3), np.float32)}
    for _ in range(50):
        optimizer.update(params, {**ellipse_grads(params), "b": np.full((2, 3), 0.1, np.float32)})
    assert {array.dtype for array in [*params.values(), *optimizer.state.values()]} == {np.dtype(np.float32)}


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_restored_state_continues_the_same_trajectory(name: str, through_npz) -> None:
    args = table_entry(DESCENT, name, "DESCENT")
    optimizer, params = OPTIMIZERS.build({"name": name, **args}), {"w": np.array([-7.0, 2.0])}
    for _ in range(3):
        optimizer.update(params, ellipse_grads(params))
    restored, restored_params = OPTIMIZERS.build({"name": name, **args}), {"w": params["w"].copy()}
    restored.load_state_arrays(through_npz(optimizer.state_arrays()))
    for _ in range(3):
        optimizer.update(params, ellipse_grads(params))
        restored.update(restored_params, ellipse_grads(restored_params))
        np.testing.assert_array_equal(restored_params["w"], params["w"])


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_descends_the_course_ellipse(name: str) -> None:
    optimizer = OPTIMIZERS.build({"name": name, **table_entry(DESCENT, name, "DESCENT")})
    f = descend(ellipse, optimizer, (-7.0, 2.0), steps=50)[:, 2]
    assert f[-1] < f[0] / 10


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_sparse_rows_move_as_a_dense_update_of_those_rows_and_the_rest_stay(name: str) -> None:
    """update_rows: the touched rows (weights and state) as `update` on those rows alone; the
    others keep their weights and their state (lazy, as PyTorch's SparseAdam)."""
    rng = np.random.default_rng(0)
    W = rng.standard_normal((6, 3)).astype(np.float32)
    sparse, dense = OPTIMIZERS.build({"name": name, "lr": 0.1}), OPTIMIZERS.build({"name": name, "lr": 0.1})
    sparse_W, sub = W.copy(), W[[1, 4]].copy()
    for _ in range(3):
        grad = rng.standard_normal((2, 3)).astype(np.float32)
        sparse.update_rows({"W": sparse_W}, {"W": (np.array([1, 4]), grad)})
        dense.update({"W": sub}, {"W": grad})
    np.testing.assert_array_equal(sparse_W[[1, 4]], sub)
    np.testing.assert_array_equal(sparse_W[[0, 2, 3, 5]], W[[0, 2, 3, 5]])
    for key, value in dense.state.items():
        np.testing.assert_array_equal(sparse.state[key][[1, 4]], value)
        assert sparse.state[key].shape == W.shape and not sparse.state[key][[0, 2, 3, 5]].any()
    assert sparse.steps == dense.steps == 3


def test_adam_steps_arrays_in_any_memory_order() -> None:
    """The compiled step takes flat views: a parameter, gradient or slot in Fortran order (a
    reshape of which would be a copy) still moves, as the same numbers in C order do."""
    rng = np.random.default_rng(3)
    start = rng.normal(size=(5, 4)).astype(np.float32)
    in_c, in_f = start.copy(), np.asfortranarray(start)
    adam_c, adam_f = OPTIMIZERS.build("adam"), OPTIMIZERS.build("adam")
    adam_f.state = {name: np.asfortranarray(np.zeros_like(start)) for name in ("W/m", "W/v")}
    for _ in range(3):
        grad = rng.normal(size=start.shape).astype(np.float32)
        adam_c.update({"W": in_c}, {"W": grad})
        adam_f.update({"W": in_f}, {"W": np.asfortranarray(grad)})
    assert not np.array_equal(in_f, start)
    np.testing.assert_array_equal(in_f, in_c)
    for slot in ("W/m", "W/v"):
        np.testing.assert_array_equal(adam_f.state[slot], adam_c.state[slot])
