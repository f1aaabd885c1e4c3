from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core.agents.base import EnvInfo
from dnnexp.core.agents.features import OneHot, TileCoding, build_features, input_shape, observations

BOX = EnvInfo(None, (2,), 2)


def tile_coding(**args) -> TileCoding:
    return build_features({"kind": "tile_coding", "low": [0.0, 0.0], "high": [1.0, 1.0], **args}, BOX)


def test_one_hot_activates_the_state_itself() -> None:
    features = build_features("one_hot", EnvInfo(6, (), 2))
    assert isinstance(features, OneHot) and features.size == 6
    np.testing.assert_array_equal(features.active(np.array([3, 0])), [[3], [0]])


def test_tile_coding_activates_one_tile_per_tiling_each_in_its_own_block() -> None:
    features = tile_coding(tilings=4, tiles=3)
    active = features.active(np.random.default_rng(0).uniform(-0.5, 1.5, (100, 2)))
    assert active.shape == (100, 4) and features.size == 4 * 4**2
    # tiling i's tiles are i·16 … i·16 + 15, so the four never share a feature
    np.testing.assert_array_equal(active // 16, np.broadcast_to(np.arange(4), (100, 4)))


def test_tile_coding_shares_more_tiles_between_nearer_states() -> None:
    features = tile_coding(tilings=8, tiles=4)
    shared = [len(np.intersect1d(*features.active(np.array([[0.5, 0.5], [0.5 + d, 0.5]])))) for d in (0.0, 0.03, 0.2, 0.6)]
    assert shared[0] == 8 and shared == sorted(shared, reverse=True) and shared[-1] == 0


def test_tile_coding_counts_states_beyond_the_box_as_on_its_edge() -> None:
    features = tile_coding(tilings=2, tiles=4)
    np.testing.assert_array_equal(features.active(np.array([[5.0, -3.0]])), features.active(np.array([[1.0, 0.0]])))


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"kind": "tile_coding", "low": [0.0], "high": [1.0]}, "low and high for each"),
        ({"kind": "tile_coding", "low": [0.0, 1.0], "high": [1.0, 1.0]}, "high > low"),
        ({"kind": "tiles"}, "not a kind of features"),
        ("one_hot", "discrete world"),
    ],
)
def test_features_that_do_not_fit_the_world_are_refused(spec, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_features(spec, BOX)


def test_networks_read_discrete_states_as_one_hot_rows_and_vectors_as_float32() -> None:
    grid = EnvInfo(4, (), 2)
    assert input_shape(grid) == (4,) and input_shape(BOX) == (2,)
    np.testing.assert_array_equal(observations(grid, 2), [[0, 0, 1, 0]])
    x = observations(BOX, [np.zeros(2), np.ones(2)])
    assert x.shape == (2, 2) and x.dtype == np.float32
