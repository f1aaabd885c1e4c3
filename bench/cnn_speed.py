"""Training throughput of the course's CNNs, dnnexp against PyTorch CPU, side by side in one run.

    python bench/cnn_speed.py [--epochs 3] [--samples 6400] [--threads 1]

SimpleConvNet (configs/day2/cnn/simple_convnet.yaml) with batch 100, and the Keras CNN of Day 4
(configs/day4/keras_cnn.yaml) with batch 128, both on Fashion-MNIST's 1×28×28 images, Adam,
float32. dnnexp trains the layers of those specs; PyTorch the same networks written with torch.nn.
Each trains `--epochs` passes over the first `--samples` training images; the table gives the
median samples/s and dnnexp's ratio to PyTorch with the same number of threads and with PyTorch's
own default. Targets: 0.7 for SimpleConvNet, 0.5 for the Keras CNN.
Memory: the largest im2col matrix each model makes (one batch's), and the peak resident size of
a separate process that loads the data and trains one dnnexp epoch of the model.
"""

from __future__ import annotations

import subprocess
import sys

import sidebyside as bench

ADAM = bench.OPTIMIZERS["adam"]
MODELS = {  # name → (spec, batch size)
    "SimpleCNN": ("configs/day2/cnn/simple_convnet.yaml", 100),
    "KerasCNN": ("configs/day4/keras_cnn.yaml", 128),
}


def spec_layers(name: str) -> list[dict]:
    """The resolved layer list of the model's spec."""
    from dnnexp.tasks import load_spec

    return load_spec(MODELS[name][0]).resolved()["model"]["layers"]


def dnnexp_epochs(name: str, epochs: int, samples: int) -> list[float]:
    """samples/s of each epoch of dnnexp's own Trainer on the spec's layers."""
    from dnnexp.data.base import prepare
    from dnnexp.data.idx import load_idx

    data = prepare(load_idx("fashion_mnist"), flatten=False, validation=0, subset=samples, shuffle_seed=0)
    return bench.dnnexp_rates(data, (1, 28, 28), spec_layers(name), ADAM, epochs, MODELS[name][1])


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


def torch_epochs(name: str, epochs: int, samples: int, threads: int) -> list[float]:
    """samples/s of each epoch of the torch.nn network, fed the same uint8 pixels."""
    from dnnexp.data.idx import load_idx

    dataset = load_idx("fashion_mnist")
    return bench.torch_rates(
        torch_net(name), dataset.x_train[:samples], dataset.t_train[:samples], ADAM, epochs, MODELS[name][1], threads
    )


def largest_im2col_mb(name: str) -> tuple[float, str]:
    """The largest im2col matrix the model makes for one training batch, in MB, and which layer."""
    from dnnexp.core.layers.conv import Conv2D
    from dnnexp.spec.build import sequential

    model = sequential((1, 28, 28), spec_layers(name))
    batch = MODELS[name][1]
    sizes = {
        layer.name: batch * layer.window.out_size[0] * layer.window.out_size[1] * layer.params["W"][0].size * 4 / 1e6
        for layer in model.layers if isinstance(layer, Conv2D)
    }
    largest = max(sizes, key=sizes.get)
    return sizes[largest], largest


def peak_memory_mb(name: str, threads: int) -> float:
    """Max resident memory of a fresh process that loads Fashion-MNIST and trains one dnnexp epoch.

    Read from the child's own VmHWM (Linux): getrusage's maxrss would carry over this process's
    size, torch included, through fork and exec.
    """
    code = (
        "import re, sys; sys.path.insert(0, 'bench'); import cnn_speed; "
        "from threadpoolctl import threadpool_limits\n"
        f"with threadpool_limits({threads}): cnn_speed.dnnexp_epochs({name!r}, 1, 6400)\n"
        "print(re.search(r'VmHWM:\\s*(\\d+) kB', open('/proc/self/status').read())[1])"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return int(done.stdout.splitlines()[-1]) / 1024


def main() -> None:
    parser = bench.arguments(__doc__.splitlines()[0])
    parser.set_defaults(epochs=3)
    parser.add_argument("--samples", type=int, default=6400, help="training images per epoch")
    args = parser.parse_args()
    from dnnexp.train.threads import default_threads

    threads = args.threads or default_threads()
    bench.run_table(
        threads,
        lambda name: dnnexp_epochs(name, args.epochs, args.samples),
        lambda name, threads: torch_epochs(name, args.epochs, args.samples, threads),
        rows={name: name for name in MODELS},
        row_label="model",
    )
    for name, (_, batch) in MODELS.items():
        size, layer = largest_im2col_mb(name)
        print(f"{name}, batch {batch}: largest im2col matrix {size:.0f} MB ({layer}); peak memory of one dnnexp "
              f"epoch (own process): {peak_memory_mb(name, threads):.0f} MB")


if __name__ == "__main__":
    main()
