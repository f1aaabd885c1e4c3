"""Flat mappings of named arrays, as a checkpoint holds them: "<part>/<name>" → array."""

from __future__ import annotations

import numpy as np


def split_arrays(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    """The entries of a flat checkpoint mapping under "<prefix>/", with the prefix removed."""
    head = prefix + "/"
    return {key[len(head) :]: value for key, value in arrays.items() if key.startswith(head)}
