"""Downloads of the IDX image sets from public mirrors, each file checked against a pinned SHA-256.

`fetch` backs `dnnexp data fetch NAME`, and the IDX loader calls it when the files are nowhere
on disk. Files land in the user cache (`~/.cache/dnnexp/<name>/` on Linux, honouring
XDG_CACHE_HOME), where the loader looks for them first on every later run.
"""

from __future__ import annotations

import os
from pathlib import Path

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

# SHA-256 of the upstream gzip files (LeCun et al.; Zalando Research), in FILES order.
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
    """Download data set `name`'s four IDX files into `dest` (default: the cache), verified; return `dest`.

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
        for file in FILES:
            _download(name, file, folder, bars)
    return folder


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
