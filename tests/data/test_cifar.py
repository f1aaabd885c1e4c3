"""CIFAR-10's binary files: the reader on small files written here in the same format, where they
are looked for, the download of the archive from a local mirror, and its safe unpacking."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest

from dnnexp.data import cifar
from dnnexp.data.cifar import BATCHES_FOLDER, CLASSES, TEST_FILE, TRAIN_FILES, read_cifar
from dnnexp.data.fetch import SHA256, cache_folder, fetch, unpack
from dnnexp.errors import DataNotFoundError, DnnexpError
from dnnexp.spec.registry import DATASETS

from .test_fetch import Server


def records(images: np.ndarray, labels: np.ndarray) -> bytes:
    """The binary format, written record by record: the label byte, then the R, G and B planes row by row."""
    out = bytearray()
    for image, label in zip(images, labels):
        out.append(int(label))
        for channel in range(3):
            for row in range(32):
                out.extend(int(v) for v in image[channel, row])
    return bytes(out)


def write_cifar(folder: Path, per_file: int = 3, seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Six small files in `folder`; returns each file's images (N, 3, 32, 32) and labels."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for file in (*TRAIN_FILES, TEST_FILE):
        images = rng.integers(0, 256, (per_file, 3, 32, 32), dtype=np.uint8)
        labels = rng.integers(0, 10, per_file)
        (folder / file).write_bytes(records(images, labels))
        written[file] = (images, labels)
    return written


def test_reader_splits_each_record_into_label_and_rgb_planes(tmp_path) -> None:
    image = np.zeros((3, 32, 32), np.uint8)
    image[0, 0, 1], image[1, 2, 3], image[2, 31, 31] = 10, 20, 30  # red, green, blue
    path = tmp_path / "one.bin"
    path.write_bytes(records(image[None], [7]))
    x, t = read_cifar(path)
    assert x.shape == (1, 3, 32, 32) and x.dtype == np.uint8 and x.flags.c_contiguous
    assert t.dtype == np.int64 and list(t) == [7]
    assert (x[0, 0, 0, 1], x[0, 1, 2, 3], x[0, 2, 31, 31], int(x.sum())) == (10, 20, 30, 60)


@pytest.mark.parametrize("inside", [False, True], ids=["flat", "in cifar-10-batches-bin"])
def test_the_data_set_joins_the_five_training_files_in_order(tmp_path, inside) -> None:
    written = write_cifar(tmp_path / BATCHES_FOLDER if inside else tmp_path)
    data = DATASETS.get("cifar10")(folder=str(tmp_path))
    np.testing.assert_array_equal(data.x_train, np.concatenate([written[f][0] for f in TRAIN_FILES]))
    np.testing.assert_array_equal(data.t_train, np.concatenate([written[f][1] for f in TRAIN_FILES]))
    np.testing.assert_array_equal(data.x_test, written[TEST_FILE][0])
    np.testing.assert_array_equal(data.t_test, written[TEST_FILE][1])
    assert data.task == "multiclass" and data.classes == CLASSES and data.classes[3] == "cat"


def test_environment_folder_is_searched(tmp_path, monkeypatch) -> None:
    write_cifar(tmp_path / "mine" / "cifar10")
    monkeypatch.setenv("DNNEXP_DATA", str(tmp_path / "mine"))
    assert len(DATASETS.get("cifar10")().x_train) == 15


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "holds 0 bytes, not a whole number of 3073-byte records"),
        (bytes(3073 + 5), "holds 3078 bytes, not a whole number of 3073-byte records"),
        (bytes([10]) + bytes(3072), "holds label 10, but there are only 10 classes"),
    ],
    ids=["empty", "truncated", "bad label"],
)
def test_a_damaged_file_is_a_user_error_naming_it(tmp_path, content, message) -> None:
    write_cifar(tmp_path)
    (tmp_path / TRAIN_FILES[2]).write_bytes(content)
    with pytest.raises(DnnexpError, match=message) as caught:
        DATASETS.get("cifar10")(folder=str(tmp_path))
    assert TRAIN_FILES[2] in str(caught.value)


def test_absent_files_say_where_they_were_looked_for_and_how_to_get_them(tmp_path) -> None:
    with pytest.raises(DataNotFoundError) as caught:
        DATASETS.get("cifar10")(folder=str(tmp_path / "nowhere"))
    message = str(caught.value)
    for part in ("data_batch_1.bin", "test_batch.bin", str(tmp_path / "nowhere"), str(cache_folder("cifar10")),
                 "dnnexp data fetch cifar10", "Connection refused", "data.folder"):
        assert part in message


def tarball(members: dict[str, bytes], symlink: str | None = None) -> bytes:
    """A .tar.gz holding `members` (name → content), and a symbolic link named `symlink`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        if symlink:
            info = tarfile.TarInfo(symlink)
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(info)
    return buffer.getvalue()


@pytest.fixture
def cifar_mirror(tmp_path, monkeypatch):
    """A local mirror serving a small cifar-10-binary.tar.gz under /cifar10/, pinned by its SHA-256."""
    folder = tmp_path / "files"
    written = write_cifar(folder / BATCHES_FOLDER, seed=4)
    archive = tarball({f"{BATCHES_FOLDER}/{f}": (folder / BATCHES_FOLDER / f).read_bytes() for f in written})
    served = tmp_path / "served" / "cifar10"
    served.mkdir(parents=True)
    (served / "cifar-10-binary.tar.gz").write_bytes(archive)
    monkeypatch.setitem(SHA256, "cifar10", {"cifar-10-binary.tar.gz": hashlib.sha256(archive).hexdigest()})
    server = Server(tmp_path / "served")
    monkeypatch.setenv("DNNEXP_MIRROR", server.url)
    yield server, written
    server.httpd.shutdown()
    server.httpd.server_close()


def test_loader_downloads_and_unpacks_the_archive_once(cifar_mirror) -> None:
    server, written = cifar_mirror
    data = DATASETS.get("cifar10")()
    np.testing.assert_array_equal(data.x_test, written[TEST_FILE][0])
    assert (cache_folder("cifar10") / BATCHES_FOLDER / TRAIN_FILES[0]).is_file()
    assert server.requests == ["/cifar10/cifar-10-binary.tar.gz"]
    DATASETS.get("cifar10")()
    fetch("cifar10", progress=False)
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "members, symlink",
    [({"../escaped.bin": b"x"}, None), ({"/tmp/absolute.bin": b"x"}, None), ({"ok.bin": b"x"}, "link")],
    ids=["parent folder", "absolute path", "symbolic link"],
)
def test_unpacking_refuses_members_that_leave_the_folder(tmp_path, members, symlink) -> None:
    archive = tmp_path / "bad.tar.gz"
    archive.write_bytes(tarball(members, symlink))
    (tmp_path / "into").mkdir()
    with pytest.raises(DnnexpError, match="is a link or lies outside"):
        unpack(archive, tmp_path / "into")
    assert list((tmp_path / "into").iterdir()) == [] and not (tmp_path / "escaped.bin").exists()


def test_a_damaged_archive_is_a_user_error(tmp_path) -> None:
    archive = tmp_path / "cut.tar.gz"
    archive.write_bytes(tarball({"a.bin": bytes(5000)})[:40])
    with pytest.raises(DnnexpError, match="cannot be unpacked"):
        unpack(archive, tmp_path)


def test_the_pinned_download_is_the_binary_distribution() -> None:
    assert list(SHA256["cifar10"]) == ["cifar-10-binary.tar.gz"]
    assert SHA256["cifar10"]["cifar-10-binary.tar.gz"] == "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"
    assert cifar.RECORD == 3073


def test_unpacking_never_writes_through_a_planted_link(tmp_path) -> None:
    """A `.part` link planted in the folder used to receive the member's bytes, written into the
    file it points to; the link is now removed and the member written as a file of its own."""
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    into = tmp_path / "into"
    into.mkdir()
    (into / "ok.bin.part").symlink_to(outside)
    (into / "other.bin").symlink_to(outside)  # a link where a member lands is replaced, not written through
    archive = tmp_path / "good.tar.gz"
    archive.write_bytes(tarball({"ok.bin": b"member", "other.bin": b"other member"}))
    unpack(archive, into)
    assert outside.read_text() == "keep me"
    assert (into / "ok.bin").read_bytes() == b"member" and not (into / "ok.bin").is_symlink()
    assert (into / "other.bin").read_bytes() == b"other member" and not (into / "other.bin").is_symlink()
    assert sorted(p.name for p in into.iterdir()) == ["ok.bin", "other.bin"]
