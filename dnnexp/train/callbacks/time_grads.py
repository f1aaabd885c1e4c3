"""TimeGrads: the gradient norm at every time step of every recurrent layer (time_grads.csv)."""

from __future__ import annotations

import math

from dnnexp.core.layers.recurrent import recurrent_layers
from dnnexp.train.callbacks.base import Callback, RowLog
from dnnexp.train.callbacks.epoch_means import EpochMeans


class TimeGrads(Callback):
    """‖dL/ds_t‖ at every time step t of every recurrent layer, averaged over each epoch's batches
    (time_grads.csv): how the gradient changes as it flows backwards through time (course Day 3
    §1–2: it vanishes in a simple RNN; the LSTM's cell carries it).

    s_t is the state the layer carries from step t to t + 1: h_t, and for the LSTM (h_t, c_t),
    whose c_t is where the constant error carousel keeps the gradient. The norm is over the batch
    and the units, of the total gradient (from the output at t and from the steps after it). A
    bidirectional layer's backward half counts its steps in the order it reads them, last input first.
    """

    def __init__(self, log: RowLog):
        self.log = log
        self.means = EpochMeans()

    def on_train_begin(self, trainer):
        self.layers = recurrent_layers({layer.name: layer for layer in trainer.model.layers})
        for _, layer in self.layers:
            layer.record_time_grads = True

    def on_batch_end(self, trainer):
        if not math.isfinite(trainer.last_loss):
            return  # no backward pass ran
        self.means.add_batch({name: layer.time_grad_norms for name, layer in self.layers})

    def on_epoch_end(self, trainer, logs):
        for name, mean in self.means.end_epoch().items():
            for t, norm in enumerate(mean, start=1):
                self.log.append({"epoch": int(logs["epoch"]), "layer": name, "t": t, "grad_norm": norm})

    def on_train_end(self, trainer):
        for _, layer in self.layers:
            layer.record_time_grads = False

    def state_arrays(self):
        return self.means.state_arrays()

    def load_state_arrays(self, arrays):
        self.means.load_state_arrays(arrays)
