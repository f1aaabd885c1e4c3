"""How many threads the BLAS behind NumPy may use.

The matrix products of the course's networks are small (a batch of 100 × a few hundred units):
splitting one across threads costs more in hand-offs than it saves, and on two cores it measured
several times slower than one thread (see bench/mlp_speed.py). A convolution's im2col products are
larger, but with the second core busy — another run of a `make -j2` sweep — two threads made a
CNN's training step 2–3 times slower (bench/cnn_speed.py, README). dnnexp therefore runs BLAS on
one thread unless told otherwise (`DNNEXP_THREADS`).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

THREADS_ENV = "DNNEXP_THREADS"


def default_threads() -> int:
    """`DNNEXP_THREADS` if set, else 1."""
    return int(os.environ.get(THREADS_ENV) or 1)


@contextmanager
def blas_threads(count: int | None = None) -> Iterator[None]:
    """Limit the BLAS thread pools to `count` (default: `default_threads()`) inside the block."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(count or default_threads(), user_api="blas"):
        yield
