"""The RL spec sections: environments and agents checked against their signatures, ε as a number
or a schedule, the agent fitted to its world, and networks built for agents that declare them."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

from dnnexp import tasks
from dnnexp.core.agents.base import Agent, EnvInfo
from dnnexp.core.agents.exploration import LinearEpsilon
from dnnexp.core.agents.tabular import QLearning
from dnnexp.errors import SpecError
from dnnexp.spec.agents import AgentStreams, build_agent, build_networks, check_agent_fits
from dnnexp.spec.schema import ModelSection


def rl(**changes: Any) -> dict[str, Any]:
    return {"name": "rl", "kind": "rl", "env": "FrozenLake-v1", "agent": "q_learning", "train": {"episodes": 3}, **changes}


def problems(raw: dict[str, Any]) -> str:
    with pytest.raises(SpecError) as caught:
        tasks.spec_from_dict(raw)
    return str(caught.value)


def test_short_forms_fill_in_every_default():
    spec = tasks.spec_from_dict(rl()).resolved()
    assert spec["env"] == {"name": "FrozenLake-v1", "max_episode_steps": None, "desc": None, "map_name": "4x4",
                           "is_slippery": True, "success_rate": pytest.approx(1 / 3), "reward_schedule": [1, 0, 0]}
    assert spec["agent"] == {"kind": "q_learning", "gamma": 0.99, "alpha": 0.1, "epsilon": 0.1}
    assert spec["evaluation"] == {"every": 100, "episodes": 10}


def test_epsilon_takes_a_schedule_mapping():
    spec = tasks.spec_from_dict(rl(agent={"kind": "sarsa", "epsilon": {"kind": "linear", "steps": 50}}))
    assert spec.agent["epsilon"] == {"kind": "linear", "start": 1.0, "end": 0.05, "steps": 50}
    agent = build_agent(spec.agent, EnvInfo(4, (), 2), AgentStreams.from_seed(0))
    assert isinstance(agent.schedule, LinearEpsilon) and agent.epsilon == 1.0


@pytest.mark.parametrize("changes, message", [
    ({"env": "CartPol-v1"}, "env: 'CartPol-v1' is not an environment; did you mean 'CartPole-v1'?"),
    ({"env": "frozenlake-v1"}, "did you mean 'FrozenLake-v1'?"),
    ({"env": {"name": "FrozenLake-v1", "is_slipery": False}}, "env.is_slipery: unknown key; did you mean 'is_slippery'?"),
    ({"agent": "q_lerning"}, "agent: 'q_lerning' is not an agent; did you mean 'q_learning'?"),
    ({"agent": {"kind": "q_lerning"}}, "agent.kind: 'q_lerning' is not an agent; did you mean 'q_learning'?"),
    ({"agent": {"kind": "q_learning", "epsilon": 1.5}}, "agent.epsilon: ε is a probability, between 0 and 1; 1.5 is not"),
    ({"agent": {"kind": "q_learning", "epsilon": {"kind": "linear", "end": -0.1}}}, "agent.epsilon.end: ε is a probability"),
    ({"agent": {"kind": "q_learning", "epsilon": {"kind": "cosine"}}}, "agent.epsilon.kind: 'cosine' is not an exploration"),
    ({"agent": {"kind": "q_learning", "gamma": 1.5}}, "agent.gamma: gamma should be in [0, 1]; 1.5 is not"),
    ({"agent": {"kind": "sarsa", "alpha": 0.0}}, "agent.alpha: alpha should be in (0, 1]; 0.0 is not"),
    ({"agent": {"kind": "value_iteration", "epsilon": 0.1}}, "agent.epsilon: unknown key"),
    ({"train": {"episodes": 0}}, "train.episodes"),
])
def test_mistakes_are_named_where_they_are(changes, message):
    assert message in problems(rl(**changes))


@pytest.mark.parametrize("env, agent, message", [
    ("CartPole-v1", "q_learning", "agent.kind: q_learning keeps a table of states, and CartPole-v1 observes 4 real numbers"),
    ("CartPole-v1", "value_iteration", "agent.kind: value_iteration plans with the world's transition table"),
])
def test_an_agent_must_fit_its_world(env, agent, message):
    spec = tasks.spec_from_dict(rl(env=env, agent=agent))
    with pytest.raises(SpecError, match=message.replace("(", r"\(")):
        tasks.task_for(spec).prepare(spec)


def test_a_table_agent_takes_no_network():
    info = EnvInfo(16, (), 4)
    model = ModelSection.model_validate({"layers": [{"type": "dense", "units": 8}]})
    with pytest.raises(SpecError, match="model: agent q_learning learns no network; drop model and optimizer"):
        check_agent_fits({"kind": "q_learning"}, "FrozenLake-v1", info, model, {"name": "sgd", "lr": 0.1})


class TwoHeads(Agent):
    """An agent with a policy and a value network, as actor-critic has (not registered: no kind)."""

    networks: ClassVar[dict[str, str]] = {"policy": "actions", "value": "value"}

    def __init__(self, info, rng, policy, value, gamma: float = 0.99):
        super().__init__(info, rng, gamma)
        self.policy, self.value = policy, value


def test_networks_get_the_spec_layers_a_last_dense_layer_and_their_own_optimizer():
    model = ModelSection.model_validate({"layers": [{"type": "dense", "units": 8, "activation": "relu"}]})
    streams = AgentStreams.from_seed(0)
    discrete = build_networks(TwoHeads, EnvInfo(16, (), 4), model, {"name": "adam", "lr": 0.01}, streams)
    assert discrete["policy"].model.input_shape == (16,)  # one-hot states
    assert discrete["policy"].model.output_shapes[-1] == (4,) and discrete["value"].model.output_shapes[-1] == (1,)
    assert discrete["policy"].optimizer is not discrete["value"].optimizer
    assert not np.array_equal(discrete["policy"].model.params["dense1.W"], discrete["value"].model.params["dense1.W"])
    continuous = build_networks(TwoHeads, EnvInfo(None, (4,), 2), model, {"name": "sgd", "lr": 0.1}, streams)
    assert continuous["value"].model.input_shape == (4,)


def test_network_keywords_are_not_spec_arguments():
    from dnnexp.spec.arguments import Named, arguments_model

    fields = arguments_model(TwoHeads, Named).model_fields
    assert "gamma" in fields and not {"info", "rng", "policy", "value"} & set(fields)


def test_the_same_seed_builds_the_same_agent_streams():
    a, b = AgentStreams.from_seed(5), AgentStreams.from_seed(5)
    assert a.env_seed == b.env_seed and a.agent.random() == b.agent.random()
    assert AgentStreams.from_seed(6).env_seed != a.env_seed
    assert isinstance(build_agent({"kind": "q_learning", "gamma": 0.9, "alpha": 0.1, "epsilon": 0.1},
                                  EnvInfo(4, (), 2), a), QLearning)
