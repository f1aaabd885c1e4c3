from __future__ import annotations

import numpy as np

from dnnexp.core.agents.base import Transition
from dnnexp.core.agents.replay import ReplayBuffer


def fill(buffer: ReplayBuffer, start: int, count: int) -> None:
    for i in range(start, start + count):
        buffer.add(Transition(np.full(2, i, np.float32), i % 3, float(i), np.full(2, i + 1, np.float32), i % 2 == 0, False))


def test_the_buffer_keeps_the_last_capacity_transitions_in_a_ring() -> None:
    buffer = ReplayBuffer(4, (2,))
    fill(buffer, 0, 6)
    assert len(buffer) == 4 and buffer.position == 2
    # 4 and 5 overwrote 0 and 1
    np.testing.assert_array_equal(buffer.rewards, [4, 5, 2, 3])
    np.testing.assert_array_equal(buffer.next_states[:, 0], [5, 6, 3, 4])
    np.testing.assert_array_equal(buffer.terminated, [1, 0, 1, 0])
    assert buffer.states.dtype == np.float32 and buffer.actions.dtype == np.int64


def test_samples_are_whole_transitions_from_the_filled_part_only() -> None:
    buffer = ReplayBuffer(100, (2,))
    fill(buffer, 0, 10)
    states, actions, rewards, next_states, terminated = buffer.sample(500, np.random.default_rng(0))
    assert states.shape == (500, 2) and set(rewards.astype(int)) == set(range(10))
    np.testing.assert_array_equal(states[:, 0], rewards)
    np.testing.assert_array_equal(next_states[:, 0], rewards + 1)
    np.testing.assert_array_equal(actions, rewards.astype(int) % 3)


def test_a_restored_buffer_holds_and_samples_the_same(through_npz) -> None:
    buffer, restored = ReplayBuffer(8, (2,)), ReplayBuffer(8, (2,))
    fill(buffer, 0, 11)
    restored.load_state_arrays(through_npz(buffer.state_arrays()))
    fill(buffer, 11, 3)
    fill(restored, 11, 3)
    for a, b in zip(buffer.sample(16, np.random.default_rng(1)), restored.sample(16, np.random.default_rng(1))):
        np.testing.assert_array_equal(a, b)
    assert (restored.position, restored.size) == (buffer.position, buffer.size)


def test_discrete_states_are_kept_as_indices() -> None:
    buffer = ReplayBuffer(3, (), np.int64)
    buffer.add(Transition(2, 1, 0.0, 3, False, True))
    assert buffer.states[0] == 2 and buffer.next_states[0] == 3 and buffer.terminated[0] == 0
