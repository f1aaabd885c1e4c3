"""Learning-rate schedules: the learning rate as a function of training progress.

Each schedule maps the base learning rate and the position in training (in epochs, fractional
within an epoch) to the rate for the next step. `warmup_steps` ramps the rate up linearly from
near zero over the first steps, which steadies Adam and large batches early on.
"""

from __future__ import annotations

import math



class Schedule:
    """Base schedule: `lr(base_lr, step, steps_per_epoch, epochs)` → the learning rate at `step`."""

    def __init__(self, warmup_steps: int = 0):
        self.warmup_steps = warmup_steps

    def lr(self, base_lr: float, step: int, steps_per_epoch: int, epochs: int) -> float:
        rate = self.factor(step / steps_per_epoch, epochs)
        if step < self.warmup_steps:
            rate *= (step + 1) / self.warmup_steps
        return base_lr * rate

    def factor(self, epoch: float, epochs: int) -> float:
        """The multiplier of the base rate after `epoch` epochs of `epochs`."""
        raise NotImplementedError


class Constant(Schedule):
    """The base learning rate throughout."""

    kind = "constant"

    def factor(self, epoch, epochs):
        return 1.0


class StepDecay(Schedule):
    """Multiply the rate by `gamma` every `step_size` epochs."""

    kind = "step"

    def __init__(self, step_size: int = 10, gamma: float = 0.1, warmup_steps: int = 0):
        super().__init__(warmup_steps)
        self.step_size, self.gamma = step_size, gamma

    def factor(self, epoch, epochs):
        return self.gamma ** int(epoch // self.step_size)


class ExponentialDecay(Schedule):
    """Multiply the rate by `gamma` per epoch, smoothly within the epoch."""

    kind = "exponential"

    def __init__(self, gamma: float = 0.95, warmup_steps: int = 0):
        super().__init__(warmup_steps)
        self.gamma = gamma

    def factor(self, epoch, epochs):
        return self.gamma**epoch


class CosineDecay(Schedule):
    """Half a cosine from the base rate down to `min_factor` × base over the whole run."""

    kind = "cosine"

    def __init__(self, min_factor: float = 0.0, warmup_steps: int = 0):
        super().__init__(warmup_steps)
        self.min_factor = min_factor

    def factor(self, epoch, epochs):
        progress = min(epoch / epochs, 1.0)
        return self.min_factor + (1.0 - self.min_factor) * 0.5 * (1.0 + math.cos(math.pi * progress))


class LinearDecay(Schedule):
    """A straight line from the base rate down to `min_factor` × base over the whole run: word2vec's
    alpha, which gensim lowers from 0.025 to 0.0001 (min_factor 0.004)."""

    kind = "linear"

    def __init__(self, min_factor: float = 0.0, warmup_steps: int = 0):
        super().__init__(warmup_steps)
        self.min_factor = min_factor

    def factor(self, epoch, epochs):
        progress = min(epoch / epochs, 1.0)
        return 1.0 - (1.0 - self.min_factor) * progress
