"""Training throughput of an LSTM, dnnexp against PyTorch CPU's nn.LSTM, side by side in one run.

    python bench/lstm_speed.py [--epochs 5] [--samples 6400] [--threads 1]

The issue's LSTM: batch 64, 28 steps of 28 inputs (Fashion-MNIST read row by row), 128 hidden
units, the last step's state into a 10-way softmax; SGD and Adam. Each framework trains
`--epochs` passes over the first `--samples` training images per optimizer; the table gives the
median samples/s and dnnexp's ratio to PyTorch with the same number of threads and with
PyTorch's own default. The target is a ratio of at least 0.5.
"""

from __future__ import annotations

import sidebyside as bench

STEPS, INPUTS, HIDDEN, CLASSES, BATCH = 28, 28, 128, 10, 64


def dnnexp_epochs(optimizer: dict, epochs: int, samples: int) -> list[float]:
    """samples/s of each epoch of dnnexp's own Trainer."""
    from dnnexp.data.base import prepare
    from dnnexp.data.idx import load_idx

    data = prepare(load_idx("fashion_mnist"), sequence=True, flatten=False, validation=0, subset=samples, shuffle_seed=0)
    layers = [{"type": "lstm", "units": HIDDEN}, {"type": "dense", "units": CLASSES, "activation": "softmax"}]
    return bench.dnnexp_rates(data, (STEPS, INPUTS), layers, optimizer, epochs, BATCH)


def torch_epochs(optimizer: dict, epochs: int, samples: int, threads: int) -> list[float]:
    """samples/s of each epoch of nn.LSTM + nn.Linear, fed the same uint8 pixels."""
    import torch

    from dnnexp.data.idx import load_idx

    class LSTMClassifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(INPUTS, HIDDEN, batch_first=True)
            self.head = torch.nn.Linear(HIDDEN, CLASSES)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out[:, -1])

    torch.manual_seed(0)
    dataset = load_idx("fashion_mnist")
    pixels = dataset.x_train[:samples].reshape(samples, STEPS, INPUTS)
    return bench.torch_rates(LSTMClassifier(), pixels, dataset.t_train[:samples], optimizer, epochs, BATCH, threads)


def main() -> None:
    parser = bench.arguments(__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=6400, help="training images per epoch")
    args = parser.parse_args()
    bench.run_table(
        args.threads,
        lambda optimizer: dnnexp_epochs(optimizer, args.epochs, args.samples),
        lambda optimizer, threads: torch_epochs(optimizer, args.epochs, args.samples, threads),
    )


if __name__ == "__main__":
    main()
