"""From a validated spec to core objects: random streams, data, layers, models, loss, optimizer.

The core never sees a spec's mappings: this module turns `{type: dense, units: 100, activation:
relu}` into `Dense(100)` followed by `ReLU()`, a wrapper's `layer:` mapping into the layer it
wraps, `model:` into a model kind built for the data, and `data:` into splits.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import numpy as np

from dnnexp.core.layers.base import BuildContext, InputError, Layer, ShapeError
from dnnexp.core.models.base import Model
from dnnexp.core.models.sequential import Sequential
from dnnexp.data.augment import Augmentation
from dnnexp.data.base import Batches, prepare
from dnnexp.errors import SpecError
from dnnexp.spec.registry import ACTIVATIONS, DATASETS, LAYERS, MODELS
from dnnexp.spec.schema import DataSection, ModelSection


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
    def from_seed(cls, seed: int) -> Streams:
        # spawn(5)'s first four children are spawn(4)'s: adding the augmentation stream changed no other.
        init, noise, dataset, order, augment = np.random.SeedSequence(seed).spawn(5)
        return cls(
            np.random.default_rng(init), np.random.default_rng(noise), np.random.default_rng(dataset),
            int(order.generate_state(1)[0]), int(augment.generate_state(1)[0]),
        )

    def context(self, dtype: type = np.float32) -> BuildContext:
        """What layers draw their weights and noise from."""
        return BuildContext(self.init, self.noise, dtype)


def build_layers(layers: list[dict[str, Any]]) -> list[Layer]:
    """Unbuilt layers from a spec's layer mappings, each tagged with its index in the list (`spec_index`).

    A mapping's `activation` key becomes an activation layer of its own right after it, unless
    the layer takes `activation` itself (simple_rnn's nonlinearity inside the recurrence); a
    wrapper's `layer` mapping becomes the layer (or, with an activation, the layers) it wraps.
    """
    built: list[Layer] = []
    for index, spec in enumerate(layers):
        args = dict(spec)
        implementation = LAYERS.get(args.pop("type"))
        parameters = inspect.signature(implementation).parameters
        activation = None if "activation" in parameters else args.pop("activation", None)
        if "layer" in parameters and isinstance(args.get("layer"), dict):
            wrapped = build_layers([args["layer"]])
            args["layer"] = wrapped[0] if len(wrapped) == 1 else wrapped
        added = [implementation(**args)] + ([ACTIVATIONS.build(activation)] if activation is not None else [])
        for layer in added:
            layer.spec_index = index
        built.extend(added)
    return built


def sequential(
    input_shape: tuple[int, ...],
    layers: list[dict[str, Any]],
    rng: np.random.Generator | None = None,
    noise_rng: np.random.Generator | None = None,
    dtype: type = np.float32,
) -> Sequential:
    """A built Sequential model from layer mappings; `rng` draws the initial weights, `noise_rng`
    the dropout masks (seeded 0 and 1 when not given)."""
    ctx = BuildContext(
        rng if rng is not None else np.random.default_rng(0),
        noise_rng if noise_rng is not None else np.random.default_rng(1),
        dtype,
    )
    return Sequential(build_layers(layers), tuple(input_shape)).build(ctx=ctx)


def load_data(section: DataSection, streams: Streams) -> Batches:
    """The data set named in `data:`, split into train/validation/test."""
    function = DATASETS.get(section.name)
    args = section.dataset_arguments()
    if "rng" in inspect.signature(function).parameters:
        args["rng"] = streams.dataset
    dataset = function(**{k: v for k, v in args.items() if v is not None or k != "folder"})
    batches = prepare(
        dataset,
        flatten=section.flatten,
        sequence=section.sequence,
        validation=section.validation,
        subset=section.subset,
        shuffle_seed=streams.data_seed,
    )
    if section.augment is not None:
        if len(batches.input_shape) != 3:
            raise SpecError(
                f"data.augment: random crops and flips need images (C, H, W), but these samples are "
                f"{batches.input_shape}; set data.flatten: false, or drop data.augment"
            )
        batches.augment = Augmentation(**section.augment.model_dump(), seed=streams.augment_seed)
    return batches


def sequential_model(section: ModelSection) -> Sequential:
    """The unbuilt Sequential model of a `model:` section that lists layers."""
    return Sequential(build_layers(section.layers), None if section.input_shape is None else tuple(section.input_shape))


def build_model(section: Any, data: Batches, streams: Streams, data_name: str) -> Model:
    """The spec's `model:` built for `data`: the model kind's constructor takes the section's
    keys (a `layers` list as layers), and the model builds itself from what the data tells it;
    SpecError where it does not fit."""
    args = section.model_dump()
    kind = args.pop("kind", Sequential.kind)
    if "layers" in args:
        args["layers"] = build_layers(args["layers"])
    model = MODELS.get(kind)(**args)
    try:
        model.build(data.info, streams.context())
    except ShapeError as error:
        hint = "" if data.vocabulary or error.key != "kind" else (
            f" ({data_name}); use data.name: addition or dates (seq2seq), dialogue (hred, vhred)"
        )
        raise SpecError(f"{layer_place(error)}: {error}{hint}") from None
    return model


def layer_place(error: ShapeError | InputError) -> str:
    """Where in the spec a shape or input error is: `model.layers[3] (maxpool2d)`, `model.input_shape`."""
    if error.index is not None:
        return f"model.layers[{error.index}] ({error.layer_type})"
    return f"model.{getattr(error, 'key', None) or 'layers'}"
