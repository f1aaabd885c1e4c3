"""Experience replay (DQN): the last `capacity` transitions in preallocated arrays, sampled
uniformly, so that a gradient step sees decorrelated transitions from many episodes."""

from __future__ import annotations

import numpy as np

from dnnexp.core.agents.base import Transition

FIELDS = ("states", "actions", "rewards", "next_states", "terminated")


class ReplayBuffer:
    """A ring of `capacity` transitions: states and next_states (capacity, *state_shape) float32,
    actions int64, rewards float32, terminated float32 (1.0 where the episode ended in a terminal
    state, so the target does not bootstrap; a truncated episode still does).

    `position` is where the next transition goes, `size` how many are held; both, with the arrays,
    are in `state_arrays`, so a resumed run samples the same batches.
    """

    def __init__(self, capacity: int, state_shape: tuple[int, ...], state_dtype: type = np.float32):
        self.capacity = int(capacity)
        self.states = np.zeros((self.capacity, *state_shape), dtype=state_dtype)
        self.next_states = np.zeros_like(self.states)
        self.actions = np.zeros(self.capacity, dtype=np.int64)
        self.rewards = np.zeros(self.capacity, dtype=np.float32)
        self.terminated = np.zeros(self.capacity, dtype=np.float32)
        self.position = self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(self, step: Transition) -> None:
        """Store one transition, overwriting the oldest once the buffer is full."""
        i = self.position
        self.states[i] = step.state
        self.actions[i] = step.action
        self.rewards[i] = step.reward
        self.next_states[i] = step.next_state
        self.terminated[i] = step.terminated
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        """`batch_size` transitions drawn uniformly with replacement: (states, actions, rewards,
        next_states, terminated), each with the batch axis first."""
        index = rng.integers(0, self.size, batch_size)
        return tuple(getattr(self, name)[index] for name in FIELDS)

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {**{name: getattr(self, name).copy() for name in FIELDS}, "position": np.array(self.position), "size": np.array(self.size)}

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        for name in FIELDS:
            getattr(self, name)[...] = arrays[name]
        self.position, self.size = int(arrays["position"]), int(arrays["size"])
