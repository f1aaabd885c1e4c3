"""MNIST and Fashion-MNIST, read from the IDX files their authors publish; and where every image
set's files are looked for.

The four files are looked for, in order, in the spec's `data.folder`, in $DNNEXP_DATA, in the user
cache (where `dnnexp data fetch` puts them) and, for Fashion-MNIST, in the folder of Debian's
`dataset-fashion-mnist` package; only when none holds them are they downloaded. Each of the first
two may hold the files directly or in a sub-folder named after the data set; a file may be gzipped
(`.gz`, as published) or not. CIFAR-10 (`dnnexp.data.cifar`) is found the same way, by `find_files`.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from typing import Callable, NoReturn

import numpy as np

from dnnexp.data.base import Dataset, registered
from dnnexp.data.fetch import FILES, cache_folder, fetch
from dnnexp.errors import DataNotFoundError, DnnexpError

DATA_ENV = "DNNEXP_DATA"

# Debian's dataset-fashion-mnist installs the upstream files here (repacked: the .gz bytes differ
# from the upstream ones, so their download SHA-256 does not apply, but the IDX data is identical).
DEBIAN_FOLDERS: dict[str, Path] = {"fashion_mnist": Path("/usr/share/datasets/fashion-mnist")}
DEBIAN_PACKAGES = {"fashion_mnist": "dataset-fashion-mnist"}

CLASSES = {
    "mnist": [str(digit) for digit in range(10)],
    "fashion_mnist": [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ],
}

UNSIGNED_BYTE = 0x08  # the IDX type code of both data sets' images and labels


@registered("mnist")
def mnist(folder: str | None = None) -> Dataset:
    """MNIST handwritten digits: 60,000 train / 10,000 test 28×28 grey images, 10 classes."""
    return load_idx("mnist", folder)


@registered("fashion_mnist")
def fashion_mnist(folder: str | None = None) -> Dataset:
    """Fashion-MNIST Zalando article images: 60,000 train / 10,000 test 28×28 grey images, 10 classes."""
    return load_idx("fashion_mnist", folder)


def load_idx(name: str, folder: str | None = None) -> Dataset:
    """Data set `name`'s images as uint8 (N, 1, H, W) and labels as int64 (N,), found or downloaded."""
    files = find_files(name, folder)
    x_train, t_train, x_test, t_test = (read_idx(path) for path in files)
    dataset = Dataset(
        _images(x_train, files[0]), _labels(t_train, len(x_train), len(CLASSES[name]), files[1]),
        _images(x_test, files[2]), _labels(t_test, len(x_test), len(CLASSES[name]), files[3]),
        task="multiclass", classes=CLASSES[name],
    )
    check_splits(dataset, files[0], files[2])
    return dataset


def check_splits(dataset: Dataset, train_images: Path, test_images: Path) -> None:
    """The training and test images have one size (each file's labels are checked against its
    images and the classes by `_labels`). Every class need not be present: a folder may hold a
    smaller copy of a set."""
    train_shape, test_shape = dataset.x_train.shape[1:], dataset.x_test.shape[1:]
    if train_shape != test_shape:
        damaged(
            test_images, f"holds images of shape {test_shape}, but the training images in {train_images} are "
            f"{train_shape}; the two files are not of one data set"
        )


def search_folders(name: str, folder: str | None = None) -> list[Path]:
    """The folders that may hold data set `name`'s files, in the order they are searched."""
    places = []
    for given in (folder, os.environ.get(DATA_ENV)):
        if given:
            places += [Path(given).expanduser(), Path(given).expanduser() / name]
    places.append(cache_folder(name))
    if name in DEBIAN_FOLDERS:
        places.append(DEBIAN_FOLDERS[name])
    return places


#: what the IDX sets' files are, for messages
IDX_FILES = f"{', '.join(FILES)}; gzipped or not"

FilesIn = Callable[[Path], "list[Path] | None"]


def find_files(
    name: str, folder: str | None = None, files_in: FilesIn | None = None, described: str = IDX_FILES
) -> list[Path]:
    """Data set `name`'s files, from the first folder of `search_folders` that holds them all, else
    downloaded (`fetch`). `files_in(place)` gives their paths in `place`, or None if any is missing
    there (default: the four IDX files in FILES order); `described` names them in the message
    when they are nowhere."""
    files_in = files_in or _files_in
    places = search_folders(name, folder)
    for place in places:
        if files := files_in(place):
            return files
    try:
        downloaded = fetch(name)
    except DataNotFoundError as error:
        raise DataNotFoundError(_not_found(name, places, error, described)) from None
    if not (files := files_in(downloaded)):
        raise DnnexpError(
            f"{downloaded}: the download of {name} lacks some of {described}; delete the folder and fetch again"
        )
    return files


def read_idx(path: Path) -> np.ndarray:
    """The array stored in an IDX file of unsigned bytes (gzipped or not), header checked against the size."""
    try:
        with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as stream:
            data = stream.read()
    except (OSError, EOFError, zlib.error) as error:
        damaged(path, f"cannot be read ({error})")
    # Header: two zero bytes, the type code, the number of dimensions, then each size as a big-endian int32.
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] != UNSIGNED_BYTE:
        damaged(path, f"is not an IDX file of unsigned bytes (it starts with {data[:4].hex()}, not 000008)")
    header = 4 + 4 * data[3]
    if len(data) < header:
        damaged(path, f"ends inside its header ({len(data)} bytes)")
    shape = tuple(int(size) for size in np.frombuffer(data, ">u4", count=data[3], offset=4))
    if (size := len(data) - header) != math.prod(shape):
        damaged(path, f"holds {size} bytes after its header, which promises {shape}: {math.prod(shape)}")
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


def _files_in(place: Path) -> list[Path] | None:
    found = [next((p for p in (place / file, place / file.removesuffix(".gz")) if p.is_file()), None)
             for file in FILES]
    return None if None in found else found


def _images(x: np.ndarray, path: Path) -> np.ndarray:
    if x.ndim != 3:
        damaged(path, f"holds an array of shape {x.shape}, not images (N, height, width)")
    return x[:, None]  # one grey channel: (N, 1, H, W) as the conv layers expect


def _labels(t: np.ndarray, n_images: int, n_classes: int, path: Path) -> np.ndarray:
    if t.shape != (n_images,):
        damaged(path, f"holds labels of shape {t.shape}, but its images file holds {n_images} images")
    if len(t) and t.max() >= n_classes:
        damaged(path, f"holds label {t.max()}, but there are only {n_classes} classes")
    return t.astype(np.int64)


def damaged(path: Path, problem: str) -> NoReturn:
    raise DnnexpError(
        f"{path} {problem}: the file is damaged or not what its name says. Replace it with the "
        f"published file, or delete it and download the set again with `dnnexp data fetch`."
    )


def _not_found(name: str, places: list[Path], download: DataNotFoundError, described: str) -> str:
    fixes = [
        f"run `dnnexp data fetch {name}` on a machine with network access (it saves them in "
        f"{cache_folder(name)})",
        f"put the files in a folder and set data.folder in the spec, or {DATA_ENV}, to it",
    ]
    if name in DEBIAN_PACKAGES:
        fixes.append(f"`apt-get install {DEBIAN_PACKAGES[name]}`")
    return (
        f"Data set {name}: its files ({described}) are in none of "
        f"{', '.join(map(str, places))}, and downloading failed: {download}. To provide them, "
        + "; or ".join(fixes) + "."
    )
