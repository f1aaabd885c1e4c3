"""The layer protocol: every layer knows its output shape from its settings alone, before `build`."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core.layers import BuildContext
from tests.core.test_gradcheck import LAYER_EXAMPLES, LAYER_INPUTS

#: wrappers.py has no compute_output_shape of its own yet, and the default (the input shape) is not theirs
KINDS = list(LAYER_EXAMPLES)


@pytest.mark.parametrize("kind", KINDS)
def test_output_shape_before_build_is_what_build_and_forward_give(kind, make_layer) -> None:
    rng = np.random.default_rng(0)
    for args, shape in LAYER_EXAMPLES[kind]:
        spec = {"type": kind, **args}
        unbuilt = make_layer(spec)
        predicted = unbuilt.compute_output_shape(shape)
        assert unbuilt.params == unbuilt.grads == unbuilt.buffers == {}, args
        layer = make_layer(spec)
        assert layer.build(shape, BuildContext(dtype=np.float64)) == predicted, args
        draw = LAYER_INPUTS.get(kind)
        x = draw(rng, (2, *shape)) if draw else rng.normal(size=(2, *shape))
        assert layer.forward(x).shape == (2, *predicted), args
