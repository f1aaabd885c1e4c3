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

import resource
import subprocess
import sys

import sidebyside as bench

HIDDEN = [100] * 5
BATCH = 100


def dnnexp_epochs(optimizer: dict, epochs: int) -> list[float]:
    """samples/s of each epoch of dnnexp's own Trainer."""
    from dnnexp.data.base import prepare
    from dnnexp.data.idx import load_idx

    data = prepare(load_idx("fashion_mnist"), flatten=True, validation=0, subset=None, shuffle_seed=0)
    layers = [{"type": "dense", "units": u, "activation": "relu", "init": "he_normal"} for u in HIDDEN]
    layers.append({"type": "dense", "units": 10, "activation": "softmax", "init": "he_normal"})
    return bench.dnnexp_rates(data, (784,), layers, optimizer, epochs, BATCH)


def torch_epochs(optimizer: dict, epochs: int, threads: int) -> list[float]:
    """samples/s of each epoch of the same network in PyTorch, fed the same uint8 pixels."""
    import torch

    from dnnexp.data.idx import load_idx

    torch.manual_seed(0)
    dataset = load_idx("fashion_mnist")
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
    pixels = dataset.x_train.reshape(len(dataset.x_train), -1)
    return bench.torch_rates(net, pixels, dataset.t_train, optimizer, epochs, BATCH, threads)


def peak_memory_mb() -> float:
    """Max resident memory of a fresh process that loads the data and trains one dnnexp epoch."""
    code = "import sys; sys.path.insert(0, 'bench'); import mlp_speed; mlp_speed.dnnexp_epochs(mlp_speed.bench.OPTIMIZERS['adam'], 1)"
    subprocess.run([sys.executable, "-c", code], check=True)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    args = bench.arguments(__doc__.splitlines()[0]).parse_args()
    bench.run_table(
        args.threads,
        lambda optimizer: dnnexp_epochs(optimizer, args.epochs),
        lambda optimizer, threads: torch_epochs(optimizer, args.epochs, threads),
    )
    print(f"peak memory of one dnnexp epoch (own process): {peak_memory_mb():.0f} MB")


if __name__ == "__main__":
    main()
