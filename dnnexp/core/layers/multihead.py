"""Multi-head scaled dot-product attention (Vaswani et al. 2017, "Attention is all you need", §3.2).

Each step's query is compared with every step's key; the softmax of the comparisons weighs the
values, and the weighted sum is that step's output:

    Attention(Q, K, V) = softmax(Q Kᵀ / √d_k) V

Q = x W_q + b_q comes from the sequence that asks (N, T_q, D); K = m W_k and V = m W_v + b_v from
the one that is read (N, T_k, D): the same sequence in self-attention (m = x), the encoder's
output in a decoder's cross-attention. With h heads the D features are split into h groups of
d_k = D/h, each head attends on its own, and their outputs, side by side again, pass through W_o.
Dividing by √d_k keeps the scores' spread near 1 whatever d_k is, so the softmax does not saturate.
Keys get no bias: it would add the same q·b_k to every score of a query, which the softmax ignores
(its gradient is always 0).

Masks say which keys a query may read: `causal` keeps step t from the steps after it (a decoder
trained on the whole reply at once must not peek at the tokens it is learning to write), and a
key mask hides padding. A hidden key's score is set to MASKED before the softmax, so its weight is
exactly 0 and no gradient reaches it.

Every head of every sample is one batched matrix product: arrays are (N, h, T, d_k).
"""

from __future__ import annotations

import math

import numpy as np

from dnnexp.core.functions import softmax
from dnnexp.core.initializers import initializer
from dnnexp.core.layers.base import BuildContext, Layer, ShapeError

#: the score of a key a query may not read: its exp underflows to exactly 0 (a finite number, so a
#: row with every key hidden gets equal weights rather than 0/0)
MASKED = -1e9

PROJECTIONS = ("q", "k", "v", "o")
#: the projections with a bias (not the keys': see above)
BIASED = ("q", "v", "o")


def causal_mask(queries: int, keys: int) -> np.ndarray:
    """(queries, keys) bool, True where query i may read key j: j ≤ i (the last query sees every key)."""
    return np.tril(np.ones((queries, keys), bool), k=keys - queries)


class MultiHeadAttention(Layer):
    """Multi-head attention, D features in and out, split into `heads` heads of D/heads each.

    As a layer of a stack it is self-attention: input (N, T, D), output (N, T, D), every step
    reading every step (with `causal`, itself and the steps before it). `attend(x, memory,
    key_mask)` is the general form — queries from x (N, T_q, D), keys and values from memory
    (N, T_k, D) — and `backward_attend` its backward pass, giving gradients for both inputs.
    After a forward pass `attention_weights` (N, heads, T_q, T_k) holds each head's weights,
    each row summing to 1.

    Parameters W_q, W_k, W_v, W_o (D, D) and biases b_q, b_v, b_o (D,), stored like the dense
    layer's W for row vectors.
    """

    kind = "multi_head_attention"

    penalized = tuple(f"W_{p}" for p in PROJECTIONS)

    def __init__(self, heads: int = 4, causal: bool = False, init: str | dict = "xavier_uniform"):
        super().__init__()
        self.heads, self.causal, self.init = heads, causal, init

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) != 2:
            raise ShapeError(f"multi_head_attention takes sequences (T, D), got {tuple(input_shape)}")
        features = input_shape[1]
        if features % self.heads:
            raise ShapeError(
                f"{features} features do not split into {self.heads} heads of equal size; "
                f"make the width a multiple of heads (e.g. {self.heads * max(1, round(features / self.heads))})"
            )
        return tuple(input_shape)

    def build(self, input_shape, ctx: BuildContext):
        output_shape = self.compute_output_shape(input_shape)
        D = input_shape[1]
        draw = initializer(self.init)
        for p in PROJECTIONS:
            self.params[f"W_{p}"] = draw((D, D), D, D, ctx.init_rng, ctx.dtype)
            if p in BIASED:
                self.params[f"b_{p}"] = np.zeros(D, ctx.dtype)
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        return output_shape

    def forward(self, x, train=False):
        return self.attend(x, x, None, train)

    def backward(self, dout):
        dx, dmemory = self.backward_attend(dout)
        return None if dx is None else dx + dmemory

    def attend(self, x: np.ndarray, memory: np.ndarray, key_mask: np.ndarray | None = None, train: bool = False) -> np.ndarray:
        """Queries from x (N, T_q, D) read memory (N, T_k, D): output (N, T_q, D).

        `key_mask` (N, T_k) bool is False for keys no query may read (padding); with `causal`,
        query i also reads only keys j ≤ i (+ T_k − T_q).
        """
        p = self.params
        N, T_q, D = x.shape
        T_k = memory.shape[1]
        allowed = None
        if key_mask is not None:
            allowed = key_mask[:, None, None, :]  # (N, 1, 1, T_k): the same for every head and query
        if self.causal:
            causal = causal_mask(T_q, T_k)
            allowed = causal if allowed is None else allowed & causal
        self.x, self.memory, self.allowed = x, memory, allowed
        self.Q = self._split(x @ p["W_q"] + p["b_q"])  # (N, h, T_q, d_k)
        self.K = self._split(memory @ p["W_k"])  # (N, h, T_k, d_k)
        self.V = self._split(memory @ p["W_v"] + p["b_v"])
        # A Python float: a NumPy float64 scalar would turn float32 scores into float64.
        self.scale = 1.0 / math.sqrt(D // self.heads)
        scores = self.Q @ self.K.transpose(0, 1, 3, 2) * self.scale  # (N, h, T_q, T_k)
        if allowed is not None:
            scores = np.where(allowed, scores, MASKED)
        self.attention_weights = softmax(scores)
        self.context = self._merge(self.attention_weights @ self.V)  # (N, T_q, D)
        return self.context @ p["W_o"] + p["b_o"]

    def backward_attend(self, dout: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        """From dL/dout (N, T_q, D) of the last `attend`: fills `grads`, returns (dL/dx, dL/dmemory),
        (None, None) when the layer skips its input gradient."""
        p, A = self.params, self.attention_weights
        self._project_grad("o", self.context, dout)
        dC = self._split(dout @ p["W_o"].T)  # (N, h, T_q, d_k)
        dA = dC @ self.V.transpose(0, 1, 3, 2)
        dV = A.transpose(0, 1, 3, 2) @ dC
        # Softmax backward along each row: dS = A ⊙ (dA − Σ_j dA_j A_j).
        dS = A * (dA - (dA * A).sum(axis=-1, keepdims=True))
        if self.allowed is not None:
            dS = np.where(self.allowed, dS, 0.0)  # a hidden score is the constant MASKED
        dS *= self.scale
        dQ, dK = self._merge(dS @ self.K), self._merge(dS.transpose(0, 1, 3, 2) @ self.Q)
        dV = self._merge(dV)
        for name, source, d in (("q", self.x, dQ), ("k", self.memory, dK), ("v", self.memory, dV)):
            self._project_grad(name, source, d)
        if not self.needs_input_grad:
            return None, None
        return dQ @ p["W_q"].T, dK @ p["W_k"].T + dV @ p["W_v"].T

    def _project_grad(self, name: str, source: np.ndarray, d: np.ndarray) -> None:
        """dW (and db) of the projection y = source W (+ b), from dL/dy; both (N, T, D)."""
        D = source.shape[-1]
        np.matmul(source.reshape(-1, D).T, d.reshape(-1, D), out=self.grads[f"W_{name}"])
        if name in BIASED:
            np.sum(d, axis=(0, 1), out=self.grads[f"b_{name}"])

    def _split(self, y: np.ndarray) -> np.ndarray:
        """(N, T, D) → (N, h, T, d_k): the heads' features apart."""
        N, T, D = y.shape
        return y.reshape(N, T, self.heads, D // self.heads).transpose(0, 2, 1, 3)

    def _merge(self, y: np.ndarray) -> np.ndarray:
        """(N, h, T, d_k) → (N, T, D): the heads side by side again."""
        N, h, T, d_k = y.shape
        return y.transpose(0, 2, 1, 3).reshape(N, T, h * d_k)
