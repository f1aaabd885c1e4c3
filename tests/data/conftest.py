"""Fixtures for the data tests: no real network, cache or data folders, and small IDX files to read."""

from __future__ import annotations

import gzip
import socket
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from dnnexp.data import idx
from dnnexp.data.fetch import FILES

WriteIdx = Callable[..., tuple[np.ndarray, ...]]


def closed_port_url() -> str:
    """A URL on 127.0.0.1 that nothing listens on: downloads from it are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def refused_url() -> str:
    """A URL on 127.0.0.1 that nothing listens on."""
    return closed_port_url()


@pytest.fixture(autouse=True)
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the cache, $DNNEXP_DATA, the Debian folders and the mirrors away from anything real."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("DNNEXP_DATA", raising=False)
    monkeypatch.setenv("DNNEXP_MIRROR", closed_port_url())
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setattr(idx, "DEBIAN_FOLDERS", {})


@pytest.fixture
def write_idx() -> WriteIdx:
    """Write a tiny 10-class image set's IDX files into a folder; return its four arrays in FILES order."""

    def write(folder: Path, n_train: int = 6, n_test: int = 4, seed: int = 0, gz: bool = True) -> tuple:
        rng = np.random.default_rng(seed)
        arrays = tuple(
            array
            for n in (n_train, n_test)
            for array in (rng.integers(0, 256, (n, 28, 28), np.uint8), rng.integers(0, 10, n, np.uint8))
        )
        folder.mkdir(parents=True, exist_ok=True)
        for file, array in zip(FILES, arrays):
            data = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">u4").tobytes() + array.tobytes()
            path = folder / (file if gz else file.removesuffix(".gz"))
            path.write_bytes(gzip.compress(data) if gz else data)
        return arrays

    return write
