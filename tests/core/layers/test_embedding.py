"""Embedding: a row lookup, the same as one-hot rows times W, whose gradient adds up repeated tokens."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core.layers.base import InputError

VOCAB, DIM = 6, 3


def test_lookup_equals_one_hot_times_the_table(build_layer):
    layer = build_layer({"type": "embedding", "vocab_size": VOCAB, "dim": DIM}, (4,))
    ids = np.array([[0, 5, 5, 2], [1, 1, 1, 1]])
    np.testing.assert_array_equal(layer.forward(ids), np.eye(VOCAB)[ids] @ layer.params["W"])
    # Ids that arrive as floats (a batch of a float array) are the same ids.
    np.testing.assert_array_equal(layer.forward(ids.astype(np.float32)), layer.forward(ids))


def test_gradient_sums_over_every_occurrence_of_a_token(build_layer):
    layer = build_layer({"type": "embedding", "vocab_size": VOCAB, "dim": DIM}, (4,))
    ids = np.array([[0, 5, 5, 2], [5, 1, 1, 1]])
    dout = np.random.default_rng(0).normal(size=(2, 4, DIM))
    layer.forward(ids)
    assert layer.backward(dout) is None
    expected = np.einsum("ntv,ntd->vd", np.eye(VOCAB)[ids], dout)
    np.testing.assert_allclose(layer.grads["W"], expected)
    assert not layer.grads["W"][[3, 4]].any()  # tokens that never occur get no gradient


def test_out_of_range_ids_say_how_big_the_vocabulary_must_be(build_layer):
    layer = build_layer({"type": "embedding", "vocab_size": VOCAB, "dim": DIM}, (2,))
    with pytest.raises(InputError, match="raise vocab_size to at least 9"):
        layer.forward(np.array([[0, 8]]))
