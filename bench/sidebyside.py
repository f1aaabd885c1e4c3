"""What the speed benchmarks share: dnnexp's trainer and a plain PyTorch loop timed epoch by
epoch on the same uint8 pixels, with the same number of threads, and the report's lines.

Used by bench/mlp_speed.py, bench/lstm_speed.py, bench/cnn_speed.py and bench/attention_speed.py
(run from the repository root, which puts bench/ on the import path). PyTorch is optional: without it only dnnexp is measured.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from typing import Any, Callable

import numpy as np

OPTIMIZERS = {"sgd": {"name": "sgd", "lr": 0.01}, "adam": {"name": "adam", "lr": 0.001}}


def optional_torch() -> Any:
    """The torch module, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def print_header(threads: int, torch: Any, row_label: str = "optimizer") -> None:
    """Date, machine, versions and the thread settings: what a reader needs to weigh the figures."""
    from threadpoolctl import threadpool_info

    print(f"{time.strftime('%Y-%m-%d')}  {platform.machine()}  {platform.processor() or ''}  "
          f"python {platform.python_version()}  numpy {np.__version__}  threads {threads}")
    print(f"BLAS: {[(i['internal_api'], i.get('architecture'), i['num_threads']) for i in threadpool_info()]}")
    default = f"{torch.get_num_threads()} threads (torch {torch.__version__})" if torch else "not installed"
    print(f"dnnexp: {threads} BLAS thread(s); PyTorch measured with the same, and with its own default: {default}")
    print(f"{row_label:<10}{'dnnexp':>10}{'torch same':>12}{'ratio':>7}{'torch default':>15}{'ratio':>7}  (samples/s)")


def print_row(name: str, ours: float, same: float | None, default: float | None) -> None:
    """One row's (an optimizer's, a model's) medians and dnnexp's ratios to PyTorch."""
    if same is None or default is None:
        print(f"{name:<10}{ours:>10,.0f}  (no torch installed)")
        return
    print(f"{name:<10}{ours:>10,.0f}{same:>12,.0f}{ours / same:>7.2f}{default:>15,.0f}{ours / default:>7.2f}")


def dnnexp_rates(data, input_shape: tuple[int, ...], layers: list[dict], optimizer: dict, epochs: int, batch: int) -> list[float]:
    """samples/s of each epoch of dnnexp's own Trainer (cross-entropy, constant rate) on `data` (Batches)."""
    from dnnexp.spec.build import sequential

    return trainer_rates(sequential(input_shape, layers, np.random.default_rng(0)), data, optimizer, epochs, batch)


def trainer_rates(model: Any, data: Any, optimizer: dict, epochs: int, batch: int) -> list[float]:
    """samples/s of each epoch of dnnexp's Trainer training the built `model` with cross-entropy on `data` (Batches)."""
    from dnnexp.spec.registry import LOSSES, OPTIMIZERS as REGISTRY, SCHEDULES
    from dnnexp.train.callbacks import Callback
    from dnnexp.train.trainer import Trainer

    class EpochTimes(Callback):
        def __init__(self):
            self.rates = []

        def on_epoch_end(self, trainer, logs):
            self.rates.append(len(trainer.data.train) / logs["epoch_time_s"])

    timer = EpochTimes()
    trainer = Trainer(
        model=model, loss=LOSSES.build("cross_entropy"), optimizer=REGISTRY.build(dict(optimizer)), data=data,
        epochs=epochs, batch_size=batch, data_seed=0, schedule=SCHEDULES.build("constant"),
        callbacks=[timer],
    )
    trainer.fit()
    return timer.rates


def torch_rates(
    net: Any, pixels: np.ndarray, labels: np.ndarray, optimizer: dict, epochs: int, batch: int, threads: int
) -> list[float]:
    """samples/s of each epoch of `net` (a torch module giving logits) trained with cross-entropy
    on uint8 `pixels`, scaled to [0, 1] batch by batch as dnnexp does."""
    import torch

    loss_fn = torch.nn.CrossEntropyLoss()
    return torch_loop(net, pixels, labels, lambda x, t: loss_fn(net(x.float() / 255.0), t), optimizer, epochs, batch, threads)


def torch_loop(
    net: Any, inputs: np.ndarray, targets: np.ndarray, loss_of: Callable[[Any, Any], Any],
    optimizer: dict, epochs: int, batch: int, threads: int,
) -> list[float]:
    """samples/s of each epoch of a plain PyTorch loop over shuffled batches of (`inputs`, `targets`),
    minimizing `loss_of(x, t)` (a scalar tensor) with the parameters of `net`."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x_all, t_all = torch.from_numpy(np.array(inputs)), torch.from_numpy(np.array(targets))  # writable copies
    make: Callable = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[optimizer["name"]]
    opt = make(net.parameters(), lr=optimizer["lr"])
    rates = []
    for _ in range(epochs):
        order = torch.randperm(len(x_all))
        started = time.perf_counter()
        for start in range(0, len(x_all), batch):
            index = order[start : start + batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_of(x_all[index], t_all[index])
            loss.backward()
            opt.step()
        rates.append(len(x_all) / (time.perf_counter() - started))
    return rates


def arguments(description: str) -> argparse.ArgumentParser:
    """The options every benchmark takes: --epochs and --threads."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="BLAS/torch threads (default: dnnexp's default)")
    return parser


def run_table(
    threads: int | None,
    ours: Callable[[Any], list[float]],
    theirs: Callable[[Any, int], list[float]],
    rows: dict[str, Any] = OPTIMIZERS,
    row_label: str = "optimizer",
) -> None:
    """Print the header and one row per entry of `rows` (name → setting; by default the
    optimizers): median samples/s of `ours(setting)` under `threads` BLAS threads, and of
    `theirs(setting, threads)` with the same and PyTorch's default."""
    from threadpoolctl import threadpool_limits

    from dnnexp.train.threads import default_threads

    threads = threads or default_threads()
    torch = optional_torch()
    print_header(threads, torch, row_label)
    for name, setting in rows.items():
        with threadpool_limits(threads):
            mine = statistics.median(ours(setting))
        same = default = None
        if torch is not None:
            same = statistics.median(theirs(setting, threads))
            default = statistics.median(theirs(setting, torch.get_num_threads()))
        print_row(name, mine, same, default)
