"""How many cores a training uses: those other work leaves free, watched while it runs, unless
`DNNEXP_THREADS` fixes it (1 or 2; `auto` is the default spelled out).

The second core takes only work large enough to pay for handing it over (dnnexp.core.parallel):
products of more than a few million multiply-adds, on two BLAS threads where those give one
thread's numbers, else cut in two blocks side by side; the weight gradients of a backward pass
beside it; a recurrent layer's large batch, in two halves that go through the steps side by
side; very large elementwise passes in halves. The course's small networks have none of
that, so they train as on one core (an idle 2-core machine, bench/mlp_speed.py: the 784-5×100-10
MLP at batch 100 the same on one lane or two), while wide layers, large batches, convolutions
and long sequences gain (width 1000: 5.7k → 8k images/s).

BLAS runs on one thread otherwise: OpenBLAS's own threads spin while they wait, and with the
other core busy (another run of a `make -j2` sweep) two of them made a CNN's training step 2–3
times slower (bench/cnn_speed.py, README). Every piece is fixed by the sizes alone and two BLAS
threads are used only where they divide rows and columns, not sums, so the results are the same
bit for bit however many lanes run them.

That is what lets the count follow the machine: a `LoadWatcher` thread reads /proc/stat every
`SAMPLE_S` seconds, takes this process's own CPU time out of what the cores did, and gives the
training as many lanes as the cores the rest of the machine left free (a core counts when at
least `FREE_SHARE` of it was left). It starts from the load average (`starting_lanes`); a run
whose neighbour starts or stops follows within a second or two, and a resumed run stays exact
whatever it is given.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from dnnexp.errors import DnnexpError

THREADS_ENV = "DNNEXP_THREADS"
#: `DNNEXP_THREADS=auto`: lanes follow the cores other work leaves free
AUTO = "auto"
#: the share of a core that other work must leave for it to count as free: a second lane on a
#: core that other work holds waits for that work's time slices, and the whole step waits with it
FREE_SHARE = 0.75
#: how often the load is read (s); the first reading comes after FIRST_SAMPLE_S
SAMPLE_S = 1.0
FIRST_SAMPLE_S = 0.25


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity; os.cpu_count where that is unknown)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def decide_threads(usable: int, free: float | None) -> int:
    """Lanes for a process that may use `usable` cores, of which other work left `free` (in cores:
    1.5 is one core and half of another): the cores left free, at least 1 and at most `usable`.
    Unknown (None) keeps to 1."""
    if free is None:
        return 1
    return max(1, min(usable, int(free + (1.0 - FREE_SHARE))))


def override_threads() -> int | str | None:
    """`DNNEXP_THREADS` as a lane count (1 or 2; more means 2), "auto", or None when it is not set
    (which means auto).
    Raises DnnexpError, saying how to fix it, for anything else."""
    value = os.environ.get(THREADS_ENV, "").strip()
    if not value:
        return None
    if value == AUTO:
        return AUTO
    if not value.isdigit() or int(value) < 1:
        raise DnnexpError(f"{THREADS_ENV}={value!r} is not a number of cores; give 1, 2 or {AUTO}, or unset it")
    return int(value)


def starting_lanes() -> int:
    """The lanes a training starts with, before its watcher's first reading: from the last minute's
    load average (this process's own work in it too), which the first reading then corrects."""
    try:
        recent = os.getloadavg()[0]
    except OSError:
        return 1
    usable = usable_cores()
    return decide_threads(usable, usable - recent)


class LoadReading:
    """What the usable cores and this process had done at one moment: busy and total ticks of
    each core (/proc/stat), this process's CPU seconds (all its threads) and the time."""

    def __init__(self, cores: dict[int, tuple[int, int]] | None, own_s: float, at: float):
        self.cores, self.own_s, self.at = cores, own_s, at

    @classmethod
    def now(cls) -> "LoadReading":
        times = os.times()
        return cls(_core_ticks(), times.user + times.system, time.monotonic())

    def free_since(self, earlier: "LoadReading", usable: int) -> float | None:
        """Cores that other work left free between `earlier` and this reading: `usable` less the
        busy share of the cores, this process's own part taken out. None without /proc/stat."""
        if self.cores is None or earlier.cores is None or self.at <= earlier.at:
            return None
        busy = 0.0
        for cpu, (busy_now, total_now) in self.cores.items():
            busy_then, total_then = earlier.cores.get(cpu, (busy_now, total_now))
            if total_now > total_then:
                busy += (busy_now - busy_then) / (total_now - total_then)
        own = (self.own_s - earlier.own_s) / (self.at - earlier.at)
        return usable - max(0.0, busy - own)


def _core_ticks() -> dict[int, tuple[int, int]] | None:
    """Per usable CPU: (busy ticks, all ticks) since boot, from /proc/stat; None where it cannot be read."""
    try:
        with open("/proc/stat") as stat:
            lines = stat.read().splitlines()
        cores = os.sched_getaffinity(0)
    except (OSError, AttributeError):
        return None
    ticks = {}
    for line in lines:
        name, *fields = line.split()
        if name.startswith("cpu") and name != "cpu" and int(name[3:]) in cores:
            counts = [int(field) for field in fields[:8]]  # user nice system idle iowait irq softirq steal
            ticks[int(name[3:])] = (sum(counts) - counts[3] - counts[4], sum(counts))
    return ticks


class LoadWatcher:
    """A daemon thread that sets `lanes.count` from the cores other work leaves free, read every
    SAMPLE_S seconds while a training runs; `decisions` keeps each count it set."""

    def __init__(self, lanes, usable: int | None = None):
        self.lanes, self.usable = lanes, usable or usable_cores()
        self.decisions: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="dnnexp-load", daemon=True)

    def start(self) -> "LoadWatcher":
        if self.usable > 1:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _watch(self) -> None:
        before, wait = LoadReading.now(), FIRST_SAMPLE_S
        while not self._stop.wait(wait):
            after = LoadReading.now()
            self.lanes.count = decide_threads(self.usable, after.free_since(before, self.usable))
            self.decisions.append(self.lanes.count)
            before, wait = after, SAMPLE_S


@contextmanager
def blas_threads(count: int | None = None) -> Iterator[LoadWatcher | None]:
    """Inside the block: BLAS on one thread (two for the products dnnexp.core.parallel gives
    them), and dnnexp's own work on `count` lanes, else as `DNNEXP_THREADS` says; `auto`, the
    default, follows the cores a `LoadWatcher` finds free, which it yields."""
    from threadpoolctl import threadpool_limits

    from dnnexp.core import parallel
    from dnnexp.train.memory import keep_freed_memory

    keep_freed_memory()  # what a training needs besides its cores: its last step's memory
    setting = count or override_threads() or AUTO
    following = setting == AUTO
    with threadpool_limits(1, user_api="blas"), parallel.using(starting_lanes() if following else setting) as lanes:
        watcher = LoadWatcher(lanes).start() if following else None
        try:
            yield watcher
        finally:
            if watcher is not None:
                watcher.stop()
