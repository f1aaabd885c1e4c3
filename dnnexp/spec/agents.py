"""Reinforcement learning's spec sections and their build (`kind: rl`): `env:` an environment
with its own arguments, `agent:` an agent kind with its arguments (checked against its
constructor, as optimizers are), and, for agents that learn with networks, `model:` and
`optimizer:`.

An agent that declares `networks` (dnnexp.core.agents.base.Agent) gets, for each, a Sequential of
the spec's `model.layers` with a last dense layer of n_actions (or 1, for a state value) appended,
taking one observation (a one-hot vector of n_states in a discrete world), and its own optimizer
built from `optimizer:`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

import gymnasium
import numpy as np
from pydantic import PlainValidator, SerializeAsAny, model_validator

from dnnexp.core.agents.base import Agent, EnvInfo, Network
from dnnexp.core.agents.features import Features, build_features, input_shape
from dnnexp.core.layers.base import InputError, ShapeError
from dnnexp.data.environments import KNOWN_MODELS, make_env
from dnnexp.errors import SpecError
from dnnexp.spec.arguments import Implementation, Named, Section, spec_error
from dnnexp.spec.build import layer_place, sequential
from dnnexp.spec.registry import AGENTS, ENVIRONMENTS, EXPLORATIONS, OPTIMIZERS
from dnnexp.spec.schema import ModelSection, PositiveInt

class EnvSection(Named):
    """`env:` the environment (`dnnexp list environments`) and its own arguments beside `name`
    (FrozenLake's `map_name`, `is_slippery`; they go to gymnasium.make unchanged)."""

    max_episode_steps: PositiveInt | None = None  # null: the environment's registered limit (500 where it has none)

    def env_arguments(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in type(self).model_fields if key not in EnvSection.model_fields}

    def make(self, render_mode: str | None = None) -> gymnasium.Env:
        """The environment, unseeded."""
        return make_env(self.name, self.env_arguments(), self.max_episode_steps, render_mode)


def _environment(value: Any) -> Section:
    return Implementation(ENVIRONMENTS, EnvSection).check({"name": value} if isinstance(value, str) else value)


EnvSpec = Annotated[SerializeAsAny[EnvSection], PlainValidator(_environment)]


def _probability_like(name: str, value: float | None, low_open: bool) -> str | None:
    """What is wrong with a rate that should lie in [0, 1] (or (0, 1]), None if nothing."""
    if value is None or (0 < value <= 1 if low_open else 0 <= value <= 1):
        return None
    return f"{name} should be in {'(0, 1]' if low_open else '[0, 1]'}"


class AgentSection(Section):
    """`agent:` `{kind: NAME, **arguments}` or NAME (`dnnexp list agents`): γ is the discount in
    [0, 1], α a step size in (0, 1], ε a probability or a schedule."""

    registry_key: ClassVar[str] = "kind"

    kind: str

    @model_validator(mode="after")
    def _rates(self) -> AgentSection:
        for name, low_open in (("gamma", False), ("alpha", True)):
            problem = _probability_like(name, getattr(self, name, None), low_open)
            if problem:
                raise spec_error("agent_rate", f"{problem}; {getattr(self, name)} is not", (name,), getattr(self, name))
        return self


AgentSpec = Annotated[dict[str, Any], PlainValidator(Implementation(AGENTS, AgentSection))]


@dataclass
class AgentStreams:
    """Independent random streams of an RL run, from its seed: the agent's own (exploration,
    replay sampling), the networks' initial weights and dropout, and the environment's seed; the
    greedy evaluations' episodes are seeded apart from all of them (dnnexp.train.episodes)."""

    agent: np.random.Generator
    init: np.random.Generator
    noise: np.random.Generator
    env_seed: int

    @classmethod
    def from_seed(cls, seed: int) -> AgentStreams:
        agent, init, noise, env = np.random.SeedSequence(seed).spawn(4)
        return cls(np.random.default_rng(agent), np.random.default_rng(init), np.random.default_rng(noise),
                   int(env.generate_state(1)[0]))


def check_agent_fits(agent: dict[str, Any], env_name: str, info: EnvInfo, model: ModelSection | None, optimizer: Any) -> None:
    """The agent can work in this world with what the spec gives it; SpecError naming what to change."""
    kind = agent["kind"]
    cls = AGENTS.get(kind)
    problems = []
    if cls.needs_model and info.model is None:
        problems.append(
            f"agent.kind: {kind} plans with the world's transition table, and {env_name} publishes none; "
            f"use a world whose model is known ({', '.join(KNOWN_MODELS)}) or an agent that learns"
        )
    elif cls.needs_discrete_states and info.n_states is None:
        problems.append(
            f"agent.kind: {kind} keeps a table of states, and {env_name} observes {info.obs_shape[0]} real numbers; "
            "use an agent with function approximation (`dnnexp list agents`), or a discrete world"
        )
    if cls.networks and model is None:
        problems.append(
            f"model: agent {kind} learns with networks; give model: {{layers: [...]}}, the hidden layers "
            "(a last dense layer of the right size is added)"
        )
    if cls.networks and optimizer is None:
        problems.append(f"optimizer: agent {kind} learns with networks; give one, e.g. optimizer: {{name: adam, lr: 0.001}}")
    if not cls.networks and (model is not None or optimizer is not None):
        given = " and ".join(key for key, value in (("model", model), ("optimizer", optimizer)) if value is not None)
        problems.append(f"{given.split(' ')[0]}: agent {kind} learns no network; drop {given}")
    if problems:
        raise SpecError(problems)


def build_networks(
    cls: type[Agent], info: EnvInfo, model: ModelSection, optimizer: dict[str, Any], streams: AgentStreams
) -> dict[str, Network]:
    """A Network for each of the agent's `networks`, by its constructor keyword."""
    networks = {}
    for keyword, output in cls.networks.items():
        units = info.n_actions if output == "actions" else 1
        layers = [*model.layers, {"type": "dense", "units": units}]
        try:
            built = sequential(input_shape(info), layers, streams.init, streams.noise)
        except (ShapeError, InputError) as error:
            raise SpecError(f"{layer_place(error)}: {error}") from None
        networks[keyword] = Network(built, OPTIMIZERS.build(optimizer))
    return networks


def build_exploration(epsilon: float | dict[str, Any]) -> Any:
    """An ε schedule from the spec's number or mapping."""
    if isinstance(epsilon, dict):
        arguments = dict(epsilon)
        return EXPLORATIONS.get(arguments.pop("kind"))(**arguments)
    return epsilon


def build_agent(
    agent: dict[str, Any], info: EnvInfo, streams: AgentStreams, model: ModelSection | None = None,
    optimizer: dict[str, Any] | None = None,
) -> Agent:
    """The agent of a validated `agent:` mapping, for a world described by `info`."""
    arguments = dict(agent)
    cls = AGENTS.get(arguments.pop("kind"))
    if "epsilon" in arguments:
        arguments["epsilon"] = build_exploration(arguments["epsilon"])
    if "features" in arguments:
        arguments["features"] = build_agent_features(arguments["features"], info)
    if cls.networks:
        assert model is not None and optimizer is not None  # check_agent_fits
        arguments.update(build_networks(cls, info, model, optimizer, streams))
    return cls(info=info, rng=streams.agent, **arguments)


def build_agent_features(features: str | dict[str, Any], info: EnvInfo) -> Features:
    """An agent's validated `features:` for a world described by `info`; what only the world can
    tell is wrong with them (one_hot for real observations, low and high of the wrong length) as
    a SpecError."""
    try:
        return build_features(features, info)
    except ValueError as error:
        raise SpecError(f"agent.features: {error}") from None
