"""Environments by name: made with their arguments and time limits, described for agents, their
generators saved and restored, laid out on grids."""

from __future__ import annotations

import pytest

from dnnexp.data import environments
from dnnexp.data.environments import (
    DEFAULT_MAX_EPISODE_STEPS,
    ENVIRONMENTS,
    env_info,
    grid_layout,
    make_env,
    makers,
    random_state,
    seed_env,
    set_random_state,
    solved_threshold,
)
from dnnexp.errors import SpecError


def test_every_named_environment_is_made_and_described():
    for name in ENVIRONMENTS:
        info = env_info(make_env(name))
        assert info.n_actions >= 2
        assert (info.n_states is None) == bool(info.obs_shape)
        assert (info.model is not None) == (name in environments.KNOWN_MODELS)


def test_a_discrete_world_publishes_its_model_in_plain_numbers():
    info = env_info(make_env("FrozenLake-v1", {"is_slippery": True}))
    assert (info.n_states, info.obs_shape, info.n_actions) == (16, (), 4)
    outcomes = info.model.transitions[14][2]  # next to the goal, moving right: three ways to slip
    assert sum(p for p, *_ in outcomes) == pytest.approx(1.0)
    assert all(type(s) is int and type(r) is float and type(done) is bool for _, s, r, done in outcomes)
    assert (1 / 3, 15, 1.0, True) in [(pytest.approx(p), s, r, d) for p, s, r, d in outcomes]


def test_continuous_worlds_say_their_observation_shape():
    info = env_info(make_env("CartPole-v1"))
    assert (info.n_states, info.obs_shape, info.n_actions, info.model) == (None, (4,), 2, None)
    assert solved_threshold(make_env("CartPole-v1")) == 475.0


def test_arguments_and_time_limits_reach_gymnasium():
    env = make_env("FrozenLake-v1", {"map_name": "8x8"}, max_episode_steps=7)
    assert env_info(env).n_states == 64 and env.spec.max_episode_steps == 7
    # CliffWalking has no limit of its own: a policy walking into a wall would never end.
    assert make_env("CliffWalking-v1").spec.max_episode_steps == DEFAULT_MAX_EPISODE_STEPS
    with pytest.raises(SpecError, match="env: FrozenLake-v1 refused its arguments .*map_name: '5x5'"):
        make_env("FrozenLake-v1", {"map_name": "5x5"})


def test_makers_take_the_environments_arguments_with_the_registered_defaults():
    import inspect

    parameters = inspect.signature(makers()["FrozenLake8x8-v1"]).parameters
    assert parameters["map_name"].default == "8x8"  # the registered variant, not the class's 4x4
    assert "render_mode" not in parameters


def test_random_state_round_trip_replays_the_environments_draws():
    env = make_env("FrozenLake-v1")
    seed_env(env, 3)
    saved = random_state(env)
    first = [env.step(1)[0] for _ in range(20)]
    other = make_env("FrozenLake-v1")
    other.reset(seed=99)
    set_random_state(other, saved)
    other.unwrapped.s = 0
    env.unwrapped.s = 0
    set_random_state(env, saved)
    assert [env.step(1)[0] for _ in range(20)] == [other.step(1)[0] for _ in range(20)]
    assert len(set(first)) > 1  # slippery: the draws mattered


def test_grid_layouts():
    lake = grid_layout(make_env("FrozenLake-v1"))
    assert lake.shape == (4, 4) and lake.marks[0] == "S" and lake.marks[15] == "G" and lake.marks[5] == "H"
    cliff = grid_layout(make_env("CliffWalking-v1"))
    assert cliff.shape == (4, 12) and cliff.marks[36] == "S" and cliff.marks[47] == "G" and cliff.marks[40] == "C"
    grid = grid_layout(make_env("GridWorld-v0"))
    assert grid.blocked == (5,) and grid.marks[7] == "T"
    assert grid_layout(make_env("Taxi-v4")) is None
    # Each layout's moves are its world's: FrozenLake's action 2 goes right.
    env = make_env("FrozenLake-v1", {"is_slippery": False})
    env.reset(seed=0)
    assert env.step(2)[0] == 0 + lake.moves[2][1]


def test_a_random_state_is_text_not_objects():
    env = make_env("CartPole-v1")
    seed_env(env, 0)
    # 128-bit integers as JSON text: a checkpoint loads them back with allow_pickle=False.
    assert all(array.dtype.kind == "U" for array in random_state(env).values())


def test_actions_are_named_as_each_world_numbers_them():
    from dnnexp.data.environments import action_name

    assert action_name(make_env("FrozenLake-v1"), 2) == "right"
    assert action_name(make_env("CliffWalking-v1"), 2) == "down"
    assert action_name(make_env("GridWorld-v0"), 3) == "right"
    assert action_name(make_env("CartPole-v1"), 0) == "push left"
