"""The Transformer: free decoding against teacher forcing, the causal mask and the padding mask at the
model's level, attention maps, names and float32, what it refuses, and that it learns.
(Gradients: tests/core/test_gradcheck.py.)"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from dnnexp.core.layers import BuildContext, ShapeError
from dnnexp.core.losses import CrossEntropy
from dnnexp.core.models.base import DataInfo
from dnnexp.core.models.transformer import Transformer
from dnnexp.core.optimizers import Adam
from tests.core.conftest import token_data

PAD = 0  # token_data's padding id
V, START, END, LENGTH = 7, 1, 2, 4


def built(
    shape: tuple[int, ...] = (5,), end: int | None = END, seed: int = 0, dtype: type = np.float64, **args: Any
) -> Transformer:
    """A small model as initialized (what it writes varies with the input: random weights and
    biases of order 1 would make every sublayer's output mostly constant, which layer norm keeps)."""
    model = Transformer(**{"d_model": 8, "heads": 2, "d_ff": 6, "blocks": 2, **args})
    rng = np.random.default_rng(seed)
    model.build(token_data(shape, V, START, end, LENGTH), BuildContext(rng, np.random.default_rng(seed + 1), dtype))
    return model


def ids(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(3, V, shape)


def teacher(replies: np.ndarray) -> np.ndarray:
    """Targets (N, 1 + LENGTH): the start token, then `replies`."""
    return np.concatenate([np.full((len(replies), 1), START), replies], axis=1)


def test_greedy_decoding_is_the_argmax_of_teacher_forcing_on_its_own_output():
    model = built(end=None, seed=8)
    x = ids((20, 5))
    replies = model.generate(x, greedy=True)
    assert replies.shape == (20, LENGTH) and replies.dtype == np.int64
    _, y = model.forward_loss(x, teacher(replies), CrossEntropy())
    np.testing.assert_array_equal(y.argmax(axis=-1), replies)
    assert len({tuple(row) for row in replies}) > 1  # the replies depend on the input


def test_a_decoder_step_never_reads_the_tokens_after_it():
    model, loss = built(), CrossEntropy()
    x, t = ids((3, 5)), teacher(ids((3, LENGTH), 1))
    _, y = model.forward_loss(x, t, loss)
    before = y.copy()
    t[:, 3:] = 3 + (t[:, 3:] - 2) % 4  # other tokens from step 3 on
    _, y = model.forward_loss(x, t, loss)
    np.testing.assert_allclose(y[:, :3], before[:, :3], rtol=1e-12)
    assert not np.allclose(y[:, 3:], before[:, 3:])


def test_the_inputs_padding_is_never_read():
    model, loss = built(), CrossEntropy()
    x, t = ids((3, 5)), teacher(ids((3, LENGTH), 1))
    x[:, 3:] = PAD
    _, y = model.forward_loss(x, t, loss)
    before = y.copy()
    model.params["encoder.embedding.W"][PAD] += 5.0
    _, y = model.forward_loss(x, t, loss)
    np.testing.assert_allclose(y, before, rtol=1e-12)
    model.params["encoder.embedding.W"][x[0, 0]] += 5.0  # a token that is read
    _, y = model.forward_loss(x, t, loss)
    assert not np.allclose(y, before)


def test_after_the_end_token_a_reply_is_padding():
    model = built(blocks=1)
    bias = model.params["decoder.output.dense1.b"]
    bias[...] = 0.0
    bias[5] = 100.0
    assert (model.generate(ids((2, 5))) == 5).all()
    bias[END] = 200.0
    replies = model.generate(ids((2, 5)))
    assert (replies[:, 0] == END).all() and (replies[:, 1:] == PAD).all()


def test_samples_come_in_groups_per_input():
    model = built()
    x = ids((3, 5))
    drawn = model.generate(x, samples=50, greedy=False, rng=np.random.default_rng(1))
    assert drawn.shape == (150, LENGTH) and len({tuple(row) for row in drawn[:50]}) > 1
    np.testing.assert_array_equal(model.generate(x, samples=4, greedy=True), np.repeat(model.generate(x), 4, axis=0))


def test_attention_maps_are_each_cross_attention_head_while_writing_the_greedy_reply():
    model = built(heads=4, end=None, seed=3)
    source = ids((5,), 2)
    source[4] = PAD
    assert model.has_attention
    replies, maps = model.attention_maps(source[None])
    np.testing.assert_array_equal(replies, model.generate(source[None]))
    assert list(maps) == [f"decoder cross-attention, layer {l}, head {h}" for l in (1, 2) for h in (1, 2, 3, 4)]
    for weights in maps.values():
        assert weights.shape == (1, LENGTH, 5)
        np.testing.assert_allclose(weights.sum(axis=2), 1.0)
        assert (weights[..., 4] == 0.0).all()  # padding is never read
    assert not np.allclose(maps["decoder cross-attention, layer 1, head 1"], maps["decoder cross-attention, layer 1, head 2"])


def test_parameters_are_named_by_place_and_stay_float32():
    model = built(dtype=np.float32, blocks=1)
    for name in (
        "encoder.embedding.W", "encoder.block1.self_attention.W_q", "encoder.block1.feed_forward.dense2.W",
        "encoder.block1.layer_norm2.gamma", "decoder.block1.cross_attention.W_k", "decoder.output.dense1.W",
    ):
        assert name in model.params
    assert "decoder.block1.self_attention.b_k" not in model.params  # keys have no bias
    assert {value.dtype for value in model.params.values()} == {np.dtype(np.float32)}
    assert set(model.penalized) < set(model.params) and "decoder.block1.layer_norm1.gamma" not in model.penalized
    loss = CrossEntropy()
    value, y = model.forward_loss(ids((2, 5)), teacher(ids((2, LENGTH), 1)), loss, train=True)
    model.backward_loss(loss)
    assert y.dtype == np.float32 and {grad.dtype for grad in model.grads.values()} == {np.dtype(np.float32)}
    assert len({layer.name for layer in model.layers}) == len(model.layers)
    assert [row[0] for row in model.summary_rows()] == [layer.name for layer in model.layers]


@pytest.mark.parametrize(
    "shape, args, key, match",
    [((2, 3), {}, "kind", "hred"), ((5,), {"d_model": 6, "heads": 4}, "heads", "multiple of heads")],
)
def test_what_it_cannot_build_is_refused(shape, args, key, match):
    with pytest.raises(ShapeError, match=match) as error:
        built(shape, **args)
    assert error.value.key == key


def test_data_that_is_not_text_is_refused():
    with pytest.raises(ShapeError, match="not a text corpus"):
        Transformer().build(DataInfo((4,), (), 3, "multiclass"), BuildContext())


def test_it_learns_to_reverse_a_sequence():
    """Reversing needs every output step to find one input step by position: cross-attention's job."""
    rng = np.random.default_rng(0)
    model = Transformer(d_model=16, heads=2, d_ff=32, blocks=1)
    model.build(token_data((4,), V, START, None, 4), BuildContext(rng, np.random.default_rng(1)))
    x = rng.integers(3, V, (256, 4))
    t = teacher(x[:, ::-1])
    optimizer, loss = Adam(lr=0.01), CrossEntropy()
    for step in range(150):
        batch = slice(step % 4 * 64, step % 4 * 64 + 64)
        model.forward_loss(x[batch], t[batch], loss, train=True)
        model.backward_loss(loss)
        optimizer.update(model.params, model.grads)
    _, y = model.forward_loss(x, t, loss)
    assert model.batch_metrics(x, t, y, "multiclass", train=False)["seq_acc"] > 0.9


def test_every_layer_keeps_its_output_and_gradient_for_layer_statistics():
    model, loss = built(dropout=0.2), CrossEntropy()
    model.keep_outputs = True
    model.forward_loss(ids((2, 5)), teacher(ids((2, LENGTH), 1)), loss, train=True)
    model.backward_loss(loss)
    names = [layer.name for layer in model.layers]
    assert set(model.outputs) == set(model.output_grads) == set(names)
    for name in names:
        assert model.outputs[name].shape == model.output_grads[name].shape, name
    model.outputs.clear()
    model.keep_outputs = False
    model.forward_loss(ids((2, 5)), teacher(ids((2, LENGTH), 1)), loss, train=True)
    assert not model.outputs
