"""The callback interface: the hooks the training loop calls, and where callbacks write.

A callback sees the trainer at fixed points (train begin/end, epoch begin/end, after each batch)
and steers it only through `trainer.state` (`stop`, `status`, `lr_scale`). One whose behaviour
depends on the past saves that past in `state_arrays`, so a resumed run continues exactly.
"""

from __future__ import annotations

from typing import Callable, Protocol

import numpy as np

SaveArrays = Callable[[dict[str, np.ndarray]], None]


class RowLog(Protocol):
    """Where metric rows go (a CSV file in a run folder)."""

    def append(self, row: dict) -> None: ...


class Callback:
    """Base callback: every hook does nothing."""

    def on_train_begin(self, trainer) -> None: ...

    def on_epoch_begin(self, trainer) -> None: ...

    def on_batch_end(self, trainer) -> None: ...

    def on_epoch_end(self, trainer, logs: dict[str, float]) -> None: ...

    def on_train_end(self, trainer) -> None: ...

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {}

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None: ...
