"""What the speed benchmarks share: dnnexp's own trainer and a plain PyTorch loop trained on the
same data, their passes interleaved in one run, and the tables they print.

Each row of a table is one network, its data and a batch size. dnnexp trains it with its
Trainer, under the thread setting of a training (`dnnexp.train.threads.blas_threads`: the cores
other work leaves free, or `--threads`); after each of its passes over the data, PyTorch makes one pass at one
thread and one at two (in turns, first one then the other), so that all three see the same
machine. A row gives the median samples/s of each, the median over those rounds of dnnexp's
ratio to the better PyTorch pass of the round, and the lane counts dnnexp's load watcher chose.
The machine's load is printed at the start and at the end: a table measured while other work
held a core reads differently from an idle one.

Each timed pass, of either framework, follows WARM_UP untimed training steps of its own: a pass
measures a training under way, not one starting on a core the other framework's pass left idle.
On the 2-core virtual machine a core idle for half a second wakes slowly at first: dnnexp's
first 3–4 batches on two lanes after a 1 s pause took 14–17 ms where the rest took 8–9 (an LSTM
at T = 28), slower than on one lane (13 ms); PyTorch's, whose threads spin while they wait, took
what its later ones did.

Used by bench/mlp_speed.py, bench/lstm_speed.py, bench/cnn_speed.py and bench/attention_speed.py
(run from the repository root, which puts bench/ on the import path). PyTorch is optional:
without it only dnnexp is measured.
"""

from __future__ import annotations

import argparse
import atexit
import dataclasses
import os
import platform
import statistics
import subprocess
import sys
import time
from typing import Any, Callable

import dnnexp  # noqa: F401  before NumPy: it sets how OpenBLAS's threads wait (dnnexp/__init__.py)
import numpy as np

OPTIMIZERS = {"sgd": {"name": "sgd", "lr": 0.01}, "adam": {"name": "adam", "lr": 0.001}}
TORCH_THREADS = (1, 2)
#: untimed training steps before each timed pass (see the module's text)
WARM_UP = 5


def pixel_cross_entropy(net: Any, x: Any, t: Any) -> Any:
    """The mean cross-entropy of `net`'s logits (N, classes) on uint8 pixels `x` scaled to [0, 1]
    batch by batch, as dnnexp does, against class ids `t` (N,)."""
    import torch

    return torch.nn.functional.cross_entropy(net(x.float() / 255.0), t)


@dataclasses.dataclass
class Row:
    """One row of a table: a dnnexp model and the same network in torch.nn, trained on `data`."""

    name: str
    data: Any  # dnnexp.data.base.Batches; its training split is what both frameworks train on
    model: Callable[[], Any]  # a fresh dnnexp Model, built for `data`
    torch_net: Callable[[], Any]  # a fresh torch.nn module
    batch: int
    loss: str = "cross_entropy"  # dnnexp's loss, by its registry name
    #: (net, x, t) → one batch's scalar loss tensor; x and t are rows of the training split's arrays
    torch_loss: Callable[[Any, Any, Any], Any] = pixel_cross_entropy

    @classmethod
    def sequential(cls, name: str, data: Any, layers: list[dict], torch_net: Callable[[], Any], batch: int) -> Row:
        """A row of a Sequential of dnnexp `layers` (weights drawn from seed 0) on image `data`."""
        from dnnexp.spec.build import sequential

        return cls(name, data, lambda: sequential(data.input_shape, layers, np.random.default_rng(0)), torch_net, batch)


def optional_torch() -> Any:
    """The torch module, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def machine_load() -> str:
    """The load averages and how many cores other work left free over the last second."""
    from dnnexp.train.threads import LoadReading, usable_cores

    before = LoadReading.now()
    time.sleep(1.0)
    free = LoadReading.now().free_since(before, usable_cores())
    one, five, fifteen = os.getloadavg()
    left = "unknown" if free is None else f"{free:.2f}"
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min); cores free over 1 s: {left} of {usable_cores()}"


def print_header(title: str, threads: int | None, torch: Any, samples: str = "images") -> None:
    """Date, machine, versions, thread settings and load: what a reader needs to weigh the figures;
    then the table's head, whose second column counts the `samples` (images, dates) of a pass."""
    from threadpoolctl import threadpool_info

    from dnnexp.train.threads import AUTO, override_threads

    print(f"\n## {title}")
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  {platform.machine()}  {platform.processor() or ''}  "
          f"python {platform.python_version()}  numpy {np.__version__}  "
          f"torch {torch.__version__ if torch else 'not installed'}")
    print(f"BLAS: {[(i['internal_api'], i.get('architecture')) for i in threadpool_info()]}")
    chosen = threads or override_threads() or AUTO
    setting = "lanes from the cores free (DNNEXP_THREADS=auto, the default)" if chosen == AUTO else f"{chosen} lane(s) (--threads, DNNEXP_THREADS)"
    print(f"dnnexp: BLAS on 1 thread, {setting}; PyTorch at {' and '.join(map(str, TORCH_THREADS))} threads, "
          "passes interleaved with dnnexp's")
    print(f"at the start: {machine_load()}")
    print(f"| {'row':<28} | {samples} a pass | dnnexp samples/s | lanes | torch 1 thread | torch 2 threads | dnnexp ÷ better torch |")
    print("|---|---:|---:|---:|---:|---:|---:|")


class TorchTrainer:
    """`net` trained to lower `loss(net, x, t)` on shuffled batches of `inputs` and `targets`;
    `epoch(threads)` makes one pass and returns its samples/s."""

    def __init__(
        self, net: Any, inputs: np.ndarray, targets: np.ndarray, loss: Callable[[Any, Any, Any], Any], optimizer: dict,
        batch: int,
    ):
        import torch

        torch.manual_seed(0)
        self.net, self.loss, self.batch = net, loss, batch
        self.x, self.t = torch.from_numpy(np.array(inputs)), torch.from_numpy(np.array(targets))  # writable copies
        make = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[optimizer["name"]]
        self.optimizer = make(net.parameters(), lr=optimizer["lr"])

    def epoch(self, threads: int) -> float:
        import torch
        from threadpoolctl import threadpool_limits

        # Every thread pool of the process at `threads` (a training's BLAS limit may be in force).
        with threadpool_limits(threads):
            torch.set_num_threads(threads)
            for index in torch.randperm(len(self.x))[: WARM_UP * self.batch].split(self.batch):
                self.step(index)
            order = torch.randperm(len(self.x))
            started = time.perf_counter()
            for start in range(0, len(self.x), self.batch):
                self.step(order[start : start + self.batch])
            return len(self.x) / (time.perf_counter() - started)

    def step(self, index: Any) -> None:
        """One training step on the samples `index`."""
        self.optimizer.zero_grad(set_to_none=True)
        self.loss(self.net, self.x[index], self.t[index]).backward()
        self.optimizer.step()


def measure(row: Row, optimizer: dict, passes: int, threads: int | None, torch: Any) -> dict[str, Any]:
    """Median samples/s of dnnexp and of PyTorch at each of TORCH_THREADS, `passes` passes each over
    the row's training split, interleaved; the median ratio of dnnexp's to the better PyTorch's in
    each round ("ratio"); the lane counts dnnexp used."""
    from dnnexp.core import parallel
    from dnnexp.spec.registry import LOSSES, OPTIMIZERS as REGISTRY, SCHEDULES
    from dnnexp.train.callbacks import Callback
    from dnnexp.train.threads import blas_threads
    from dnnexp.train.trainer import Trainer

    train = row.data.train
    theirs = {}
    if torch is not None:
        inputs = train.x.reshape(len(train.x), *row.data.input_shape)
        theirs = {
            n: TorchTrainer(row.torch_net(), inputs, train.t, row.torch_loss, optimizer, row.batch) for n in TORCH_THREADS
        }
    rates: dict[Any, list[float]] = {"dnnexp": [], **{n: [] for n in theirs}}

    class Interleave(Callback):
        def on_train_begin(self, trainer):
            warm_up(trainer)

        def on_epoch_end(self, trainer, logs):
            rates["dnnexp"].append(len(trainer.data.train) / logs["epoch_time_s"])
            for n in (TORCH_THREADS if len(rates["dnnexp"]) % 2 else TORCH_THREADS[::-1]):
                if n in theirs:
                    rates[n].append(theirs[n].epoch(n))
            warm_up(trainer)

    def warm_up(trainer) -> None:
        """WARM_UP untimed training steps on the first batches, before the next timed pass."""
        model, loss = trainer.model, trainer.loss
        for start in range(0, WARM_UP * row.batch, row.batch):
            x, t = train.batch(np.arange(start, start + row.batch) % len(train))
            model.forward_loss(x, t, loss, train=True)
            model.backward_loss(loss)
            trainer.optimizer.update(model.params, model.grads)

    trainer = Trainer(
        model=row.model(), loss=LOSSES.build(row.loss), optimizer=REGISTRY.build(dict(optimizer)), data=row.data,
        epochs=passes, batch_size=row.batch, data_seed=0, schedule=SCHEDULES.build("constant"), callbacks=[Interleave()],
    )
    with blas_threads(threads) as watcher:
        starting = parallel.lanes()
        trainer.fit()
    lanes = sorted(set(watcher.decisions)) if watcher is not None and watcher.decisions else [starting]
    measured = {key: statistics.median(values) for key, values in rates.items()} | {"lanes": lanes}
    if theirs:
        # Each dnnexp pass against the better PyTorch pass of its round: a shared machine's speed
        # drifts, by tens of percent within a minute, and a ratio within a round leaves that out.
        rounds = zip(rates["dnnexp"], *(rates[n] for n in theirs))
        measured["ratio"] = statistics.median(ours / max(torch_passes) for ours, *torch_passes in rounds)
    return measured


def print_row(name: str, samples: int, measured: dict[str, Any]) -> None:
    """One row: the medians, the lanes and dnnexp's ratio to the better PyTorch (its median over
    the rounds of passes)."""
    lanes = "–".join(map(str, (measured["lanes"][0], measured["lanes"][-1]))) if len(measured["lanes"]) > 1 else str(
        measured["lanes"][0])
    torch_rates = [measured.get(n) for n in TORCH_THREADS]
    if None in torch_rates:
        print(f"| {name:<28} | {samples:,} | {measured['dnnexp']:,.0f} | {lanes} | – | – | (no torch installed) |")
        return
    print(f"| {name:<28} | {samples:,} | {measured['dnnexp']:,.0f} | {lanes} | {torch_rates[0]:,.0f} | "
          f"{torch_rates[1]:,.0f} | {measured['ratio']:.2f} |", flush=True)


def run_table(
    title: str, rows: list[Row], optimizer: dict, passes: int, threads: int | None, samples: str = "images"
) -> None:
    """Print a table: header, machine load at the start, one row per entry of `rows` as it is
    measured, and the load at the end; `samples` names what a row trains on (images, dates)."""
    torch = optional_torch()
    print_header(title, threads, torch, samples)
    for row in rows:
        print_row(row.name, len(row.data.train), measure(row, optimizer, passes, threads, torch))
    print(f"at the end: {machine_load()}", flush=True)


class BusyCore(argparse.Action):
    """--busy: start a process that keeps one core busy until the benchmark ends, as a neighbouring
    training would (the load printed with each table shows it)."""

    def __init__(self, **kwargs: Any):
        super().__init__(nargs=0, **kwargs)

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: str | None = None) -> None:
        neighbour = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        atexit.register(neighbour.kill)
        setattr(namespace, self.dest, True)


def arguments(description: str, passes: int = 3) -> argparse.ArgumentParser:
    """The options every benchmark takes: --passes, --optimizer, --threads, --scale and --busy."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--passes", type=int, default=passes, help="passes over the data per framework and row")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    parser.add_argument("--threads", type=int, default=None,
                        help="dnnexp's lanes (default: as a training decides, from the cores free)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="share of each row's samples (images, dates) a pass trains on (0.1: a quick look, on a busy machine)")
    parser.add_argument("--busy", action=BusyCore, default=False,
                        help="keep one core busy with another process while measuring, as a neighbouring run would")
    return parser


def scaled(samples: int, scale: float, batch: int) -> int:
    """`samples` times `scale`, at least two batches."""
    return max(2 * batch, int(samples * scale))


def images(flatten: bool = False, sequence: bool = False, samples: int | None = None):
    """Fashion-MNIST's training images as dnnexp's Batches: the first `samples` of them."""
    from dnnexp.data.base import prepare
    from dnnexp.data.idx import load_idx

    return prepare(load_idx("fashion_mnist"), flatten=flatten, sequence=sequence, validation=0, subset=samples,
                   shuffle_seed=0)


def peak_memory_mb(code: str) -> float:
    """Max resident memory of a fresh process (bench/ on its path) that runs `code`.

    Read from the child's own VmHWM (Linux): getrusage's maxrss would carry over this process's
    size, torch included, through fork and exec.
    """
    code = f"import re, sys; sys.path.insert(0, 'bench'); {code}\n" + (
        "print(re.search(r'VmHWM:\\s*(\\d+) kB', open('/proc/self/status').read())[1])"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return int(done.stdout.splitlines()[-1]) / 1024
