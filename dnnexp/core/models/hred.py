"""Dialogue models: HRED and VHRED, replies to the previous utterances of a conversation.

HRED (Serban et al. 2016) reads a conversation on two levels: an utterance encoder turns each of
the n − 1 previous utterances into a vector, a context RNN runs over those vectors in order, and
its last state sets the decoder going::

    encoder:  embedding → rnn       each utterance, words (N·(n−1), T) → its vector (N·(n−1), units)
    context:  rnn                   the vectors in order (N, n−1, units) → c (N, context_units)
    bridge:   dense + tanh          c → the decoder's initial state h₀ (N, units)
    decoder:  as seq2seq's          the reply, word by word

VHRED (Serban et al. 2017) puts a latent variable z between context and reply, so that one
context can lead to replies that differ as a whole, not only word by word::

    prior:      p(z | c)    = N(μ_p, σ_p²)   dense + tanh → dense (2·latent: μ and log σ²)
    posterior:  q(z | c, r) = N(μ_q, σ_q²)   the same on [c, r], r the encoder's vector of the reply
    bridge:     [c, z] → h₀

Training maximizes the evidence lower bound: the decoder's cross-entropy with z drawn from the
posterior by reparameterization, z = μ_q + σ_q ⊙ ε with ε ~ N(0, I) from the run's noise stream
(so the draw is a differentiable function of μ_q and σ_q; evaluation draws ε from a stream of
its own), plus the KL divergence KL(q ‖ p),
weighted by β = min(1, step / kl_anneal_steps). Annealing β up from 0 lets the decoder learn to
use z before the KL term can push the posterior onto the prior (Bowman et al. 2016). Generation
draws z from the prior. Evaluation reports the full bound (β = 1).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from dnnexp.core.activations import Tanh
from dnnexp.core.layers.dense import Dense
from dnnexp.core.models.seq2seq import Cell, EncoderDecoder


class HRED(EncoderDecoder):
    """Hierarchical recurrent encoder-decoder: utterances x (N, n−1, T) → encoder → context RNN → decoder → replies.

    Evaluation also writes `samples` replies to each context (`decoding`: words drawn from the
    softmax, or greedy) and logs their diversity: distinct1 and distinct2 (see `distinct_n`).
    `peeky` gives h₀ to every decoder step, as seq2seq's does.
    """

    kind = "hred"

    def __init__(
        self,
        embedding: int = 16,
        units: int = 64,
        context_units: int = 64,
        cell: Cell = "gru",
        samples: int = 5,
        decoding: Literal["sample", "greedy"] = "sample",
        peeky: bool = False,
    ):
        super().__init__(embedding, units, cell, peeky)
        self.context_units, self.samples, self.decoding = context_units, samples, decoding

    def _build_parts(self, ctx):
        self._check_tokens(2, "dialogues, utterances × words (n−1, T)", "token sequences (T,) need kind: seq2seq")
        self.width = self._encoder_width()
        self.encoder = self._part("encoder", (self.width,), [self._embedding(), self._rnn(self.units)], ctx)
        utterances = self.input_shape[0]
        self.context = self._part("context", (utterances, self.units), [self._rnn(self.context_units)], ctx, True)
        self._build_latent(ctx)
        self.bridge = self._part(
            "bridge", (self._bridge_inputs(),), [Dense(self.units), Tanh()], ctx, True
        )

    def _encoder_width(self) -> int:
        """The width of the rows the utterance encoder reads."""
        return self.input_shape[1]

    def _build_latent(self, ctx) -> None:
        """Parts between the context and the bridge (VHRED's prior and posterior)."""

    def _bridge_inputs(self) -> int:
        return self.context_units

    def _encoder_rows(self, x: np.ndarray, t: np.ndarray | None) -> np.ndarray:
        """What the utterance encoder reads: the utterances of x (N, n−1, T) as rows (N·(n−1), T)."""
        return x.reshape(-1, x.shape[-1])

    def _context(self, x: np.ndarray, t: np.ndarray | None, train: bool) -> tuple[np.ndarray, np.ndarray]:
        """c (N, context_units), and the encoder's vectors of any rows after the utterances (VHRED's replies)."""
        N, n = x.shape[:2]
        vectors = self.encoder.forward(self._encoder_rows(x, t), train)
        return self.context.forward(vectors[: N * n].reshape(N, n, -1), train), vectors[N * n :]

    def encode(self, x, t, train):
        c, _ = self._context(x, t, train)
        return self.bridge.forward(c, train)

    def backward_encode(self, dh0):
        self._backward_context(self.bridge.backward(dh0))

    def _backward_context(self, dc: np.ndarray, dreplies: np.ndarray | None = None) -> None:
        """From dL/dc (N, context_units) (and dL/d of the replies' vectors) back through context and encoder."""
        dvectors = self.context.backward(dc)
        dvectors = dvectors.reshape(-1, dvectors.shape[-1])
        self.encoder.backward(dvectors if dreplies is None else np.concatenate([dvectors, dreplies]))

    def metric_names(self, task, train):
        return super().metric_names(task, train) + (() if train else ("distinct1", "distinct2"))

    def batch_metrics(self, x, t, y, task, train):
        metrics = super().batch_metrics(x, t, y, task, train)
        if not train:
            replies = self.generate(x, self.samples).reshape(len(x), self.samples, -1)
            metrics.update({f"distinct{n}": distinct_n(replies, n, self.tokens.pad, self.tokens.end) for n in (1, 2)})
        return metrics


class VHRED(HRED):
    """HRED with a latent variable z per reply: prior p(z | c), posterior q(z | c, reply), KL term annealed.

    `latent` is z's size; β, the weight of the KL term, rises linearly from 0 to 1 over the first
    `kl_anneal_steps` optimizer steps (0: 1 from the start). The step count is a buffer of the
    model, saved in checkpoints, so a resumed run continues the schedule exactly.
    """

    kind = "vhred"

    def __init__(
        self,
        embedding: int = 16,
        units: int = 64,
        context_units: int = 64,
        cell: Cell = "gru",
        samples: int = 5,
        decoding: Literal["sample", "greedy"] = "sample",
        peeky: bool = False,
        latent: int = 16,
        kl_anneal_steps: int = 2000,
    ):
        super().__init__(embedding, units, context_units, cell, samples, decoding, peeky)
        self.latent, self.kl_anneal_steps = latent, kl_anneal_steps
        #: optimizer steps taken (backward passes): where the KL annealing stands
        self.kl_steps = np.zeros((), np.int64)

    def _encoder_width(self):
        # The reply's words and the context's utterances go through the one encoder, as rows of one width.
        return max(self.input_shape[1], self.tokens.length)

    def _build_latent(self, ctx):
        def gaussian(name: str, inputs: int):
            return self._part(name, (inputs,), [Dense(self.units), Tanh(), Dense(2 * self.latent)], ctx, True)

        self.prior = gaussian("prior", self.context_units)
        self.posterior = gaussian("posterior", self.context_units + self.units)

    def _bridge_inputs(self):
        return self.context_units + self.latent

    @property
    def buffers(self):
        return {**super().buffers, "kl_steps": self.kl_steps}

    @property
    def kl_weight(self) -> float:
        """β of the next training step."""
        return 1.0 if self.kl_anneal_steps == 0 else min(1.0, float(self.kl_steps) / self.kl_anneal_steps)

    def _encoder_rows(self, x, t):
        rows = [x.reshape(-1, x.shape[-1])] + ([] if t is None else [t[:, 1:]])  # the replies after the utterances
        return np.concatenate([_pad_to(part, self.width, self.tokens.pad) for part in rows])

    def encode(self, x, t, train):
        c, r = self._context(x, t, train)
        mu_p, logvar_p = np.split(self.prior.forward(c, train), 2, axis=1)
        mu_q, logvar_q = np.split(self.posterior.forward(np.concatenate([c, r], axis=1), train), 2, axis=1)
        sigma_q = np.exp(0.5 * logvar_q)
        self.eps = self.draws.standard_normal(mu_q.shape).astype(mu_q.dtype)
        z = mu_q + sigma_q * self.eps
        self.beta = self.kl_weight if train else 1.0
        self.kl, self.dkl = gaussian_kl(mu_q, logvar_q, mu_p, logvar_p)
        self.sigma_q = sigma_q
        return self.bridge.forward(np.concatenate([c, z], axis=1), train)

    def extra_loss(self, train):
        return self.beta * float(self.kl.mean())

    def backward_encode(self, dh0):
        C, N = self.context_units, len(dh0)
        dcz = self.bridge.backward(dh0)
        dc, dz = dcz[:, :C], dcz[:, C:]
        # d(βKL)/d· of the batch mean, and z = μ_q + σ_q ε: dz/dμ_q = 1, dz/d(log σ_q²) = ½ σ_q ε.
        dmu_q, dlogvar_q, dmu_p, dlogvar_p = (self.beta / N * d for d in self.dkl)
        dmu_q += dz
        dlogvar_q += dz * 0.5 * self.sigma_q * self.eps
        dcr = self.posterior.backward(np.concatenate([dmu_q, dlogvar_q], axis=1))
        dc = dc + dcr[:, :C] + self.prior.backward(np.concatenate([dmu_p, dlogvar_p], axis=1))
        self._backward_context(dc, dcr[:, C:])

    def backward_loss(self, loss):
        super().backward_loss(loss)
        self.kl_steps += 1

    def initial_state(self, x, samples, rng):
        c, _ = self._context(x, None, False)
        c = np.repeat(c, samples, axis=0)
        mu_p, logvar_p = np.split(self.prior.forward(c), 2, axis=1)
        z = mu_p + np.exp(0.5 * logvar_p) * rng.standard_normal(mu_p.shape).astype(mu_p.dtype)
        return self.bridge.forward(np.concatenate([c, z], axis=1))

    def metric_names(self, task, train):
        return super().metric_names(task, train) + ("kl",)

    def batch_metrics(self, x, t, y, task, train):
        kl = float(self.kl.mean())  # of the forward pass y came from; generating draws anew
        return {**super().batch_metrics(x, t, y, task, train), "kl": kl}


def gaussian_kl(
    mu_q: np.ndarray, logvar_q: np.ndarray, mu_p: np.ndarray, logvar_p: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """KL(N(μ_q, σ_q²) ‖ N(μ_p, σ_p²)) of diagonal Gaussians, per sample (N,), summed over the
    latent dimensions, and its derivatives with respect to (μ_q, log σ_q², μ_p, log σ_p²):

        KL = ½ Σ [log σ_p² − log σ_q² + (σ_q² + (μ_q − μ_p)²) / σ_p² − 1]
    """
    var_q, inv_var_p = np.exp(logvar_q), np.exp(-logvar_p)
    diff = mu_q - mu_p
    ratio = (var_q + diff * diff) * inv_var_p
    kl = 0.5 * np.sum(logvar_p - logvar_q + ratio - 1.0, axis=1)
    dmu_q = diff * inv_var_p
    return kl, (dmu_q, 0.5 * (var_q * inv_var_p - 1.0), -dmu_q, 0.5 * (1.0 - ratio))


def distinct_n(replies: np.ndarray, n: int, pad: int, end: int | None = None) -> float:
    """How much the replies to one context differ: per context, the distinct n-grams among its
    replies over all n-grams in them (Li et al. 2016's distinct-n, taken per context), averaged
    over the contexts. replies: ids (contexts, samples, T); padding (`pad`) and the end token are no words.

    S replies that are all the same give 1/S; replies that share no n-gram give 1.
    """
    N, S, T = replies.shape
    if T < n:
        return 0.0
    words = replies != pad
    if end is not None:
        words &= replies != end
    grams = sliding_window_view(replies, n, axis=2)  # (N, S, T − n + 1, n)
    valid = sliding_window_view(words, n, axis=2).all(axis=-1)
    base = int(replies.max()) + 1
    codes = grams @ (base ** np.arange(n, dtype=np.int64))  # one integer per n-gram
    context = np.broadcast_to(np.arange(N)[:, None, None], valid.shape)[valid]
    keys = context * base**n + codes[valid]
    total = np.bincount(context, minlength=N)
    distinct = np.bincount(np.unique(keys) // base**n, minlength=N)
    return float(np.mean(distinct / np.maximum(total, 1)))


def _pad_to(rows: np.ndarray, width: int, pad: int) -> np.ndarray:
    """Token rows (M, T) padded on the right to (M, width)."""
    return np.pad(rows, ((0, 0), (0, width - rows.shape[1])), constant_values=pad)
