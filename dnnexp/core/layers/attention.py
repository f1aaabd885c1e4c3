"""Attention (course Day 3 §7): a decoder that looks back at every encoder state instead of one fixed vector.

seq2seq squeezes any input into the encoder's last state. With attention the decoder keeps all
encoder states hs (N, T_in, H) — its "memory" — and at each output step t scores every one of them
against its own state h_t, turns the scores into weights with a softmax over the input steps, and
reads their weighted sum, the context c_t (deep-learning-from-scratch-2 §8.1–8.2)::

    e_ts = score(h_t, hs_s)                  how well input step s fits output step t
    a_t  = softmax_s(e_t)                     the attention weights, Σ_s a_ts = 1
    c_t  = Σ_s a_ts hs_s                      the context (N, T_out, H)

The decoder then reads [c_t, h_t] side by side (see dnnexp.core.models.seq2seq). Two scores:

    dot       e_ts = h_t · hs_s                              (Luong et al. 2015; the textbook's)
    additive  e_ts = vᵀ tanh(W_enc hs_s + W_dec h_t)         (Bahdanau et al. 2015), `units` wide

Because the decoder's RNN does not read c_t, every h_t of a teacher-forced pass is known before
attention runs: one pass scores all T_out × T_in pairs of the batch at once, with batched matrix
products (N, T_out, H) @ (N, H, T_in). Generating runs it one output step at a time (T_out = 1).

These are not spec layers (they take two inputs): a model owns one, named like its layers
("decoder.attention") so that its parameters and gradients join the model's. `DotAttentionReference`
is the textbook's form, a loop over the output steps of AttentionWeight and WeightSum, which the
fast layer is tested against.
"""

from __future__ import annotations

import numpy as np

from dnnexp.core.functions import softmax
from dnnexp.core.initializers import initializer
from dnnexp.core.layers.base import BuildContext


class Attention:
    """Softmax attention of queries hs_dec (N, T_out, H_dec) over a memory hs_enc (N, T_in, H_enc).

    `forward(hs_enc, hs_dec)` returns the contexts (N, T_out, H_enc) and leaves the weights
    (N, T_out, T_in) in `weights`; `backward(dcontext)` returns (dL/dhs_enc, dL/dhs_dec) and fills
    `grads`. A subclass gives the score and its backward pass.
    """

    #: what summaries call it
    kind = "attention"
    penalized: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.name = "attention"

    def build(self, memory_units: int, query_units: int, ctx: BuildContext) -> None:
        """Parameters for a memory of `memory_units` features per step and queries of `query_units`."""
        self.memory_units, self.query_units = memory_units, query_units
        self._build_score(ctx)
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}

    def _build_score(self, ctx: BuildContext) -> None:
        """The score's parameters, if it has any."""

    def forward(self, hs_enc: np.ndarray, hs_dec: np.ndarray) -> np.ndarray:
        self.hs_enc, self.hs_dec = hs_enc, hs_dec
        self.weights = softmax(self._score(hs_enc, hs_dec))  # (N, T_out, T_in)
        return self.weights @ hs_enc  # c_t = Σ_s a_ts hs_s, for every t at once

    def backward(self, dcontext: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, hs_enc = self.weights, self.hs_enc
        dhs_enc = a.transpose(0, 2, 1) @ dcontext  # each memory step gets its weight's share of dc
        da = dcontext @ hs_enc.transpose(0, 2, 1)  # (N, T_out, T_in)
        # softmax backward per output step: de = a ⊙ (da − Σ_s a da)
        de = a * (da - (a * da).sum(axis=-1, keepdims=True))
        dscore_enc, dhs_dec = self._score_backward(de)
        dhs_enc += dscore_enc
        return dhs_enc, dhs_dec

    def _score(self, hs_enc: np.ndarray, hs_dec: np.ndarray) -> np.ndarray:
        """e (N, T_out, T_in)."""
        raise NotImplementedError

    def _score_backward(self, de: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """From dL/de (N, T_out, T_in): (dL/dhs_enc, dL/dhs_dec) through the score; fills `grads`."""
        raise NotImplementedError


class DotAttention(Attention):
    """e_ts = h_t · hs_s: no parameters; the decoder's and encoder's states must be equally wide."""

    kind = "dot_attention"

    def _build_score(self, ctx):
        if self.memory_units != self.query_units:
            raise ValueError(f"dot attention needs states of one width, got {self.memory_units} and {self.query_units}")

    def _score(self, hs_enc, hs_dec):
        return hs_dec @ hs_enc.transpose(0, 2, 1)

    def _score_backward(self, de):
        return de.transpose(0, 2, 1) @ self.hs_dec, de @ self.hs_enc


class AdditiveAttention(Attention):
    """e_ts = vᵀ tanh(W_enc hs_s + W_dec h_t): a one-hidden-layer network of `units` tanh units
    scores each pair. W_enc (H_enc, units), W_dec (H_dec, units), v (units,)."""

    kind = "additive_attention"
    penalized = ("W_enc", "W_dec")

    def __init__(self, units: int, init: str | dict = "glorot_uniform"):
        super().__init__()
        self.units, self.init = units, init

    def _build_score(self, ctx):
        A, make = self.units, initializer(self.init)
        self.params["W_enc"] = make((self.memory_units, A), self.memory_units, A, ctx.init_rng, ctx.dtype)
        self.params["W_dec"] = make((self.query_units, A), self.query_units, A, ctx.init_rng, ctx.dtype)
        self.params["v"] = make((A,), A, 1, ctx.init_rng, ctx.dtype)

    def _score(self, hs_enc, hs_dec):
        # Each side projected once, (N, T_in, A) and (N, T_out, A), then every pair added by broadcasting.
        hidden = (hs_dec @ self.params["W_dec"])[:, :, None, :] + (hs_enc @ self.params["W_enc"])[:, None, :, :]
        self.hidden = np.tanh(hidden, out=hidden)  # (N, T_out, T_in, A)
        return self.hidden @ self.params["v"]

    def _score_backward(self, de):
        hidden, v = self.hidden, self.params["v"]
        A = len(v)
        self.grads["v"][...] = de.reshape(1, -1) @ hidden.reshape(-1, A)
        dpre = de[..., None] * v
        dpre *= 1.0 - hidden * hidden  # tanh' (N, T_out, T_in, A)
        # W_enc hs_s reaches every t, W_dec h_t every s: their gradients sum over the other axis.
        denc, ddec = dpre.sum(axis=1), dpre.sum(axis=2)
        for key, states, d in (("W_enc", self.hs_enc, denc), ("W_dec", self.hs_dec, ddec)):
            np.matmul(states.reshape(-1, states.shape[-1]).T, d.reshape(-1, A), out=self.grads[key])
        return denc @ self.params["W_enc"].T, ddec @ self.params["W_dec"].T


class DotAttentionReference:
    """The textbook's attention (deep-learning-from-scratch-2 §8.1, ch08/attention_layer.py), one
    output step at a time, the reference of `DotAttention`: per step t, AttentionWeight

        s = Σ_H hs ⊙ h_t     (N, T_in)        a = softmax(s)

    then WeightSum c = Σ_T_in hs ⊙ a (N, H); backward reverses each with its repeat-and-sum rules.
    """

    def forward(self, hs_enc: np.ndarray, hs_dec: np.ndarray) -> np.ndarray:
        N, T_out, H = hs_dec.shape
        self.hs_enc, self.hs_dec = hs_enc, hs_dec
        self.steps = []
        contexts = []
        for t in range(T_out):
            hr = hs_dec[:, t][:, None, :]  # h_t repeated over the input steps by broadcasting
            a = softmax((hs_enc * hr).sum(axis=2))
            contexts.append((hs_enc * a[:, :, None]).sum(axis=1))
            self.steps.append(a)
        self.weights = np.stack(self.steps, axis=1)
        return np.stack(contexts, axis=1)

    def backward(self, dcontext: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        hs = self.hs_enc
        dhs_enc, dhs_dec = np.zeros_like(hs), np.zeros_like(self.hs_dec)
        for t, a in enumerate(self.steps):
            dc = dcontext[:, t]
            # WeightSum: c = Σ hs ⊙ a → dhs = dc ⊙ a (repeated), da = Σ_H dc ⊙ hs
            dhs_enc += dc[:, None, :] * a[:, :, None]
            da = (dc[:, None, :] * hs).sum(axis=2)
            # Softmax, then AttentionWeight: s = Σ_H hs ⊙ h_t
            ds = a * (da - (a * da).sum(axis=1, keepdims=True))
            dhs_enc += ds[:, :, None] * self.hs_dec[:, t][:, None, :]
            dhs_dec[:, t] = (ds[:, :, None] * hs).sum(axis=1)
        return dhs_enc, dhs_dec
