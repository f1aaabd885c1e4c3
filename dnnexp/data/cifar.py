"""CIFAR-10, read from the binary distribution its authors publish (cifar-10-binary.tar.gz).

Each of the six files (data_batch_1.bin … data_batch_5.bin for training, test_batch.bin) is a run
of 10,000 records of 3,073 bytes: the label (0–9), then the red, green and blue 32×32 planes, row
by row. The files are looked for as the IDX sets' are (`idx.find_files`: data.folder,
$DNNEXP_DATA, the user cache), directly or in the archive's `cifar-10-batches-bin/` folder, and
downloaded and unpacked when they are nowhere.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dnnexp.data.base import Dataset, registered
from dnnexp.data.idx import damaged, find_files

TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_FILE = "test_batch.bin"
BATCHES_FOLDER = "cifar-10-batches-bin"  # the archive's one folder
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
IMAGE_SHAPE = (3, 32, 32)
RECORD = 1 + 3 * 32 * 32  # label byte, then the image


@registered("cifar10")
def cifar10(folder: str | None = None) -> Dataset:
    """CIFAR-10 photos: 50,000 train / 10,000 test 32×32 colour images, 10 classes."""
    *train_files, test_file = find_files(
        "cifar10", folder, _files_in, f"{', '.join(TRAIN_FILES)} and {TEST_FILE} from cifar-10-binary.tar.gz"
    )
    train = [read_cifar(path) for path in train_files]
    x_test, t_test = read_cifar(test_file)
    return Dataset(
        np.concatenate([x for x, _ in train]), np.concatenate([t for _, t in train]), x_test, t_test,
        task="multiclass", classes=CLASSES,
    )


def read_cifar(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One binary CIFAR-10 file: images uint8 (N, 3, 32, 32) and labels int64 (N,)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        damaged(path, f"cannot be read ({error.strerror})")
    if not data or len(data) % RECORD:
        damaged(
            path, f"holds {len(data)} bytes, not a whole number of {RECORD}-byte records (a label and a 3×32×32 image)"
        )
    records = np.frombuffer(data, np.uint8).reshape(-1, RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() >= len(CLASSES):
        damaged(path, f"holds label {labels.max()}, but there are only {len(CLASSES)} classes")
    # A copy: the records' bytes are read-only, and contiguous images index faster.
    return np.ascontiguousarray(records[:, 1:].reshape(-1, *IMAGE_SHAPE)), labels


def _files_in(place: Path) -> list[Path] | None:
    """The six files in `place` or in its cifar-10-batches-bin/ (training files first), if all are there."""
    for where in (place, place / BATCHES_FOLDER):
        found = [where / file for file in (*TRAIN_FILES, TEST_FILE)]
        if all(path.is_file() for path in found):
            return found
    return None
