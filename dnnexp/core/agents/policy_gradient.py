"""Policy-gradient agents (course Day 4 §2): a softmax policy π(a|s; θ) = softmax(u(s; θ))_a over
the logits u of a network, improved along the policy gradient

    θ ← θ + ε ∇_θ J(θ),    ∇_θ J(θ) = E[ Σ_t ∇_θ log π(a_t|s_t; θ) · A_t ]

where A_t says how much better a_t turned out than expected: the return G_t (REINFORCE), G_t less
a baseline, or the TD error r + γV(s') − V(s) (actor-critic).

The optimizers here minimise, so each agent hands them the loss L(θ) = −J(θ) of its batch,

    L = −(1/T) Σ_t A_t log π(a_t|s_t) − β (1/T) Σ_t H(π(·|s_t)),

a cross-entropy of the actions taken weighted by their advantages (A_t held fixed), with an
optional entropy bonus β that keeps the policy from collapsing onto one action too early:
θ ← θ − ε∇L is then θ ← θ + ε∇J. `policy_loss` computes it and its gradient for the logits.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

from dnnexp.core.agents.base import Agent, EnvInfo, Network, Transition, generator_state, set_generator_state
from dnnexp.core.agents.features import observations
from dnnexp.core.agents.state import load_network_arrays, network_arrays
from dnnexp.core.functions import log_softmax
from dnnexp.core.losses import MeanSquaredError

Baseline = Literal["none", "mean", "value"]
BASELINES = get_args(Baseline)
#: how far the `mean` baseline moves toward each episode's mean return: an exponential average,
#: so that it follows the returns up as the policy improves
MEAN_BASELINE_RATE = 0.1


def policy_loss(u: np.ndarray, actions: np.ndarray, advantages: np.ndarray, entropy: float = 0.0) -> tuple[float, np.ndarray]:
    """L = −(1/T) Σ_t [A_t log π(a_t|s_t) + β H(π(·|s_t))] for logits u (T, n_actions), the actions
    taken (T,) and their advantages (T,); returns (L, dL/du (T, n_actions)).

    dL/du_t = (π_t − onehot(a_t)) A_t / T  +  β π_t (log π_t + H_t) / T — the first term is the
    softmax cross-entropy's gradient, weighted by the advantage.
    """
    T = len(actions)
    rows = np.arange(T)
    log_p = log_softmax(u)
    p = np.exp(log_p)
    entropies = -np.sum(p * log_p, axis=1)
    loss = -(float(np.dot(advantages, log_p[rows, actions])) + entropy * float(np.sum(entropies))) / T
    du = p * advantages[:, None]
    du[rows, actions] -= advantages
    if entropy:
        du += entropy * p * (log_p + entropies[:, None])
    return loss, du / np.float32(T)


class PolicyGradient(Agent):
    """Base of the softmax-policy agents: acting by sampling π(·|s) (greedy: its most likely action),
    with a state-value network `value` where the agent learns one."""

    def __init__(
        self, info: EnvInfo, rng: np.random.Generator, policy: Network, value: Network | None = None,
        gamma: float = 0.99, entropy: float = 0.0,
    ):
        super().__init__(info, rng, gamma)
        self.policy, self.value, self.entropy = policy, value, float(entropy)

    def act(self, state, greedy=False):
        u = self.policy.model.forward(observations(self.info, state))[0]
        if greedy:
            return int(np.argmax(u))
        # Inverse-CDF sampling from one uniform draw: the same numbers as rng.choice, no float64 probabilities.
        p = np.exp(log_softmax(u))
        return int(min(np.searchsorted(np.cumsum(p), self.rng.random() * p.sum(), side="right"), len(p) - 1))

    def policy_step(self, x: np.ndarray, actions: np.ndarray, advantages: np.ndarray) -> float:
        """One step of θ ← θ + ε∇J on states x, the actions taken and their advantages; the loss −J."""
        u = self.policy.model.forward(x, train=True)
        loss, du = policy_loss(u, actions, advantages, self.entropy)
        self.policy.model.backward(du)
        self.policy.optimizer.update(self.policy.model.params, self.policy.model.grads)
        return loss

    def state_arrays(self):
        arrays = {**network_arrays("policy", self.policy), "rng": generator_state(self.rng)}
        if self.value is not None:
            arrays.update(network_arrays("value", self.value))
        return arrays

    def load_state_arrays(self, arrays):
        load_network_arrays("policy", self.policy, arrays)
        if self.value is not None:
            load_network_arrays("value", self.value, arrays)
        set_generator_state(self.rng, arrays["rng"])


class Reinforce(PolicyGradient):
    """REINFORCE (Williams 1992): after each episode, one step on all its steps with A_t = G_t − b_t,
    G_t = Σ_k γ^k r_{t+k} the return from step t on.

    baseline: "none" (b = 0), "mean" (b = a running mean of the returns of the episodes before, see
    MEAN_BASELINE_RATE) or "value" (b_t = V(s_t), a second network fitted to the returns after each
    episode; needs `value`). A baseline that does not depend on the action changes no expectation
    but lowers the variance of the gradient estimate. (The mean of the episode's own returns would
    not do: for one-step episodes it is the return itself, and nothing would be learned.)
    """

    kind = "reinforce"
    #: `value` is used only with baseline: value
    networks = {"policy": "actions", "value": "value"}

    def __init__(
        self,
        info: EnvInfo,
        rng: np.random.Generator,
        policy: Network,
        value: Network | None = None,
        gamma: float = 0.99,
        baseline: Baseline = "value",
        entropy: float = 0.0,
    ):
        if baseline not in BASELINES:
            raise ValueError(f"baseline '{baseline}' is not one of {', '.join(BASELINES)}")
        if baseline == "value" and value is None:
            raise ValueError("baseline: value needs a value network")
        super().__init__(info, rng, policy, value if baseline == "value" else None, gamma, entropy)
        self.baseline = baseline
        self.episode: dict[str, list] = {"states": [], "actions": [], "rewards": []}
        self.mean_return = np.float32(0.0)

    def learn(self, step: Transition) -> None:
        self.episode["states"].append(step.state)
        self.episode["actions"].append(step.action)
        self.episode["rewards"].append(step.reward)
        return None

    def end_episode(self) -> float | None:
        if not self.episode["actions"]:
            return None
        x = observations(self.info, np.asarray(self.episode["states"]))
        actions = np.asarray(self.episode["actions"], dtype=np.int64)
        returns = discounted_returns(np.asarray(self.episode["rewards"], dtype=np.float32), self.gamma)
        self.episode = {"states": [], "actions": [], "rewards": []}
        if self.baseline == "value":
            advantages = returns - self.value.model.forward(x)[:, 0]
            self.value_step(x, returns)
        elif self.baseline == "mean":
            advantages = returns - self.mean_return
            self.mean_return += np.float32(MEAN_BASELINE_RATE) * (returns.mean() - self.mean_return)
        else:
            advantages = returns
        return self.policy_step(x, actions, advantages)

    def value_step(self, x: np.ndarray, returns: np.ndarray) -> float:
        """One step of V(s) toward the returns (T,) on the squared error ½(V(s) − G)², averaged."""
        mse = MeanSquaredError()
        loss = mse.forward(self.value.model.forward(x, train=True), returns[:, None])
        self.value.model.backward(mse.backward())
        self.value.optimizer.update(self.value.model.params, self.value.model.grads)
        return loss

    def state_arrays(self):
        return {
            **super().state_arrays(),
            "mean_return": np.array(self.mean_return),
            # An episode under way when a checkpoint is written goes on after the resume.
            "episode/states": np.asarray(self.episode["states"], dtype=np.float32).reshape(-1, *self.info.obs_shape),
            "episode/actions": np.asarray(self.episode["actions"], dtype=np.int64),
            "episode/rewards": np.asarray(self.episode["rewards"], dtype=np.float32),
        }

    def load_state_arrays(self, arrays):
        super().load_state_arrays(arrays)
        self.mean_return = np.float32(arrays["mean_return"])
        states = arrays["episode/states"]
        self.episode = {
            "states": list(states.astype(np.int64) if self.info.n_states is not None else states),
            "actions": [int(a) for a in arrays["episode/actions"]],
            "rewards": [float(r) for r in arrays["episode/rewards"]],
        }


class ActorCritic(PolicyGradient):
    """One-step actor-critic: after every step, with the critic's TD error δ = r + γV(s') − V(s)
    (V(s') = 0 after a terminal step) as the advantage, the critic V takes a step toward
    r + γV(s') and the actor a policy-gradient step with A = δ. Learns within episodes, and needs
    no return to wait for, at the price of the critic's bias."""

    kind = "actor_critic"
    networks = {"policy": "actions", "value": "value"}

    def __init__(self, info: EnvInfo, rng: np.random.Generator, policy: Network, value: Network, gamma: float = 0.99, entropy: float = 0.0):
        super().__init__(info, rng, policy, value, gamma, entropy)

    def learn(self, step: Transition) -> float:
        """The critic's loss ½δ² plus the actor's −δ log π(a|s) (− β H)."""
        x = observations(self.info, [step.state, step.next_state])
        v = self.value.model.forward(x, train=True)[:, 0]
        target = np.float32(step.reward) + (0.0 if step.terminated else self.gamma * v[1])
        delta = np.reshape(target - v[0], (1,))
        # d(½(V(s) − target)²)/dV(s) = −δ; the target V(s') is held fixed (zero gradient).
        dv = np.zeros((2, 1), dtype=v.dtype)
        dv[0, 0] = -delta[0]
        self.value.model.backward(dv)
        self.value.optimizer.update(self.value.model.params, self.value.model.grads)
        return 0.5 * float(delta[0]) ** 2 + self.policy_step(x[:1], np.array([step.action]), delta)


def discounted_returns(rewards: np.ndarray, gamma: float) -> np.ndarray:
    """G_t = r_t + γ G_{t+1}, G_T = 0, for an episode's rewards (T,) float32; returns (T,) float32.
    A loop back through time: each return needs the next one."""
    returns = np.empty_like(rewards)
    running = np.float32(0.0)
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + np.float32(gamma) * running
        returns[t] = running
    return returns
