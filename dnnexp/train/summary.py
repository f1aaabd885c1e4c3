"""The model summary, as Keras's model.summary() prints it: each layer's output shape and parameter
count. `dnnexp validate` prints it, and so does `dnnexp train` before the first epoch."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.table import Table

    from dnnexp.core.models.base import Model


def model_table(model: Model, title: str) -> Table:
    """A rich table: the input, then one row per layer (name, type, output shape, parameters)."""
    from rich.table import Table

    table = Table(title=f"{title}: {model.count_params():,} parameters")
    for column in ("layer", "type", "output shape", "parameters"):
        table.add_column(column, justify="right" if column == "parameters" else "left")
    table.add_row("input", "", str(tuple(model.input_shape)), "")
    for name, kind, shape, count in model.summary_rows():
        table.add_row(name, kind, str(shape), f"{count:,}")
    return table
