"""A network's part of an agent's state, as plain named arrays (checkpoints hold nothing else): its
weights and its optimizer's slots under a prefix ("q/dense1.W", "q.optimizer/…")."""

from __future__ import annotations

import numpy as np

from dnnexp.core.agents.base import Network


def network_arrays(name: str, network: Network) -> dict[str, np.ndarray]:
    """The network's parameters under "<name>/" and its optimizer's state under "<name>.optimizer/"."""
    return {
        **{f"{name}/{key}": value.copy() for key, value in network.model.state_arrays().items()},
        **{f"{name}.optimizer/{key}": np.array(value) for key, value in network.optimizer.state_arrays().items()},
    }


def load_network_arrays(name: str, network: Network, arrays: dict[str, np.ndarray]) -> None:
    network.model.load_state_arrays(prefixed(name, arrays))
    network.optimizer.load_state_arrays(prefixed(f"{name}.optimizer", arrays))


def prefixed(name: str, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays saved under "<name>/", without that prefix."""
    start = f"{name}/"
    return {key[len(start):]: value for key, value in arrays.items() if key.startswith(start)}
