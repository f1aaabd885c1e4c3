"""Sequence data sets for recurrent networks, drawn from the run's random generator.

- `binary_addition`: the course's Day 4 SimpleRNN example: two numbers fed bit by bit, least
  significant bit first, the bits of their sum out, one per step — the carry has to be remembered.
- `sine_wave`: windows of a noisy sine; predict the next value (regression).

Sequential images (Fashion-MNIST or MNIST read row by row) are not a data set of their own: any
image set becomes one with `data.sequence: true` (see `dnnexp.data.base.prepare`).
"""

from __future__ import annotations

import numpy as np

from dnnexp.data.base import Dataset, registered
from dnnexp.data.synthetic import drawn_dataset
from dnnexp.errors import SpecError


@registered("binary_addition")
def binary_addition(bits: int = 8, n: int = 2000, n_test: int = 1000, *, rng: np.random.Generator) -> Dataset:
    """a + b bit by bit, least significant first: x (N, bits, 2) holds a's and b's bits, t (N, bits, 1) the sum's.

    a and b are below 2^(bits−1), so the sum fits in `bits` bits. All n + n_test pairs (a, b) are
    different, so the test pairs are held out: none of them is seen in training.
    """
    pairs = 4 ** (bits - 1)
    if n + n_test > pairs:
        raise SpecError(
            f"data: {bits}-bit addition has only {pairs} different pairs (a, b), fewer than n + n_test = "
            f"{n + n_test}; lower data.n or data.n_test, or raise data.bits"
        )

    def draw(m: int) -> tuple[np.ndarray, np.ndarray]:
        pair = rng.choice(pairs, size=m, replace=False)
        a, b = np.divmod(pair, 2 ** (bits - 1))
        x = np.stack([to_bits(a, bits), to_bits(b, bits)], axis=-1)
        return x, to_bits(a + b, bits)[..., None]

    return drawn_dataset(draw, n, n_test, "binary")


def to_bits(numbers: np.ndarray, bits: int) -> np.ndarray:
    """Integers (N,) → their `bits` lowest bits (N, bits), least significant first."""
    return (numbers[:, None] >> np.arange(bits)) & 1


def from_bits(bits: np.ndarray) -> np.ndarray:
    """Bits (N, B), least significant first (anything above 0.5 is a 1) → the integers (N,)."""
    return ((bits > 0.5).astype(np.int64) << np.arange(bits.shape[1])).sum(axis=1)


@registered("sine_wave")
def sine_wave(
    steps: int = 25, period: float = 25.0, noise: float = 0.05, n: int = 1000, n_test: int = 200,
    *, rng: np.random.Generator,
) -> Dataset:
    """Next-value prediction on a sine of `period` steps plus Gaussian noise: x (N, steps, 1), t (N, 1).

    Each window starts at a random phase; the target is the (noisy) value one step after it.
    """

    def draw(m: int) -> tuple[np.ndarray, np.ndarray]:
        start = rng.uniform(0, period, (m, 1))
        wave = np.sin(2 * np.pi * (start + np.arange(steps + 1)) / period) + noise * rng.standard_normal((m, steps + 1))
        return wave[:, :steps, None], wave[:, steps]

    return drawn_dataset(draw, n, n_test, "regression")
