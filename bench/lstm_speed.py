"""Training throughput of an LSTM, dnnexp against PyTorch CPU's nn.LSTM, side by side in one run.

    python bench/lstm_speed.py [--passes 3] [--optimizer adam] [--threads N] [--scale 1]

The issue's LSTM: 128 units, batch 64, sequences of T = 28, 100 and 300 steps of 28 inputs
(Fashion-MNIST read row by row; for T > 28 each image's rows repeat), the last step's state into
a 10-way softmax. Each row trains over the first images of the training set (fewer for longer
sequences), dnnexp and PyTorch at one and two threads interleaved pass by pass
(bench/sidebyside.py); the table gives median samples/s and dnnexp's ratio to the better PyTorch.
"""

from __future__ import annotations

import dataclasses

import numpy as np

import sidebyside as bench

INPUTS, HIDDEN, CLASSES, BATCH = 28, 128, 10, 64
#: steps → training images a pass
STEPS = {28: 6_400, 100: 1_920, 300: 640}


def sequences(steps: int, samples: int):
    """The first `samples` images as sequences of `steps` rows (the 28 rows over and over)."""
    data = bench.images(sequence=True, samples=samples)
    x = data.train.x
    x = np.tile(x, (1, -(-steps // len(x[0])), 1))[:, :steps]
    return dataclasses.replace(data, train=dataclasses.replace(data.train, x=x), input_shape=(steps, INPUTS))


def torch_net():
    import torch

    class LSTMClassifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(INPUTS, HIDDEN, batch_first=True)
            self.head = torch.nn.Linear(HIDDEN, CLASSES)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out[:, -1])

    torch.manual_seed(0)
    return LSTMClassifier()


def main() -> None:
    args = bench.arguments(__doc__.splitlines()[0]).parse_args()
    layers = [{"type": "lstm", "units": HIDDEN}, {"type": "dense", "units": CLASSES, "activation": "softmax"}]
    bench.run_table(
        f"LSTM {HIDDEN}, batch {BATCH}, by sequence length ({args.optimizer}, samples/s, median of {args.passes} passes)",
        [bench.Row.sequential(f"T = {steps}", sequences(steps, bench.scaled(samples, args.scale, BATCH)), layers, torch_net,
                              BATCH)
         for steps, samples in STEPS.items()],
        bench.OPTIMIZERS[args.optimizer], args.passes, args.threads,
    )


if __name__ == "__main__":
    main()
