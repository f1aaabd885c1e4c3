"""Environments by name (course Day 4 §2), the reinforcement-learning counterpart of data sets:
gymnasium's toy-text and classic-control worlds and the course book's grid world, made seeded and
described by the `EnvInfo` an agent may know.

`env: {name: CartPole-v1, **arguments}` in a spec: the arguments are the environment's own
(FrozenLake's `map_name`, `is_slippery`, …) and go to gymnasium.make unchanged.
"""

from __future__ import annotations

import inspect
import json
import typing
from dataclasses import dataclass
from typing import Any, Callable

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.envs.registration import load_env_creator

from dnnexp.core.agents.base import EnvInfo, WorldModel
from dnnexp.errors import SpecError

GRID_WORLD = "GridWorld-v0"
gymnasium.register(id=GRID_WORLD, entry_point="dnnexp.data.gridworld:GridWorld", max_episode_steps=100)

#: the environments a spec may name, with a line on each (`dnnexp list environments`)
ENVIRONMENTS: dict[str, str] = {
    GRID_WORLD: "The course book's 3×4 grid world: goal +1, trap −1, one wall, deterministic moves; its model is known.",
    "FrozenLake-v1": "Cross a frozen lake to the goal without falling into a hole (4×4; map_name: 8x8; is_slippery).",
    "FrozenLake8x8-v1": "FrozenLake on the 8×8 map.",
    "CliffWalking-v1": "Walk along a cliff to the goal: −1 a step, −100 and back to the start for a fall.",
    "Taxi-v4": "Pick up a passenger and drop them at their destination (500 states, 6 actions).",
    "CartPole-v1": "Balance a pole on a cart: +1 a step, up to 500; 4 numbers observed.",
    "Acrobot-v1": "Swing a two-link arm's end above a line: −1 a step, up to 500; 6 numbers observed.",
    "MountainCar-v0": "Drive an underpowered car up a hill by rocking: −1 a step, up to 200; 2 numbers observed.",
}
#: the worlds that publish their transition table (EnvInfo.model): dynamic programming plans in them
KNOWN_MODELS = (GRID_WORLD, "FrozenLake-v1", "FrozenLake8x8-v1", "CliffWalking-v1", "Taxi-v4")
#: a time limit for environments registered without one (CliffWalking): a greedy policy that walks
#: into a wall would otherwise never end its episode
DEFAULT_MAX_EPISODE_STEPS = 500
#: constructor parameters the run sets, never the spec
RUN_SET = ("self", "render_mode")


def _maker(name: str) -> Callable[..., gymnasium.Env]:
    """A function with the environment's own keyword arguments, types and defaults (its class's
    constructor's), for the spec layer to check `env:` against, and the environment's line as its
    docstring."""
    registered = gymnasium.spec(name)
    creator = load_env_creator(registered.entry_point)
    hints = typing.get_type_hints(creator.__init__) if inspect.isclass(creator) else typing.get_type_hints(creator)
    parameters = [
        parameter for parameter in inspect.signature(creator).parameters.values()
        if parameter.name not in RUN_SET and parameter.kind is parameter.POSITIONAL_OR_KEYWORD
    ]

    def make(**arguments: Any) -> gymnasium.Env:
        return make_env(name, arguments)

    # The registered arguments are the defaults: FrozenLake8x8-v1 is FrozenLake with map_name 8x8.
    make.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        p.replace(kind=p.KEYWORD_ONLY, default=registered.kwargs.get(p.name, p.default)) for p in parameters
    ])
    make.__annotations__ = {p.name: hints[p.name] for p in parameters if p.name in hints}
    make.__doc__ = ENVIRONMENTS[name]
    make.__name__ = name
    return make


def makers() -> dict[str, Callable[..., gymnasium.Env]]:
    """Each environment's maker by name (see `_maker`)."""
    return {name: _maker(name) for name in ENVIRONMENTS}


def make_env(
    name: str, arguments: dict[str, Any] | None = None, max_episode_steps: int | None = None, render_mode: str | None = None
) -> gymnasium.Env:
    """The environment `name` with its `arguments`, its episodes cut at `max_episode_steps` (its
    registered limit when None, DEFAULT_MAX_EPISODE_STEPS where it has none); SpecError when
    gymnasium refuses the arguments."""
    limit = max_episode_steps or gymnasium.spec(name).max_episode_steps or DEFAULT_MAX_EPISODE_STEPS
    try:
        env = gymnasium.make(
            name, max_episode_steps=limit, render_mode=render_mode, disable_env_checker=True, **(arguments or {})
        )
    except Exception as error:  # gymnasium's own checks: an unknown map_name, a malformed desc, …
        shown = ", ".join(f"{k}: {v!r}" for k, v in (arguments or {}).items())
        raise SpecError(f"env: {name} refused its arguments ({shown}): {type(error).__name__}: {error}") from None
    if not isinstance(env.action_space, spaces.Discrete):
        raise SpecError(f"env: {name} has continuous actions ({env.action_space}); the agents here choose among discrete actions")
    return env


def env_info(env: gymnasium.Env) -> EnvInfo:
    """What an agent may know of `env`: its states (a discrete world's count, else an observation's
    shape), its actions, and its transition table where the world publishes one (toy text, the
    grid world)."""
    observations = env.observation_space
    n_states = int(observations.n) if isinstance(observations, spaces.Discrete) else None
    table = getattr(env.unwrapped, "P", None)
    model = None
    if table is not None and n_states is not None:
        model = WorldModel({
            int(s): {int(a): [(float(p), int(s2), float(r), bool(done)) for p, s2, r, done in outcomes]
                     for a, outcomes in actions.items()}
            for s, actions in table.items()
        })
    shape = () if n_states is not None else tuple(int(n) for n in observations.shape)
    return EnvInfo(n_states=n_states, obs_shape=shape, n_actions=int(env.action_space.n), model=model)


def solved_threshold(env: gymnasium.Env) -> float | None:
    """gymnasium's `reward_threshold` of the environment: the 100-episode mean return that counts as
    solving it (CartPole-v1 475), None where it has none."""
    return env.spec.reward_threshold if env.spec is not None else None


def seed_env(env: gymnasium.Env, seed: int) -> Any:
    """Seed the environment's own generator (by resetting it) and its action space's; the first
    observation."""
    observation, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    return observation


def random_state(env: gymnasium.Env) -> dict[str, np.ndarray]:
    """The environment's generators' states (its own np_random, its action space's) as arrays of
    JSON text, for a checkpoint: with them a resumed run's environment draws what it would have."""
    return {
        "np_random": np.array(json.dumps(env.unwrapped.np_random.bit_generator.state)),
        "action_space": np.array(json.dumps(env.action_space.np_random.bit_generator.state)),
    }


def set_random_state(env: gymnasium.Env, arrays: dict[str, np.ndarray]) -> None:
    """Put back what `random_state` saved."""
    env.unwrapped.np_random.bit_generator.state = json.loads(str(arrays["np_random"]))
    env.action_space.np_random.bit_generator.state = json.loads(str(arrays["action_space"]))


#: what each action does, by the environment's class, for `dnnexp play` (gymnasium's documented orders)
ACTION_NAMES: dict[str, tuple[str, ...]] = {
    "GridWorld": ("up", "down", "left", "right"),
    "FrozenLakeEnv": ("left", "down", "right", "up"),
    "CliffWalkingEnv": ("up", "right", "down", "left"),
    "TaxiEnv": ("south", "north", "east", "west", "pick up", "drop off"),
    "CartPoleEnv": ("push left", "push right"),
    "AcrobotEnv": ("torque −1", "no torque", "torque +1"),
    "MountainCarEnv": ("accelerate left", "coast", "accelerate right"),
}


def action_name(env: gymnasium.Env, action: int) -> str:
    """What `action` does in `env` ("right"), or its number where that is not known."""
    names = ACTION_NAMES.get(type(env.unwrapped).__name__, ())
    return names[action] if action < len(names) else str(action)


@dataclass(frozen=True)
class GridLayout:
    """How a discrete world's states lie on a grid, for pictures: `shape` (rows, columns), states
    numbered row by row; `moves[a]` action a's (row, column) step; `marks` a letter for special
    cells by state (S start, G goal, H hole, C cliff, T trap, # wall); `blocked` the states never
    occupied (walls)."""

    shape: tuple[int, int]
    moves: tuple[tuple[int, int], ...]
    marks: dict[int, str]
    blocked: tuple[int, ...] = ()


UP, DOWN, LEFT, RIGHT = (-1, 0), (1, 0), (0, -1), (0, 1)


def grid_layout(env: gymnasium.Env) -> GridLayout | None:
    """The grid of FrozenLake, CliffWalking and the grid world; None for the others."""
    world = env.unwrapped
    name = type(world).__name__
    if name == "FrozenLakeEnv":
        desc = np.asarray(world.desc).astype(str)
        marks = {i: str(letter) for i, letter in enumerate(desc.ravel()) if letter in "SGH"}
        return GridLayout(desc.shape, (LEFT, DOWN, RIGHT, UP), marks)
    if name == "CliffWalkingEnv":
        rows, cols = world.shape
        marks = {(rows - 1) * cols: "S", rows * cols - 1: "G", **{(rows - 1) * cols + c: "C" for c in range(1, cols - 1)}}
        return GridLayout((rows, cols), (UP, RIGHT, DOWN, LEFT), marks)
    if name == "GridWorld":
        from dnnexp.data import gridworld

        marks = {world.index(gridworld.START): "S", world.index(gridworld.GOAL): "G", world.index(gridworld.TRAP): "T",
                 world.index(gridworld.WALL): "#"}
        return GridLayout(world.shape, gridworld.MOVES, marks, (world.index(gridworld.WALL),))
    return None
