"""Memory: how much there is, and refusing what would not fit before a run folder exists.

Linux lets a process reserve more memory than there is and kills it when it touches too much,
so a huge layer or data set would end in the OOM killer rather than in an error. `limited`
caps the address space while a spec is built, so that an allocation beyond the free memory
fails at once as a MemoryError, which it turns into a message with the numbers; `require`
refuses an estimate that does not fit.
"""

from __future__ import annotations

import os
import resource
import threading
from contextlib import contextmanager
from typing import Iterator

from dnnexp.errors import SpecError

MEMINFO = "/proc/meminfo"


def available_bytes() -> int:
    """The memory a new allocation can have without swapping: MemAvailable (Linux), else the free pages."""
    try:
        with open(MEMINFO, encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def size_text(size: float) -> str:
    """Bytes for people: '512 MiB', '3.2 GiB', '7.5 TiB'."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.3g} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1024
    raise AssertionError("unreachable")


def require(needed: float, what: str, fix: str) -> None:
    """SpecError when `needed` bytes (an estimate of `what`) exceed the available memory."""
    available = available_bytes()
    if needed > available:
        raise SpecError(
            f"{what} would take about {size_text(needed)} of memory, and {size_text(available)} are available; {fix}"
        )


def _address_space() -> int:
    """The bytes this process's address space spans now (/proc/self/statm's first field)."""
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


@contextmanager
def limited(what: str, fix: str) -> Iterator[None]:
    """Within the block, an allocation beyond the available memory fails as a MemoryError (the
    address space is capped at its present size plus that memory), which becomes a SpecError
    naming `what`, the numbers and `fix`. Where the cap cannot be set (outside the main thread),
    MemoryErrors are still told."""
    available = available_bytes()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    # The limit is the whole process's: threads (a Dask worker's trials) could not restore it in order.
    capped = threading.current_thread() is threading.main_thread()
    if capped:
        try:
            cap = _address_space() + available
            resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
        except (OSError, ValueError):
            capped = False
    try:
        yield
    except MemoryError as error:
        told = f" ({error})" if str(error) else ""
        raise SpecError(
            f"{what} needs more memory than the {size_text(available)} available{told}; {fix}"
        ) from None
    finally:
        if capped:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
