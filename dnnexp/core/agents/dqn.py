"""Deep Q-network (course Day 4 §2; Mnih et al. 2015): Q-learning with a neural network, made
stable by experience replay and a target network.

Each gradient step draws a batch from the replay buffer and moves Q(s, a; θ) toward

    y = r + γ (1 − terminated) max_a' Q(s', a'; θ⁻)                      (DQN)
    y = r + γ (1 − terminated) Q(s', argmax_a' Q(s', a'; θ); θ⁻)          (double DQN)

with the Huber loss on y − Q(s, a; θ), θ⁻ being the target network: a copy of θ refreshed every
`target_update` env steps, θ⁻ ← τθ + (1 − τ)θ⁻ (τ = 1: a hard copy; τ < 1: Polyak averaging).
Training starts after `learning_starts` env steps and runs `gradient_steps` steps every
`train_freq` env steps; gradients are clipped to a global norm of `max_grad_norm` where given.
Double DQN picks the next action with the online network and values it with the target one,
which removes max's upward bias from noisy estimates (van Hasselt et al. 2016).
"""

from __future__ import annotations

import copy

import numpy as np

from dnnexp.core.agents.base import EnvInfo, Network, Transition, generator_state, set_generator_state
from dnnexp.core.agents.epsilon_greedy import EpsilonGreedy
from dnnexp.core.agents.exploration import Exploration
from dnnexp.core.agents.features import observations
from dnnexp.core.agents.replay import ReplayBuffer
from dnnexp.core.agents.state import load_network_arrays, network_arrays, prefixed
from dnnexp.core.losses import Huber
from dnnexp.core.regularizers import clip_by_global_norm


class DQN(EpsilonGreedy):
    """DQN: Q-learning with the network `q` (one output per action), a replay buffer of the last
    `buffer_size` steps sampled in batches of `batch_size`, a target network (copied every
    `target_update` env steps, or Polyak-averaged with `tau` < 1), Huber loss, and `double: true`
    for double DQN."""

    kind = "dqn"
    networks = {"q": "actions"}

    def __init__(
        self,
        info: EnvInfo,
        rng: np.random.Generator,
        q: Network,
        gamma: float = 0.99,
        epsilon: float | Exploration = 0.1,
        buffer_size: int = 50_000,
        batch_size: int = 64,
        learning_starts: int = 1_000,
        train_freq: int = 1,
        gradient_steps: int = 1,
        target_update: int = 500,
        tau: float = 1.0,
        double: bool = False,
        huber_delta: float = 1.0,
        max_grad_norm: float | None = 10.0,
    ):
        super().__init__(info, rng, gamma, epsilon)
        self.q = q
        self.target = copy.deepcopy(q.model)
        self.buffer = ReplayBuffer(buffer_size, info.obs_shape, np.int64 if info.n_states is not None else np.float32)
        self.batch_size, self.learning_starts = int(batch_size), int(learning_starts)
        self.train_freq, self.gradient_steps = int(train_freq), int(gradient_steps)
        self.target_update, self.tau, self.double = int(target_update), float(tau), bool(double)
        self.loss = Huber(huber_delta)
        self.max_grad_norm = max_grad_norm

    def action_values(self, state):
        return self.q.model.forward(observations(self.info, state))[0]

    def learn(self, step: Transition) -> float | None:
        self.buffer.add(step)
        self.steps += 1
        if self.steps % self.target_update == 0:
            self.update_target()
        if self.steps < self.learning_starts or self.steps % self.train_freq:
            return None
        return float(np.mean([self.gradient_step() for _ in range(self.gradient_steps)]))

    def gradient_step(self) -> float:
        """One Huber-loss step on a batch from the buffer; returns its loss."""
        loss = self.td_loss(self.buffer.sample(self.batch_size, self.rng))
        if self.max_grad_norm is not None:
            clip_by_global_norm(self.q.model.grads, self.max_grad_norm)
        self.q.optimizer.update(self.q.model.params, self.q.model.grads)
        return loss

    def td_loss(self, batch: tuple[np.ndarray, ...]) -> float:
        """The Huber loss of Q(s, a; θ) against the targets y for a batch (states, actions,
        rewards, next_states, terminated); fills the gradients of θ (y held fixed)."""
        states, actions, rewards, next_states, terminated = batch
        rows = np.arange(len(actions))
        x, x_next = observations(self.info, states), observations(self.info, next_states)
        q_next = self.target.forward(x_next)
        if self.double:
            next_value = q_next[rows, self.q.model.forward(x_next).argmax(axis=1)]
        else:
            next_value = q_next.max(axis=1)
        y = rewards + self.gamma * (1.0 - terminated) * next_value
        # The forward pass that backward follows comes last, after those for the targets.
        q = self.q.model.forward(x, train=True)
        loss = self.loss.forward(q[rows, actions], y)
        # Only the taken action's output has a loss: the others get a zero gradient.
        dout = np.zeros_like(q)
        dout[rows, actions] = self.loss.backward()
        self.q.model.backward(dout)
        return loss

    def update_target(self) -> None:
        """θ⁻ ← τθ + (1 − τ)θ⁻, in place."""
        for key, online in self.q.model.params.items():
            target = self.target.params[key]
            if self.tau == 1.0:
                target[...] = online
            else:
                target *= 1.0 - self.tau
                target += self.tau * online

    def q_values(self):
        if self.info.n_states is None:
            return None
        return self.q.model.forward(observations(self.info, np.arange(self.info.n_states))).astype(np.float64)

    def state_arrays(self):
        return {
            **network_arrays("q", self.q),
            **{f"target/{key}": value.copy() for key, value in self.target.state_arrays().items()},
            **{f"buffer/{key}": value for key, value in self.buffer.state_arrays().items()},
            "steps": np.array(self.steps),
            "rng": generator_state(self.rng),
        }

    def load_state_arrays(self, arrays):
        load_network_arrays("q", self.q, arrays)
        self.target.load_state_arrays(prefixed("target", arrays))
        self.buffer.load_state_arrays(prefixed("buffer", arrays))
        self.steps = int(arrays["steps"])
        set_generator_state(self.rng, arrays["rng"])
