"""What every model kind is: the `Model` protocol the trainer drives, and `DataInfo`, what a
model learns about its data before it builds its parameters."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dnnexp.core.layers.base import BuildContext, Layer
from dnnexp.core.losses import Loss, accuracy


@dataclass(frozen=True)
class Vocabulary:
    """The tokens of a text corpus, id k being `tokens[k]`, and the ids that mean something to a
    model: padding (never a word), the start token a decoder begins from, and the end token that
    closes a reply (None for corpora whose replies have a fixed length). `joiner` writes tokens
    as text: "" for characters, " " for words."""

    tokens: tuple[str, ...]
    pad: int
    start: int
    end: int | None
    joiner: str

    def __len__(self) -> int:
        return len(self.tokens)


@dataclass(frozen=True)
class DataInfo:
    """What a data set tells a model before training: one sample's input and target shapes (no
    batch axis), the number of targets per sample, the task (multiclass, binary, regression), the
    class names if it has any, and the vocabulary of a text corpus."""

    input_shape: tuple[int, ...]
    target_shape: tuple[int, ...]
    num_outputs: int
    task: str
    classes: tuple[str, ...] | None = None
    vocabulary: Vocabulary | None = None


class Model:
    """What the trainer drives, whatever the model's shape: Sequential, and the encoder-decoders
    of dnnexp.core.models.seq2seq and .hred built from Sequential parts. Each kind declares its
    spec name (`kind`); its constructor's keyword arguments are the keys of a spec's `model:`.

    A model has
    - `params` and `grads`: flat dicts of its layers' own arrays by name ("dense1.W",
      "encoder.lstm1.W_in"), written in place, so optimizers may keep them; `penalized`: the names
      weight penalties apply to;
    - `layers`: every layer, each with a unique `name`, for per-layer statistics; with
      `keep_outputs` set, each pass leaves a layer's output in `outputs` and the gradient
      reaching it in `output_grads`, keyed by that name;
    - `forward_loss(x, t, loss, train)` → (loss value, output y) and `backward_loss(loss)`;
    - `metric_names(task, train)` and `batch_metrics(...)`: what metrics.csv logs besides the loss.

    `build(info, ctx)` creates the parameters for the data `info` describes.
    """

    input_shape: tuple[int, ...]
    layers: list[Layer]
    params: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]
    penalized: list[str]

    def build(self, info: DataInfo, ctx: BuildContext) -> None:
        """Create the parameters for samples of the data `info` describes; raises ShapeError for
        data the model cannot read."""
        raise NotImplementedError

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        return {f"{l.name}.{k}": v for l in self.layers for k, v in l.buffers.items()}

    def forward_loss(self, x: np.ndarray, t: np.ndarray, loss: Loss, train: bool = False) -> tuple[float, np.ndarray]:
        """Forward pass and loss; returns (loss value, model output y)."""
        raise NotImplementedError

    def backward_loss(self, loss: Loss) -> None:
        """Backward pass from the loss of the last `forward_loss`, filling `grads`."""
        raise NotImplementedError

    def metric_names(self, task: str, train: bool) -> tuple[str, ...]:
        """The metrics `batch_metrics` returns, in training (`train`) or evaluation: accuracy for
        classification. metrics.csv gets a column "<split>_<name>" for each."""
        return () if task == "regression" else ("acc",)

    def batch_metrics(self, x: np.ndarray, t: np.ndarray, y: np.ndarray, task: str, train: bool) -> dict[str, float]:
        """The batch's mean of each metric in `metric_names`, for the output y of the last
        `forward_loss` on (x, t)."""
        return {} if task == "regression" else {"acc": accuracy(y, t, task)}

    @property
    def has_attention(self) -> bool:
        """Whether `attention_maps` can show where the model looks (`dnnexp plot RUN --attention`)."""
        return False

    def attention_maps(self, x: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """What the model writes for token ids x (N, T_in), and where it looked while writing it:
        (output ids (N, T_out), {title: weights (N, T_out, T_in)}), one map per attention (a
        transformer's layer and head); row t of a map weighs the input tokens for output token t.
        Only for a model that `has_attention`."""
        raise NotImplementedError(f"{type(self).__name__} has no attention")

    def summary_rows(self) -> list[tuple[str, str, tuple[int, ...], int]]:
        """(name, kind, output shape, parameter count) per layer, as Keras's model.summary()."""
        raise NotImplementedError

    def count_params(self) -> int:
        return sum(p.size for p in self.params.values())

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Parameters and buffers by name: what a checkpoint stores of the model."""
        return {**self.params, **self.buffers}

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Copy saved arrays into the model's own (shapes must match)."""
        own = self.state_arrays()
        missing = sorted(set(own) - set(arrays))
        if missing:
            raise KeyError(f"saved state lacks {', '.join(missing)}")
        for key, target in own.items():
            if arrays[key].shape != target.shape:
                raise ValueError(f"{key}: saved shape {arrays[key].shape}, model has {target.shape}")
            target[...] = arrays[key]
