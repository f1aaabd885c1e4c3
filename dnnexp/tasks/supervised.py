"""Supervised learning (`kind: supervised`, the default): a model trained on mini-batches of a
data set by a loss and an optimizer — every course experiment from Day 1's regression to HRED.

Everything is built from the typed spec before a run folder exists; the trainer then runs with
the callbacks the spec asks for, and summary.json gets the final, best and test metrics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import model_validator
from rich.console import Console

from dnnexp.core.layers.base import InputError
from dnnexp.core.layers.batchnorm import BatchNorm
from dnnexp.core.layers.recurrent import recurrent_layers
from dnnexp.core.models.base import Model
from dnnexp.core.models.seq2seq import EncoderDecoder
from dnnexp.core.models.sequential import Sequential
from dnnexp.core.models.transformer import Transformer
from dnnexp.data.base import Batches
from dnnexp.data.memory import limited, require, size_text
from dnnexp.data.text import decode, encode_text
from dnnexp.console import styled
from dnnexp.errors import DnnexpError, RunDirError, SpecError
from dnnexp.plots.attention import AttentionMaps
from dnnexp.runs.lifecycle import Lifecycle, Outcome
from dnnexp.runs.rundir import RunDir
from dnnexp.spec.arguments import spec_error
from dnnexp.spec.build import Streams, build_model, layer_place, load_data, sequential_model
from dnnexp.spec.registry import LOSSES, MODELS, OPTIMIZERS, REGULARIZERS, SCHEDULES
from dnnexp.spec.schema import (
    DataSpec,
    LoggingSection,
    LossName,
    ModelSpec,
    ModelSection,
    NonNegativeInt,
    OptimizerSpec,
    Regularization,
    ScheduleSpec,
    SpecBase,
    TokenModelSection,
    TrainSection,
)
from dnnexp.tasks.base import Task
from dnnexp.train import callbacks as cb
from dnnexp.train.summary import model_table
from dnnexp.train.threads import blas_threads
from dnnexp.train.trainer import Trainer, split_arrays

CHECKPOINT = "checkpoint.npz"
PROBE_SIZE = 1000  # samples whose activations are histogrammed
LAYER_STATS_COLUMNS = ["epoch", "layer", "kind", "act_mean", "act_std", "grad_norm", "dout_norm"]
TIME_GRADS_COLUMNS = ["epoch", "layer", "t", "grad_norm"]
#: the course's output-layer table (Day 1 §3)
USUAL_PAIRINGS = "regression → identity + mse; binary → sigmoid + binary_cross_entropy; multiclass → softmax + cross_entropy"
UTTERANCES = "|"  # separates the utterances of a dialogue context given as one text
#: validation inputs whose attention a finished run keeps (attention_samples.npz)
ATTENTION_SAMPLES = 4


class SupervisedSpec(SpecBase):
    """A training run (`kind: supervised`, the default; `train`, its older name, reads as it)."""

    kind: Literal["supervised"] = "supervised"
    seed: NonNegativeInt = 0
    data: DataSpec
    model: ModelSpec
    loss: LossName
    optimizer: OptimizerSpec
    schedule: ScheduleSpec = "constant"  # every schedule also takes warmup_steps
    regularization: Regularization = Regularization()
    train: TrainSection
    logging: LoggingSection = LoggingSection()

    @model_validator(mode="after")
    def _tokens_take_cross_entropy(self) -> SupervisedSpec:
        if isinstance(self.model, TokenModelSection) and self.loss != "cross_entropy":
            raise spec_error(
                "inconsistent", f"'{self.loss}': a {self.model.kind} model predicts tokens through a softmax; "
                "use loss: cross_entropy", ("loss",), self.loss,
            )
        return self


@dataclass
class Prepared:
    """A supervised spec built: the trainer (model, data, loss, optimizer) and, when resuming,
    the checkpoint to continue from."""

    spec: SupervisedSpec
    trainer: Trainer
    checkpoint: dict[str, np.ndarray] | None = None


@dataclass
class Rebuilt:
    """A run's trained model with the data it was trained on."""

    spec: SupervisedSpec
    model: Model
    data: Batches


class SupervisedTask(Task):
    """Mini-batch training of a model on a data set (course Days 1–4)."""

    kind = "supervised"
    aliases = ("train",)
    default = True
    spec_class = SupervisedSpec

    # ---- before any folder ---------------------------------------------------------------

    def prepare(self, spec: SupervisedSpec, resume: RunDir | None = None) -> Prepared:
        streams = Streams.from_seed(spec.seed)
        with limited("data: the data set", "lower data.n and data.n_test"):
            data = load_data(spec.data, streams)
        check_targets(spec, data)
        with limited("model: its parameters", "make the layers smaller (units, filters, embedding)"):
            trainer = make_trainer(spec, data, streams)
        check_monitors(spec, trainer)
        check_batch_statistics(trainer)
        check_logging(spec, trainer.model)
        check_training_memory(trainer)
        with limited("model: one batch through its layers", "lower train.batch_size or the layers' sizes"):
            check_inputs(trainer)
        checkpoint = None
        if resume is not None:
            if not resume.has(CHECKPOINT):
                raise RunDirError(f"{resume.path} has no {CHECKPOINT} to resume from; start a new run instead")
            checkpoint = resume.load_npz(CHECKPOINT)
            load_weights(trainer.model, checkpoint, resume)  # a misfit is refused before the run is touched
        return Prepared(spec, trainer, checkpoint)

    def warnings(self, prepared: Prepared) -> list[str]:
        return pairing_warnings(prepared.spec, prepared.trainer.model) + last_batch_warnings(prepared.trainer)

    def describe(self, prepared: Prepared):
        return model_table(prepared.trainer.model, prepared.spec.name)

    def check(self, spec: SupervisedSpec):
        """A model whose spec gives its input shape is built without loading the data set (which
        may not be here yet); what only the data can tell is then checked when training starts."""
        if not isinstance(spec.model, ModelSection) or spec.model.input_shape is None:
            return super().check(spec)
        model = sequential_model(spec.model).build(ctx=Streams.from_seed(spec.seed).context())
        check_logging(spec, model)
        for key in ("early_stopping", "reduce_lr_on_plateau"):
            settings = getattr(spec.train, key)
            if settings is not None and settings.monitor.startswith("val_") and not spec.data.validation:
                raise SpecError(
                    f"train.{key}.monitor: '{settings.monitor}' needs a validation split; set data.validation"
                )
        return pairing_warnings(spec, model), model_table(model, spec.name)

    # ---- the run --------------------------------------------------------------------------

    def run(self, prepared: Prepared, life: Lifecycle, console: Console | None) -> Outcome:
        trainer, spec, run = prepared.trainer, prepared.spec, life.run
        if console is not None:
            console.print(styled((spec.name, "bold"), f"  seed {spec.seed}"))
        trainer.callbacks = run_callbacks(spec, trainer, life, console)
        if prepared.checkpoint is not None:
            restore(trainer, prepared.checkpoint, run)
        # A diverging run overflows on its way to NaN; the NaN guard reports it, not NumPy warnings.
        with blas_threads(), np.errstate(over="ignore", invalid="ignore"):
            try:
                state = trainer.fit()
            except InputError as error:  # in a batch after the first, which `prepare` tried
                raise SpecError(f"{layer_place(error)}: {error}") from None
        summary = results(trainer, run, spec)
        headline = "  ".join(f"test_{k} {v:.4f}" for k, v in (summary["test"] or {}).items() if v is not None)
        return Outcome(state.status, state.message, summary, headline)

    def draw(self, prepared: Prepared, run: RunDir) -> None:
        from dnnexp.plots.curves import plot_curves

        if len(run.metrics()):
            plot_curves([run], run.file("learning_curves.png"))
        if prepared.trainer.model.has_attention:
            save_attention_samples(prepared.trainer.model, prepared.trainer.data, run)

    # ---- after the run --------------------------------------------------------------------

    def rebuild(self, run: RunDir, spec: SupervisedSpec | None = None) -> Rebuilt:
        """The run's model as its checkpoint left it: built from config.yaml as training built
        it, then given checkpoint.npz's weights and buffers."""
        from dnnexp.tasks import run_spec

        spec = spec or run_spec(run)
        streams = Streams.from_seed(spec.seed)
        data = load_data(spec.data, streams)
        model = build_model(spec.model, data, streams, spec.data.name)
        load_weights(model, run.load_npz(CHECKPOINT), run)
        return Rebuilt(spec, model, data)

    def sample(self, run: RunDir, text: str, samples: int = 1, greedy: bool | None = None, seed: int = 0) -> list[str]:
        """What a seq2seq, hred, vhred or transformer run's trained model writes for `text`: `samples` replies
        (greedy unless the model samples, or `greedy` says), drawn with a stream seeded by `seed`.

        `text` is written as the run's corpus writes its inputs ("16+75", "27.09.1994"); a dialogue
        context is its utterances separated by "|" ("hello | hi , how are you ?").
        """
        from dnnexp.tasks import run_spec

        spec = run_spec(run)
        if not isinstance(spec.model, TokenModelSection):
            raise DnnexpError(f"{run.path}: sample writes with seq2seq, hred, vhred and transformer models; this run trained a sequential one")
        rebuilt = self.rebuild(run, spec)
        x = text_input(rebuilt, text)
        vocabulary = rebuilt.data.vocabulary
        assert isinstance(rebuilt.model, (EncoderDecoder, Transformer))  # a token model section builds one
        with limited(f"--samples {samples}: writing that many replies at once", "ask for fewer replies"):
            replies = rebuilt.model.generate(x, samples, greedy, np.random.default_rng(seed))
        return decode(replies, list(vocabulary.tokens), vocabulary.joiner)

    def has_attention(self, run: RunDir) -> bool:
        from dnnexp.tasks import run_spec

        return attends(run_spec(run))

    def attention(self, run: RunDir, text: str) -> AttentionMaps:
        """Where the run's trained model looked in `text` (written as its corpus writes inputs)
        while writing its greedy reply: each attention map's weights, output tokens × input tokens."""
        from dnnexp.tasks import run_spec

        spec = run_spec(run)
        if not attends(spec):
            model = spec.model.kind if isinstance(spec.model, TokenModelSection) else "sequential"
            raise DnnexpError(
                f"{run.path}: its {model} model has no attention, so there are no weights to draw; --attention "
                "draws runs of a model that attends, such as seq2seq with model.attention: dot or additive "
                "(configs/day3/attention/)"
            )
        rebuilt = self.rebuild(run, spec)
        x = text_input(rebuilt, text)
        return per_input(x, *rebuilt.model.attention_maps(x), rebuilt.data.vocabulary.tokens)[0]

    def feature_map_input(self, rebuilt: Rebuilt) -> tuple[np.ndarray, str]:
        """The first test image (else the first validation or training image) as a batch of one,
        float32 (1, C, H, W) as the model sees it, and the name of its class ('' for unnamed classes)."""
        data = rebuilt.data
        if len(data.input_shape) != 3:
            raise DnnexpError(f"{rebuilt.spec.name}: feature maps are drawn of images (C, H, W); these samples are {data.input_shape}")
        split = next(s for s in (data.test, data.val, data.train) if s is not None)
        x, t = split.batch(slice(0, 1))
        return x, data.classes[int(t[0])] if data.classes else ""


def text_input(rebuilt: Rebuilt, text: str) -> np.ndarray:
    """`text` as the token ids (1, *input shape) of one sample of the run's corpus: characters or
    words, and for dialogues the utterances separated by "|"."""
    vocabulary, shape = rebuilt.data.vocabulary, rebuilt.data.input_shape
    *turns, length = shape  # (T,), or (utterances, T) for dialogues
    utterances = [part.strip() for part in text.split(UTTERANCES)] if turns else [text]
    if turns and len(utterances) != turns[0]:
        raise DnnexpError(
            f"the run's replies follow {turns[0]} utterances, and '{text}' has {len(utterances)}; "
            f"separate {turns[0]} utterances with '{UTTERANCES}'"
        )
    tokens, joiner = list(vocabulary.tokens), vocabulary.joiner
    return np.stack([encode_text(u, tokens, length, joiner) for u in utterances]).reshape(1, *shape)


def attends(spec: SupervisedSpec) -> bool:
    """Whether the spec's model has attention (asked of the model kind made from its arguments, unbuilt)."""
    if not isinstance(spec.model, TokenModelSection):
        return False
    args = spec.model.model_dump()
    return MODELS.get(args.pop("kind"))(**args).has_attention


def per_input(x: np.ndarray, replies: np.ndarray, maps: dict[str, np.ndarray], tokens: tuple[str, ...]) -> list[AttentionMaps]:
    """`Model.attention_maps` of the token ids x (N, T_in) as one `AttentionMaps` per input, tokens as text."""
    return [
        AttentionMaps([tokens[i] for i in x[n]], [tokens[i] for i in replies[n]], {title: w[n] for title, w in maps.items()})
        for n in range(len(x))
    ]


def save_attention_samples(model: Model, data: Batches, run: RunDir) -> None:
    """The trained model's attention on the first ATTENTION_SAMPLES validation inputs (else test,
    else training inputs) into attention_samples.npz — `inputs` (k, T_in) and `outputs` (k, T_out)
    token ids, `titles` (maps,), `weights` (k, maps, T_out, T_in) — and the first one's picture
    into attention_samples.png."""
    from dnnexp.plots.attention import plot_attention

    split = next(s for s in (data.val, data.test, data.train) if s is not None)
    x, _ = split.batch(slice(0, ATTENTION_SAMPLES))
    replies, maps = model.attention_maps(x)
    titles = list(maps)
    weights = np.stack([maps[title] for title in titles], axis=1)
    run.save_npz("attention_samples.npz", {"inputs": x, "outputs": replies, "titles": np.array(titles), "weights": weights})
    first = per_input(x[:1], replies, maps, data.vocabulary.tokens)[0]
    plot_attention(first, run.file("attention_samples.png"), f"{run.name}: a validation input")


def pairing_warnings(spec: SupervisedSpec, model: Model) -> list[str]:
    """An output activation that the loss does not usually follow (course Day 1 §3's table)."""
    if not isinstance(model, Sequential):
        return []  # an encoder-decoder's softmax and cross-entropy go together by construction
    usual = LOSSES.get(spec.loss).output_activation
    if model.output_activation == usual:
        return []
    return [
        f"model.layers[{len(spec.model.layers) - 1}]: the model's output activation is {model.output_activation}, "
        f"but loss {spec.loss} usually follows {usual}; the usual pairings are {USUAL_PAIRINGS}"
    ]


#: the targets each loss reads (by the loss's task) and what it says of others; mse compares
#: outputs with targets of their own shape, so 0/1 targets suit it too (Day 4's binary addition)
TARGETS_READ = {
    "multiclass": (("multiclass",), "reads targets as class labels"),
    "binary": (("binary",), "reads targets as 0/1 values"),
    "regression": (("regression", "binary"), "compares each output with a target of the same shape"),
}
TARGETS_ARE = {
    "multiclass": "class labels",
    "binary": "0/1 values",
    "regression": "real numbers",
}
#: the loss and output activation the course's table gives each kind of target
FITTING_LOSS = {
    "multiclass": "loss: cross_entropy after a softmax output",
    "binary": "loss: binary_cross_entropy after a sigmoid output",
    "regression": "loss: mse after an identity output",
}


def check_targets(spec: SupervisedSpec, data: Batches) -> None:
    """The loss can read the data's targets: class labels for cross_entropy, 0/1 values for
    binary_cross_entropy, real numbers (or 0/1 values) for mse. A loss that cannot would fail
    in the first batch, or, worse, train and report nonsense (cross_entropy on a regression's
    one output scores every sample right)."""
    fits, reads = TARGETS_READ[LOSSES.get(spec.loss).task]
    if data.task in fits:
        return
    labels = f" of {data.num_outputs} classes" if data.task == "multiclass" else ""
    raise SpecError(
        f"loss: {spec.loss} {reads}, but the targets of data set {spec.data.name} are {TARGETS_ARE[data.task]}{labels}; "
        f"use {FITTING_LOSS[data.task]} (the course's table: {USUAL_PAIRINGS})"
    )


def make_trainer(spec: SupervisedSpec, data: Batches, streams: Streams) -> Trainer:
    """Model, loss, optimizer, schedule and penalties from the spec, wired into a trainer."""
    train = spec.train
    if train.batch_size > len(data.train):
        raise SpecError(
            f"train.batch_size: {train.batch_size} is larger than the {len(data.train)} training "
            f"samples; lower it to at most {len(data.train)}"
        )
    regularization = spec.regularization
    penalties = [REGULARIZERS.build({"name": k, "lam": getattr(regularization, k)}) for k in ("l1", "l2") if getattr(regularization, k)]
    return Trainer(
        model=build_model(spec.model, data, streams, spec.data.name),
        loss=LOSSES.build(spec.loss),
        optimizer=OPTIMIZERS.build(spec.optimizer),
        data=data,
        epochs=train.epochs,
        batch_size=train.batch_size,
        data_seed=streams.data_seed,
        schedule=SCHEDULES.build(spec.schedule),
        penalties=penalties,
        clip_norm=regularization.clip_norm,
        test_every_epoch=spec.data.test_every_epoch,
        noise_rng=streams.noise,
    )


def metric_columns(trainer: Trainer) -> list[str]:
    """The columns of metrics.csv for this run: the loss and the model's metrics of each split it logs.

    `train_loss`, `train_acc`, … are the training set (or its fixed sample, `Trainer.train_sample`)
    evaluated in evaluation mode after the epoch, as `val_*` are: the data loss without penalties;
    `train_penalty` is the penalties' λ term for the same weights (when the spec has penalties);
    `train_running_loss`, `train_running_acc`, … are the means over the epoch's batches in training
    mode (dropout on), as the weights changed.
    """
    evaluated = ("loss", *trainer.eval_metrics)
    groups = [("train", (*evaluated, *(("penalty",) if trainer.penalties else ())))]
    groups.append(("train_running", ("loss", *trainer.train_metrics)))
    if trainer.data.val is not None:
        groups.append(("val", evaluated))
    if trainer.test_every_epoch:
        groups.append(("test", evaluated))
    return ["epoch", "step", "lr"] + [f"{g}_{m}" for g, names in groups for m in names] + ["epoch_time_s"]


def check_monitors(spec: SupervisedSpec, trainer: Trainer) -> None:
    """Early stopping and plateau monitors must name a metric this run logs."""
    logged = metric_columns(trainer)
    problems = []
    for key in ("early_stopping", "reduce_lr_on_plateau"):
        settings = getattr(spec.train, key)
        if settings is not None and settings.monitor not in logged:
            hint = "" if trainer.data.val is not None else " (set data.validation to log val_loss and val_acc)"
            choices = ", ".join(c for c in logged if c not in ("epoch", "step", "lr", "epoch_time_s"))
            problems.append(
                f"train.{key}.monitor: '{settings.monitor}' is not logged by this run; choose one of {choices}{hint}"
            )
    if problems:
        raise SpecError(problems)


def check_inputs(trainer: Trainer) -> None:
    """The model takes the data: one evaluation pass, which changes no weights and draws no random
    numbers, finds data a layer cannot read before any run folder exists. It reads the first
    training batch and, for token ids, the samples holding each split's smallest and largest id,
    so that ids beyond an embedding's vocabulary anywhere are caught."""
    data = trainer.data
    x, _ = data.train.batch(slice(0, trainer.batch_size))
    if np.issubdtype(x.dtype, np.integer):
        splits = [split for split in (data.train, data.val, data.test) if split is not None]
        x = np.concatenate([x, *(split.batch(_extreme_samples(split.x))[0] for split in splits)])
    try:
        trainer.model.forward(x, train=False)
    except InputError as error:
        raise SpecError(f"{layer_place(error)}: {error}") from None


def _extreme_samples(x: np.ndarray) -> np.ndarray:
    """The indices of the samples that hold the smallest and the largest value of x (N, …)."""
    flat = x.reshape(len(x), -1)
    return np.array([flat.min(axis=1).argmin(), flat.max(axis=1).argmax()])


#: the arrays an optimizer keeps per parameter at most (Adam's two moments)
OPTIMIZER_SLOTS = 2


def training_memory(trainer: Trainer) -> dict[str, tuple[int, str]]:
    """What a training step will add to the memory the built model and loaded data hold, in bytes,
    by part, each with the spec key that sizes it: the parameters' gradients and optimizer state;
    for a stack of layers, each layer's output and its gradient for a batch, and a convolution's
    im2col matrix and its gradient; random crops' padded copies of a batch."""
    model, batch = trainer.model, trainer.batch_size
    params = sum(p.nbytes for p in model.params.values())
    parts = {"gradients and optimizer state": ((1 + OPTIMIZER_SLOTS) * params, "the layers' sizes (units, filters)")}
    if isinstance(model, Sequential):
        itemsize = np.dtype(np.float32).itemsize
        inputs = [model.input_shape, *model.output_shapes[:-1]]
        outputs = sum(math.prod(shape) for shape in model.output_shapes)
        parts[f"a batch's activations ({batch} samples)"] = (2 * batch * outputs * itemsize, "train.batch_size")
        columns = sum(
            math.prod(out[1:]) * shape[0] * math.prod(layer.window.size)
            for layer, shape, out in zip(model.layers, inputs, model.output_shapes)
            if hasattr(layer, "window") and layer.params
        )
        if columns:
            parts["the convolutions' im2col matrices"] = (2 * batch * columns * itemsize, "train.batch_size")
    augment = trainer.data.augment
    if augment is not None and augment.crop_padding:
        C, H, W = trainer.data.input_shape
        padded = batch * C * (H + 2 * augment.crop_padding) * (W + 2 * augment.crop_padding)
        parts["random crops' padded images"] = (3 * padded * np.dtype(np.float32).itemsize, "data.augment.crop_padding")
    return parts


def check_training_memory(trainer: Trainer) -> None:
    """Refuse, with the numbers, a training step that would not fit in the available memory (it
    would end in a MemoryError, or the OOM killer, after the run folder exists)."""
    parts = training_memory(trainer)
    largest = max(parts.values())[1]
    told = ", ".join(f"{name} {size_text(size)}" for name, (size, _) in parts.items())
    require(sum(size for size, _ in parts.values()), f"training ({told})", f"make {largest} smaller")


def batch_statistics(trainer: Trainer) -> list[tuple[str, int]]:
    """Each batch-norm layer of the model (as `model.layers[i] (batchnorm)`) with how many values
    of each feature one sample gives it: 1 for vectors (D,), H·W for images (C, H, W)."""
    model = trainer.model
    if not isinstance(model, Sequential):
        return []
    shapes = [model.input_shape, *model.output_shapes]
    return [
        (f"model.layers[{layer.spec_index}] (batchnorm)", int(np.prod(shapes[index][1:])))
        for index, layer in enumerate(model.layers) if isinstance(layer, BatchNorm)
    ]


def check_batch_statistics(trainer: Trainer) -> None:
    """Batch norm normalises each feature by its mean and variance over the batch: over one value
    the variance is 0, every output is β whatever the input, and no gradient passes back."""
    for place, per_sample in batch_statistics(trainer):
        if trainer.batch_size * per_sample == 1:
            raise SpecError(
                f"train.batch_size: 1 leaves {place} one value of each feature to normalise, whose variance is 0: "
                "every output would be β whatever the input, and nothing would learn; use a batch size of at "
                "least 2 (the course uses 100), or drop the batchnorm layer"
            )


def last_batch_warnings(trainer: Trainer) -> list[str]:
    """A last batch of one sample each epoch gets the same degenerate statistics (above)."""
    samples = len(trainer.data.train)
    if samples % trainer.batch_size != 1 or samples == 1:
        return []
    return [
        f"train.batch_size: the {samples} training samples leave a last batch of one sample each epoch, which "
        f"{place} normalises to β (its variance is 0), moving its running statistics; pick a batch size that "
        f"does not leave one over, or set data.subset to {samples - 1}"
        for place, per_sample in batch_statistics(trainer) if per_sample == 1
    ][:1]


def check_logging(spec: SupervisedSpec, model: Model) -> None:
    """Time-step gradients need a recurrent layer to record them."""
    if spec.logging.time_grads and not recurrent_layers({layer.name: layer for layer in model.layers}):
        raise SpecError(
            "logging.time_grads: the model has no recurrent layer (simple_rnn, lstm, gru) whose "
            "time steps it could record; add one or drop logging.time_grads"
        )


def run_callbacks(spec: SupervisedSpec, trainer: Trainer, life: Lifecycle, console: Console | None) -> list[cb.Callback]:
    """The callbacks a run gets: metrics, checkpoints, divergence guard, and what the spec asks."""
    train, data, run = spec.train, trainer.data, life.run
    bounds = train.divergence.model_dump() if train.divergence is not None else {}
    callbacks: list[cb.Callback] = [
        cb.DivergenceGuard(**bounds), cb.MetricsLogger(life.log("metrics.csv", metric_columns(trainer)))
    ]
    if train.early_stopping is not None:
        callbacks.append(cb.EarlyStopping(**train.early_stopping.model_dump()))
    if train.reduce_lr_on_plateau is not None:
        callbacks.append(cb.ReduceLROnPlateau(**train.reduce_lr_on_plateau.model_dump()))
    if spec.logging.layer_stats:
        probe, _ = (data.val if data.val is not None else data.train).batch(slice(0, PROBE_SIZE))
        save = lambda arrays: run.save_npz("activations.npz", arrays)  # noqa: E731
        callbacks.append(cb.LayerStats(life.log("layer_stats.csv", LAYER_STATS_COLUMNS), save, probe))
    if spec.logging.time_grads:
        callbacks.append(cb.TimeGrads(life.log("time_grads.csv", TIME_GRADS_COLUMNS)))
    # The checkpoint goes last, so it records the other callbacks' state after their epoch-end.
    callbacks.append(cb.Checkpoint(lambda arrays: run.save_npz(CHECKPOINT, arrays), train.checkpoint_every))
    if console is not None:
        callbacks.insert(0, cb.Progress(console))
    return callbacks


def load_weights(model: Model, checkpoint: dict[str, np.ndarray], run: RunDir) -> None:
    """The model's weights and buffers from a checkpoint; RunDirError when they do not fit."""
    try:
        model.load_state_arrays(split_arrays(checkpoint, "model"))
    except (KeyError, ValueError) as error:
        raise RunDirError(f"{run.file(CHECKPOINT)} does not fit the model of its config.yaml ({error}); start a new run") from None


def restore(trainer: Trainer, checkpoint: dict[str, np.ndarray], run: RunDir) -> None:
    """Continue from a checkpoint: weights, optimizer, counters, callbacks; logs cut back to it."""
    try:
        trainer.restore(checkpoint)
    except (KeyError, ValueError) as error:
        raise RunDirError(f"{run.file(CHECKPOINT)} does not fit this run ({error}); start a new run") from None
    for callback in trainer.callbacks:
        log = getattr(callback, "log", None)
        if log is not None:
            log.resume_from(trainer.state.epoch)
    trainer.state.status, trainer.state.stop = "running", False
    if not trainer.state.finished:  # an interruption's message is over; an early stop's still stands
        trainer.state.message = ""


def results(trainer: Trainer, run: RunDir, spec: SupervisedSpec) -> dict[str, Any]:
    """What summary.json records of a supervised run: final and best metrics, test metrics, size.

    Ctrl-C or SIGTERM during the test evaluation leaves the run `interrupted`, without test metrics."""
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
        try:
            evaluated = trainer.evaluate(trainer.data.test, "test")
        except KeyboardInterrupt as error:  # the checkpoint holds the trained weights: resuming evaluates
            state.status = "interrupted"
            state.message = (
                f"{str(error) or 'interrupted by Ctrl-C'} during the final test evaluation; the trained weights are in "
                f"{CHECKPOINT}, and `dnnexp train --resume {run.path}` evaluates the test set"
            )
        else:
            test = {"loss": evaluated["test_loss"], **{name: evaluated[f"test_{name}"] for name in trainer.eval_metrics}}
    return {
        "epochs_completed": state.epoch,
        "steps": state.step,
        "final": final,
        "best": best,
        "test": test,
        "parameters": trainer.model.count_params(),
        "seed": spec.seed,
    }


def _number(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
