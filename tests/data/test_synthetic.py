import numpy as np
import pytest

from dnnexp.data import prepare
from dnnexp.data.synthetic import CURVES
from dnnexp.errors import SpecError
from dnnexp.spec.registry import DATASETS

# name → (task, feature shape, outputs a model needs)
SYNTHETIC = {
    "linear_regression": ("regression", (1,), 1),
    "nonlinear_regression": ("regression", (1,), 1),
    "xor": ("binary", (2,), 1),
    "spirals": ("binary", (2,), 1),
    "blobs": ("multiclass", (2,), 3),
}


def make(name, seed=0, **kwargs):
    return DATASETS.get(name)(rng=np.random.default_rng(seed), **kwargs)


@pytest.mark.parametrize("name", SYNTHETIC)
def test_same_seed_same_data_other_seed_other_data(name):
    a, b, c = make(name, 1), make(name, 1), make(name, 2)
    for field in ("x_train", "t_train", "x_test", "t_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.x_train, c.x_train)


@pytest.mark.parametrize("name", SYNTHETIC)
def test_test_set_is_the_tail_of_one_draw(name):
    split, whole = make(name, n=50, n_test=20), make(name, n=70, n_test=0)
    np.testing.assert_array_equal(np.concatenate([split.x_train, split.x_test]), whole.x_train)
    np.testing.assert_array_equal(np.concatenate([split.t_train, split.t_test]), whole.t_train)


@pytest.mark.parametrize("name", SYNTHETIC)
def test_shapes_dtypes_and_task(name):
    task, shape, _ = SYNTHETIC[name]
    data = make(name, n=50, n_test=20)
    assert data.task == task
    assert data.x_train.shape == (50, *shape) and data.x_test.shape == (20, *shape)
    assert data.x_train.dtype == np.float32
    if task == "multiclass":
        assert data.t_train.shape == (50,) and data.t_train.dtype == np.int64
    else:
        assert data.t_train.shape == (50, 1) and data.t_train.dtype == np.float32
    assert len(DATASETS.describe(name)) > 20


@pytest.mark.parametrize("name", SYNTHETIC)
def test_prepare_holds_out_validation_and_counts_outputs(name):
    _, shape, outputs = SYNTHETIC[name]
    batches = prepare(make(name, n=100, n_test=30), flatten=False, validation=25, subset=None, shuffle_seed=0)
    assert (len(batches.train), len(batches.val), len(batches.test)) == (75, 25, 30)
    assert batches.input_shape == shape and batches.num_outputs == outputs


@pytest.mark.parametrize("name", SYNTHETIC)
def test_no_test_set_when_n_test_is_zero_and_bad_sizes_are_spec_errors(name):
    data = make(name, n=10, n_test=0)
    assert data.x_test is None and data.t_test is None and len(data.x_train) == 10
    with pytest.raises(SpecError, match="data.n"):
        make(name, n=0)


def test_linear_regression_without_noise_lies_on_the_line():
    data = make("linear_regression", a=-3.0, b=0.5, noise=0.0)
    np.testing.assert_allclose(data.t_train, -3 * data.x_train + 0.5, atol=1e-6)
    assert -1 <= data.x_train.min() and data.x_train.max() <= 1


@pytest.mark.parametrize("function", CURVES)
def test_nonlinear_regression_follows_its_curve(function):
    data = make("nonlinear_regression", function=function, noise=0.0)
    np.testing.assert_allclose(data.t_test, CURVES[function](data.x_test), atol=1e-6)


@pytest.mark.parametrize("name, arguments", [
    ("linear_regression", {"a": -3.0, "b": 0.5}), ("nonlinear_regression", {"function": "sine"}),
    ("nonlinear_regression", {"function": "cubic"}),
])
def test_a_regression_knows_the_function_its_targets_scatter_around(name, arguments):
    noiseless = make(name, noise=0.0, **arguments)
    batches = prepare(make(name, **arguments), flatten=False, validation=10, subset=None, shuffle_seed=0)
    # The truth is the noiseless draw's function, and prepare hands it on to the plots.
    np.testing.assert_allclose(noiseless.truth(noiseless.x_train), noiseless.t_train, atol=1e-6)
    assert batches.truth is not None and batches.truth(noiseless.x_train).shape == (200, 1)


def test_classification_sets_have_no_true_function():
    assert all(make(name).truth is None for name, (task, _, _) in SYNTHETIC.items() if task != "regression")


def test_noise_is_gaussian_with_the_asked_spread():
    data = make("linear_regression", a=1.0, b=0.0, noise=0.5, n=20000, n_test=0)
    assert abs(np.std(data.t_train - data.x_train) - 0.5) < 0.01


def test_unknown_curve_is_a_spec_error():
    with pytest.raises(SpecError, match="data.function: 'tan'.*sine, cubic"):
        make("nonlinear_regression", function="tan")


def test_xor_labels_are_one_where_the_corner_signs_differ():
    data = make("xor", noise=0.0)
    assert set(np.abs(data.x_train).ravel()) == {1.0}
    np.testing.assert_array_equal(data.t_train[:, 0], data.x_train[:, 0] * data.x_train[:, 1] < 0)
    assert 0.3 < data.t_train.mean() < 0.7


def test_spirals_are_each_others_half_turn():
    turns = 1.5
    data = make("spirals", turns=turns, noise=0.0, n=400)
    radius = np.hypot(*data.x_train.T)
    angle = np.arctan2(data.x_train[:, 1], data.x_train[:, 0])
    offset = angle - 2 * np.pi * turns * radius - np.pi * data.t_train[:, 0]
    np.testing.assert_allclose(np.cos(offset), 1.0, atol=1e-4)
    assert 0.3 < data.t_train.mean() < 0.7


def test_blobs_gather_around_one_centre_per_class():
    data = make("blobs", classes=4, std=0.1, n=400)
    assert data.classes == ["0", "1", "2", "3"] and set(data.t_train) == {0, 1, 2, 3}
    for k in range(4):
        points = data.x_train[data.t_train == k]
        assert np.abs(points.std(axis=0) - 0.1).max() < 0.03
    with pytest.raises(SpecError, match="data.classes"):
        make("blobs", classes=1)
