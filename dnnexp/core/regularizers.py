"""Weight penalties and gradient clipping (course Day 2 §3).

The course adds (1/p) λ‖W‖_p^p to the error: L2 (ridge, λ/2 ΣW², gradient λW) pulls all weights
towards zero; L1 (lasso, λ Σ|W|, gradient λ sign W) drives many of them to exactly zero.
"""

from __future__ import annotations

import math

import numpy as np



class Penalty:
    """Base weight penalty with strength `lam`."""

    def __init__(self, lam: float):
        self.lam = float(lam)

    def loss(self, w: np.ndarray) -> float:
        raise NotImplementedError

    def add_grad(self, w: np.ndarray, grad: np.ndarray) -> None:
        """Add the penalty's gradient to `grad` in place."""
        raise NotImplementedError


class L2(Penalty):
    """L2 (ridge, weight decay): λ/2 Σ W², gradient λW."""

    kind = "l2"

    def loss(self, w):
        return 0.5 * self.lam * float(np.sum(w * w))

    def add_grad(self, w, grad):
        grad += self.lam * w


class L1(Penalty):
    """L1 (lasso): λ Σ |W|, gradient λ sign(W); makes weights sparse."""

    kind = "l1"

    def loss(self, w):
        return self.lam * float(np.sum(np.abs(w)))

    def add_grad(self, w, grad):
        grad += self.lam * np.sign(w)


def clip_by_global_norm(grads: dict[str, np.ndarray], max_norm: float) -> float:
    """Scale all gradients together so their joint L2 norm is at most `max_norm`; return the norm
    before clipping. Scaling them together keeps the update's direction."""
    norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
    if norm > max_norm:
        scale = max_norm / norm  # norm > max_norm ≥ 0, so never 0
        for g in grads.values():
            g *= scale
    return norm
