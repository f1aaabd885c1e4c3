"""How many cores a training uses: decided from the cores actually free, unless `DNNEXP_THREADS` says.

BLAS always runs on one thread: OpenBLAS's own threads spin while they wait, and with the other
core busy (another run of a `make -j2` sweep) two of them made a CNN's training step 2–3 times
slower (bench/cnn_speed.py, README), while on the course's small products they barely split the
work (a dense layer's weight gradient, xᵀ·dout, stays on one thread). The second core's work is
chosen by dnnexp instead (dnnexp.core.parallel): the weight gradients of the backward pass run
beside it, and large products and batch passes are cut in two pieces, the pieces fixed by the
sizes alone, so the results are the same bit for bit whatever the count. What is decided here is
how many lanes run those pieces: as many as the cores that are free when training starts (a core
counts as free when at least `FREE_SHARE` of it sat idle over a short sample of /proc/stat),
within the cores this process may run on; `DNNEXP_THREADS` overrides it.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from typing import Iterator

THREADS_ENV = "DNNEXP_THREADS"
#: the idle share over which a core counts as free: a second lane on a core that other work holds
#: waits for that work's time slices, and the whole step waits with it
FREE_SHARE = 0.75
#: how long the idle sample lasts (s): long enough to see a busy process, short beside a training
SAMPLE_S = 0.2


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity; os.cpu_count where that is unknown)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def idle_cores(sample_s: float = SAMPLE_S) -> float | None:
    """How many cores sat idle over the next `sample_s` seconds, summed over the usable ones
    (a core half idle adds 0.5); None where /proc/stat cannot be read (not Linux)."""
    try:
        cores = sorted(os.sched_getaffinity(0))
    except AttributeError:
        cores = None
    before = _cpu_times(cores)
    if before is None:
        return None
    time.sleep(sample_s)
    after = _cpu_times(cores)
    idle = 0.0
    for cpu, (idle_after, total_after) in (after or {}).items():
        idle_before, total_before = before.get(cpu, (idle_after, total_after))
        if total_after > total_before:
            idle += (idle_after - idle_before) / (total_after - total_before)
    return idle


def _cpu_times(cores: list[int] | None) -> dict[int, tuple[int, int]] | None:
    """Per CPU in `cores` (all when None): (idle ticks, all ticks) since boot, from /proc/stat."""
    try:
        with open("/proc/stat") as stat:
            lines = stat.read().splitlines()
    except OSError:
        return None
    times = {}
    for line in lines:
        name, *fields = line.split()
        if not name.startswith("cpu") or name == "cpu":
            continue
        cpu = int(name[3:])
        if cores is None or cpu in cores:
            ticks = [int(field) for field in fields[:8]]  # user nice system idle iowait irq softirq steal
            times[cpu] = (ticks[3] + ticks[4], sum(ticks))
    return times


def decide_threads(usable: int, idle: float | None) -> int:
    """Lanes for `usable` cores of which `idle` sat idle: the free ones, at least 1 and at most
    `usable`. Unknown idleness (None) keeps to 1."""
    if idle is None:
        return 1
    return max(1, min(usable, int(idle + (1.0 - FREE_SHARE))))


def override_threads() -> int | None:
    """`DNNEXP_THREADS` as a count, or None when it is not set."""
    value = os.environ.get(THREADS_ENV)
    return int(value) if value else None


def default_threads() -> int:
    """`DNNEXP_THREADS` if set, else decided from the cores free now (`decide_threads`)."""
    override = override_threads()
    if override is not None:
        return override
    usable = usable_cores()
    return 1 if usable == 1 else decide_threads(usable, idle_cores())


@contextmanager
def blas_threads(count: int | None = None) -> Iterator[int]:
    """Inside the block: BLAS on one thread, and dnnexp's own work on `count` lanes (default:
    `default_threads()`). Yields the count."""
    from threadpoolctl import threadpool_limits

    from dnnexp.core import parallel

    count = count or default_threads()
    with threadpool_limits(1, user_api="blas"), parallel.using(count):
        yield count
