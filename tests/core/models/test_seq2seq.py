"""Encoder-decoders: free decoding against teacher forcing, the end token, reversed input, sampling,
token metrics, the KL term and its annealing, distinct-n. (Gradients: tests/core/test_gradcheck.py.)"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from dnnexp.core.models import hred
from dnnexp.core.gradcheck import check_model, numerical_gradient, relative_error
from dnnexp.core.layers import BuildContext, ShapeError
from dnnexp.core.losses import CrossEntropy
from dnnexp.core.models.seq2seq import EncoderDecoder, draw, token_accuracy
from dnnexp.spec.registry import MODELS
from tests.core.conftest import token_data

PAD = 0  # token_data's padding id

V, START, END, LENGTH = 7, 1, 2, 4


def built(kind: str, shape: tuple[int, ...], end: int | None = END, seed: int = 0, **args: Any) -> EncoderDecoder:
    """A float64 model of `kind` with weights of order 1 (so that decoding varies with the input)."""
    model = MODELS.get(kind)(**{"embedding": 3, "units": 5, **args})
    rng = np.random.default_rng(seed)
    model.build(token_data(shape, V, START, end, LENGTH), BuildContext(rng, np.random.default_rng(seed + 1), np.float64))
    for value in model.params.values():
        value[...] = rng.normal(0.0, 1.0, value.shape)
    return model


def ids(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(3, V, shape)


ATTENDING = [{"attention": "dot"}, {"attention": "additive", "cell": "gru", "bidirectional": True, "units": 6, "peeky": True}]


@pytest.mark.parametrize(
    "kind, shape, args",
    [("seq2seq", (5,), {}), ("seq2seq", (5,), {"peeky": True}), ("hred", (2, 3), {})] + [("seq2seq", (5,), a) for a in ATTENDING],
)
def test_greedy_decoding_is_the_argmax_of_teacher_forcing_on_its_own_output(kind, shape, args):
    """Step by step, each token fed back, equals one teacher-forced pass over the tokens it wrote."""
    model = built(kind, shape, end=None, seed=8, **args)  # random weights whose replies differ from input to input
    x = ids((20, *shape))
    replies = model.generate(x, greedy=True)
    assert replies.shape == (20, LENGTH) and replies.dtype == np.int64
    t = np.concatenate([np.full((20, 1), START), replies], axis=1)
    _, y = model.forward_loss(x, t, CrossEntropy())
    np.testing.assert_array_equal(y.argmax(axis=-1), replies)
    assert len({tuple(row) for row in replies}) > 1  # the replies depend on the input


def test_after_the_end_token_a_reply_is_padding():
    model = built("seq2seq", (3,))
    bias = model.params["decoder.time_distributed1.dense1.b"]
    bias[...] = 0.0
    bias[5] = 100.0
    assert (model.generate(ids((2, 3))) == 5).all()  # no end token written: the reply runs to its length
    bias[END] = 200.0
    replies = model.generate(ids((2, 3)))
    assert (replies[:, 0] == END).all() and (replies[:, 1:] == PAD).all()


def test_reversed_input_is_the_same_model_reading_backwards():
    forwards, backwards = built("seq2seq", (5,)), built("seq2seq", (5,), reverse_input=True)
    x = ids((4, 5))
    np.testing.assert_array_equal(backwards.generate(x), forwards.generate(x[:, ::-1]))
    assert not np.array_equal(backwards.generate(x), forwards.generate(x))


@pytest.mark.parametrize("args", ATTENDING)
def test_attention_maps_are_the_weights_free_decoding_used_step_by_step(args):
    model = built("seq2seq", (5,), end=None, seed=8, **args)
    x = ids((6, 5))
    attention, steps = model.attention, []
    forward = attention.forward

    def recording(hs_enc, hs_dec):
        context = forward(hs_enc, hs_dec)
        steps.append(attention.weights.copy())
        return context

    attention.forward = recording
    replies = model.generate(x, greedy=True)
    attention.forward = forward
    written, maps = model.attention_maps(x)
    np.testing.assert_array_equal(written, replies)
    (title, weights), = maps.items()
    assert title == f"{args['attention']} attention" and weights.shape == (6, LENGTH, 5)
    np.testing.assert_allclose(weights, np.concatenate(steps, axis=1), rtol=1e-10)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0)
    assert not np.allclose(weights[0], weights[1])  # each input gets its own


def test_attention_maps_of_reversed_input_are_in_the_order_the_input_is_written():
    forwards, backwards = built("seq2seq", (5,), attention="dot"), built("seq2seq", (5,), attention="dot", reverse_input=True)
    x = ids((3, 5))
    replies, maps = backwards.attention_maps(x)
    replies_read_backwards, maps_read_backwards = forwards.attention_maps(x[:, ::-1].copy())
    np.testing.assert_array_equal(replies, replies_read_backwards)
    np.testing.assert_allclose(maps["dot attention"], maps_read_backwards["dot attention"][..., ::-1])


def test_only_an_attending_model_has_attention_maps():
    model = built("seq2seq", (5,))
    assert not model.has_attention and built("seq2seq", (5,), attention="additive").has_attention
    with pytest.raises(NotImplementedError, match="Seq2Seq has no attention"):
        model.attention_maps(ids((1, 5)))


def test_a_bidirectional_encoder_splits_an_even_number_of_units():
    built("seq2seq", (5,), bidirectional=True, units=4)
    with pytest.raises(ShapeError, match="gives each direction half of the 5 units; make units even") as caught:
        built("seq2seq", (5,), bidirectional=True, units=5)
    assert caught.value.key == "units"


def test_a_bidirectional_encoder_hands_on_both_directions_final_states():
    """h₀ is the forward direction's last state beside the backward one's, attending or not."""
    plain = built("seq2seq", (5,), bidirectional=True, units=4, cell="gru")
    attending = built("seq2seq", (5,), bidirectional=True, units=4, cell="gru", attention="dot")
    for key, value in plain.params.items():
        if key.startswith("encoder."):
            attending.params[key][...] = value
    x = ids((3, 5))
    np.testing.assert_allclose(attending.encode(x, None, False), plain.encode(x, None, False), rtol=1e-12)
    assert attending.memory.shape == (3, 5, 4)


@pytest.mark.parametrize(
    "kind, shape, args", [("seq2seq", (4,), {}), ("seq2seq", (4,), ATTENDING[1]), ("hred", (2, 3), {}), ("vhred", (2, 3), {})]
)
def test_samples_come_in_groups_per_input(kind, shape, args):
    model = built(kind, shape, **args)
    x = ids((3, *shape))
    drawn = model.generate(x, samples=50, greedy=False, rng=np.random.default_rng(1))
    assert drawn.shape == (150, LENGTH)
    first = drawn[:50]
    assert len({tuple(row) for row in first}) > 1  # drawn words differ from reply to reply
    if kind != "vhred":  # greedy replies to one input are one reply, but VHRED's latent varies them
        greedy = model.generate(x, samples=4, greedy=True)
        np.testing.assert_array_equal(greedy, np.repeat(model.generate(x, greedy=True), 4, axis=0))


def test_vhred_draws_its_latent_from_the_prior_when_generating():
    model = built("vhred", (2, 3), latent=4)
    x = ids((2, 2, 3))
    greedy = model.generate(x, samples=30, greedy=True, rng=np.random.default_rng(2))
    assert len({tuple(row) for row in greedy[:30]}) > 1
    # With the prior's variance at (nearly) zero, z is its mean and greedy replies agree again.
    prior_out = model.params["prior.dense2.b"]
    model.params["prior.dense2.W"][:, 4:] = 0.0
    prior_out[4:] = -80.0
    greedy = model.generate(x, samples=30, greedy=True, rng=np.random.default_rng(2))
    assert len({tuple(row) for row in greedy[:30]}) == 1


def test_drawn_tokens_follow_the_softmax():
    logits = np.log(np.array([[0.1, 0.6, 0.3], [0.5, 0.0, 0.5]]) + 1e-300)
    tokens = draw(np.repeat(logits, 20000, axis=0), np.random.default_rng(3)).reshape(2, 20000)
    for row, p in zip(tokens, np.exp(logits)):
        np.testing.assert_allclose(np.bincount(row, minlength=3) / 20000, p, atol=0.01)


def test_token_accuracy_counts_the_references_tokens_and_whole_sequences():
    target = np.array([[5, 6, PAD, PAD], [5, 6, 4, 3]])
    written = np.array([[5, 6, 4, PAD], [5, 0, 4, 3]])
    # sample 1: both tokens right (padding not counted), but not exact; sample 2: 3 of 4
    assert token_accuracy(written, target, PAD) == pytest.approx({"acc": (1.0 + 0.75) / 2, "seq_acc": 0.0})
    assert token_accuracy(target, target, PAD) == {"acc": 1.0, "seq_acc": 1.0}


def test_training_and_evaluation_metrics():
    model = built("vhred", (2, 3))
    assert model.metric_names("multiclass", train=True) == ("acc", "seq_acc", "kl")
    assert model.metric_names("multiclass", train=False) == ("acc", "seq_acc", "distinct1", "distinct2", "kl")
    x, t = ids((4, 2, 3)), np.concatenate([np.full((4, 1), START), ids((4, LENGTH), 1)], axis=1)
    _, y = model.forward_loss(x, t, CrossEntropy(), train=False)
    metrics = model.batch_metrics(x, t, y, "multiclass", train=False)
    assert set(metrics) == set(model.metric_names("multiclass", train=False))
    assert all(0.0 <= metrics[name] <= 1.0 for name in ("acc", "seq_acc", "distinct1", "distinct2")) and metrics["kl"] > 0


def test_evaluation_draws_are_fixed_by_the_inputs_and_leave_the_training_stream_alone():
    model = built("vhred", (2, 3))
    x, t, loss = ids((4, 2, 3)), ids((4, LENGTH + 1)), CrossEntropy()
    before = model.rng.bit_generator.state

    def evaluated() -> tuple[float, dict[str, float]]:
        value, y = model.forward_loss(x, t, loss, train=False)
        return value, model.batch_metrics(x, t, y, "multiclass", train=False)

    assert evaluated() == evaluated()
    assert model.rng.bit_generator.state == before
    model.forward_loss(x, t, loss, train=True)  # training draws its latent from the run's stream
    assert model.rng.bit_generator.state != before


@pytest.mark.parametrize("kind, shape, hint", [("seq2seq", (2, 3), "hred"), ("hred", (3,), "seq2seq"), ("vhred", (3,), "seq2seq")])
def test_inputs_of_the_wrong_form_are_refused_with_the_kind_that_reads_them(kind, shape, hint):
    with pytest.raises(ShapeError, match=hint):
        built(kind, shape)


def test_parts_are_named_by_role_and_keep_their_outputs_for_layer_statistics():
    model = built("hred", (2, 3), cell="lstm")
    assert list(model.parts) == ["encoder", "context", "bridge", "decoder_embedding", "decoder", "decoder_output"]
    assert "encoder.lstm1.W_in" in model.params and "decoder.time_distributed1.dense1.W" in model.params
    assert set(model.penalized) < set(model.params) and "bridge.dense1.b" not in model.penalized
    model.keep_outputs = True
    x, t, loss = ids((2, 2, 3)), ids((2, LENGTH + 1)), CrossEntropy()
    model.forward_loss(x, t, loss, train=True)
    model.backward_loss(loss)
    names = {layer.name for layer in model.layers}
    assert set(model.outputs) == set(model.output_grads) == names and len(names) == len(model.layers)


def gaussian_kl_reference(mu_q, logvar_q, mu_p, logvar_p) -> np.ndarray:
    """KL of 1-D Gaussians, log(σ_p/σ_q) + (σ_q² + (μ_q − μ_p)²)/(2σ_p²) − ½, summed over dimensions."""
    s_q, s_p = np.exp(0.5 * logvar_q), np.exp(0.5 * logvar_p)
    return np.sum(np.log(s_p / s_q) + (s_q**2 + (mu_q - mu_p) ** 2) / (2 * s_p**2) - 0.5, axis=1)


def test_gaussian_kl_and_its_derivatives():
    rng = np.random.default_rng(4)
    args = [rng.normal(size=(3, 2)) for _ in range(4)]
    kl, derivatives = hred.gaussian_kl(*args)
    np.testing.assert_allclose(kl, gaussian_kl_reference(*args), rtol=1e-12)
    for arg, derivative in zip(args, derivatives):
        assert relative_error(derivative, numerical_gradient(lambda: float(hred.gaussian_kl(*args)[0].sum()), arg)) < 1e-8
    same = hred.gaussian_kl(args[0], args[1], args[0], args[1])[0]
    np.testing.assert_allclose(same, 0.0, atol=1e-15)


def test_a_wrong_kl_gradient_is_caught(monkeypatch):
    model = built("vhred", (2, 3), kl_anneal_steps=0, context_units=3, latent=2)
    right = hred.gaussian_kl

    def misscaled(*args):
        kl, (dmu_q, *rest) = right(*args)
        return kl, (1.1 * dmu_q, *rest)

    monkeypatch.setattr(hred, "gaussian_kl", misscaled)
    x, t = ids((4, 2, 3)), ids((4, LENGTH + 1))
    errors = check_model(model, x, t, CrossEntropy(), before_forward=lambda: setattr(model, "rng", np.random.default_rng(0)))
    assert errors["posterior.dense2.W"] > 1e-3 and errors["decoder.gru1.W"] < 1e-6


def test_the_kl_weight_rises_with_the_steps_taken_and_is_saved():
    model = built("vhred", (2, 3), kl_anneal_steps=4)
    x, t, loss = ids((2, 2, 3)), ids((2, LENGTH + 1)), CrossEntropy()
    weights = []
    for _ in range(6):
        weights.append(model.kl_weight)
        model.forward_loss(x, t, loss, train=True)
        model.backward_loss(loss)
    assert weights == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    assert int(model.state_arrays()["kl_steps"]) == 6
    again = built("vhred", (2, 3), kl_anneal_steps=4)
    again.load_state_arrays(model.state_arrays())
    assert again.kl_weight == 1.0 and int(again.kl_steps) == 6
    # Evaluation always reports the whole bound: β = 1.
    fresh = built("vhred", (2, 3), kl_anneal_steps=4)
    value, _ = fresh.forward_loss(x, t, loss, train=False)
    assert value == pytest.approx(loss.forward_logits(fresh._decode(t[:, :-1], None), t[:, 1:]) + fresh.kl.mean())


def replies(*rows: list[int]) -> np.ndarray:
    return np.array(rows).reshape(1, len(rows), -1)


def test_distinct_n_per_context():
    same = replies([3, 4, 5, END], [3, 4, 5, END])
    assert hred.distinct_n(same, 1, PAD, END) == pytest.approx(3 / 6) and hred.distinct_n(same, 2, PAD, END) == pytest.approx(2 / 4)
    apart = replies([3, 4, END, PAD], [5, 6, END, PAD])
    assert hred.distinct_n(apart, 1, PAD, END) == 1.0 and hred.distinct_n(apart, 2, PAD, END) == 1.0
    # The second context's replies share "3 4": 3 distinct bigrams of 4; the mean over contexts.
    both = np.concatenate([replies([3, 4, END, PAD], [3, 4, END, PAD]), replies([3, 4, 5, END], [6, 3, 4, END])])
    assert hred.distinct_n(both, 2, PAD, END) == pytest.approx((1 / 2 + 3 / 4) / 2)
    assert hred.distinct_n(replies([END, PAD], [END, PAD]), 1, PAD, END) == 0.0  # no words at all
