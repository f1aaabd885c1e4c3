"""Training throughput of the issue's MLP, dnnexp against PyTorch CPU, side by side in one run.

    python bench/mlp_speed.py [--epochs 5] [--threads 1]

784-100-100-100-100-100-10, ReLU, He init, batch 100, Fashion-MNIST (60,000 images), SGD and
Adam. Each framework trains `--epochs` epochs per optimizer; the table gives the median
samples/s over those epochs and dnnexp's ratio to PyTorch, run with the same number of threads
and with PyTorch's own default.
Peak memory is the maximum resident size of a separate process that trains one dnnexp epoch.
PyTorch is optional (`pip install torch==2.13.0`); without it only dnnexp is measured.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

HIDDEN = [100] * 5
BATCH = 100
OPTIMIZERS = {"sgd": {"name": "sgd", "lr": 0.01}, "adam": {"name": "adam", "lr": 0.001}}


def dnnexp_epochs(optimizer: dict, epochs: int) -> list[float]:
    """samples/s of each epoch of dnnexp's own Trainer."""
    from dnnexp.core.model import Sequential
    from dnnexp.data.base import prepare
    from dnnexp.data.idx import load_idx
    from dnnexp.registry import LOSSES, OPTIMIZERS as REGISTRY, SCHEDULES
    from dnnexp.train.callbacks import Callback
    from dnnexp.train.trainer import Trainer

    data = prepare(load_idx("fashion_mnist"), flatten=True, validation=0, subset=None, shuffle_seed=0)
    layers = [{"type": "dense", "units": u, "activation": "relu", "init": "he_normal"} for u in HIDDEN]
    layers.append({"type": "dense", "units": 10, "activation": "softmax", "init": "he_normal"})
    model = Sequential.from_spec((784,), layers, np.random.default_rng(0))

    class EpochTimes(Callback):
        def __init__(self):
            self.rates = []

        def on_epoch_end(self, trainer, logs):
            self.rates.append(len(trainer.data.train) / logs["epoch_time_s"])

    timer = EpochTimes()
    trainer = Trainer(
        model=model, loss=LOSSES.build("cross_entropy"), optimizer=REGISTRY.build(dict(optimizer)), data=data,
        epochs=epochs, batch_size=BATCH, data_seed=0, schedule=SCHEDULES.build("constant"),
        callbacks=[timer],
    )
    trainer.fit()
    return timer.rates


def torch_epochs(optimizer: dict, epochs: int, threads: int) -> list[float]:
    """samples/s of each epoch of the same network in PyTorch, fed the same uint8 pixels."""
    import torch

    from dnnexp.data.idx import load_idx

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    dataset = load_idx("fashion_mnist")
    pixels = torch.from_numpy(dataset.x_train.reshape(60000, -1).copy())
    labels = torch.from_numpy(dataset.t_train.copy())
    widths = [784] + HIDDEN
    layers = []
    for fan_in, fan_out in zip(widths, widths[1:]):
        layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
    layers.append(torch.nn.Linear(HIDDEN[-1], 10))
    net = torch.nn.Sequential(*layers)
    for layer in net:
        if isinstance(layer, torch.nn.Linear):
            torch.nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            torch.nn.init.zeros_(layer.bias)
    make = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[optimizer["name"]]
    opt = make(net.parameters(), lr=optimizer["lr"])
    loss_fn = torch.nn.CrossEntropyLoss()
    rates = []
    for epoch in range(epochs):
        order = torch.randperm(len(pixels))
        started = time.perf_counter()
        for start in range(0, len(pixels), BATCH):
            index = order[start : start + BATCH]
            x = pixels[index].float() / 255.0
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(x), labels[index])
            loss.backward()
            opt.step()
        rates.append(len(pixels) / (time.perf_counter() - started))
    return rates


def peak_memory_mb() -> float:
    """Max resident memory of a fresh process that loads the data and trains one dnnexp epoch."""
    code = "import sys; sys.path.insert(0, 'bench'); import mlp_speed; mlp_speed.dnnexp_epochs(mlp_speed.OPTIMIZERS['adam'], 1)"
    subprocess.run([sys.executable, "-c", code], check=True)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="BLAS/torch threads (default: dnnexp's default)")
    args = parser.parse_args()
    from threadpoolctl import threadpool_info, threadpool_limits

    from dnnexp.threads import default_threads

    threads = args.threads or default_threads()
    try:
        import torch  # noqa: F401
    except ImportError:
        torch = None
    print(f"{time.strftime('%Y-%m-%d')}  {platform.machine()}  {platform.processor() or ''}  "
          f"python {platform.python_version()}  numpy {np.__version__}  threads {threads}")
    print(f"BLAS: {[(i['internal_api'], i.get('architecture'), i['num_threads']) for i in threadpool_info()]}")
    torch_default = torch.get_num_threads() if torch else None
    print(f"dnnexp: {threads} BLAS thread(s); PyTorch measured with the same, and with its own default of "
          f"{torch_default} threads")
    print(f"{'optimizer':<10}{'dnnexp':>10}{'torch same':>12}{'ratio':>7}{'torch default':>15}{'ratio':>7}  (samples/s)")
    for name, optimizer in OPTIMIZERS.items():
        with threadpool_limits(threads):
            ours = statistics.median(dnnexp_epochs(optimizer, args.epochs))
        if torch is None:
            print(f"{name:<10}{ours:>10,.0f}  (no torch installed)")
            continue
        same = statistics.median(torch_epochs(optimizer, args.epochs, threads))
        default = statistics.median(torch_epochs(optimizer, args.epochs, torch_default))
        print(f"{name:<10}{ours:>10,.0f}{same:>12,.0f}{ours / same:>7.2f}{default:>15,.0f}{ours / default:>7.2f}")
    print(f"peak memory of one dnnexp epoch (own process): {peak_memory_mb():.0f} MB")


if __name__ == "__main__":
    main()
