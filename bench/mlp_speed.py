"""Training throughput of dense networks, dnnexp against PyTorch CPU, side by side in one run.

    python bench/mlp_speed.py [--passes 3] [--optimizer adam] [--threads N] [--scale 1]

Two tables on Fashion-MNIST (784 inputs, ReLU, He init, 10-way softmax): the issue's MLP
784-100-100-100-100-100-10 at batch 1, 10, 32, 100 and 1000; and two hidden layers of width 100,
300 and 1000 at batch 100. Each row trains over the first images of the training set (fewer for
small batches, so that a pass takes about a second), dnnexp and PyTorch at one and two threads
interleaved pass by pass (bench/sidebyside.py); the tables give median samples/s and dnnexp's
ratio to the better PyTorch.
Peak memory is the maximum resident size of a separate process that trains one dnnexp epoch of
the 784-5×100-10 network at batch 100 over all 60,000 images.
PyTorch is optional (`pip install torch==2.13.0`); without it only dnnexp is measured.
"""

from __future__ import annotations

import sidebyside as bench

DEEP = [100] * 5
#: batch → training images a pass: about a second of training either way
BATCHES = {1: 2_000, 10: 10_000, 32: 20_000, 100: 60_000, 1000: 60_000}
WIDTHS = {100: 60_000, 300: 30_000, 1000: 10_000}


def layers(hidden: list[int]) -> list[dict]:
    """dnnexp's layers: `hidden` ReLU layers, then the 10-way softmax."""
    dense = [{"type": "dense", "units": u, "activation": "relu", "init": "he_normal"} for u in hidden]
    return dense + [{"type": "dense", "units": 10, "activation": "softmax", "init": "he_normal"}]


def torch_net(hidden: list[int]):
    """The same network in torch.nn, giving logits, He-initialized."""
    import torch

    torch.manual_seed(0)
    widths, modules = [784] + hidden, []
    for fan_in, fan_out in zip(widths, widths[1:]):
        modules += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
    modules.append(torch.nn.Linear(hidden[-1], 10))
    net = torch.nn.Sequential(*modules)
    for module in net:
        if isinstance(module, torch.nn.Linear):
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            torch.nn.init.zeros_(module.bias)
    return net


def row(name: str, hidden: list[int], batch: int, samples: int) -> bench.Row:
    return bench.Row.sequential(name, bench.images(flatten=True, samples=samples), layers(hidden), lambda: torch_net(hidden),
                                batch)


def dnnexp_epoch(optimizer: dict) -> None:
    """One dnnexp epoch of the 784-5×100-10 network at batch 100 over all the training images."""
    bench.measure(row("", DEEP, 100, None), optimizer, 1, 1, None)


def main() -> None:
    args = bench.arguments(__doc__.splitlines()[0]).parse_args()
    optimizer = bench.OPTIMIZERS[args.optimizer]
    bench.run_table(
        f"MLP 784-5×100-10 by batch size ({args.optimizer}, samples/s, median of {args.passes} passes)",
        [row(f"batch {batch}", DEEP, batch, bench.scaled(samples, args.scale, batch)) for batch, samples in BATCHES.items()],
        optimizer, args.passes, args.threads,
    )
    bench.run_table(
        f"MLP, 2 hidden layers, batch 100, by width ({args.optimizer}, samples/s, median of {args.passes} passes)",
        [row(f"width {width}", [width, width], 100, bench.scaled(samples, args.scale, 100)) for width, samples in WIDTHS.items()],
        optimizer, args.passes, args.threads,
    )
    memory = bench.peak_memory_mb(f"import mlp_speed; mlp_speed.dnnexp_epoch(mlp_speed.bench.OPTIMIZERS[{args.optimizer!r}])")
    print(f"peak memory of one dnnexp epoch (own process): {memory:.0f} MB")


if __name__ == "__main__":
    main()
