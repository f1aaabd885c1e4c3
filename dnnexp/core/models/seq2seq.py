"""Encoder-decoder models of token sequences (course Day 3 §5): seq2seq, and what HRED and VHRED share.

seq2seq (Sutskever et al. 2014; deep-learning-from-scratch-2 ch. 7): an encoder RNN reads the
input tokens and hands its last hidden state h — the "thought vector", a fixed-size summary of
the whole input — to a decoder RNN as its initial state; the decoder then writes the output one
token at a time::

    encoder:  embedding → lstm                                   x (N, T_in) ids → h (N, H)
    decoder:  embedding → lstm (from h) → time_distributed dense  t[:, :-1] (N, T) → logits (N, T, V)

As in the textbook, only h crosses over; an LSTM decoder's cell starts from zeros. With `peeky`
(the textbook's 7.5.2) h also goes into the decoder RNN and the output layer at every step,
beside that step's own input, so that no step has to carry it along in its state.

With attention (course Day 3 §7, the textbook's ch. 8) the decoder also keeps every encoder
state, the memory hs (N, T_in, H): at each step its state h_t scores them all, and the output
layer reads [c_t, h_t], the attention's context beside the state (dnnexp.core.layers.attention)::

    encoder:  embedding → lstm (all steps)                       x → hs (N, T_in, H), h = its last state
    decoder:  embedding → lstm (from h) → attention over hs → time_distributed dense on [c, h_t]

Training uses teacher forcing: the decoder reads the reference t[:, :-1] (the start token first)
and learns to predict t[:, 1:], all steps in one pass, with softmax cross-entropy summed over the
steps. Evaluation and `generate` decode freely instead: each step's token — the argmax (greedy),
or a draw from the softmax — is the next step's input, so the metrics measure what the model
writes on its own.

The parts are Sequential models of registered layers, named by their role: the parameters are
"encoder.lstm1.W_in", "decoder.time_distributed1.dense1.W", …; nothing here re-implements a layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np

from dnnexp.core.functions import log_softmax
from dnnexp.core.layers.attention import AdditiveAttention, Attention, DotAttention
from dnnexp.core.layers.base import BuildContext, Layer, ShapeError
from dnnexp.core.layers.dense import Dense
from dnnexp.core.layers.embedding import Embedding
from dnnexp.core.layers.recurrent import GRU, LSTM, Recurrent, SimpleRNN
from dnnexp.core.layers.wrappers import Bidirectional, TimeDistributed
from dnnexp.core.losses import Loss
from dnnexp.core.models.base import DataInfo, Model
from dnnexp.core.models.sequential import Sequential

Cell = Literal["lstm", "gru", "simple_rnn"]
Score = Literal["dot", "additive"]
CELLS: dict[str, type[Recurrent]] = {"lstm": LSTM, "gru": GRU, "simple_rnn": SimpleRNN}


@dataclass(frozen=True)
class Tokens:
    """What an encoder-decoder must know of its corpus (the vocabulary itself stays with the data)."""

    vocab_size: int
    pad: int  # the padding token, never a word
    start: int  # the token a decoder starts from
    end: int | None  # the token that ends a reply, if replies have one: decoding pads after it
    length: int  # tokens a decoder writes: the targets' length without the start token


class EncoderDecoder(Model):
    """Base of the token models: Sequential parts, a decoder trained by teacher forcing and run
    freely to generate, and token metrics.

    A subclass builds its parts before the decoder (`_build_parts`) and turns inputs into the
    decoder's initial state h₀ (N, units): `encode(x, t, train)` for a training or evaluation
    pass (t: the references, which a posterior network may read), `backward_encode(dh0)` after
    it, and `initial_state(x, samples, rng)` to generate `samples` replies per input. A subclass
    whose decoder attends sets `attention` in `_build_parts`; its `encode` then leaves the states
    to attend to in `memory` (N, T_in, units), and `backward_encode` finds their gradient in `dmemory`.

    Metrics: `acc`, the mean over samples of the share of the reference's tokens (its padding
    left out) written right at their position, and `seq_acc`, the share of samples written
    exactly, padding included. In training they read the teacher-forced predictions; in
    evaluation the greedy decoding.
    """

    #: how `generate` picks each token unless told: the argmax ("greedy") or a draw from the softmax ("sample")
    decoding: str = "greedy"
    #: the decoder's attention over the encoder's states, if it has one
    attention: Attention | None = None

    def __init__(self, embedding: int, units: int, cell: str, peeky: bool):
        self.embedding, self.units, self.cell, self.peeky = embedding, units, cell, peeky
        self.parts: dict[str, Sequential] = {}
        # The attention's contexts and their gradients while outputs are kept, as the parts keep
        # their layers' (layer statistics read both): the attention is no part's layer.
        self.attention_kept: dict[str, np.ndarray] = {}
        self.attention_grad_kept: dict[str, np.ndarray] = {}

    # ---- building ------------------------------------------------------------------------

    def build(self, info: DataInfo, ctx: BuildContext) -> None:
        """Create the parts for the samples (token ids) of a text corpus: its vocabulary, and its
        targets' length as the reply length; raises ShapeError for data the kind cannot read."""
        vocabulary = info.vocabulary
        if vocabulary is None or len(info.target_shape) != 1:
            raise ShapeError(f"{self.kind} reads and writes token ids, but the data is not a text corpus", key="kind")
        self.input_shape = tuple(info.input_shape)
        self.tokens = Tokens(len(vocabulary), vocabulary.pad, vocabulary.start, vocabulary.end, info.target_shape[0] - 1)
        self.rng = ctx.noise_rng  # the run's noise stream: what training draws (VHRED's latent)
        self._build_parts(ctx)
        # The decoder in three parts, so that a peeky one can put h₀ beside the RNN's and the output
        # layer's inputs, and an attending one its context beside the RNN's states.
        T, peek = self.tokens.length, self.units if self.peeky else 0
        self.decoder_embedding = self._part("decoder_embedding", (T,), [self._embedding()], ctx, prefix="decoder")
        self.decoder = self._part("decoder", (T, self.embedding + peek), [self._rnn(self.units, True)], ctx, True)
        self.features = self.units + (0 if self.attention is None else self.attention.memory_units)
        output = [TimeDistributed(Dense(self.tokens.vocab_size))]
        self.decoder_output = self._part("decoder_output", (T, self.features + peek), output, ctx, True, prefix="decoder")
        self.decoder_rnn: Recurrent = self.decoder.layers[0]
        parts = list(self.parts.values())
        self.layers = [layer for part in parts for layer in part.layers]
        # Flat views of the parts' own arrays, which the layers update in place.
        self.params = {key: value for part in parts for key, value in part.params.items()}
        self.grads = {key: value for part in parts for key, value in part.grads.items()}
        self.penalized = [key for part in parts for key in part.penalized]
        if self.attention is not None:
            attention = self.attention
            self.layers.insert(self.layers.index(self.decoder_output.layers[0]), attention)  # type: ignore[arg-type]
            self.params.update({f"{attention.name}.{k}": v for k, v in attention.params.items()})
            self.grads.update({f"{attention.name}.{k}": v for k, v in attention.grads.items()})
            self.penalized += [f"{attention.name}.{k}" for k in attention.penalized]

    def _build_parts(self, ctx: BuildContext) -> None:
        """Build the parts that come before the decoder (with `_part`)."""
        raise NotImplementedError

    def _part(
        self, name: str, input_shape: tuple[int, ...], layers: list[Layer], ctx: BuildContext,
        needs_input_grad: bool = False, prefix: str | None = None,
    ) -> Sequential:
        """A Sequential part of core layers, its layers named "<prefix>.<layer>" (prefix: the name)."""
        part = Sequential(layers, input_shape, prefix=f"{prefix or name}.", needs_input_grad=needs_input_grad)
        try:
            part.build(ctx=ctx)
        except ShapeError as error:
            raise ShapeError(f"{name}: {error}", key="kind") from None
        self.parts[name] = part
        return part

    def _embedding(self) -> Embedding:
        return Embedding(self.tokens.vocab_size, self.embedding)

    def _rnn(self, units: int, return_sequences: bool = False) -> Recurrent:
        return CELLS[self.cell](units, return_sequences=return_sequences)

    def _check_tokens(self, rank: int, form: str, other: str) -> None:
        """Inputs must be token ids of `rank` axes (`form` names them; `other` says what reads the rest)."""
        if len(self.input_shape) != rank:
            raise ShapeError(f"{self.kind} reads {form}, but the samples are {self.input_shape}; {other}", key="kind")

    # ---- what the trainer drives ---------------------------------------------------------

    def forward_loss(self, x, t, loss, train=False):
        # Evaluation draws from a stream of its own: the same every epoch, and none taken from training's.
        self.draws = self.rng if train else input_stream(x)
        h0 = self.encode(x, t, train)
        self.decoder_rnn.set_state(*self._decoder_state(h0))
        u = self._decode(t[:, :-1], h0, train)
        value = loss.forward_logits(u, t[:, 1:]) + self.extra_loss(train)
        return value, loss.y

    def backward_loss(self, loss):
        dhs, dh0 = self._unpeek(self.decoder_output.backward(loss.backward_logits()), self.features)
        if self.attention is not None:
            dcontext, dhs = np.split(dhs, [self.attention.memory_units], axis=2)
            if self.keep_outputs:
                self.attention_grad_kept[self.attention.name] = dcontext
            self.dmemory, dhs_attended = self.attention.backward(dcontext)
            dhs = dhs + dhs_attended  # h_t went both to the attention and to the output layer
        de, dh0_rnn = self._unpeek(self.decoder.backward(dhs), self.embedding)
        self.decoder_embedding.backward(de)
        self.backward_encode(self.decoder_rnn.dh + dh0 + dh0_rnn)

    def _decode(self, tokens: np.ndarray, h0: np.ndarray, train: bool = False) -> np.ndarray:
        """The decoder on input tokens (N, T), from the state set before: logits (N, T, vocabulary)."""
        hs = self.decoder.forward(self._peek(self.decoder_embedding.forward(tokens, train), h0), train)
        if self.attention is not None:
            context = self.attention.forward(self.memory, hs)
            if self.keep_outputs:
                self.attention_kept[self.attention.name] = context
            hs = np.concatenate([context, hs], axis=2)  # [c_t, h_t]
        return self.decoder_output.forward(self._peek(hs, h0), train)

    def _peek(self, x: np.ndarray, h0: np.ndarray) -> np.ndarray:
        """x (N, T, D), and when peeky h₀ (N, H) beside every step: (N, T, D + H)."""
        if not self.peeky:
            return x
        N, T = x.shape[:2]
        return np.concatenate([x, np.broadcast_to(h0[:, None], (N, T, h0.shape[1]))], axis=2)

    def _unpeek(self, dx: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray | float]:
        """The gradient of a `_peek`ed input split: (dL/dx (N, T, width), dL/dh₀ summed over the steps)."""
        if not self.peeky:
            return dx, 0.0
        return dx[..., :width], dx[..., width:].sum(axis=1)

    def fuses(self, loss: Loss) -> bool:
        """Always: the decoder's logits go to softmax cross-entropy together."""
        return True

    def encode(self, x: np.ndarray, t: np.ndarray | None, train: bool) -> np.ndarray:
        """The decoder's initial state h₀ (N, units) for inputs x and references t."""
        raise NotImplementedError

    def backward_encode(self, dh0: np.ndarray) -> None:
        """Gradients of everything before the decoder, from dL/dh₀ (N, units)."""
        raise NotImplementedError

    def initial_state(self, x: np.ndarray, samples: int, rng: np.random.Generator) -> np.ndarray:
        """h₀ for generating `samples` replies to each input: (N·samples, units), input i's in rows
        i·samples … (i + 1)·samples − 1."""
        h0 = self.encode(x, None, False)
        if self.attention is not None:
            self.memory = np.repeat(self.memory, samples, axis=0)
        return np.repeat(h0, samples, axis=0)

    def extra_loss(self, train: bool) -> float:
        """What the loss adds to the decoder's cross-entropy (VHRED's KL term)."""
        return 0.0

    def _decoder_state(self, h0: np.ndarray) -> tuple[np.ndarray, ...]:
        """h₀ as the decoder RNN's whole initial state: an LSTM's cell starts from zeros."""
        return (h0, *(np.zeros_like(h0) for _ in self.decoder_rnn.state_names[1:]))

    # ---- generating ----------------------------------------------------------------------

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        """Greedy replies to x: token ids (N, length)."""
        return self.generate(x, greedy=True)

    def generate(
        self, x: np.ndarray, samples: int = 1, greedy: bool | None = None, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        """Replies to the inputs x written freely, token by token: ids (N·samples, length), the
        replies to x[i] in rows i·samples … (i + 1)·samples − 1.

        `greedy` takes each step's argmax, else each token is drawn from the softmax; None means
        the model's `decoding`. Draws (of tokens, and of VHRED's latent) come from `rng`, by
        default from a stream fixed by x (`input_stream`). After the end token a reply is padding.
        """
        rng = input_stream(x) if rng is None else rng
        greedy = self.decoding == "greedy" if greedy is None else greedy
        h0 = self.initial_state(x, samples, rng)
        rnn = self.decoder_rnn
        rnn.set_state(*self._decoder_state(h0))
        rnn.stateful = True  # each one-step forward continues from the state the last one left
        try:
            return write(lambda token: self._decode(token[:, None], h0)[:, 0], len(h0), self.tokens, greedy, rng)
        finally:
            rnn.stateful = False
            rnn.reset_state()

    # ---- metrics -------------------------------------------------------------------------

    def metric_names(self, task, train):
        return ("acc", "seq_acc")

    def batch_metrics(self, x, t, y, task, train):
        written = y.argmax(axis=-1) if train else self.generate(x, greedy=True)
        return token_accuracy(written, t[:, 1:], self.tokens.pad)

    # ---- the parts together --------------------------------------------------------------

    @property
    def keep_outputs(self) -> bool:
        return self.decoder.keep_outputs

    @keep_outputs.setter
    def keep_outputs(self, keep: bool) -> None:
        for part in self.parts.values():
            part.keep_outputs = keep
        if not keep:
            self.attention_kept, self.attention_grad_kept = {}, {}

    @property
    def outputs(self) -> dict[str, np.ndarray]:
        return {name: out for part in self.parts.values() for name, out in part.outputs.items()} | self.attention_kept

    @property
    def output_grads(self) -> dict[str, np.ndarray]:
        parts = {name: dout for part in self.parts.values() for name, dout in part.output_grads.items()}
        return parts | self.attention_grad_kept

    def summary_rows(self):
        rows = [row for part in self.parts.values() for row in part.summary_rows()]
        if self.attention is not None:
            attention = self.attention
            shape = (self.tokens.length, attention.memory_units)  # its contexts
            row = (attention.name, attention.kind, shape, sum(p.size for p in attention.params.values()))
            rows.insert(len(rows) - len(self.decoder_output.layers), row)  # before the output layer that reads it
        return rows


class Seq2Seq(EncoderDecoder):
    """Encoder RNN → thought vector → decoder RNN (course Day 3 §5): token ids x (N, T_in) → replies (N, T_out).

    `reverse_input` feeds the encoder the input backwards ("16+75" as "57+61"): the first tokens
    of the answer then sit close, in steps, to the input they depend on most, which shortens the
    path their gradient travels (Sutskever et al. 2014; the textbook's 7.5.1). `peeky` gives the
    thought vector to every decoder step (the textbook's 7.5.2). `cell` is the recurrent layer of
    both encoder and decoder, with `units` units; tokens are embedded in `embedding` dimensions,
    separately for encoder and decoder.

    `attention` (dot, or additive with a tanh layer of `units` units; course Day 3 §7) lets the
    decoder weigh every encoder state at every step (see the module's docstring). `bidirectional` reads the input both ways (course
    Day 3 §4) with units/2 units each way, side by side, so that every encoder state — and h₀, the
    forward direction's last state beside the backward one's — is `units` wide, as the decoder's.
    """

    kind = "seq2seq"

    def __init__(
        self, embedding: int = 16, units: int = 128, cell: Cell = "lstm", reverse_input: bool = False,
        peeky: bool = False, attention: Score | None = None, bidirectional: bool = False,
    ):
        super().__init__(embedding, units, cell, peeky)
        self.reverse_input, self.score, self.bidirectional = reverse_input, attention, bidirectional

    @property
    def has_attention(self) -> bool:
        return self.score is not None

    def _build_parts(self, ctx):
        self._check_tokens(1, "token sequences (T,)", "dialogues (utterances × words) need kind: hred or vhred")
        if self.bidirectional and self.units % 2:
            raise ShapeError(
                f"a bidirectional encoder gives each direction half of the {self.units} units; make units even", key="units"
            )
        every_step = self.has_attention  # an attending decoder reads all the encoder's states
        if self.bidirectional:
            rnn: Layer = Bidirectional(self._rnn(self.units // 2, every_step))
        else:
            rnn = self._rnn(self.units, every_step)
        self.encoder = self._part("encoder", self.input_shape, [self._embedding(), rnn], ctx)
        if self.has_attention:
            self.attention = DotAttention() if self.score == "dot" else AdditiveAttention(self.units)
            self.attention.name = "decoder.attention"
            self.attention.build(self.units, self.units, ctx)

    def encode(self, x, t, train):
        out = self.encoder.forward(x[:, ::-1] if self.reverse_input else x, train)
        if self.attention is None:
            return out
        self.memory = out
        # h₀: the state after the whole input, at the last step for the forward direction and at
        # the first for the backward one (half of each state); all of it when there is one direction.
        half = self._forward_units
        return np.concatenate([out[:, -1, :half], out[:, 0, half:]], axis=1)

    def backward_encode(self, dh0):
        if self.attention is None:
            self.encoder.backward(dh0)
            return
        dhs, half = self.dmemory, self._forward_units
        dhs[:, -1, :half] += dh0[:, :half]
        dhs[:, 0, half:] += dh0[:, half:]
        self.encoder.backward(dhs)

    @property
    def _forward_units(self) -> int:
        """How many features of each encoder state the forward direction gives."""
        return self.units // 2 if self.bidirectional else self.units

    def attention_maps(self, x):
        if self.attention is None:
            return super().attention_maps(x)
        replies = self.generate(x, greedy=True)
        # Teacher forcing on its own replies retraces generation step for step, every step's weights in one pass.
        h0 = self.initial_state(x, 1, input_stream(x))
        self.decoder_rnn.set_state(*self._decoder_state(h0))
        self._decode(np.concatenate([np.full((len(x), 1), self.tokens.start), replies[:, :-1]], axis=1), h0)
        self.decoder_rnn.reset_state()
        weights = self.attention.weights
        title = f"{self.score} attention"
        return replies, {title: weights[..., ::-1] if self.reverse_input else weights}  # in the order x is written


def input_stream(x: np.ndarray) -> np.random.Generator:
    """A random stream seeded by the token ids x alone: evaluation's draws (sampled words, VHRED's
    latent) are then the same for the same inputs in every epoch, and however often or with
    whatever settings a run evaluates, its training draws stay the same."""
    return np.random.default_rng(np.asarray(x, np.int64).ravel())


def draw(logits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One token per row of logits (N, V), drawn from its softmax: where a uniform draw falls in
    the cumulative distribution."""
    cumulative = np.cumsum(np.exp(log_softmax(logits.astype(np.float64))), axis=1)
    u = rng.random((len(logits), 1)) * cumulative[:, -1:]
    return np.minimum((cumulative < u).sum(axis=1), logits.shape[1] - 1)


def write(
    next_logits: Callable[[np.ndarray], np.ndarray], count: int, tokens: Tokens, greedy: bool, rng: np.random.Generator
) -> np.ndarray:
    """`count` replies written token by token: ids (count, tokens.length).

    `next_logits(token)` takes the token each reply wrote last, ids (count,) — the start token
    first — and gives the logits of the next (count, vocabulary). Each token is their argmax
    (`greedy`) or drawn from their softmax with `rng`; after the end token a reply is padding.
    """
    replies = np.zeros((count, tokens.length), np.int64)
    token = np.full(count, tokens.start)
    writing = np.ones(count, bool)
    for step in range(tokens.length):
        u = next_logits(token)
        token = u.argmax(axis=1) if greedy else draw(u, rng)
        token[~writing] = tokens.pad
        replies[:, step] = token
        if tokens.end is not None:
            writing &= token != tokens.end
    return replies


def token_accuracy(written: np.ndarray, target: np.ndarray, pad: int) -> dict[str, float]:
    """`acc` and `seq_acc` (see EncoderDecoder) of replies `written` against `target`, both (N, T)
    ids, `pad` the padding id."""
    right = written == target
    content = target != pad
    per_sample = (right & content).sum(axis=1) / np.maximum(content.sum(axis=1), 1)
    return {"acc": float(per_sample.mean()), "seq_acc": float(right.all(axis=1).mean())}
