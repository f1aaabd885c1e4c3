"""Work shared between cores: the large products and passes of a training step, cut into pieces
that run side by side on the lanes (threads) dnnexp may use.

BLAS runs on one thread (dnnexp.train.threads); what this module adds is the second core's work,
chosen by dnnexp rather than by BLAS, where a training step has it:

- `split(task, n, work)`: a batch of n cut into pieces, `task(part)` for each. A piece writes only
  its own rows, so the result is the same bit for bit whether the pieces run one after the other
  or side by side. The number of pieces is fixed by the size of the work alone (two above
  `SPLIT_WORK`, else one), never by how many lanes there are: a product cut into row blocks may
  round differently from the uncut product, but the same blocks come out the same on one core
  or two, so results do not depend on the thread setting or the machine's load, and a run
  resumed under another setting stays exact. Work whose pieces give the whole's very numbers
  (elementwise passes) is `exact`: it is cut only when a second lane is there to take a half.
- `later(task, work)`: inside `deferring()` (a model's backward pass), a task whose result is
  not needed before the pass ends — a layer's weight gradient — runs on another lane while the
  pass goes on; leaving `deferring()` waits for it. The same call runs, only elsewhere.

NumPy releases the GIL inside BLAS and inside its elementwise loops over arrays of more than a few
hundred numbers, so the lanes run at once. With one lane (the default, and in the worker threads
themselves) every piece runs in the calling thread, in order.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Callable, Iterator

import numpy as np

#: work (in multiply-adds: a product's m·k·n) above which it is cut in two pieces: a piece must
#: outweigh the ~20–60 µs of handing it to another thread and back (4·10⁶ take ~80 µs in BLAS)
SPLIT_WORK = 4_000_000
#: the fewest rows of a product's block: BLAS packs all of b for each block, which a block of
#: fewer rows does not repay (a 100-row batch cut in two took 25% more time on one core)
MIN_ROWS = 128
#: the fewest columns of a product's block where its rows are too few: BLAS then packs all of a
#: for each block (9% more time on one core for a 100 × 784 × 100 product cut in two)
MIN_COLUMNS = 64
#: the work of one elementwise pass over one number, in multiply-adds: such a pass is bound by
#: memory, ~0.5 ns a number, where BLAS does a multiply-add in ~0.02 ns
PASS = 30
#: multiply-adds above which a deferred task goes to another lane: handing it over costs the
#: calling thread about 5 µs, which a product of this size takes
DEFER_WORK = 250_000

#: the calling thread and one worker, which runs the deferred tasks in the order given
MAX_LANES = 2

_local = threading.local()  # per thread: `lanes` and the stack of `deferring()` blocks
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


class Lanes:
    """How many lanes the work of one thread may use, 1 or 2; `count` may be changed while that
    work runs (by a thread watching the machine's load): the pieces stay the same, only where
    they run changes."""

    def __init__(self, count: int = 1):
        self.count = count

    @property
    def count(self) -> int:
        return self._count

    @count.setter
    def count(self, value: int) -> None:
        self._count = min(MAX_LANES, max(1, int(value)))  # more count as 2: the pieces are halves


def lanes() -> int:
    """How many lanes (threads) the calling thread's work may use: 1 unless inside `using`."""
    setting = getattr(_local, "lanes", None)
    return 1 if setting is None else setting.count


@contextmanager
def using(count: int) -> Iterator[Lanes]:
    """Let the work of the calling thread use `count` lanes inside the block; yields the setting,
    whose count may be changed from another thread."""
    previous, _local.lanes = getattr(_local, "lanes", None), Lanes(count)
    try:
        yield _local.lanes
    finally:
        _local.lanes = previous


def splits(n: int, work: float) -> bool:
    """Whether work over n rows is cut in two: `work` of at least SPLIT_WORK and n > 1. Depends on
    the sizes only; where it does not, callers take their plain one-piece path."""
    return work >= SPLIT_WORK and n > 1


def pieces(n: int, work: float) -> list[slice]:
    """range(n) cut into the pieces `split` runs: two halves where `splits`, else the whole."""
    return [slice(0, n // 2), slice(n // 2, n)] if splits(n, work) else [slice(0, n)]


def shared(n: int, work: float) -> bool:
    """Whether exact work over n rows (see `split`) is cut in two now: where it `splits` and a
    second lane is free to take a half."""
    return splits(n, work) and lanes() > 1


def split(task: Callable[[slice], None], n: int, work: float, exact: bool = False) -> None:
    """task(part) for each of `pieces(n, work)`: the first on another lane when there is one, the
    rest here. Each piece must write only its own part of the output. `exact` work gives the same
    numbers in pieces as whole (elementwise passes, one product per step of a batch of them): on
    one lane it then runs whole, as one piece."""
    parts = pieces(n, work) if not exact or lanes() > 1 else [slice(0, n)]
    if len(parts) == 1 or lanes() == 1:
        for part in parts:
            task(part)
        return
    handed = _worker_pool().submit(task, parts[0])
    try:
        for part in parts[1:]:
            task(part)
    finally:
        handed.result()


def summed(task: Callable[[slice], tuple[np.ndarray, ...]], n: int, work: float) -> tuple[np.ndarray, ...]:
    """Σ task(part) over `pieces(n, work)`, term by term: a reduction over a batch (a weight
    gradient) in two halves added in that order, the first half on the other lane when there is one."""
    parts = pieces(n, work)
    if len(parts) == 1:
        return task(parts[0])
    if lanes() == 1:
        first, second = task(parts[0]), task(parts[1])
    else:
        handed = _worker_pool().submit(task, parts[0])
        try:
            second = task(parts[1])
        finally:
            first = handed.result()
    return tuple(a + b for a, b in zip(first, second))


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """a (m, k) @ b (k, n), into `out` if given; when m·k·n exceeds SPLIT_WORK, in two blocks, each
    one BLAS call: of a's rows where each block gets MIN_ROWS of them, else of b's columns where
    each gets MIN_COLUMNS (a batch of 100 times a wide layer). Which, is fixed by the shapes."""
    (m, k), n = a.shape, b.shape[1]
    if m * k * n < SPLIT_WORK:
        return a @ b if out is None else np.matmul(a, b, out=out)  # `@`: no keywords to parse, at batch 1 it shows
    if m >= 2 * MIN_ROWS:
        axis, length = 0, m
    elif n >= 2 * MIN_COLUMNS:
        axis, length = 1, n
    else:
        axis, length = None, 1
    if axis is None or not splits(length, m * k * n):
        return np.matmul(a, b, out=out)
    if out is None:
        out = np.empty((m, n), np.result_type(a, b))

    def block(part: slice) -> None:
        if axis == 0:
            np.matmul(a[part], b, out=out[part])
        else:
            np.matmul(a, b[:, part], out=out[:, part])

    split(block, length, m * k * n)
    return out


def later(task: Callable[..., None], work: float, *args: object) -> None:
    """Run task(*args) on another lane if inside `deferring()`, with more than one lane and `work`
    above DEFER_WORK; else now. The task must not read what the caller changes before the block ends."""
    pending = getattr(_local, "deferred", None)
    if not pending or work < DEFER_WORK or lanes() == 1:
        task(*args)
        return
    pending[-1].append(_worker_pool().submit(task, *args))


def then(task: Callable[[], None]) -> None:
    """Run task() after every `later` task of the current `deferring()` block: on the other lane
    behind them when some went there (that lane runs its tasks in order), else now."""
    pending = getattr(_local, "deferred", None)
    if pending and pending[-1]:
        pending[-1].append(_worker_pool().submit(task))
    else:
        task()


class deferring:
    """A block whose `later` tasks may run on another lane; leaving it waits for them all (also
    when it is left by an exception, so that no task writes into arrays after it). A class, not a
    generator: a model enters one every backward pass, batch 1 included."""

    def __enter__(self) -> None:
        stack = _local.__dict__.setdefault("deferred", [])
        stack.append([])

    def __exit__(self, kind, error, trace) -> None:
        handed: list[Future] = _local.deferred.pop()
        failed = kind is not None
        for future in handed:
            exception = future.exception()
            if exception is not None and not failed:
                failed = True
                raise exception


def _worker_pool() -> ThreadPoolExecutor:
    """The other lane, made on first use: one worker thread, which runs what it is given in order."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dnnexp-lane")
        return _pool


def _forget_pool_after_fork() -> None:
    """A forked child (a sweep's trial) has none of its parent's threads: it makes its own pool."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool_after_fork)
