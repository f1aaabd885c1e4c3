"""The episode loop: what it logs, that evaluating leaves training's draws alone, and its helpers."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core.agents.tabular import QLearning
from dnnexp.data.environments import env_info, make_env
from dnnexp.train.callbacks import Callback
from dnnexp.train.episodes import EpisodeLoop, EpisodeState, evaluation_seed, first_reaching, moving_mean


class Rows(Callback):
    def __init__(self):
        self.rows = []

    def on_epoch_end(self, loop, logs):
        self.rows.append(logs)


def make_loop(episodes: int = 6, eval_every: int = 3, seed: int = 11) -> tuple[EpisodeLoop, Rows]:
    env = make_env("FrozenLake-v1")
    agent = QLearning(env_info(env), np.random.default_rng(0), gamma=0.9, epsilon=0.5)
    rows = Rows()
    loop = EpisodeLoop(env, agent, episodes, seed, make_env("FrozenLake-v1"), eval_every, 4, callbacks=[rows])
    return loop, rows


def test_a_row_per_episode_with_evaluations_every_few_and_after_the_last():
    loop, rows = make_loop(episodes=7, eval_every=3)
    state = loop.fit()
    assert state.status == "completed" and state.finished and state.episode == 7
    assert [row["episode"] for row in rows.rows] == list(range(1, 8))
    assert [("eval_return_mean" in row) for row in rows.rows] == [False, False, True, False, False, True, True]
    assert state.step == sum(row["length"] for row in rows.rows) == rows.rows[-1]["step"]
    assert all(row["epsilon"] == 0.5 and row["loss"] >= 0 for row in rows.rows)
    assert loop.columns[:6] == ["episode", "step", "return", "length", "epsilon", "loss"]


def test_evaluating_draws_nothing_from_the_training_streams():
    evaluated, _ = make_loop(episodes=6, eval_every=1)
    plain, _ = make_loop(episodes=6, eval_every=100)
    evaluated.fit()
    plain.fit()
    np.testing.assert_array_equal(evaluated.agent.q, plain.agent.q)
    assert evaluated.env.unwrapped.np_random.random() == plain.env.unwrapped.np_random.random()


def test_every_evaluation_meets_the_same_episodes():
    assert evaluation_seed(3, 0) == evaluation_seed(3, 0) != evaluation_seed(3, 1) != evaluation_seed(4, 1)
    loop, _ = make_loop()
    assert loop.evaluate() == loop.evaluate()


def test_the_state_round_trips_and_counts_episodes_as_the_callbacks_epochs():
    state = EpisodeState(episode=4, step=31, finished=True, message="x")
    other = EpisodeState()
    other.load_arrays(state.to_arrays())
    assert (other.episode, other.step, other.finished, other.message, other.epoch) == (4, 31, True, "x", 4)


def test_moving_mean_and_first_reaching():
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_allclose(moving_mean(values, 2), [1.0, 1.5, 2.5, 3.5, 4.5])
    np.testing.assert_allclose(moving_mean(values, 10), [1.0, 1.5, 2.0, 2.5, 3.0])
    assert first_reaching(moving_mean(values, 2), 2.5) == 2
    assert first_reaching(values, 9.0) is None


def test_an_error_leaves_the_state_failed():
    class Boom(Callback):
        def on_epoch_end(self, loop, logs):
            raise RuntimeError("boom")

    loop, _ = make_loop()
    loop.callbacks.append(Boom())
    with pytest.raises(RuntimeError):
        loop.fit()
    assert loop.state.status == "failed" and "boom" in loop.state.message
