"""The Transformer (Vaswani et al. 2017, "Attention is all you need"): an encoder-decoder of
token sequences built from attention alone, no recurrence::

    encoder:  embedding + positions → blocks × [self-attention → add & norm → feed-forward → add & norm]
    decoder:  embedding + positions → blocks × [causal self-attention → add & norm
                                               → cross-attention on the encoder's output → add & norm
                                               → feed-forward → add & norm] → dense → logits (N, T, V)

Where seq2seq squeezes the input into one thought vector, every decoder step here reads every
encoder step directly (cross-attention), and every step of a sequence reads the others at once
(self-attention), so no information has to travel step by step. Order comes from the sinusoidal
positional encoding added to the embeddings. "Add & norm" is the paper's LayerNorm(x +
Dropout(Sublayer(x))): the residual connection carries x past each sublayer, so the gradient
reaches the first block undiminished.

Training is teacher forcing, as for seq2seq, but all steps in one pass for real: the decoder reads
the reference t[:, :-1] and the causal mask keeps step s from reading the tokens after s, which
it is learning to predict. Evaluation and `generate` write freely, one token at a time, rerunning
the decoder on the tokens written so far (greedy, or drawn from the softmax).

Padding in the input is hidden from every attention that reads the encoder (a key mask). Token
embeddings start as N(0, 1), the spread of the positional encoding's sines, so that neither
drowns the other; the layers are the registered ones: multi_head_attention, layer_norm,
feed_forward, positional_encoding, embedding, dropout and a time-distributed dense output.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np

from dnnexp.core.layers.multihead import MultiHeadAttention
from dnnexp.core.layers.base import BuildContext, Layer, ShapeError
from dnnexp.core.layers.dense import Dense
from dnnexp.core.layers.dropout import Dropout
from dnnexp.core.layers.embedding import Embedding
from dnnexp.core.layers.feedforward import FeedForward
from dnnexp.core.layers.layernorm import LayerNorm
from dnnexp.core.layers.positional import PositionalEncoding
from dnnexp.core.layers.wrappers import TimeDistributed
from dnnexp.core.losses import Loss
from dnnexp.core.models.base import DataInfo, Model
from dnnexp.core.models.seq2seq import Tokens, input_stream, token_accuracy, write

#: how token embeddings start: N(0, 1), as the positional encoding's values spread (see above)
EMBEDDING_INIT = {"name": "normal", "std": 1.0}


class Trace:
    """What per-layer statistics read (Model.keep_outputs): while `keep` is set, each layer's last
    output (`out`) and the gradient that reached it (`back`), by the layer's name."""

    def __init__(self) -> None:
        self.keep = False
        self.outputs: dict[str, np.ndarray] = {}
        self.output_grads: dict[str, np.ndarray] = {}

    def out(self, layer: Layer, y: np.ndarray) -> np.ndarray:
        """y, the output of `layer`, kept while `keep` is set."""
        if self.keep:
            self.outputs[layer.name] = y
        return y

    def back(self, layer: Layer, dout: np.ndarray) -> np.ndarray:
        """dout, the gradient reaching `layer`'s output, kept while `keep` is set."""
        if self.keep:
            self.output_grads[layer.name] = dout
        return dout


class AddNorm:
    """The residual connection around a sublayer: LayerNorm(x + Dropout(s)), s the sublayer's
    output for x; all (N, T, D)."""

    def __init__(self, rate: float, trace: Trace):
        self.dropout, self.norm, self.trace = Dropout(rate), LayerNorm(), trace

    def layers(self, index: int) -> dict[str, Layer]:
        return {f"dropout{index}": self.dropout, f"layer_norm{index}": self.norm}

    def forward(self, x: np.ndarray, s: np.ndarray, train: bool) -> np.ndarray:
        t = self.trace
        return t.out(self.norm, self.norm.forward(x + t.out(self.dropout, self.dropout.forward(s, train)), train))

    def backward(self, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(dL/dx, dL/ds): the residual path and the sublayer's share of the same gradient."""
        t = self.trace
        dz = self.norm.backward(t.back(self.norm, dout))
        return dz, self.dropout.backward(t.back(self.dropout, dz))


class EncoderBlock:
    """Self-attention, then a feed-forward block, each inside an AddNorm: (N, T, D) → (N, T, D)."""

    def __init__(self, heads: int, d_ff: int, dropout: float, trace: Trace):
        self.self_attention, self.feed_forward = MultiHeadAttention(heads), FeedForward(d_ff)
        self.add_norms = [AddNorm(dropout, trace) for _ in range(2)]
        self.trace = trace

    def layers(self) -> dict[str, Layer]:
        """The block's layers by name, in the order the forward pass runs them."""
        first, second = (add_norm.layers(i) for i, add_norm in enumerate(self.add_norms, 1))
        return {"self_attention": self.self_attention, **first, "feed_forward": self.feed_forward, **second}

    def forward(self, x: np.ndarray, key_mask: np.ndarray, train: bool) -> np.ndarray:
        """x (N, T, D); key_mask (N, T) False at padding, which no step reads."""
        t, attention, feed_forward = self.trace, self.self_attention, self.feed_forward
        h = self.add_norms[0].forward(x, t.out(attention, attention.attend(x, x, key_mask, train)), train)
        return self.add_norms[1].forward(h, t.out(feed_forward, feed_forward.forward(h, train)), train)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        t = self.trace
        dh, ds = self.add_norms[1].backward(dout)
        dh = dh + self.feed_forward.backward(t.back(self.feed_forward, ds))
        dx, ds = self.add_norms[0].backward(dh)
        dq, dkv = self.self_attention.backward_attend(t.back(self.self_attention, ds))
        return dx + dq + dkv


class DecoderBlock:
    """Causal self-attention, cross-attention on the encoder's output (the memory), then a
    feed-forward block, each inside an AddNorm: (N, T, D) and memory (N, T_in, D) → (N, T, D)."""

    def __init__(self, heads: int, d_ff: int, dropout: float, trace: Trace):
        self.self_attention = MultiHeadAttention(heads, causal=True)
        self.cross_attention, self.feed_forward = MultiHeadAttention(heads), FeedForward(d_ff)
        self.add_norms = [AddNorm(dropout, trace) for _ in range(3)]
        self.trace = trace

    def layers(self) -> dict[str, Layer]:
        """The block's layers by name, in the order the forward pass runs them."""
        first, second, third = (add_norm.layers(i) for i, add_norm in enumerate(self.add_norms, 1))
        return {
            "self_attention": self.self_attention, **first, "cross_attention": self.cross_attention, **second,
            "feed_forward": self.feed_forward, **third,
        }

    def forward(self, x: np.ndarray, memory: np.ndarray, memory_mask: np.ndarray, train: bool) -> np.ndarray:
        """x (N, T, D); memory (N, T_in, D) and memory_mask (N, T_in), False at the input's padding."""
        t, attention, cross, feed_forward = self.trace, self.self_attention, self.cross_attention, self.feed_forward
        h = self.add_norms[0].forward(x, t.out(attention, attention.attend(x, x, None, train)), train)
        g = self.add_norms[1].forward(h, t.out(cross, cross.attend(h, memory, memory_mask, train)), train)
        return self.add_norms[2].forward(g, t.out(feed_forward, feed_forward.forward(g, train)), train)

    def backward(self, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(dL/dx, dL/dmemory) from dL/dout of the last forward pass."""
        t = self.trace
        dg, ds = self.add_norms[2].backward(dout)
        dg = dg + self.feed_forward.backward(t.back(self.feed_forward, ds))
        dh, ds = self.add_norms[1].backward(dg)
        dq, dmemory = self.cross_attention.backward_attend(t.back(self.cross_attention, ds))
        dx, ds = self.add_norms[0].backward(dh + dq)
        dq, dkv = self.self_attention.backward_attend(t.back(self.self_attention, ds))
        return dx + dq + dkv, dmemory


Block = TypeVar("Block", EncoderBlock, DecoderBlock)


class Transformer(Model):
    """Encoder-decoder Transformer (see the module): token ids x (N, T_in) → replies (N, T_out).

    `d_model` features per step throughout, split into `heads` attention heads; `d_ff` units in
    each feed-forward block's middle; `blocks` blocks in the encoder and as many in the decoder;
    `dropout` on the embeddings and on every sublayer's output in training (the paper's 0.1).

    Parameters are named by place: "encoder.embedding.W", "encoder.block1.self_attention.W_q",
    "decoder.block2.cross_attention.W_k", "decoder.block1.feed_forward.dense1.W",
    "decoder.output.dense1.W". Metrics as seq2seq's: `acc` and `seq_acc` (see EncoderDecoder).
    """

    kind = "transformer"

    #: how `generate` picks each token unless told (as EncoderDecoder)
    decoding: str = "greedy"

    def __init__(self, d_model: int = 64, heads: int = 4, d_ff: int = 128, blocks: int = 2, dropout: float = 0.0):
        self.d_model, self.heads, self.d_ff, self.blocks, self.dropout = d_model, heads, d_ff, blocks, dropout
        self.trace = Trace()

    # ---- building ------------------------------------------------------------------------

    def build(self, info: DataInfo, ctx: BuildContext) -> None:
        """Create the layers for the samples (token ids (T_in,)) of a text corpus: its vocabulary,
        and its targets' length as the reply length; raises ShapeError for data it cannot read."""
        vocabulary = info.vocabulary
        if vocabulary is None or len(info.target_shape) != 1:
            raise ShapeError("transformer reads and writes token ids, but the data is not a text corpus", key="kind")
        if len(info.input_shape) != 1:
            raise ShapeError(
                f"transformer reads token sequences (T,), but the samples are {tuple(info.input_shape)}; "
                "dialogues (utterances × words) need kind: hred or vhred", key="kind",
            )
        if self.d_model % self.heads:
            raise ShapeError(
                f"d_model {self.d_model} does not split into {self.heads} heads of equal size; "
                "make d_model a multiple of heads", key="heads",
            )
        self.input_shape = tuple(info.input_shape)
        self.tokens = Tokens(len(vocabulary), vocabulary.pad, vocabulary.start, vocabulary.end, info.target_shape[0] - 1)
        V, D, rate = self.tokens.vocab_size, self.d_model, self.dropout
        source, target = (self.input_shape[0], D), (self.tokens.length, D)
        self.layers, self.output_shapes = [], {}
        self.encoder_embedding = self._add("encoder.embedding", Embedding(V, D, EMBEDDING_INIT), source[:1], ctx)
        self.encoder_positions = self._add("encoder.positional_encoding", PositionalEncoding(), source, ctx)
        self.encoder_dropout = self._add("encoder.dropout", Dropout(rate), source, ctx)
        self.encoder_blocks = [
            self._block(f"encoder.block{i}", EncoderBlock(self.heads, self.d_ff, rate, self.trace), source, ctx)
            for i in range(1, self.blocks + 1)
        ]
        self.decoder_embedding = self._add("decoder.embedding", Embedding(V, D, EMBEDDING_INIT), target[:1], ctx)
        self.decoder_positions = self._add("decoder.positional_encoding", PositionalEncoding(), target, ctx)
        self.decoder_dropout = self._add("decoder.dropout", Dropout(rate), target, ctx)
        self.decoder_blocks = [
            self._block(f"decoder.block{i}", DecoderBlock(self.heads, self.d_ff, rate, self.trace), target, ctx)
            for i in range(1, self.blocks + 1)
        ]
        self.output = self._add("decoder.output", TimeDistributed(Dense(V)), target, ctx)
        # Flat views of the layers' own arrays, which they update in place.
        self.params = {f"{l.name}.{k}": v for l in self.layers for k, v in l.params.items()}
        self.grads = {f"{l.name}.{k}": v for l in self.layers for k, v in l.grads.items()}
        self.penalized = [f"{l.name}.{k}" for l in self.layers for k in l.penalized]

    def _add(self, name: str, layer: Layer, input_shape: tuple[int, ...], ctx: BuildContext) -> Layer:
        """`layer` named `name` and built for samples of `input_shape` (cross-attention: the decoder's)."""
        layer.name = name
        self.output_shapes[name] = layer.build(input_shape, ctx)
        self.layers.append(layer)
        return layer

    def _block(self, name: str, block: Block, shape: tuple[int, ...], ctx: BuildContext) -> Block:
        """`block` with its layers named "<name>.<part>" and built for sequences of `shape`."""
        for part, layer in block.layers().items():
            self._add(f"{name}.{part}", layer, shape, ctx)
        return block

    # ---- the passes ----------------------------------------------------------------------

    def _encode(self, x: np.ndarray, train: bool) -> tuple[np.ndarray, np.ndarray]:
        """The encoder on ids x (N, T_in): (memory (N, T_in, D), key mask (N, T_in), False at padding)."""
        mask = x != self.tokens.pad
        h = self._embed(x, self.encoder_embedding, self.encoder_positions, self.encoder_dropout, train)
        for block in self.encoder_blocks:
            h = block.forward(h, mask, train)
        return h, mask

    def _decode(self, tokens: np.ndarray, memory: np.ndarray, mask: np.ndarray, train: bool) -> np.ndarray:
        """The decoder on input tokens (N, T), reading the encoder's memory: logits (N, T, V)."""
        h = self._embed(tokens, self.decoder_embedding, self.decoder_positions, self.decoder_dropout, train)
        for block in self.decoder_blocks:
            h = block.forward(h, memory, mask, train)
        return self.trace.out(self.output, self.output.forward(h, train))

    def _embed(self, ids: np.ndarray, embedding: Layer, positions: Layer, dropout: Layer, train: bool) -> np.ndarray:
        """Token ids (N, T) as vectors with their positions added: (N, T, D)."""
        t = self.trace
        h = t.out(positions, positions.forward(t.out(embedding, embedding.forward(ids, train)), train))
        return t.out(dropout, dropout.forward(h, train))

    def _backward_embed(self, dout: np.ndarray, embedding: Layer, positions: Layer, dropout: Layer) -> None:
        t = self.trace
        dh = positions.backward(t.back(positions, dropout.backward(t.back(dropout, dout))))
        embedding.backward(t.back(embedding, dh))

    def forward_loss(self, x, t, loss, train=False):
        memory, mask = self._encode(x, train)
        u = self._decode(t[:, :-1], memory, mask, train)
        return loss.forward_logits(u, t[:, 1:]), loss.y

    def backward_loss(self, loss):
        dh, dmemory = self.output.backward(self.trace.back(self.output, loss.backward_logits())), 0.0
        for block in reversed(self.decoder_blocks):
            dh, dm = block.backward(dh)
            dmemory = dmemory + dm  # every decoder block reads the same memory
        self._backward_embed(dh, self.decoder_embedding, self.decoder_positions, self.decoder_dropout)
        for block in reversed(self.encoder_blocks):
            dmemory = block.backward(dmemory)
        self._backward_embed(dmemory, self.encoder_embedding, self.encoder_positions, self.encoder_dropout)

    def fuses(self, loss: Loss) -> bool:
        """Always: the logits go to softmax cross-entropy together."""
        return True

    # ---- writing -------------------------------------------------------------------------

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        """Greedy replies to x: token ids (N, length)."""
        return self.generate(x, greedy=True)

    def generate(
        self, x: np.ndarray, samples: int = 1, greedy: bool | None = None, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        """Replies to the inputs x (N, T_in) written freely: ids (N·samples, length), the replies
        to x[i] in rows i·samples … (i + 1)·samples − 1 (as EncoderDecoder.generate).

        Each step reruns the decoder on the start token and the tokens written so far and takes
        the last step's logits: the causal mask makes the earlier steps' outputs what they were.
        """
        rng = input_stream(x) if rng is None else rng
        greedy = self.decoding == "greedy" if greedy is None else greedy
        memory, mask = self._encode(np.repeat(x, samples, axis=0), False)
        written = np.zeros((len(memory), 0), np.int64)

        def next_logits(token: np.ndarray) -> np.ndarray:
            nonlocal written
            written = np.concatenate([written, token[:, None]], axis=1)
            return self._decode(written, memory, mask, False)[:, -1]

        return write(next_logits, len(memory), self.tokens, greedy, rng)

    @property
    def has_attention(self) -> bool:
        return True

    def attention_maps(self, x):
        """The greedy replies to token ids x (N, T_in) and where each decoder cross-attention head
        looked while writing them: titles "decoder cross-attention, layer l, head h" (l and h from
        1, layer then head order), weights (N, T_out, T_in) whose row s weighs the input tokens
        when reply token s was written (the input's padding gets 0). T_out is the model's reply
        length: after an end token a reply is padding.
        """
        replies = self.generate(x, greedy=True)
        # The replies fed back as teacher forcing replay the steps that wrote them (causal mask).
        memory, mask = self._encode(x, False)
        self._decode(np.concatenate([np.full((len(x), 1), self.tokens.start), replies[:, :-1]], axis=1), memory, mask, False)
        maps = {
            f"decoder cross-attention, layer {l}, head {h + 1}": block.cross_attention.attention_weights[:, h]
            for l, block in enumerate(self.decoder_blocks, 1)
            for h in range(block.cross_attention.heads)
        }
        return replies, maps

    # ---- metrics, statistics and summary -------------------------------------------------

    @property
    def keep_outputs(self) -> bool:
        return self.trace.keep

    @keep_outputs.setter
    def keep_outputs(self, keep: bool) -> None:
        self.trace.keep = keep

    @property
    def outputs(self) -> dict[str, np.ndarray]:
        return self.trace.outputs

    @property
    def output_grads(self) -> dict[str, np.ndarray]:
        return self.trace.output_grads

    def metric_names(self, task, train):
        return ("acc", "seq_acc")

    def batch_metrics(self, x, t, y, task, train):
        written = y.argmax(axis=-1) if train else self.generate(x, greedy=True)
        return token_accuracy(written, t[:, 1:], self.tokens.pad)

    def summary_rows(self):
        return [
            (layer.name, layer.kind, self.output_shapes[layer.name], sum(p.size for p in layer.params.values()))
            for layer in self.layers
        ]
