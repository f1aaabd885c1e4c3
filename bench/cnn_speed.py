"""Training throughput of the course's CNNs, dnnexp against PyTorch CPU, side by side in one run.

    python bench/cnn_speed.py [--passes 3] [--optimizer adam] [--threads N] [--scale 1] [--keras]

SimpleConvNet (configs/day2/cnn/simple_convnet.yaml: conv 30×5×5, ReLU, max pool 2, dense 100,
dense 10) on Fashion-MNIST's 1×28×28 images at batch 1, 32 and 100; with --keras also the Keras
CNN of Day 4 (configs/day4/keras_cnn.yaml) at batch 128. dnnexp trains the layers of those specs,
PyTorch the same networks written with torch.nn, interleaved pass by pass at one and two threads
(bench/sidebyside.py); the table gives median samples/s and dnnexp's ratio to the better PyTorch.
Memory: the largest im2col matrix each model makes (one batch's), and the peak resident size of
a separate process that loads the data and trains one dnnexp epoch of 6,400 images.
"""

from __future__ import annotations

import sidebyside as bench

SPECS = {"SimpleCNN": "configs/day2/cnn/simple_convnet.yaml", "KerasCNN": "configs/day4/keras_cnn.yaml"}
#: (model, batch) → training images a pass
ROWS = {("SimpleCNN", 1): 500, ("SimpleCNN", 32): 3_200, ("SimpleCNN", 100): 6_400}
KERAS = {("KerasCNN", 128): 1_280}


def spec_layers(name: str) -> list[dict]:
    """The resolved layer list of the model's spec."""
    from dnnexp.tasks import load_spec

    return load_spec(SPECS[name]).resolved()["model"]["layers"]


def torch_net(name: str):
    """The same network in torch.nn, giving logits (the softmax is in the loss)."""
    import torch
    from torch import nn

    if name == "SimpleCNN":
        layers = [nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(30 * 12 * 12, 100), nn.ReLU(),
                  nn.Linear(100, 10)]
    else:
        layers = [
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
            nn.Flatten(), nn.Linear(64 * 5 * 5, 512), nn.ReLU(), nn.Dropout(0.5), nn.Linear(512, 10),
        ]
    torch.manual_seed(0)
    return nn.Sequential(*layers)


def row(name: str, batch: int, samples: int) -> bench.Row:
    return bench.Row.sequential(f"{name}, batch {batch}", bench.images(samples=samples), spec_layers(name),
                                lambda: torch_net(name), batch)


def dnnexp_epoch(name: str, batch: int) -> None:
    """One dnnexp epoch of 6,400 images, on one lane."""
    bench.measure(row(name, batch, 6_400), bench.OPTIMIZERS["adam"], 1, 1, None)


def largest_im2col_mb(name: str, batch: int) -> tuple[float, str]:
    """The largest im2col matrix the model makes for one training batch, in MB, and which layer."""
    from dnnexp.core.layers.conv import Conv2D
    from dnnexp.spec.build import sequential

    model = sequential((1, 28, 28), spec_layers(name))
    sizes = {
        layer.name: batch * layer.window.out_size[0] * layer.window.out_size[1] * layer.params["W"][0].size * 4 / 1e6
        for layer in model.layers if isinstance(layer, Conv2D)
    }
    largest = max(sizes, key=sizes.get)
    return sizes[largest], largest


def main() -> None:
    parser = bench.arguments(__doc__.splitlines()[0])
    parser.add_argument("--keras", action="store_true", help="also the Keras CNN at batch 128 (slow)")
    args = parser.parse_args()
    rows = {**ROWS, **(KERAS if args.keras else {})}
    bench.run_table(
        f"CNNs by batch size ({args.optimizer}, samples/s, median of {args.passes} passes)",
        [row(name, batch, bench.scaled(samples, args.scale, batch)) for (name, batch), samples in rows.items()],
        bench.OPTIMIZERS[args.optimizer], args.passes, args.threads,
    )
    for name, batch in {(name, batch) for name, batch in rows if batch >= 100}:
        size, layer = largest_im2col_mb(name, batch)
        memory = bench.peak_memory_mb(f"import cnn_speed; cnn_speed.dnnexp_epoch({name!r}, {batch})")
        print(f"{name}, batch {batch}: largest im2col matrix {size:.0f} MB ({layer}); peak memory of one dnnexp "
              f"epoch (own process): {memory:.0f} MB")


if __name__ == "__main__":
    main()
