"""Training throughput of seq2seq with attention, dnnexp against an equivalent PyTorch CPU loop, side by side.

    python bench/attention_speed.py [--epochs 3] [--samples 6400] [--threads 1]

The model of configs/day3/attention/dates.yaml on the dates corpus ("September 27, 1994" →
"1994-09-27": 29 input and 10 output characters): embedding 16, an LSTM encoder of 128 units
keeping every state, an LSTM decoder of 128 units started from the encoder's last state, attention
over the encoder's states (dot, and additive with 128 tanh units), a dense layer on [context,
state]; softmax cross-entropy summed over the output steps, Adam, batch 128, teacher forcing.
PyTorch runs the same network written with torch.nn (nn.LSTM, torch.bmm) in a plain loop. Each
trains `--epochs` passes over `--samples` dates; the table gives the median samples/s and
dnnexp's ratio to PyTorch with the same number of threads and with PyTorch's own default. The
target is a ratio of at least 0.5.
"""

from __future__ import annotations

import numpy as np

import sidebyside as bench

EMBEDDING, UNITS, BATCH = 16, 128, 128
ADAM = bench.OPTIMIZERS["adam"]
SCORES = {"dot": "dot", "additive": "additive"}


def corpus(samples: int):
    """The dates corpus of `samples` training pairs (Batches), the same for both frameworks."""
    from dnnexp.data.base import prepare
    from dnnexp.data.corpora import dates

    return prepare(dates(n=samples, n_test=0, rng=np.random.default_rng(0)), flatten=False, validation=0, subset=None, shuffle_seed=0)


def dnnexp_epochs(score: str, epochs: int, samples: int) -> list[float]:
    """samples/s of each epoch of dnnexp's own Trainer on its seq2seq with attention."""
    from dnnexp.core.layers.base import BuildContext
    from dnnexp.core.models.seq2seq import Seq2Seq

    data = corpus(samples)
    model = Seq2Seq(EMBEDDING, UNITS, "lstm", attention=score)
    model.build(data.info, BuildContext())
    return bench.trainer_rates(model, data, ADAM, epochs, BATCH)


def torch_epochs(score: str, epochs: int, samples: int, threads: int) -> list[float]:
    """samples/s of each epoch of the same network in torch.nn, on the same token ids."""
    import torch
    from torch import nn

    class AttentionSeq2Seq(nn.Module):
        def __init__(self, vocab: int):
            super().__init__()
            self.encoder_embedding, self.decoder_embedding = nn.Embedding(vocab, EMBEDDING), nn.Embedding(vocab, EMBEDDING)
            self.encoder, self.decoder = (nn.LSTM(EMBEDDING, UNITS, batch_first=True) for _ in range(2))
            if score == "additive":
                self.W_enc, self.W_dec = nn.Linear(UNITS, UNITS, bias=False), nn.Linear(UNITS, UNITS, bias=False)
                self.v = nn.Linear(UNITS, 1, bias=False)
            self.output = nn.Linear(2 * UNITS, vocab)

        def forward(self, x, tokens):
            hs, (h, _) = self.encoder(self.encoder_embedding(x))
            states, _ = self.decoder(self.decoder_embedding(tokens), (h, torch.zeros_like(h)))
            if score == "dot":
                scores = states @ hs.transpose(1, 2)
            else:
                scores = self.v(torch.tanh(self.W_dec(states)[:, :, None] + self.W_enc(hs)[:, None])).squeeze(-1)
            context = torch.softmax(scores, dim=-1) @ hs
            return self.output(torch.cat([context, states], dim=-1))

    torch.manual_seed(0)
    data = corpus(samples)
    net = AttentionSeq2Seq(len(data.vocabulary))

    def loss_of(x, t):
        logits = net(x, t[:, :-1])  # teacher forcing: the reference in, the next character out
        return nn.functional.cross_entropy(logits.flatten(0, 1), t[:, 1:].flatten(), reduction="sum") / len(x)

    return bench.torch_loop(net, data.train.x, data.train.t, loss_of, ADAM, epochs, BATCH, threads)


def main() -> None:
    parser = bench.arguments(__doc__.splitlines()[0])
    parser.set_defaults(epochs=3)
    parser.add_argument("--samples", type=int, default=6400, help="dates per epoch")
    args = parser.parse_args()
    bench.run_table(
        args.threads,
        lambda score: dnnexp_epochs(score, args.epochs, args.samples),
        lambda score, threads: torch_epochs(score, args.epochs, args.samples, threads),
        rows=SCORES,
        row_label="attention",
    )


if __name__ == "__main__":
    main()
