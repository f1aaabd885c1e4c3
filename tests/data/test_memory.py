"""Memory: what is available, and allocations beyond it told as a message with the numbers."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.data import memory
from dnnexp.errors import SpecError


def test_the_available_memory_is_read_and_written_for_people():
    assert 0 < memory.available_bytes()
    assert [memory.size_text(n) for n in (512, 3 * 2**30 + 2**29, 7.5 * 2**40)] == ["512 B", "3.5 GiB", "7.5 TiB"]


def test_an_allocation_beyond_the_available_memory_fails_at_once_and_is_told(monkeypatch):
    """The address space is capped at its size plus 16 MiB: 400 MB cannot be reserved, so nothing is
    touched and no OOM killer is needed; after the block the cap is gone."""
    monkeypatch.setattr(memory, "available_bytes", lambda: 16 * 2**20)
    with pytest.raises(SpecError) as caught, memory.limited("model: its parameters", "make the layers smaller"):
        np.empty(10**8, np.float32)
    assert str(caught.value) == (
        "model: its parameters needs more memory than the 16 MiB available (Unable to allocate 381. MiB for an "
        "array with shape (100000000,) and data type float32); make the layers smaller"
    )
    assert np.empty(10**8, np.float32).nbytes == 4 * 10**8


def test_an_estimate_beyond_the_available_memory_is_refused(monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: 2**30)
    memory.require(2**29, "training", "lower it")
    with pytest.raises(SpecError, match="^training would take about 2 GiB of memory, and 1 GiB are available; lower it$"):
        memory.require(2**31, "training", "lower it")
