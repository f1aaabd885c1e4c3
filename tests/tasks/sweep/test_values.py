"""Value expressions: comma lists, ranges, spaced values, distributions and seeds."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.tasks.sweep.values import ExpressionError, distribution, grid_values, seed_list, split_top_level


@pytest.mark.parametrize(
    "text, values",
    [
        ("0.1,0.01,1e-3", [0.1, 0.01, 0.001]),
        ("relu, sigmoid", ["relu", "sigmoid"]),
        ("[3,3],[5,5]", [[3, 3], [5, 5]]),
        ("'a,b',c", ["a,b", "c"]),
        ("{name: adam, lr: 0.1},sgd", [{"name": "adam", "lr": 0.1}, "sgd"]),
        ("range(4)", [0, 1, 2, 3]),
        ("range(1, 7, 2)", [1, 3, 5]),
        ("range(0, 1, 0.25)", [0.0, 0.25, 0.5, 0.75]),
        ("range(0.1, 0.4, 0.1)", [0.1, 0.2, 0.3]),
        ("linspace(0, 1, 3)", [0.0, 0.5, 1.0]),
        ("logspace(-3, -1, 3)", [0.001, 0.01, 0.1]),
    ],
)
def test_grid_expressions_give_their_values(text, values):
    assert grid_values(text) == values
    assert all(type(a) is type(b) for a, b in zip(grid_values(text), values))


@pytest.mark.parametrize(
    "text, says",
    [
        ("range(1, 5, 0)", "step is 0"),
        ("logspace(-3, -1)", "takes 3 numbers"),
        ("linspace(0, 1, 2.5)", "whole number"),
        ("loguniform(1e-4, 1e-1)", "put it under random"),
        ("0.1,,0.2", "empty item"),
    ],
)
def test_bad_grid_expressions_say_why(text, says):
    with pytest.raises(ExpressionError, match=says):
        grid_values(text)


def test_commas_inside_brackets_and_quotes_do_not_split():
    assert split_top_level("[1, 2], (3, 4), 'x,y', \"p,q\"") == ["[1, 2]", "(3, 4)", "'x,y'", '"p,q"']


def test_distributions_draw_inside_their_bounds_and_log_uniform_spreads_over_decades():
    rng = np.random.default_rng(0)
    draws = np.array([distribution("loguniform(1e-4, 1e-1)").sample(rng) for _ in range(3000)])
    assert draws.min() >= 1e-4 and draws.max() <= 1e-1
    decades = np.histogram(np.log10(draws), bins=[-4, -3, -2, -1])[0]
    assert decades.min() > 850  # about 1000 a decade
    uniform = [distribution("uniform(0.5, 0.9)").sample(rng) for _ in range(100)]
    assert 0.5 <= min(uniform) and max(uniform) <= 0.9
    assert {distribution("choice(relu, tanh)").sample(rng) for _ in range(50)} == {"relu", "tanh"}


@pytest.mark.parametrize("text", ["uniform(1, 1)", "loguniform(0, 1)", "choice()", "normal(0, 1)", "0.1"])
def test_bad_distributions_are_refused(text):
    with pytest.raises(ExpressionError):
        distribution(text)


@pytest.mark.parametrize("given, seeds", [("0-4", [0, 1, 2, 3, 4]), ("0,2", [0, 2]), ("range(3)", [0, 1, 2]), (7, [7]), ([1, 2], [1, 2])])
def test_seeds_read_as_ranges_lists_and_numbers(given, seeds):
    assert seed_list(given) == seeds


@pytest.mark.parametrize("given", ["0,0", "-1", [0.5], [], True])
def test_bad_seeds_are_refused(given):
    with pytest.raises(ExpressionError):
        seed_list(given)


@pytest.mark.parametrize("text", ["range(1e9)", "range(0, 10**9)".replace("10**9", "1000000000"), "linspace(0, 1, 1000000000)"])
def test_an_axis_of_a_billion_values_is_refused_before_any_list_is_built(text):
    """A typo such as range(1e9) used to fill the machine's memory, even under --dry-run."""
    with pytest.raises(ExpressionError, match=r"gives 1,000,000,000 values; one axis takes at most 100,000"):
        grid_values(text)


def test_a_seed_span_of_a_billion_is_refused():
    with pytest.raises(ExpressionError, match=r"seeds 0-999999999 gives 1,000,000,000 values"):
        seed_list("0-999999999")
