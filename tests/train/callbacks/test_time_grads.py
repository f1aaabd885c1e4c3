"""TimeGrads: each time step's gradient norm in recurrent layers, averaged per epoch."""

from __future__ import annotations

import numpy as np

from dnnexp.train import callbacks as cb

SEQUENCE_RUN = {
    "data": {"name": "sine_wave", "steps": 6, "n": 96, "n_test": 0},
    "model": {"input_shape": [6, 1], "layers": [
        {"type": "bidirectional", "layer": {"type": "gru", "units": 4, "return_sequences": True}},
        {"type": "lstm", "units": 3},
        {"type": "dense", "units": 1},
    ]},
    "loss": "mse",
    "train": {"epochs": 2, "batch_size": 32},
}


def test_time_grads_average_each_steps_gradient_norm_over_the_epochs_batches(make_trainer, record):
    rows = []
    norms = record(lambda trainer: {name: layer.time_grad_norms.copy() for name, layer in time_grads.layers})
    time_grads = cb.TimeGrads(rows)
    trainer = make_trainer(**SEQUENCE_RUN)
    trainer.callbacks = [time_grads, norms]
    trainer.fit()
    layers = ["bidirectional1.forward", "bidirectional1.backward", "lstm1"]
    assert [(r["epoch"], r["layer"], r["t"]) for r in rows] == [(e, name, t) for e in (1, 2) for name in layers for t in range(1, 7)]
    for epoch, batches in ((1, norms.values[:3]), (2, norms.values[3:])):
        for name in layers:
            expected = np.mean([batch[name] for batch in batches], axis=0)
            got = [r["grad_norm"] for r in rows if r["epoch"] == epoch and r["layer"] == name]
            np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert not any(layer.record_time_grads for _, layer in time_grads.layers)


def test_time_grads_resume_mid_epoch_with_their_sums(make_trainer):
    rows = []
    time_grads = cb.TimeGrads(rows)
    trainer = make_trainer(**SEQUENCE_RUN)
    trainer.callbacks = [time_grads]
    time_grads.on_train_begin(trainer)
    trainer._train_step(*trainer.data.train.batch(slice(0, 32)))
    time_grads.on_batch_end(trainer)
    restored = cb.TimeGrads([])
    restored.load_state_arrays(time_grads.state_arrays())
    assert restored.means.batches == 1 and restored.means.sums.keys() == time_grads.means.sums.keys()
    np.testing.assert_array_equal(restored.means.sums["lstm1"], time_grads.means.sums["lstm1"])
