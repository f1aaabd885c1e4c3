"""Training throughput of seq2seq with attention, dnnexp against PyTorch CPU, side by side in one run.

    python bench/attention_speed.py [--passes 3] [--optimizer adam] [--threads N] [--scale 1]

The model of configs/day3/attention/dates.yaml on the dates corpus ("September 27, 1994" →
"1994-09-27"): embedding 16, an LSTM encoder of 128 units keeping every state, an LSTM decoder of
128 units started from the encoder's last state, attention over the encoder's states (dot, and
additive with 128 tanh units), a dense layer on [context, state]; softmax cross-entropy summed
over the output steps, batch 128, teacher forcing. PyTorch trains the same network written with
torch.nn (nn.LSTM, batched products) on the same token ids. Each row trains over 6,400 dates
(times --scale), dnnexp and PyTorch at one and two threads interleaved pass by pass
(bench/sidebyside.py); the table gives median samples/s and dnnexp's ratio to the better PyTorch.
The target is a ratio of at least 0.5.
"""

from __future__ import annotations

import numpy as np

import sidebyside as bench

EMBEDDING, UNITS, BATCH, DATES = 16, 128, 128, 6_400
SCORES = ("dot", "additive")


def corpus(samples: int):
    """The dates corpus of `samples` training pairs (Batches), the same for both frameworks."""
    from dnnexp.data.base import prepare
    from dnnexp.data.corpora import dates

    return prepare(dates(n=samples, n_test=0, rng=np.random.default_rng(0)), flatten=False, validation=0, subset=None,
                   shuffle_seed=0)


def seq2seq(score: str, data):
    """dnnexp's seq2seq with `score` attention, built for `data` (weights from seed 0)."""
    from dnnexp.core.layers.base import BuildContext
    from dnnexp.core.models.seq2seq import Seq2Seq

    model = Seq2Seq(EMBEDDING, UNITS, "lstm", attention=score)
    model.build(data.info, BuildContext())
    return model


def torch_net(score: str, vocab: int):
    """The same network in torch.nn: (x (N, T_in), decoder tokens (N, T)) → logits (N, T, vocab)."""
    import torch
    from torch import nn

    class AttentionSeq2Seq(nn.Module):
        def __init__(self):
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
    return AttentionSeq2Seq()


def teacher_forced_loss(net, x, t):
    """Cross-entropy summed over the output steps, mean over the batch, as dnnexp's seq2seq: the
    reference t[:, :-1] in (the start token first), the next character t[:, 1:] out."""
    from torch import nn

    logits = net(x, t[:, :-1])
    return nn.functional.cross_entropy(logits.flatten(0, 1), t[:, 1:].flatten(), reduction="sum") / len(x)


def row(score: str, samples: int) -> bench.Row:
    data = corpus(samples)
    return bench.Row(f"{score} attention", data, lambda: seq2seq(score, data),
                     lambda: torch_net(score, len(data.vocabulary)), BATCH, torch_loss=teacher_forced_loss)


def main() -> None:
    args = bench.arguments(__doc__.splitlines()[0]).parse_args()
    bench.run_table(
        f"seq2seq with attention on dates, LSTM {UNITS}, batch {BATCH} ({args.optimizer}, samples/s, median of "
        f"{args.passes} passes; target: dnnexp ÷ better torch ≥ 0.5)",
        [row(score, bench.scaled(DATES, args.scale, BATCH)) for score in SCORES],
        bench.OPTIMIZERS[args.optimizer], args.passes, args.threads, samples="dates",
    )


if __name__ == "__main__":
    main()
