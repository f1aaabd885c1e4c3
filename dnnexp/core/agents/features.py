"""What a linear agent or a network reads of a state (course Day 4 §2, function approximation).

Linear Q-learning sees a state through binary features, of which a few are active at a time,
so that Q(s, a) = Σ_{i active in s} w[i, a]:

- `one_hot`: one feature per state of a discrete world (the tabular case written as a linear one);
- `tile_coding`: for a continuous observation, `tilings` grids of `tiles` tiles per dimension over
  [low, high], each grid shifted by a fraction of a tile, one active tile per grid (Sutton &
  Barto §9.5.4): nearby states share most tiles, so what is learned for one generalises to its
  neighbours.

Spec form: `features: {kind: tile_coding, tilings: 8, tiles: 8, low: [...], high: [...]}`.
Networks instead read `observations(info, states)`: the observation vector, or for a discrete
world its one-hot row.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dnnexp.core.agents.base import EnvInfo
from dnnexp.core.kinds import declared


class Features:
    """Base binary features: `active(states)` → the indices of the active features, (N, k) int64,
    k = `active_count` of `size` features."""

    size: int
    active_count: int

    def active(self, states: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class OneHot(Features):
    """One feature per state of a discrete world: state s activates feature s alone."""

    kind = "one_hot"

    def __init__(self, info: EnvInfo):
        if info.n_states is None:
            raise ValueError("one_hot features need a discrete world; use tile_coding for continuous observations")
        self.size, self.active_count = info.n_states, 1

    def active(self, states):
        return np.asarray(states, dtype=np.int64).reshape(-1, 1)


class TileCoding(Features):
    """`tilings` grids over the box [low, high] of a continuous observation (D,), each of `tiles`
    tiles per dimension plus one for its shift; observations outside the box count as on its edge.

    Grid i is shifted by i·(1, 3, 5, …)/tilings of a tile along the dimensions: odd, different
    shifts per dimension keep the grids from lining up along the diagonal (Sutton & Barto §9.5.4).
    """

    kind = "tile_coding"

    def __init__(self, info: EnvInfo, low: list[float], high: list[float], tilings: int = 8, tiles: int = 8):
        if info.n_states is not None or len(info.obs_shape) != 1:
            raise ValueError(f"tile_coding covers a vector of real numbers, and this world observes "
                             f"{'one of its states' if info.n_states is not None else info.obs_shape}; use one_hot")
        dims = info.obs_shape[0]
        if len(low) != dims or len(high) != dims:
            raise ValueError(f"tile_coding needs low and high for each of the observation's {dims} dimensions, "
                             f"and low has {len(low)}, high {len(high)}; give {dims} numbers each")
        self.low, self.high = np.asarray(low, np.float32), np.asarray(high, np.float32)
        if not np.all(self.high > self.low):
            raise ValueError(f"tile_coding needs high > low in every dimension, and dimension(s) "
                             f"{np.flatnonzero(self.high <= self.low).tolist()} are not; widen them")
        self.tilings, self.tiles = tilings, tiles
        per_tiling = (tiles + 1) ** dims
        self.size, self.active_count = tilings * per_tiling, tilings
        self.shifts = (np.arange(tilings)[:, None] * (2 * np.arange(dims) + 1) / tilings % 1.0).astype(np.float32)
        self.strides = ((tiles + 1) ** np.arange(dims - 1, -1, -1)).astype(np.int64)
        self.offsets = np.arange(tilings, dtype=np.int64) * per_tiling

    def active(self, states):
        """states (N, D) → (N, tilings): one tile per grid."""
        x = np.clip(np.asarray(states, np.float32).reshape(-1, len(self.low)), self.low, self.high)
        scaled = (x - self.low) / (self.high - self.low) * self.tiles  # in [0, tiles]
        cells = np.floor(scaled[:, None, :] + self.shifts).astype(np.int64)  # (N, tilings, D)
        return np.minimum(cells, self.tiles) @ self.strides + self.offsets


def build_features(spec: str | dict[str, Any] | Features, info: EnvInfo) -> Features:
    """Features from their spec form (a kind's name, or `{kind: …, **arguments}`) for `info`'s world."""
    if isinstance(spec, Features):
        return spec
    args = {"kind": spec} if isinstance(spec, str) else dict(spec)
    kind = args.pop("kind")
    known = declared(Features)
    if kind not in known:
        raise ValueError(f"'{kind}' is not a kind of features; use one of {', '.join(known)}")
    return known[kind](info, **args)


def input_shape(info: EnvInfo) -> tuple[int, ...]:
    """The shape of one network input for `info`'s world: (n_states,) one-hot rows for a discrete
    one, the observation's shape otherwise."""
    return (info.n_states,) if info.n_states is not None else info.obs_shape


def observations(info: EnvInfo, states: Any) -> np.ndarray:
    """A batch of states as network inputs, float32 (N, *input_shape(info)); a single state is a
    batch of one."""
    if info.n_states is not None:
        return np.eye(info.n_states, dtype=np.float32)[np.asarray(states, dtype=np.int64).reshape(-1)]
    return np.asarray(states, dtype=np.float32).reshape(-1, *info.obs_shape)
