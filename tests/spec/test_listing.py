"""How `dnnexp list KIND` writes an argument: its type, bounds and default, from the signature."""

from __future__ import annotations

from typing import Literal, Optional, Union

import pytest

from dnnexp.spec.listing import arguments, type_text
from dnnexp.spec.registry import DATASETS, MODELS, OPTIMIZERS


@pytest.mark.parametrize(
    ("name", "hint", "text"),
    [
        ("lr", float, "float > 0"),
        ("momentum", float, "0 ≤ float < 1"),
        ("bits", int, "2 ≤ int ≤ 31"),
        ("alpha", float, "float"),
        ("padding", Union[Literal["valid", "same"], int, tuple[int, int]], "valid | same | int ≥ 0 | [int ≥ 0, int ≥ 0]"),
        ("truncate_bptt", Optional[int], "int ≥ 1 | null"),
        ("recurrent_init", Union[str, dict], "initializer"),
    ],
)
def test_type_text(name, hint, text) -> None:
    assert type_text(name, hint) == text


def test_arguments_follow_the_signature_with_defaults() -> None:
    assert arguments(OPTIMIZERS, "sgd") == ["lr: float > 0 = 0.01"]
    assert "folder: str | null = null" in arguments(DATASETS, "mnist")
    # The default model kind's keys are its section's.
    assert arguments(MODELS, "sequential") == ["input_shape: [int, …] | null = null", "layers: [{type: NAME, …}, …] (required)"]
