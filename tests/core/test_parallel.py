"""core/parallel.py: the pieces are fixed by the sizes alone, so a training step gives the same
bits on one lane and on two; deferred tasks run on the other lane and are done when their block ends."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from threadpoolctl import threadpool_limits

from dnnexp.core import parallel
from dnnexp.spec.build import sequential
from dnnexp.spec.registry import LOSSES, OPTIMIZERS


def here() -> str:
    return threading.current_thread().name


def test_the_pieces_depend_on_the_work_alone():
    for lanes in (1, 2):
        with parallel.using(lanes):
            assert parallel.pieces(10, parallel.SPLIT_WORK - 1) == [slice(0, 10)]
            assert parallel.pieces(11, parallel.SPLIT_WORK) == [slice(0, 5), slice(5, 11)]
            assert parallel.pieces(1, 10**12) == [slice(0, 1)]
            # elementwise passes are cut later: each of their calls hands the GIL between lanes
            assert parallel.pieces(10, parallel.PASSES_SPLIT_WORK - 1, exact=True) == [slice(0, 10)]
            assert parallel.pieces(10, parallel.PASSES_SPLIT_WORK, exact=True) == [slice(0, 5), slice(5, 10)]


def test_one_lane_runs_every_piece_here_two_lanes_share_them_out():
    ran: dict[int, str] = {}
    parallel.split(lambda part: ran.update({part.start: here()}), 10, parallel.SPLIT_WORK)
    assert ran == {0: here(), 5: here()}
    ran.clear()
    both_started = threading.Barrier(2, timeout=10)  # neither lane can take both pieces

    def piece(part: slice) -> None:
        ran[part.start] = here()
        both_started.wait()

    with parallel.using(2):
        parallel.split(piece, 10, parallel.SPLIT_WORK)
    assert sorted(ran) == [0, 5] and {name[:11] for name in ran.values()} == {"MainThread", "dnnexp-lane"}


def test_parts_side_by_side_each_run_once_on_one_lane_of_their_own():
    """A recurrent layer's two halves of a batch: each part once, one on each lane, and neither
    hands work on, since no lane is free while they run."""
    ran: dict[str, tuple[str, int]] = {}
    both_started = threading.Barrier(2, timeout=10)

    def part(name: str) -> None:
        ran[name] = (here()[:11], parallel.lanes())
        both_started.wait()

    with parallel.using(2):
        parallel.side_by_side(part, ["first", "second"])
    assert sorted(ran) == ["first", "second"]
    assert {lane for lane, _ in ran.values()} == {"MainThread", "dnnexp-lane"}
    assert {lanes for _, lanes in ran.values()} == {1}


def test_products_are_tried_in_halves_of_their_columns_before_a_batch_is_cut(monkeypatch):
    """What lets a recurrent layer run its batch in halves: BLAS computing each column of its
    products the same way whatever columns it computes with it. A BLAS that does (here: one column
    at a time) is found so; one that rounds a product of fewer columns otherwise is found out."""
    lstm = ((512, 28, True), (28, 512, False), (512, 128, False), (128, 512, False))
    real = np.matmul

    def column_by_column(a, b):
        return np.concatenate([real(a, b[:, [j]]) for j in range(b.shape[1])], axis=1)

    def rounding_narrow_products_otherwise(a, b):
        return real(a, b) + np.float32(1e-3) * (b.shape[1] < 64)

    for matmul, exact in [(column_by_column, True), (rounding_narrow_products_otherwise, False)]:
        monkeypatch.setattr(parallel.np, "matmul", matmul)
        monkeypatch.setattr(parallel, "_exact_in_halves", {})
        assert parallel.exact_in_halves(lstm, 64, np.float32) is exact


def test_products_are_tried_in_halves_on_one_blas_thread_whatever_the_caller_s_setting(monkeypatch):
    """A training runs its products on one BLAS thread; the first try of a layer's shapes may come
    before it (a check of the data), under BLAS's own setting: it is still made on one thread."""
    from threadpoolctl import threadpool_info, threadpool_limits

    real, threads = np.matmul, []

    def counting(a, b):
        threads.append({pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"})
        return real(a, b)

    monkeypatch.setattr(parallel.np, "matmul", counting)
    monkeypatch.setattr(parallel, "_exact_in_halves", {})
    with threadpool_limits(2, user_api="blas"):
        parallel.exact_in_halves(((64, 32, False),), 64, np.float32)
    assert threads and all(counts == {1} for counts in threads)


def test_halves_are_cut_at_a_multiple_of_blas_s_column_tiles():
    assert parallel.halves(70, parallel.COLUMN_ALIGN) == [slice(0, 32), slice(32, 70)]
    assert parallel.halves(50, parallel.COLUMN_ALIGN) == [slice(0, 32), slice(32, 50)]  # the nearer multiple
    assert not parallel.exact_in_halves(((8, 8, False),), 2 * parallel.COLUMN_ALIGN - 1, np.float32)
    assert parallel.halves(64, parallel.COLUMN_ALIGN) == [slice(0, 32), slice(32, 64)]
    assert parallel.halves(11) == [slice(0, 5), slice(5, 11)]


def test_pieces_run_here_rather_than_wait_behind_a_busy_other_lane():
    release, ran = threading.Event(), []
    with parallel.using(2):
        with parallel.deferring():
            parallel.later(lambda: release.wait(10), parallel.DEFER_WORK)  # the other lane is busy
            parallel.split(lambda part: ran.append((part.start, here())), 10, parallel.SPLIT_WORK)
            assert ran == [(0, here()), (5, here())]  # done, while the other lane still waits
            release.set()


def test_an_error_in_a_piece_the_other_lane_took_comes_out_here():
    both_started = threading.Barrier(2, timeout=10)

    def piece(part: slice) -> None:
        both_started.wait()
        if here() != "MainThread":
            raise ValueError("piece failed")

    with parallel.using(2), pytest.raises(ValueError, match="piece failed"):
        parallel.split(piece, 10, parallel.SPLIT_WORK)


def test_exact_work_is_cut_only_when_a_second_lane_takes_a_half():
    parts: list[slice] = []
    parallel.split(parts.append, 10, parallel.PASSES_SPLIT_WORK, exact=True)
    assert parts == [slice(0, 10)]
    parts.clear()
    with parallel.using(2):
        parallel.split(parts.append, 10, parallel.PASSES_SPLIT_WORK, exact=True)
    assert sorted(parts, key=lambda part: part.start) == [slice(0, 5), slice(5, 10)]


def test_a_sum_over_a_batch_adds_its_halves_in_order_on_one_lane_or_two():
    x = np.random.default_rng(0).normal(size=(1000, 50)).astype(np.float32)
    halves = (x[:500].sum(axis=0), x[500:].sum(axis=0))

    def share(rows: slice) -> tuple[np.ndarray]:
        return (x[rows].sum(axis=0),)

    (one,) = parallel.summed(share, len(x), parallel.SPLIT_WORK)
    with parallel.using(2):
        (two,) = parallel.summed(share, len(x), parallel.SPLIT_WORK)
    assert np.array_equal(one, halves[0] + halves[1]) and np.array_equal(one, two)
    (whole,) = parallel.summed(share, len(x), 1)
    assert np.array_equal(whole, x.sum(axis=0))


def test_a_deferred_task_runs_on_the_other_lane_and_is_done_when_the_block_ends():
    started, release, ran = threading.Event(), threading.Event(), []

    def task() -> None:
        started.set()
        release.wait(10)
        ran.append(here())

    with parallel.using(2):
        with parallel.deferring():
            parallel.later(task, parallel.DEFER_WORK)
            assert started.wait(10) and ran == []  # not run here: this thread went on
            release.set()
        assert ran and ran[0].startswith("dnnexp-lane")


def test_deferred_tasks_the_other_lane_has_not_started_are_run_here_when_the_block_ends():
    started, release, ran = threading.Event(), threading.Event(), []

    def busy() -> None:
        started.set()
        release.wait(10)

    with parallel.using(2):
        with parallel.deferring():
            parallel.later(busy, parallel.DEFER_WORK)
            parallel.later(lambda: ran.append(here()), parallel.DEFER_WORK)  # queued behind the busy one
            assert started.wait(10)
            threading.Timer(0.2, release.set).start()
        assert ran == [here()]  # taken back rather than waited for


@pytest.mark.parametrize("lanes, inside, work", [(1, True, parallel.DEFER_WORK), (2, False, parallel.DEFER_WORK), (2, True, 1)])
def test_one_lane_no_block_or_small_work_runs_the_task_at_once(lanes, inside, work):
    ran = []
    with parallel.using(lanes):
        if inside:
            with parallel.deferring():
                parallel.later(lambda: ran.append(here()), work)
                assert ran == [here()]
        else:
            parallel.later(lambda: ran.append(here()), work)
            assert ran == [here()]


@pytest.mark.parametrize("work", [parallel.DEFER_WORK, parallel.SPLIT_WORK], ids=["small", "large"])
def test_a_product_of_short_inner_dimension_is_handed_over_only_when_large(work):
    """Two BLAS threads do a short-k product at once; a large one goes to the other lane anyway,
    to run beside what follows."""
    ran = []
    with parallel.using(2):
        with parallel.deferring():
            parallel.later(lambda: ran.append(here()), work, depth=parallel.EXACT_K)
            ran_at_once = ran == [here()]  # not yet run, or run by the other lane, when handed over
    assert ran_at_once == (work < parallel.SPLIT_WORK)
    assert len(ran) == 1


def test_then_runs_after_every_deferred_task_and_errors_come_out_at_the_end_of_the_block():
    order: list[str] = []
    with parallel.using(2):
        with parallel.deferring():
            parallel.later(lambda: order.append("first"), parallel.DEFER_WORK)
            parallel.later(lambda: order.append("second"), parallel.DEFER_WORK)
            parallel.then(lambda: order.append("sum"))
        assert order == ["first", "second", "sum"]

        def fail() -> None:
            raise ValueError("boom")

        with pytest.raises(ValueError, match="boom"):
            with parallel.deferring():
                parallel.later(fail, parallel.DEFER_WORK)


MLP = [{"type": "dense", "units": 300, "activation": "relu", "init": "he_normal"},
       {"type": "dense", "units": 300, "activation": "relu", "init": "he_normal"},
       {"type": "dense", "units": 10, "activation": "softmax"}]
CNN = [{"type": "conv2d", "filters": 16, "kernel_size": 3, "activation": "relu"}, {"type": "maxpool2d"},
       {"type": "conv2d", "filters": 16, "kernel_size": 3, "activation": "relu"},
       {"type": "flatten"}, {"type": "dense", "units": 10, "activation": "softmax"}]
#: a batch large enough to go through the steps in halves on two lanes
LSTM = [{"type": "lstm", "units": 128, "peephole": True}, {"type": "dense", "units": 10, "activation": "softmax"}]
#: two recurrent layers, the first giving every step: δ from above at each step, the input gradient
GRU = [{"type": "gru", "units": 64, "return_sequences": True}, {"type": "simple_rnn", "units": 64},
       {"type": "dense", "units": 10, "activation": "softmax"}]
#: name → (input shape, layers, batch): each large enough that every piece, split and deferral happens
MODELS = {"mlp": ((784,), MLP, 300), "cnn": ((3, 18, 18), CNN, 64), "lstm": ((24, 8), LSTM, 64), "gru": ((24, 8), GRU, 70)}


def trained(name: str, lanes: int, steps: int = 3) -> tuple[dict[str, np.ndarray], int]:
    """The parameters after `steps` Adam steps of model `name` on `lanes` lanes, and how many
    tasks went to the other lane."""
    shape, layers, batch = MODELS[name]
    model = sequential(shape, layers, np.random.default_rng(0))
    loss, optimizer = LOSSES.build("cross_entropy"), OPTIMIZERS.build({"name": "adam", "lr": 0.01})
    rng = np.random.default_rng(1)
    x, t = rng.normal(size=(batch, *shape)).astype(np.float32), rng.integers(0, 10, batch)
    pool, handed = parallel._worker_pool(), []

    class Counting:
        def submit(self, *args):
            handed.append(args)
            return pool.submit(*args)

    real, parallel._worker_pool = parallel._worker_pool, Counting
    try:
        with threadpool_limits(1, user_api="blas"), parallel.using(lanes):  # as a training runs
            for _ in range(steps):
                model.forward_loss(x, t, loss, train=True)
                model.backward_loss(loss)
                optimizer.update(model.params, model.grads)
    finally:
        parallel._worker_pool = real
    return {key: value.copy() for key, value in model.params.items()}, len(handed)


def test_the_lstm_model_goes_through_its_steps_in_halves_on_two_lanes_where_blas_gives_them_exactly():
    shape, layers, batch = MODELS["lstm"]
    lstm = sequential(shape, layers, np.random.default_rng(0)).layers[0]
    halves = lstm._halves(batch, *shape, np.float32)
    exact = parallel.exact_in_halves(lstm._products(shape[1]), batch, np.float32)
    assert halves == (parallel.halves(batch, parallel.COLUMN_ALIGN) if exact else [slice(0, batch)])


@pytest.mark.parametrize("name", MODELS)
def test_training_steps_give_the_same_bits_on_one_lane_and_two(name):
    one, handed_one = trained(name, 1)
    two, handed_two = trained(name, 2)
    assert handed_one == 0 and handed_two > 0
    assert one.keys() == two.keys()
    for key in one:
        assert np.array_equal(one[key], two[key]), key


#: two BLAS threads; column blocks; too small to cut (twice); row blocks; k in halves (a CNN's dense layer)
@pytest.mark.parametrize("m, k, n", [(600, 300, 200), (100, 784, 300), (100, 100, 100), (300, 4000, 10), (1000, 1000, 100),
                                     (100, 4320, 100)])
def test_products_on_blas_threads_or_cut_in_blocks_are_the_same_bits_on_one_lane_and_two(m, k, n):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(m, k)).astype(np.float32), rng.normal(size=(k, n)).astype(np.float32)
    a_read_transposed = np.ascontiguousarray(a.T).T  # as a weight gradient reads x: BLAS packs it differently
    with threadpool_limits(1, user_api="blas"):
        one, one_transposed = parallel.matmul(a, b), parallel.matmul(a_read_transposed, b)
        with parallel.using(2):
            two, two_transposed = parallel.matmul(a, b), parallel.matmul(a_read_transposed, b)
    assert np.array_equal(one, two) and np.array_equal(one_transposed, two_transposed)
    np.testing.assert_allclose(one, a @ b, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_outer_product_is_the_products_numbers_into_out(dtype):
    """k = 1, a dense layer's weight gradient at batch 1: multiplied, not NumPy's slow matmul loop."""
    rng = np.random.default_rng(0)
    x, dout = rng.normal(size=(1, 4320)).astype(dtype), rng.normal(size=(1, 100)).astype(dtype)
    out = np.empty((4320, 100), dtype)
    assert parallel.matmul(x.T, dout, out=out) is out
    assert out.dtype == dtype and np.array_equal(out, x.T @ dout)


def test_a_product_of_short_inner_dimension_runs_on_two_blas_threads_only_with_a_free_lane(monkeypatch):
    counts = []
    real = parallel._blas_threads

    def recording(count):
        counts.append(count)
        return real(count)

    monkeypatch.setattr(parallel, "_blas_threads", recording)
    a = np.ones((1000, parallel.EXACT_K), np.float32)
    b = np.ones((parallel.EXACT_K, 100), np.float32)
    parallel.matmul(a, b)
    assert counts == []  # one lane
    # two threads where OpenBLAS's are checked exact and sleep soon (as under pytest, which loads dnnexp first)
    two = [2] if parallel._exact_blas() is not None else []
    with parallel.using(2):
        parallel.matmul(a, b)
        assert counts == two
        release = threading.Event()
        with parallel.deferring():
            parallel.later(lambda: release.wait(10), parallel.DEFER_WORK)
            parallel.matmul(a, b)  # the other core is taken: one thread
            release.set()
        assert counts == two
        parallel.matmul(np.ones((1000, parallel.EXACT_K + 1), np.float32), np.ones((parallel.EXACT_K + 1, 20), np.float32))
        assert counts == two  # a longer k would be summed differently on two threads


def test_openblas_threads_are_checked_to_give_the_same_bits_before_they_are_used():
    blas = parallel._exact_blas()
    if blas is not None:
        assert parallel._gives_exact_products(blas)
    else:  # another BLAS, or an OpenBLAS whose threads did not pass the check: nothing uses them
        with parallel.using(2):
            assert np.array_equal(parallel.matmul(np.eye(400, dtype=np.float32), np.eye(400, dtype=np.float32)), np.eye(400))


def test_numpy_s_own_openblas_is_the_one_given_threads_when_scipy_brings_another():
    import subprocess
    import sys

    # SciPy (in the test extra: gensim needs it) loads an OpenBLAS of its own beside NumPy's.
    code = ("import dnnexp, numpy, scipy.linalg; from dnnexp.core import parallel; blas = parallel._exact_blas(); "
            "print(blas is not None, blas is None or 'numpy' in blas.filepath)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == [str(parallel._exact_blas() is not None), "True"]


@pytest.mark.parametrize("first, sleeps_soon", [("dnnexp", True), ("numpy", False)])
def test_dnnexp_lets_openblas_threads_sleep_soon_when_imported_before_numpy_else_leaves_them_idle(first, sleeps_soon):
    import subprocess
    import sys

    code = (f"import os; os.environ.pop('OPENBLAS_THREAD_TIMEOUT', None); import {first}; import dnnexp, numpy; "
            "from dnnexp.core import parallel; print(dnnexp.OPENBLAS_SLEEPS_SOON, parallel._exact_blas() is not None)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == [str(sleeps_soon), str(sleeps_soon and parallel._exact_blas() is not None)]
