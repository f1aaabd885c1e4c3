"""From a resolved spec to a finished run: data, model, optimizer, callbacks, run folder.

This is the only place that knows both the spec's layout and the core's objects; the core and
the trainer never see YAML, and the CLI only calls `train`.
"""

from __future__ import annotations

import inspect
import json
import platform
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import dnnexp
from dnnexp.core.layers.base import BuildContext, ShapeError
from dnnexp.core.layers.recurrent import recurrent_layers
from dnnexp.core.model import Model, Sequential
from dnnexp.core.seq2seq import EncoderDecoder, Tokens
from dnnexp.data.augment import Augmentation
from dnnexp.data.base import Batches, prepare
from dnnexp.data.corpora import END, JOINERS, START, decode, encode_text
from dnnexp.errors import DnnexpError, RunDirError, SpecError
from dnnexp.registry import DATASETS, LOSSES, MODELS, OPTIMIZERS, REGULARIZERS, SCHEDULES
from dnnexp.runs.rundir import RunDir
from dnnexp.threads import blas_threads
from dnnexp.train import callbacks as cb
from dnnexp.train.trainer import Trainer, TrainState, split_arrays

CHECKPOINT = "checkpoint.npz"
PROBE_SIZE = 1000  # samples whose activations are histogrammed


@dataclass
class Streams:
    """Independent random streams from the run seed: changing the model (and so how many numbers
    initialization draws) never changes the data order, the split or the dropout masks."""

    init: np.random.Generator
    noise: np.random.Generator
    dataset: np.random.Generator
    data_seed: int
    augment_seed: int  # crops and flips of training batches (data.augment)

    @classmethod
    def from_seed(cls, seed: int) -> "Streams":
        # spawn(5)'s first four children are spawn(4)'s: adding the augmentation stream changed no other.
        init, noise, dataset, order, augment = np.random.SeedSequence(seed).spawn(5)
        return cls(
            np.random.default_rng(init), np.random.default_rng(noise), np.random.default_rng(dataset),
            int(order.generate_state(1)[0]), int(augment.generate_state(1)[0]),
        )


def load_data(data_spec: dict[str, Any], streams: Streams) -> Batches:
    """The data set named in the spec, split into train/validation/test."""
    args = dict(data_spec)
    name = args.pop("name")
    generic = {
        key: args.pop(key, None) for key in ("flatten", "sequence", "validation", "subset", "test_every_epoch", "augment")
    }
    function = DATASETS.get(name)
    if "rng" in inspect.signature(function).parameters:
        args["rng"] = streams.dataset
    dataset = function(**{k: v for k, v in args.items() if v is not None or k != "folder"})
    batches = prepare(
        dataset,
        flatten=bool(generic["flatten"]),
        sequence=bool(generic["sequence"]),
        validation=int(generic["validation"] or 0),
        subset=generic["subset"],
        shuffle_seed=streams.data_seed,
    )
    if generic["augment"]:
        if len(batches.input_shape) != 3:
            raise SpecError(
                f"data.augment: random crops and flips need images (C, H, W), but these samples are "
                f"{batches.input_shape}; set data.flatten: false, or drop data.augment"
            )
        batches.augment = Augmentation(**generic["augment"], seed=streams.augment_seed)
    return batches


def build_model(config: dict[str, Any], data: Batches, streams: Streams) -> Model:
    """The spec's model, checked against the shape of the data."""
    model_spec = config["model"]
    if "kind" in model_spec:  # the schema leaves `kind` out for sequential models
        return build_token_model(config, data, streams)
    input_shape = tuple(model_spec.get("input_shape") or data.input_shape)
    if input_shape != data.input_shape:
        hint = (
            " set data.flatten: true for dense networks (data.sequence: true for recurrent ones),"
            if len(data.input_shape) > 1
            else " set data.flatten: false for convolutional networks," if len(input_shape) == 3 else ""
        )
        raise SpecError(
            f"model.input_shape: {list(input_shape)} does not match the data's sample shape "
            f"{list(data.input_shape)};{hint} or change model.input_shape"
        )
    try:
        model = Sequential.from_spec(input_shape, model_spec["layers"], streams.init, streams.noise)
    except ShapeError as error:  # the schema checks shapes only when the spec gives input_shape
        place = "model.layers" if error.index is None else f"model.layers[{error.index}] ({error.layer_type})"
        raise SpecError(f"{place}: {error}") from None
    out = int(np.prod(model.output_shape))
    if out != data.num_outputs:
        raise SpecError(
            f"model.layers[-1]: the model ends with {out} outputs, but {config['data']['name']} has "
            f"{data.num_outputs} targets per sample; set the last layer's units to {data.num_outputs}"
        )
    return model


def build_token_model(config: dict[str, Any], data: Batches, streams: Streams) -> EncoderDecoder:
    """The encoder-decoder of `model.kind` (seq2seq, hred, vhred), sized by the corpus: its
    vocabulary, start and end tokens, and reply length."""
    args = dict(config["model"])
    kind = args.pop("kind")
    classes = data.classes or []
    if START not in classes or data.train.t.ndim != 2:
        raise SpecError(
            f"model.kind: {kind} reads and writes token ids, but {config['data']['name']} is not a text corpus; "
            "use data.name: addition or dates (seq2seq), dialogue (hred, vhred)"
        )
    end = classes.index(END) if END in classes else None
    model = MODELS.get(kind)(**args)
    try:
        model.build(
            data.input_shape,
            Tokens(len(classes), classes.index(START), end, data.train.t.shape[1] - 1),
            BuildContext(streams.init, streams.noise),
        )
    except ShapeError as error:
        raise SpecError(f"model.kind: {error}") from None
    return model


def model_for(config: dict[str, Any]) -> Model:
    """The spec's model as training would build it; the data is loaded only when the spec leaves
    `model.input_shape` to be inferred from it."""
    streams = Streams.from_seed(int(config["seed"]))
    if config["model"].get("input_shape"):
        return Sequential.from_spec(tuple(config["model"]["input_shape"]), config["model"]["layers"], streams.init)
    return build_model(config, load_data(config["data"], streams), streams)


def trained_model(run: RunDir) -> Model:
    """A run's model as its checkpoint left it: rebuilt from config.yaml as training built it
    (`model_for`), then given checkpoint.npz's weights and buffers."""
    return _load_checkpoint(run, model_for(run.config()))


def _load_checkpoint(run: RunDir, model: Model) -> Model:
    try:
        model.load_state_arrays(split_arrays(run.load_npz(CHECKPOINT), "model"))
    except (KeyError, ValueError) as error:
        raise RunDirError(f"{run.file(CHECKPOINT)} does not fit the model of its config.yaml ({error})") from None
    return model


UTTERANCES = "|"  # separates the utterances of a dialogue context given as one text


def sample(run: RunDir, text: str, samples: int = 1, greedy: bool | None = None, seed: int = 0) -> list[str]:
    """What a seq2seq, hred or vhred run's trained model writes for `text`: `samples` replies
    (greedy unless the model samples, or `greedy` says), drawn with a stream seeded by `seed`.

    `text` is written as the run's corpus writes its inputs ("16+75", "27.09.1994"); a dialogue
    context is its utterances separated by "|" ("hello | hi , how are you ?").
    """
    config = run.config()
    if "kind" not in config["model"]:
        raise DnnexpError(f"{run.path}: sample writes with seq2seq, hred and vhred models; this run trained a sequential one")
    streams = Streams.from_seed(int(config["seed"]))
    data = load_data(config["data"], streams)
    model = _load_checkpoint(run, build_token_model(config, data, streams))
    joiner = JOINERS[config["data"]["name"]]
    *turns, length = data.input_shape  # (T,), or (utterances, T) for dialogues
    utterances = [part.strip() for part in text.split(UTTERANCES)] if turns else [text]
    if turns and len(utterances) != turns[0]:
        raise DnnexpError(
            f"the run's replies follow {turns[0]} utterances, and '{text}' has {len(utterances)}; "
            f"separate {turns[0]} utterances with '{UTTERANCES}'"
        )
    x = np.stack([encode_text(u, data.classes, length, joiner) for u in utterances]).reshape(1, *data.input_shape)
    return decode(model.generate(x, samples, greedy, np.random.default_rng(seed)), data.classes, joiner)


def first_test_image(config: dict[str, Any]) -> tuple[np.ndarray, str]:
    """The spec's first test image (else its first validation or training image) as a batch of one,
    float32 (1, C, H, W) as the model sees it, and the name of its class ('' for unnamed classes)."""
    data = load_data(config["data"], Streams.from_seed(int(config["seed"])))
    split = next(s for s in (data.test, data.val, data.train) if s is not None)
    x, t = split.batch(slice(0, 1))
    return x, data.classes[int(t[0])] if data.classes else ""


def metric_columns(trainer: Trainer) -> list[str]:
    """The columns of metrics.csv for this run: the loss and the model's metrics of each split it logs."""
    splits = [("train", trainer.train_metrics)]
    if trainer.data.val is not None:
        splits.append(("val", trainer.eval_metrics))
    if trainer.test_every_epoch:
        splits.append(("test", trainer.eval_metrics))
    return ["epoch", "step", "lr"] + [f"{s}_{m}" for s, names in splits for m in ("loss", *names)] + ["epoch_time_s"]


LAYER_STATS_COLUMNS = ["epoch", "layer", "kind", "act_mean", "act_std", "grad_norm", "dout_norm"]
TIME_GRADS_COLUMNS = ["epoch", "layer", "t", "grad_norm"]


def make_trainer(config: dict[str, Any], data: Batches, streams: Streams) -> Trainer:
    """Model, loss, optimizer, schedule and penalties from the spec, wired into a trainer."""
    train = config["train"]
    if train["batch_size"] > len(data.train):
        raise SpecError(
            f"train.batch_size: {train['batch_size']} is larger than the {len(data.train)} training "
            f"samples; lower it to at most {len(data.train)}"
        )
    regularization = config.get("regularization") or {}
    penalties = [REGULARIZERS.build({"name": k, "lam": regularization[k]}) for k in ("l1", "l2") if regularization.get(k)]
    return Trainer(
        model=build_model(config, data, streams),
        loss=LOSSES.build(config["loss"]),
        optimizer=OPTIMIZERS.build(config["optimizer"]),
        data=data,
        epochs=train["epochs"],
        batch_size=train["batch_size"],
        data_seed=streams.data_seed,
        schedule=SCHEDULES.build(config.get("schedule") or "constant"),
        penalties=penalties,
        clip_norm=regularization.get("clip_norm"),
        test_every_epoch=bool(config["data"].get("test_every_epoch")),
        noise_rng=streams.noise,
    )


def prepare_run(config: dict[str, Any]) -> tuple[Trainer, Batches]:
    """Everything a run needs, built before any folder is made (a spec that fails here leaves
    nothing behind)."""
    streams = Streams.from_seed(int(config["seed"]))
    data = load_data(config["data"], streams)
    return make_trainer(config, data, streams), data


def attach_callbacks(trainer: Trainer, run: RunDir, config: dict[str, Any], console=None) -> None:
    """The callbacks a run folder gets: metrics, checkpoints, NaN guard, and what the spec asks."""
    train = config["train"]
    data = trainer.data
    columns = metric_columns(trainer)
    callbacks: list[cb.Callback] = [
        cb.NaNGuard(),
        cb.MetricsLogger(run.log("metrics.csv", columns)),
    ]
    if train.get("early_stopping"):
        callbacks.append(cb.EarlyStopping(**train["early_stopping"]))
    if train.get("reduce_lr_on_plateau"):
        callbacks.append(cb.ReduceLROnPlateau(**train["reduce_lr_on_plateau"]))
    if (config.get("logging") or {}).get("layer_stats"):
        probe_split = data.val if data.val is not None else data.train
        probe, _ = probe_split.batch(slice(0, PROBE_SIZE))
        callbacks.append(
            cb.LayerStats(run.log("layer_stats.csv", LAYER_STATS_COLUMNS), lambda a: run.save_npz("activations.npz", a), probe)
        )
    if (config.get("logging") or {}).get("time_grads"):
        callbacks.append(cb.TimeGrads(run.log("time_grads.csv", TIME_GRADS_COLUMNS)))
    # The checkpoint goes last, so it records the other callbacks' state after their epoch-end.
    callbacks.append(cb.Checkpoint(lambda a: run.save_npz(CHECKPOINT, a), train.get("checkpoint_every")))
    if console is not None:
        callbacks.insert(0, cb.Progress(console))
    trainer.callbacks = callbacks


def check_monitors(config: dict[str, Any], trainer: Trainer) -> None:
    """Early stopping and plateau monitors must name a metric this run logs."""
    data = trainer.data
    logged = metric_columns(trainer)
    for key in ("early_stopping", "reduce_lr_on_plateau"):
        settings = config["train"].get(key)
        if settings and settings.get("monitor", "val_loss") not in logged:
            raise SpecError(
                f"train.{key}.monitor: '{settings.get('monitor', 'val_loss')}' is not logged by this run; "
                f"choose one of {', '.join(c for c in logged if c.endswith(('loss', 'acc')))}"
                + ("" if data.val is not None else " (set data.validation to log val_loss and val_acc)")
            )


def check_logging(config: dict[str, Any], trainer: Trainer) -> None:
    """Time-step gradients need a recurrent layer to record them."""
    if (config.get("logging") or {}).get("time_grads") and not recurrent_layers(
        {layer.name: layer for layer in trainer.model.layers}
    ):
        raise SpecError(
            "logging.time_grads: the model has no recurrent layer (simple_rnn, lstm, gru) whose "
            "time steps it could record; add one or drop logging.time_grads"
        )


def train(
    config: dict[str, Any],
    runs_dir: Path,
    resume: RunDir | None = None,
    console=None,
) -> tuple[RunDir, TrainState]:
    """Train the resolved spec `config` in a new run folder under `runs_dir`, or continue `resume`."""
    trainer, data = prepare_run(config)
    check_monitors(config, trainer)
    check_logging(config, trainer)
    if resume is None:
        run = RunDir.create(runs_dir, config["name"])
        run.write_yaml("config.yaml", config)
        previous_time = 0.0
    else:
        run = resume
        previous_time = float(run.summary().get("wall_time_s") or 0.0)
    attach_callbacks(trainer, run, config, console)
    if resume is not None:
        if not run.has(CHECKPOINT):
            raise RunDirError(f"{run.path} has no {CHECKPOINT} to resume from; start a new run instead")
        try:
            trainer.restore(run.load_npz(CHECKPOINT))
        except (KeyError, ValueError) as error:
            raise RunDirError(f"{run.file(CHECKPOINT)} does not fit this run's model ({error}); start a new run") from None
        for callback in trainer.callbacks:
            log = getattr(callback, "log", None)
            if log is not None:
                log.resume_from(trainer.state.epoch)
        trainer.state.status, trainer.state.stop = "running", False
    started = time.perf_counter()
    try:
        # A diverging run overflows on its way to NaN; the NaN guard reports it, not NumPy warnings.
        with blas_threads(), np.errstate(over="ignore", invalid="ignore"):
            state = trainer.fit()
    finally:
        for callback in trainer.callbacks:
            log = getattr(callback, "log", None)
            if log is not None:
                log.close()
        if trainer.state.status == "running":  # an error escaped fit before its bookkeeping
            trainer.state.status = "failed"
        write_summary(run, config, trainer, previous_time + time.perf_counter() - started)
    return run, state


def write_summary(run: RunDir, config: dict[str, Any], trainer: Trainer, wall_time: float) -> None:
    """summary.json: status, final and best metrics, test metrics, time, versions."""
    state = trainer.state
    metrics = run.metrics()
    final = {k: _number(v) for k, v in metrics.iloc[-1].items()} if len(metrics) else {}
    for counter in ("epoch", "step"):
        if counter in final:
            final[counter] = int(final[counter])
    best: dict[str, float] = {}
    for column in metrics.columns:
        if column.endswith("_loss"):
            best[column] = float(metrics[column].min())
        elif column.endswith("_acc"):
            best[column] = float(metrics[column].max())
    if len(metrics):
        monitor = "val_loss" if "val_loss" in metrics else "train_loss"
        best["epoch"] = int(metrics.loc[metrics[monitor].idxmin(), "epoch"])
    test = None
    if state.status in ("completed", "interrupted") and trainer.data.test is not None:
        evaluated = trainer.evaluate(trainer.data.test, "test")
        test = {"loss": evaluated["test_loss"], **{name: evaluated[f"test_{name}"] for name in trainer.eval_metrics}}
    run.write_json(
        "summary.json",
        {
            "name": config["name"],
            "status": state.status,
            "message": state.message,
            "epochs_completed": state.epoch,
            "steps": state.step,
            "final": final,
            "best": best,
            "test": test,
            "parameters": trainer.model.count_params(),
            "wall_time_s": round(wall_time, 3),
            "seed": config["seed"],
            "versions": {"python": platform.python_version(), "numpy": np.__version__, "dnnexp": dnnexp.__version__},
            "git_commit": git_commit(),
        },
    )


def _number(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def git_commit() -> str | None:
    """The commit of the dnnexp source tree, when it is a git checkout."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(dnnexp.__file__).parent, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None
