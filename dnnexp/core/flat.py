"""A model's parameters, and their gradients, as consecutive views of one flat array each, so
that an optimizer steps all of them in a few passes over whole arrays rather than in calls per
array: a batch-100 MLP of 12 arrays spent 0.1 ms of its 1.2 ms training step gathering the
gradients into one array and subtracting the update from each parameter apart.

`pack(layers)` makes them so (a Sequential does, once built); `span(arrays)` is the flat array
that arrays are consecutive views of, or None (a copy of a model, a model of parts): an
optimizer then takes them array by array, which gives the same numbers.
"""

from __future__ import annotations

import numpy as np

from dnnexp.core.layers.base import Layer


def pack(layers: list[Layer]) -> None:
    """Every layer's parameters, in the layers' order, and their gradients made views of one flat
    array each, their values kept. Layers read and write them in place, never rebinding them, so
    the views stay theirs. Left as they are where a layer exposes another's arrays (a wrapper's
    `wrapped` parts, which read their own), where a parameter has no gradient array, or where
    the arrays differ in type."""
    owned = [(layer, key) for layer in layers for key in layer.params]
    if any(hasattr(layer, "wrapped") or layer.params.keys() != layer.grads.keys() for layer in layers):
        return
    dtypes = {array.dtype for layer, key in owned for array in (layer.params[key], layer.grads[key])}
    if not owned or len(dtypes) != 1:
        return
    (dtype,) = dtypes
    total = sum(layer.params[key].size for layer, key in owned)
    for arrays in ("params", "grads"):
        flat, start = np.empty(total, dtype), 0
        for layer, key in owned:
            array = getattr(layer, arrays)[key]
            view = flat[start : start + array.size].reshape(array.shape)
            view[...] = array
            getattr(layer, arrays)[key] = view
            start += array.size


def span(arrays: list[np.ndarray]) -> np.ndarray | None:
    """The 1-D array whose consecutive parts `arrays` are, in their order, or None where they are
    not such views (of one array, each C-contiguous, each starting where the one before ends)."""
    owner = arrays[0].base if arrays else None
    if owner is None or not owner.flags.c_contiguous:
        return None
    start = end = _address(arrays[0])
    for array in arrays:
        if array.base is not owner or array.dtype != owner.dtype or not array.flags.c_contiguous:
            return None
        if _address(array) != end:
            return None
        end += array.nbytes
    first = (start - _address(owner)) // owner.itemsize
    return owner.reshape(-1)[first : first + (end - start) // owner.itemsize]


def _address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]
