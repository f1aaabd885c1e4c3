import hashlib
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from dnnexp.data import fetch as fetch_module
from dnnexp.data.fetch import FILES, MIRRORS, SHA256, cache_folder, fetch
from dnnexp.errors import DataNotFoundError, DnnexpError
from dnnexp.spec.registry import DATASETS


class Server:
    """A local HTTP mirror serving `root`; `requests` lists the paths asked for."""

    def __init__(self, root: Path):
        self.requests: list[str] = []
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                super().do_GET()

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()


@pytest.fixture
def mirror(tmp_path, write_idx, monkeypatch):
    """A local mirror holding a tiny mnist under /mnist/, pinned by its SHA-256; yields (server, arrays)."""
    served = tmp_path / "served"
    arrays = write_idx(served / "mnist", seed=3)
    pins = {file: hashlib.sha256((served / "mnist" / file).read_bytes()).hexdigest() for file in FILES}
    monkeypatch.setitem(SHA256, "mnist", pins)
    server = Server(served)
    monkeypatch.setenv("DNNEXP_MIRROR", server.url)
    yield server, arrays
    server.httpd.shutdown()
    server.httpd.server_close()


def test_pins_are_sha256_for_every_file_and_mirrors_for_every_set():
    assert set(SHA256) == set(MIRRORS) == {"mnist", "fashion_mnist", "cifar10", "ptb"}
    assert tuple(SHA256["mnist"]) == tuple(SHA256["fashion_mnist"]) == FILES
    for pins in SHA256.values():
        assert all(len(pin) == 64 and int(pin, 16) >= 0 for pin in pins.values())


@pytest.mark.parametrize("progress", [True, False])
def test_fetch_downloads_into_the_cache_once(mirror, tmp_path, progress):
    server, _ = mirror
    folder = fetch("mnist", progress=progress)
    assert folder == cache_folder("mnist") and folder.is_relative_to(tmp_path / "cache")
    for file in FILES:
        assert (folder / file).read_bytes() == (tmp_path / "served" / "mnist" / file).read_bytes()
    assert server.requests == [f"/mnist/{file}" for file in FILES]
    fetch("mnist", progress=progress)
    assert len(server.requests) == 4


def test_fetch_into_a_given_folder(mirror, tmp_path):
    assert fetch("mnist", dest=tmp_path / "mine", progress=False) == tmp_path / "mine"
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == sorted(FILES)


def test_loader_downloads_when_the_files_are_nowhere(mirror):
    server, (x_train, t_train, x_test, t_test) = mirror
    data = DATASETS.get("mnist")()
    np.testing.assert_array_equal(data.x_train[:, 0], x_train)
    np.testing.assert_array_equal(data.t_test, t_test)
    assert len(server.requests) == 4


def test_hash_mismatch_is_a_user_error_and_keeps_nothing(mirror, tmp_path, monkeypatch):
    monkeypatch.setitem(SHA256["mnist"], FILES[1], "0" * 64)
    with pytest.raises(DnnexpError, match="does not match the known hash") as error:
        fetch("mnist", progress=False)
    assert not isinstance(error.value, DataNotFoundError)
    assert f"/mnist/{FILES[1]}" in str(error.value)
    assert not (cache_folder("mnist") / FILES[1]).exists()


def test_a_failing_mirror_is_passed_over(mirror, refused_url, monkeypatch):
    server, _ = mirror
    monkeypatch.delenv("DNNEXP_MIRROR")
    bases = (f"{refused_url}/", f"{server.url}/missing/", f"{server.url}/mnist/")
    monkeypatch.setitem(MIRRORS, "mnist", bases)
    fetch("mnist", progress=False)
    assert all((cache_folder("mnist") / file).is_file() for file in FILES)
    assert server.requests[:2] == [f"/missing/{FILES[0]}", f"/mnist/{FILES[0]}"]


def test_no_mirror_answering_names_each_url_and_why(mirror, refused_url, monkeypatch):
    server, _ = mirror
    monkeypatch.delenv("DNNEXP_MIRROR")
    monkeypatch.setitem(MIRRORS, "mnist", (f"{refused_url}/", f"{server.url}/missing/"))
    with pytest.raises(DataNotFoundError) as error:
        fetch("mnist", progress=False)
    message = str(error.value)
    assert f"{refused_url}/{FILES[0]} ([Errno 111] Connection refused)" in message
    assert f"{server.url}/missing/{FILES[0]} (404 Client Error" in message


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(DnnexpError, match="mnist, fashion_mnist, cifar10"):
        fetch("cifar100")


def test_mirror_env_replaces_the_public_mirrors(monkeypatch):
    monkeypatch.setenv("DNNEXP_MIRROR", "http://example.invalid/data/")
    assert fetch_module.mirrors("fashion_mnist") == ("http://example.invalid/data/fashion_mnist/",)
