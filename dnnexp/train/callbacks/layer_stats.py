"""LayerStats: per-layer activation and gradient statistics, and activation samples for histograms."""

from __future__ import annotations

import math

import numpy as np

from dnnexp.core.activations import Activation
from dnnexp.train.callbacks.base import Callback, RowLog, SaveArrays
from dnnexp.train.callbacks.epoch_means import EpochMeans


class LayerStats(Callback):
    """Per-layer activation mean/std and gradient norms, averaged over each epoch's batches (the
    numbers that show vanishing gradients), plus samples of every activation layer's outputs on a
    fixed probe batch before and after training (for activation histograms)."""

    SAMPLE_SIZE = 20_000  # values kept per layer for a histogram

    def __init__(self, log: RowLog, save_samples: SaveArrays, probe: np.ndarray):
        self.log, self.save_samples, self.probe = log, save_samples, probe
        self.samples: dict[str, np.ndarray] = {}
        self.means = EpochMeans()

    def on_train_begin(self, trainer):
        trainer.model.keep_outputs = True
        if trainer.state.step == 0:
            self.samples.update(self._sample(trainer, "init"))

    def on_batch_end(self, trainer):
        model, rows = trainer.model, {}
        for layer in model.layers:
            out, dout = model.outputs.get(layer.name), model.output_grads.get(layer.name)
            if out is None or dout is None:
                continue
            grad_norm = math.sqrt(sum(float(np.vdot(g, g)) for g in layer.grads.values())) if layer.grads else math.nan
            rows[layer.name] = np.array([out.mean(), out.std(), grad_norm, math.sqrt(float(np.vdot(dout, dout)))])
        self.means.add_batch(rows)

    def on_epoch_end(self, trainer, logs):
        kinds = {layer.name: layer.kind for layer in trainer.model.layers}
        for name, mean in self.means.end_epoch().items():
            self.log.append(
                {"epoch": int(logs["epoch"]), "layer": name, "kind": kinds[name], "act_mean": mean[0],
                 "act_std": mean[1], "grad_norm": mean[2], "dout_norm": mean[3]}
            )

    def on_train_end(self, trainer):
        self.samples.update(self._sample(trainer, "final"))
        self.save_samples(self.samples)
        trainer.model.keep_outputs = False

    def state_arrays(self):
        initial = {key: value for key, value in self.samples.items() if key.startswith("init/")}
        return {**initial, **self.means.state_arrays()}

    def load_state_arrays(self, arrays):
        self.samples = {key: value for key, value in arrays.items() if key.startswith("init/")}
        self.means.load_state_arrays(arrays)

    def _sample(self, trainer, stage: str) -> dict[str, np.ndarray]:
        model = trainer.model
        model.forward(self.probe, train=False)
        rng = np.random.default_rng(0)
        samples = {}
        for layer in model.layers:
            # A model's forward pass may leave parts out (VHRED's posterior, which only training uses).
            if isinstance(layer, Activation) and layer.name in model.outputs:
                values = model.outputs[layer.name].ravel()
                if values.size > self.SAMPLE_SIZE:
                    values = rng.choice(values, self.SAMPLE_SIZE, replace=False)
                samples[f"{stage}/{layer.name}"] = values.astype(np.float32)
        model.outputs.clear()
        return samples
