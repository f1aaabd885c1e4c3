import gzip
import re
import hashlib
from pathlib import Path

import numpy as np
import pytest

from dnnexp.data import idx, prepare
from dnnexp.data.fetch import FILES, cache_folder
from dnnexp.data.idx import DEBIAN_FOLDERS, load_idx, read_idx
from dnnexp.errors import DataNotFoundError, DnnexpError
from dnnexp.spec.registry import DATASETS

# SHA-256 of the uncompressed upstream Fashion-MNIST files; Debian repacks the .gz but not the data.
FASHION_IDX_SHA256 = (
    "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
)


@pytest.mark.parametrize("gz", [True, False])
def test_load_gives_uint8_images_with_a_channel_and_int64_labels(tmp_path, write_idx, gz):
    x_train, t_train, x_test, t_test = write_idx(tmp_path, n_train=6, n_test=4, gz=gz)
    data = DATASETS.get("mnist")(folder=str(tmp_path))
    assert data.x_train.shape == (6, 1, 28, 28) and data.x_train.dtype == np.uint8
    assert data.x_test.shape == (4, 1, 28, 28)
    np.testing.assert_array_equal(data.x_train[:, 0], x_train)
    np.testing.assert_array_equal(data.x_test[:, 0], x_test)
    assert data.t_train.dtype == np.int64
    np.testing.assert_array_equal(data.t_train, t_train)
    np.testing.assert_array_equal(data.t_test, t_test)
    assert data.task == "multiclass" and data.classes == [str(d) for d in range(10)]


def test_fashion_mnist_names_its_classes(tmp_path, write_idx):
    write_idx(tmp_path)
    classes = DATASETS.get("fashion_mnist")(folder=str(tmp_path)).classes
    assert classes[0] == "T-shirt/top" and classes[9] == "Ankle boot" and len(classes) == 10


def test_prepare_flattens_scales_and_holds_out(tmp_path, write_idx):
    write_idx(tmp_path, n_train=10, n_test=3)
    data = load_idx("mnist", str(tmp_path))
    batches = prepare(data, flatten=True, validation=4, subset=None, shuffle_seed=0)
    assert (len(batches.train), len(batches.val), len(batches.test)) == (6, 4, 3)
    assert batches.input_shape == (784,) and batches.num_outputs == 10
    x, _ = batches.train.batch(slice(0, 2))
    assert x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1


DAMAGE = {
    "truncated gzip": (lambda good: good[: len(good) // 2], "cannot be read"),
    "not gzip": (lambda good: gzip.decompress(good), "cannot be read"),
    "wrong magic": (lambda good: gzip.compress(b"\0\0\x0d\3" + gzip.decompress(good)[4:]), "not an IDX file"),
    "short data": (lambda good: gzip.compress(gzip.decompress(good)[:-5]), "promises (6, 28, 28): 4704"),
    "short header": (lambda good: gzip.compress(gzip.decompress(good)[:9]), "ends inside its header"),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_file_is_a_user_error_naming_file_and_problem(tmp_path, write_idx, damage):
    write_idx(tmp_path)
    path = tmp_path / FILES[0]
    spoil, problem = DAMAGE[damage]
    path.write_bytes(spoil(path.read_bytes()))
    with pytest.raises(DnnexpError, match=re.escape(problem)) as error:
        load_idx("mnist", str(tmp_path))
    assert str(path) in str(error.value)


def test_read_idx_keeps_the_header_shape(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "a.gz"
    header = bytes([0, 0, 8, 3]) + np.array([2, 3, 4], ">u4").tobytes()
    path.write_bytes(gzip.compress(header + array.tobytes()))
    np.testing.assert_array_equal(read_idx(path), array)


@pytest.mark.parametrize(
    "file, n_train, problem", [(1, 5, "6 images"), (0, 6, "not images")], ids=["label count", "image rank"]
)
def test_files_that_do_not_fit_together_are_refused(tmp_path, write_idx, file, n_train, problem):
    write_idx(tmp_path)
    other = tmp_path / "other"
    write_idx(other, n_train=n_train)
    spoilt = (other / FILES[file]).read_bytes() if file else gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 1, 7]))
    (tmp_path / FILES[file]).write_bytes(spoilt)
    with pytest.raises(DnnexpError, match=re.escape(problem)):
        load_idx("mnist", str(tmp_path))


def test_label_beyond_the_classes_is_refused(tmp_path, write_idx):
    write_idx(tmp_path)
    (tmp_path / FILES[3]).write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 4, 1, 2, 10, 3])))
    with pytest.raises(DnnexpError, match="label 10"):
        load_idx("mnist", str(tmp_path))


ORDER = ("folder", "DNNEXP_DATA", "cache", "Debian")


@pytest.mark.parametrize("winner", range(len(ORDER)), ids=ORDER)
def test_search_order_folder_env_cache_debian(tmp_path, write_idx, monkeypatch, winner):
    places = (tmp_path / "given", tmp_path / "env" / "mnist", cache_folder("mnist"), tmp_path / "debian")
    for seed, place in enumerate(places[winner:], start=winner):
        write_idx(place, seed=seed)
    monkeypatch.setenv("DNNEXP_DATA", str(tmp_path / "env"))
    monkeypatch.setitem(idx.DEBIAN_FOLDERS, "mnist", places[3])
    expected = write_idx(tmp_path / "expected", seed=winner)
    data = load_idx("mnist", str(places[0]))
    np.testing.assert_array_equal(data.x_train[:, 0], expected[0])


def test_env_folder_may_hold_the_files_directly_and_incomplete_folders_are_passed_over(
    tmp_path, write_idx, monkeypatch
):
    expected = write_idx(tmp_path / "env", seed=1)
    write_idx(tmp_path / "given", seed=2)
    (tmp_path / "given" / FILES[2]).unlink()
    monkeypatch.setenv("DNNEXP_DATA", str(tmp_path / "env"))
    np.testing.assert_array_equal(load_idx("mnist", str(tmp_path / "given")).t_train, expected[1])


def test_nothing_found_and_no_network_is_one_paragraph_naming_every_place(tmp_path, monkeypatch):
    monkeypatch.setenv("DNNEXP_DATA", str(tmp_path / "env"))
    monkeypatch.setitem(idx.DEBIAN_FOLDERS, "fashion_mnist", tmp_path / "debian")
    with pytest.raises(DataNotFoundError) as error:
        DATASETS.get("fashion_mnist")(folder=str(tmp_path / "given"))
    message = str(error.value)
    assert "\n" not in message
    for place in ("given", "given/fashion_mnist", "env", "env/fashion_mnist", "debian"):
        assert str(tmp_path / place) + "," in message
    assert str(cache_folder("fashion_mnist")) in message
    assert "Connection refused" in message and "train-images-idx3-ubyte.gz" in message
    fixes = ("dnnexp data fetch fashion_mnist", "data.folder", "DNNEXP_DATA")
    assert "apt-get install dataset-fashion-mnist" in message
    assert all(fix in message for fix in fixes)


def test_real_fashion_mnist_from_the_debian_package(monkeypatch):
    monkeypatch.setattr(idx, "DEBIAN_FOLDERS", DEBIAN_FOLDERS)
    data = DATASETS.get("fashion_mnist")()
    assert data.x_train.shape == (60000, 1, 28, 28) and data.x_test.shape == (10000, 1, 28, 28)
    assert (np.bincount(data.t_train) == 6000).all() and (np.bincount(data.t_test) == 1000).all()
    for file, sha256 in zip(FILES, FASHION_IDX_SHA256):
        content = gzip.decompress((DEBIAN_FOLDERS["fashion_mnist"] / file).read_bytes())
        assert hashlib.sha256(content).hexdigest() == sha256


def test_test_images_of_another_size_than_the_training_ones_are_named(tmp_path, write_idx):
    """Each file was checked alone; a test file from another set (32×32) now is told, not trained on."""
    write_idx(tmp_path)
    images = np.zeros((4, 32, 32), np.uint8)
    data = bytes([0, 0, 0x08, 3]) + np.array(images.shape, ">u4").tobytes() + images.tobytes()
    (tmp_path / FILES[2]).write_bytes(gzip.compress(data))
    with pytest.raises(DnnexpError) as caught:
        load_idx("mnist", str(tmp_path))
    assert str(caught.value).startswith(
        f"{tmp_path / FILES[2]} holds images of shape (1, 32, 32), but the training images in {tmp_path / FILES[0]} "
        "are (1, 28, 28); the two files are not of one data set"
    )
