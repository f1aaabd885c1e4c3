"""Work shared between cores: the products and passes of a training step that the second core
takes, when dnnexp may use it (lanes: dnnexp.train.threads decides how many, from the cores other
work leaves free).

BLAS runs on one thread, except where a second is known to give the very same numbers:

- `matmul(a, b)`: a product whose inner dimension k is at most EXACT_K runs on two BLAS threads
  when it is large (BLAS_WORK) and the other lane is idle. OpenBLAS's threads then divide only
  the rows and columns of the result, so each number is the same sum in the same order as on one
  thread. A larger k OpenBLAS blocks differently with threads than without, so such a product,
  when very large (SPLIT_WORK), is cut here instead, into two blocks of rows (or columns) with the
  whole of k in each.
- `split(task, n, work)`: a batch of n cut into pieces, `task(part)` for each. A piece writes only
  its own rows, so the result is the same bit for bit whether the pieces run one after the other
  or side by side. The number of pieces is fixed by the size of the work alone (two above
  `SPLIT_WORK`, else one), never by how many lanes there are: a product cut into row blocks may
  round differently from the uncut product, but the same blocks come out the same on one core
  or two, so results do not depend on the thread setting or the machine's load, and a run
  resumed under another setting stays exact. Work whose pieces give the whole's very numbers
  (elementwise passes) is `exact`: it is cut only when a second lane is there to take a half.
  Each piece runs on whichever lane takes it first: the other lane may still be busy with
  deferred tasks, and this thread then does every piece itself rather than wait.
- `side_by_side(task, parts)`: work already in two parts of its own, one on each lane (a
  recurrent layer's two halves of a batch, each through all its steps: `exact_in_halves` says
  where BLAS gives a product cut by columns the whole's very numbers).
- `later(task, work)`: inside `deferring()` (a model's backward pass), a task whose result is
  not needed before the pass ends — a layer's weight gradient — runs on another lane while the
  pass goes on; leaving `deferring()`, this thread runs those the other lane has not started and
  waits for the rest. The same call runs, only elsewhere.

NumPy releases the GIL inside BLAS and inside its elementwise loops over arrays of more than a few
hundred numbers, so the lanes run at once. But handing a task to the other lane's thread and
waiting for it costs ~70 µs on a 2-core virtual machine (each side's wake-up), where OpenBLAS's
own threads, spinning while they wait, take ~10 µs: hence BLAS threads for the products they give
exactly, and this module's pieces only for work of more than a millisecond. With one lane (the
other core busy, DNNEXP_THREADS=1, and in the worker thread itself) every piece runs in the
calling thread, in order.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import numpy as np

import dnnexp

#: work (in multiply-adds: a product's m·k·n) above which work is cut in two pieces: a piece must
#: outweigh the ~70 µs of handing it to another thread and back (a product of 16·10⁶ takes ~350 µs
#: on one thread; at 10⁷ two row blocks side by side measured no faster than the whole)
SPLIT_WORK = 16_000_000
#: the same for `exact` work (elementwise passes): each NumPy call of a piece takes the GIL from
#: the other lane and gives it back, ~30 µs of wake-ups where both lanes run many calls (a CNN's
#: ReLU, pooling and Adam passes cut at 16·10⁶ made its training step 10% slower than whole;
#: Adam's step, one compiled pass since, is cut at the same size, not measured again)
PASSES_SPLIT_WORK = 48_000_000
#: the longest inner dimension k of a product that OpenBLAS's threads give the same bits as its
#: one thread: it takes k in runs of GEMM_Q (384 to 448 floats for single precision on x86) and
#: its threaded driver cuts a longer k at other places than its unthreaded one
EXACT_K = 384
#: multiply-adds above which a product with k ≤ EXACT_K runs on two BLAS threads: waking the
#: second takes ~25 µs (a 784×100×100 product beside other work: 189 µs on one thread, 164 on two;
#: a batch-100 MLP, whose largest product that is, trained no faster for it)
BLAS_WORK = 8_000_000
#: the fewest rows of a product's block: BLAS packs all of b for each block, which a block of
#: fewer rows does not repay (a 100-row batch cut in two took 25% more time on one core)
MIN_ROWS = 128
#: the fewest columns of a product's block where its rows are too few: BLAS then packs all of a
#: for each block (9% more time on one core for a 100 × 784 × 100 product cut in two)
MIN_COLUMNS = 64
#: the work of one elementwise pass over one number, in multiply-adds: such a pass is bound by
#: memory, ~0.5 ns a number, where BLAS does a multiply-add in ~0.02 ns
PASS = 30
#: multiply-adds above which a deferred task goes to another lane: it must outweigh the wake-ups
#: and the GIL it takes from this thread at its start and end (at 10⁶, a batch-100 MLP's weight
#: gradients, deferring them made the training step 40% slower)
DEFER_WORK = 4_000_000

#: the calling thread and one worker, which runs the deferred tasks in the order given
MAX_LANES = 2

_local = threading.local()  # per thread: `lanes` and the stack of `deferring()` blocks
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_handed: list[Future] = []  # what went to the other lane, oldest first, until seen done


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


def splits(n: int, work: float, exact: bool = False) -> bool:
    """Whether work over n rows is cut in two: `work` of at least SPLIT_WORK (PASSES_SPLIT_WORK
    where `exact`) and n > 1. Depends on the sizes only; where it does not, callers take their
    plain one-piece path."""
    return work >= (PASSES_SPLIT_WORK if exact else SPLIT_WORK) and n > 1


def halves(n: int, align: int = 1) -> list[slice]:
    """range(n) in two parts, cut at the multiple of `align` nearest its middle (at n // 2 where
    `align` is 1)."""
    cut = (n // 2 + align // 2) // align * align
    return [slice(0, cut), slice(cut, n)]


def pieces(n: int, work: float, exact: bool = False) -> list[slice]:
    """range(n) cut into the pieces `split` runs: two halves where `splits`, else the whole."""
    return halves(n) if splits(n, work, exact) else [slice(0, n)]


def shared(n: int, work: float) -> bool:
    """Whether exact work over n rows (see `split`) is cut in two now: where it `splits` and a
    second lane is free to take a half."""
    return splits(n, work, exact=True) and lanes() > 1


def split(task: Callable[[slice], None], n: int, work: float, exact: bool = False) -> None:
    """task(part) for each of `pieces(n, work)`, each on whichever lane takes it first (see the
    module's text). Each piece must write only its own part of the output. `exact` work gives the
    same numbers in pieces as whole (elementwise passes, one product per step of a batch of them):
    on one lane it then runs whole, as one piece."""
    side_by_side(task, pieces(n, work, exact) if not exact or lanes() > 1 else [slice(0, n)])


def side_by_side(task: Callable[[Any], None], parts: list) -> None:
    """task(part) for each of `parts` (one or two), each on whichever lane takes it first; on one
    lane, in order. While they run side by side no lane is free, so each runs on one."""
    if len(parts) == 1 or lanes() == 1:
        for part in parts:
            task(part)
        return
    shared_out = _Pieces(task, parts)
    _hand(shared_out.take_there)
    shared_out.take_here()


def summed(task: Callable[[slice], tuple[np.ndarray, ...]], n: int, work: float) -> tuple[np.ndarray, ...]:
    """Σ task(part) over `pieces(n, work)`, term by term: a reduction over a batch (a weight
    gradient) in two halves added in that order, each half on whichever lane takes it first."""
    parts = pieces(n, work)
    if len(parts) == 1:
        return task(parts[0])
    results: list[tuple[np.ndarray, ...]] = [()] * len(parts)

    def share(part: slice) -> None:
        results[parts.index(part)] = task(part)

    split(share, n, work)
    return tuple(sum(terms[1:], terms[0]) for terms in zip(*results))


class _Pieces:
    """The pieces of one `split` or `side_by_side`, each taken once, by this thread or the other
    lane; this thread waits only for the pieces the other lane took."""

    def __init__(self, task: Callable[[Any], None], parts: list):
        self.task, self.parts = task, parts
        self.taken, self.taken_there = 0, 0
        self.lock, self.there_done = threading.Lock(), threading.Event()
        self.error: BaseException | None = None

    def _next(self, there: bool) -> Any:
        with self.lock:
            if self.taken == len(self.parts):
                return None
            self.taken += 1
            self.taken_there += there
            return self.parts[self.taken - 1]

    def take_there(self) -> None:
        """On the other lane: run pieces until none is left (none, when it comes late)."""
        try:
            while (part := self._next(there=True)) is not None:
                self.task(part)
        except BaseException as error:  # handed to the waiting thread, which raises it
            self.error = error
        finally:
            self.there_done.set()

    def take_here(self) -> None:
        """Here: run pieces until none is left, then wait for those the other lane is running."""
        with using(1):
            while (part := self._next(there=False)) is not None:
                self.task(part)
        if self.taken_there:
            self.there_done.wait()
            if self.error is not None:
                raise self.error


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """a (m, k) @ b (k, n), into `out` if given: on two BLAS threads where they give one thread's
    numbers (k ≤ EXACT_K) and pay, else, when very large, in two blocks side by side, each one BLAS
    call with the whole of k: of a's rows where each block gets MIN_ROWS of them, else of b's
    columns where each gets MIN_COLUMNS (a batch of 100 times a wide layer), else the sum over k
    in two halves added up. Which, is fixed by the shapes; where it runs, by the lanes free."""
    (m, k), n = a.shape, b.shape[1]
    work = m * k * n
    if k == 1:  # an outer product (a weight gradient at batch 1), where NumPy's matmul leaves BLAS
        return np.multiply(a, b, out=out)  # for a loop of its own, 3.5 times slower than this
    if work < BLAS_WORK:
        return a @ b if out is None else np.matmul(a, b, out=out)  # `@`: no keywords to parse, at batch 1 it shows
    if k <= EXACT_K or work < SPLIT_WORK:
        if k <= EXACT_K and lanes() > 1 and not _other_lane_busy() and _exact_blas() is not None:
            with _blas_threads(2):
                return np.matmul(a, b, out=out)
        return np.matmul(a, b, out=out)
    if m >= 2 * MIN_ROWS:
        axis, length = 0, m
    elif n >= 2 * MIN_COLUMNS:
        axis, length = 1, n
    else:  # few rows and columns, a long sum (a dense layer after a convolution's flatten): its halves
        (whole,) = summed(lambda part: (a[:, part] @ b[part],), k, work)
        if out is None:
            return whole
        np.copyto(out, whole)
        return out
    if out is None:
        out = np.empty((m, n), np.result_type(a, b))

    def block(part: slice) -> None:
        if axis == 0:
            np.matmul(a[part], b, out=out[part])
        else:
            np.matmul(a, b[:, part], out=out[:, part])

    split(block, length, work)
    return out


def later(task: Callable[..., None], work: float, *args: object, depth: int | None = None) -> None:
    """Run task(*args) on another lane if inside `deferring()`, with more than one lane and `work`
    above DEFER_WORK; else now. A task that is one product of inner dimension `depth` ≤ EXACT_K,
    below SPLIT_WORK, also runs now: two BLAS threads then do it exactly, at less cost than handing
    it over; a larger one goes over all the same, to run beside what follows (a CNN's dense weight
    gradient, 4320×100×100, beside max pooling's backward pass). The task must not read what the
    caller changes before the block ends; if the other lane has not started it by then, this
    thread runs it there and then."""
    pending = getattr(_local, "deferred", None)
    short = depth is not None and depth <= EXACT_K and work < SPLIT_WORK
    if not pending or work < DEFER_WORK or lanes() == 1 or short:
        task(*args)
        return
    deferred = _Deferred(task, args)
    _hand(deferred.run_there)
    pending[-1].tasks.append(deferred)


def then(task: Callable[[], None]) -> None:
    """Run task() after every `later` task of the current `deferring()` block: when the block ends,
    if some went to the other lane, else now."""
    pending = getattr(_local, "deferred", None)
    if pending and pending[-1].tasks:
        pending[-1].after.append(task)
    else:
        task()


class _Deferred:
    """A `later` task: run by the other lane, or taken back by this thread if that lane has not
    started it when the `deferring()` block ends (a lane still busy with the tasks before it)."""

    def __init__(self, task: Callable[..., None], args: tuple):
        self.task, self.args = task, args
        self.taken, self.lock, self.done = False, threading.Lock(), threading.Event()
        self.error: BaseException | None = None

    def _take(self) -> bool:
        with self.lock:
            taken, self.taken = self.taken, True
        return not taken

    def run_there(self) -> None:
        if not self._take():
            return
        try:
            self.task(*self.args)
        except BaseException as error:  # raised by the thread that waits for it
            self.error = error
        finally:
            self.done.set()

    def take_back(self, run: bool = True) -> bool:
        """Run the task here (or drop it, `run` false) unless the other lane has taken it; whether
        this thread did."""
        if not self._take():
            return False
        if run:
            self.task(*self.args)
        return True

    def wait(self) -> BaseException | None:
        """Wait until the other lane has run the task; what it raised."""
        self.done.wait()
        return self.error


class _Block:
    """What one `deferring()` block handed over: its `later` tasks in order, and the `then` tasks."""

    def __init__(self) -> None:
        self.tasks: list[_Deferred] = []
        self.after: list[Callable[[], None]] = []


class deferring:
    """A block whose `later` tasks may run on another lane. Leaving it, this thread runs those the
    other lane has not started, waits for the rest, then runs the `then` tasks: all are done when
    it is left (also when it is left by an exception, so that no task writes into arrays after it;
    tasks not started then are dropped). A class, not a generator: a model enters one every
    backward pass, batch 1 included."""

    def __enter__(self) -> None:
        stack = _local.__dict__.setdefault("deferred", [])
        stack.append(_Block())

    def __exit__(self, kind, error, trace) -> None:
        block: _Block = _local.deferred.pop()
        failed = kind is not None
        running_there = [task for task in block.tasks if not task.take_back(run=not failed)]
        errors = [task.wait() for task in running_there]
        if failed:
            return
        for raised in errors:
            if raised is not None:
                raise raised
        for task in block.after:
            task()


def _worker_pool() -> ThreadPoolExecutor:
    """The other lane, made on first use: one worker thread, which runs what it is given in order."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dnnexp-lane")
        return _pool


def _hand(task: Callable[..., Any], *args: object) -> Future:
    """task(*args) on the other lane, behind what it was given before."""
    handed = _worker_pool().submit(task, *args)
    _handed.append(handed)
    return handed


def _other_lane_busy() -> bool:
    """Whether a task handed to the other lane is still to run or running (it runs them in order)."""
    while _handed and _handed[0].done():
        _handed.pop(0)
    return bool(_handed)


@contextmanager
def _blas_threads(count: int) -> Iterator[None]:
    """OpenBLAS on `count` threads inside the block (where `_exact_blas` has it); its own setting
    again after. Only while the other lane is idle: a
    product the other lane started inside the block would take the count too."""
    blas = _exact_blas()
    previous = blas.get_num_threads()
    blas.set_num_threads(count)
    try:
        yield
    finally:
        blas.set_num_threads(previous)


_UNCHECKED = object()
_exact_blas_controller: Any = _UNCHECKED


def _exact_blas() -> Any:
    """threadpoolctl's controller of the OpenBLAS NumPy uses, once a product with k = EXACT_K has
    come out the same on two of its threads as on one; None where it did not, where its threads
    spin long after each product (dnnexp/__init__.py), or where NumPy's BLAS is another: this
    module then leaves BLAS on one thread."""
    global _exact_blas_controller
    if _exact_blas_controller is _UNCHECKED and not dnnexp.OPENBLAS_SLEEPS_SOON:
        _exact_blas_controller = None
    if _exact_blas_controller is _UNCHECKED:
        blas = numpy_openblas()
        _exact_blas_controller = blas if blas is not None and _gives_exact_products(blas) else None
    return _exact_blas_controller


def numpy_openblas() -> Any:
    """threadpoolctl's controller of the OpenBLAS NumPy's products run on: the one in NumPy's own
    folder (its wheels'), else the one OpenBLAS loaded (a NumPy linked to the system's); None
    where none or several are (callers check the bits of what they get)."""
    from threadpoolctl import ThreadpoolController

    found = ThreadpoolController().select(internal_api="openblas").lib_controllers
    # NumPy's own where others are loaded too (SciPy brings one of its own)
    numpy_dir = os.path.realpath(os.path.dirname(np.__file__))
    own = [blas for blas in found if os.path.realpath(blas.filepath).startswith(numpy_dir)] or found
    return own[0] if len(own) == 1 else None


#: where a product's columns are cut (`exact_in_halves`): BLAS computes them in tiles of up to 16
#: (AVX-512, single precision) and a narrower tile at the end, whose sums may round differently;
#: cut at a multiple of 16, each column is in a tile of the same kind in its half as in the whole
COLUMN_ALIGN = 16
_exact_in_halves: dict[tuple, bool] = {}


def exact_in_halves(products: tuple[tuple[int, int, bool], ...], n: int, dtype: Any) -> bool:
    """Whether NumPy's BLAS gives every product (m, k) @ (k, n) of `products`, each (m, k, whether
    the first operand is read transposed), the same bits computed on the columns' two halves
    (`halves(n, COLUMN_ALIGN)`) one after the other as whole: work cut by columns (a batch in
    halves) then gives the whole's very numbers. BLAS takes other roads for small products and
    narrow tiles, whose sums may round differently, so each set of shapes is tried once, on
    random numbers, before it is cut: on one BLAS thread, as a training runs its products, whatever
    the setting of the first call (a check of the data before training may come first). Fewer
    than two tiles of columns are never cut."""
    key = (products, n, np.dtype(dtype).str)
    if n < 2 * COLUMN_ALIGN:
        return False
    if key not in _exact_in_halves:
        from threadpoolctl import threadpool_limits

        rng, same = np.random.default_rng(0), []
        with threadpool_limits(1, user_api="blas"):
            for m, k, transposed in products:
                a, b = rng.normal(size=(m, k)).astype(dtype), rng.normal(size=(k, n)).astype(dtype)
                a = np.ascontiguousarray(a.T).T if transposed else a
                whole = np.matmul(a, b)
                for part in halves(n, COLUMN_ALIGN):
                    same.append(np.array_equal(whole[:, part], np.matmul(a, np.ascontiguousarray(b[:, part]))))
        _exact_in_halves[key] = all(same)
    return _exact_in_halves[key]


def _gives_exact_products(blas: Any) -> bool:
    """Whether products with k = EXACT_K, plain and with a transposed operand as a weight gradient
    has, are the same bits on 2 OpenBLAS threads as on 1."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(EXACT_K, 517)).astype(np.float32), rng.normal(size=(EXACT_K, 263)).astype(np.float32)
    previous, products = blas.get_num_threads(), []
    try:
        for count in (1, 2):
            blas.set_num_threads(count)
            products.append((a.T @ b, np.ascontiguousarray(a.T) @ b))
    finally:
        blas.set_num_threads(previous)
    return all(np.array_equal(one, two) for one, two in zip(*products))


def _forget_pool_after_fork() -> None:
    """A forked child (a sweep's trial) has none of its parent's threads: it makes its own pool."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()
    _handed.clear()


os.register_at_fork(after_in_child=_forget_pool_after_fork)
