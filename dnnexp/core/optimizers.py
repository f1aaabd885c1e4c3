"""Optimizers of the SGD family, each the update rule of the course (Day 1 §4, Day 2 §2).

Every optimizer is the same small loop as in the course's code: `update(params, grads)` walks the
named parameters and changes each array in place. Per-parameter state (velocities, squared-gradient
averages) lives in `self.state` under "<param>/<slot>", so it can be checkpointed as plain arrays.
Hyperparameters are Python floats: under NumPy 2 a numpy.float64 scalar would silently turn a
float32 update into float64.
"""

from __future__ import annotations

import math
from typing import Callable, Iterator

import numpy as np

from dnnexp.core import flat, parallel


class Optimizer:
    """Base optimizer: `update(params, grads)` changes `params` in place."""

    def __init__(self, lr: float):
        self.lr = float(lr)
        self.state: dict[str, np.ndarray] = {}
        self.steps = 0

    def slot(self, key: str, slot: str, like: np.ndarray) -> np.ndarray:
        """The state array `slot` of parameter `key`, zeros on first use."""
        name = f"{key}/{slot}"
        if name not in self.state:
            self.state[name] = np.zeros_like(like, order="C")  # Adam steps it as a flat view
        return self.state[name]

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.steps += 1
        for key, param in params.items():
            self.step(key, param, grads[key])

    def step(self, key: str, param: np.ndarray, grad: np.ndarray) -> None:
        raise NotImplementedError

    def update_rows(self, params: dict[str, np.ndarray], grads: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        """`update` for sparse gradients: `grads[key]` is (rows, gradients of those rows), the rows
        unique. Only those rows move, by the optimizer's own rule, and only their state changes:
        the lazy update of PyTorch's SparseAdam and TensorFlow's LazyAdam, since a word2vec step
        touches a few of the vocabulary's rows and the others' zero gradients would still decay
        their momentum. Rows no step has touched keep state zero, as in `update`."""
        full = self.state
        picked = {key: params[key][rows] for key, (rows, _) in grads.items()}
        # Each parameter's slots, gathered to the rows a step touched ("<param>/<slot>" names).
        self.state = {name: value[grads[owner][0]] for name, value in full.items() if (owner := name.rpartition("/")[0]) in grads}
        try:
            self.update(picked, {key: grad for key, (_, grad) in grads.items()})
        finally:
            gathered, self.state = self.state, full
        for key, (rows, _) in grads.items():
            params[key][rows] = picked[key]
        for name, value in gathered.items():
            owner = name.rpartition("/")[0]
            if name not in full:
                full[name] = np.zeros_like(params[owner], order="C")
            full[name][grads[owner][0]] = value

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {**self.state, "steps": np.array(self.steps)}

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        arrays = dict(arrays)
        self.steps = int(arrays.pop("steps"))
        self.state = {key: value.copy() for key, value in arrays.items()}


class SGD(Optimizer):
    """Stochastic gradient descent: w ← w − ε ∇E."""

    kind = "sgd"

    def __init__(self, lr: float = 0.01):
        super().__init__(lr)

    def step(self, key, param, grad):
        param -= self.lr * grad


class Momentum(Optimizer):
    """Momentum: V ← μV − ε∇E, w ← w + V; the velocity carries the update through flat valleys."""

    kind = "momentum"

    def __init__(self, lr: float = 0.01, momentum: float = 0.9):
        super().__init__(lr)
        self.momentum = float(momentum)

    def step(self, key, param, grad):
        v = self.slot(key, "v", param)
        v *= self.momentum
        v -= self.lr * grad
        param += v


class Nesterov(Optimizer):
    """Nesterov accelerated gradient: momentum with the gradient taken after the look-ahead step.

    Written in the usual re-parametrised form w ← w − μV_{t−1} + (1 + μ)V_t.
    """

    kind = "nesterov"

    def __init__(self, lr: float = 0.01, momentum: float = 0.9):
        super().__init__(lr)
        self.momentum = float(momentum)

    def step(self, key, param, grad):
        v = self.slot(key, "v", param)
        param -= self.momentum * v
        v *= self.momentum
        v -= self.lr * grad
        param += (1.0 + self.momentum) * v


class AdaGrad(Optimizer):
    """AdaGrad: h ← h + (∇E)², w ← w − ε ∇E / (√h + θ); the step shrinks for often-updated weights."""

    kind = "adagrad"

    def __init__(self, lr: float = 0.01, eps: float = 1e-7):
        super().__init__(lr)
        self.eps = float(eps)

    def step(self, key, param, grad):
        h = self.slot(key, "h", param)
        h += grad * grad
        param -= self.lr * grad / (np.sqrt(h) + self.eps)


class RMSProp(Optimizer):
    """RMSProp: h ← αh + (1 − α)(∇E)², w ← w − ε ∇E / (√h + θ); AdaGrad that forgets."""

    kind = "rmsprop"

    def __init__(self, lr: float = 0.001, alpha: float = 0.99, eps: float = 1e-7):
        super().__init__(lr)
        self.alpha, self.eps = float(alpha), float(eps)

    def step(self, key, param, grad):
        h = self.slot(key, "h", param)
        h *= self.alpha
        h += (1.0 - self.alpha) * grad * grad
        param -= self.lr * grad / (np.sqrt(h) + self.eps)


class AdaDelta(Optimizer):
    """AdaDelta: steps scaled by √(E[Δw²] + ε) / √(E[g²] + ε), so no learning rate is needed (lr=1)."""

    kind = "adadelta"

    def __init__(self, lr: float = 1.0, rho: float = 0.95, eps: float = 1e-6):
        super().__init__(lr)
        self.rho, self.eps = float(rho), float(eps)

    def step(self, key, param, grad):
        g2, dw2 = self.slot(key, "g2", param), self.slot(key, "dw2", param)
        g2 *= self.rho
        g2 += (1.0 - self.rho) * grad * grad
        delta = np.sqrt(dw2 + self.eps) / np.sqrt(g2 + self.eps) * grad
        dw2 *= self.rho
        dw2 += (1.0 - self.rho) * delta * delta
        param -= self.lr * delta


class Adam(Optimizer):
    """Adam: momentum's decaying mean of gradients plus RMSProp's decaying mean of their squares,
    both bias-corrected. The same update in the course's three lines: `AdamReference`.

    The step is one compiled pass over each array's numbers (`compiled.adam_step`). From its
    second step on the same parameter arrays (a model's), the slots m and v of every parameter
    are views of two flat arrays (`Packed`), and where the parameters and gradients are too (a
    Sequential packs them, core/flat.py) the step is one pass over all of them at once: a network
    of many small layers would spend most of an update in the calls, not in the numbers.
    """

    kind = "adam"

    #: the work of a step over one number, in multiply-adds (see `parallel.PASS`): it reads four
    #: arrays and writes three
    WORK = 4 * parallel.PASS

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self._packed: Packed | None = None
        self._last: list[np.ndarray] = []  # the parameter arrays of the last step

    def update(self, params, grads):
        t = self.steps + 1
        # Both bias corrections folded into the step size; math keeps it a Python float.
        self.lr_t = self.lr * math.sqrt(1.0 - self.beta2**t) / (1.0 - self.beta1**t)
        packed = self._packing(params)
        if packed is None:
            super().update(params, grads)
            return
        self.steps += 1
        arrays = packed.arrays([grads[key] for key in packed.keys])

        def numbers(part: slice) -> None:  # a share of the flat arrays: halves on two lanes where large
            for param, grad, m, v in arrays(part):
                self._step_numbers(param, grad, m, v)

        parallel.split(numbers, packed.size, self.WORK * packed.size, exact=True)

    def _packing(self, params: dict[str, np.ndarray]) -> "Packed | None":
        """The packed slots for `params`, made when they are the arrays of the last step too
        (not the rows `update_rows` picks afresh each step), and again after the state was loaded;
        None where they cannot be packed (one array, mixed types, or not contiguous)."""
        arrays, last = list(params.values()), self._last
        self._last = arrays
        if self._packed is not None and self._packed.fits(arrays, self.state):
            return self._packed
        same = len(arrays) == len(last) and all(a is b for a, b in zip(arrays, last))
        self._packed = Packed(params, self.state) if same and Packed.can_hold(arrays) else None
        return self._packed

    def step(self, key, param, grad):
        written = [param, self.slot(key, "m", param), self.slot(key, "v", param)]
        # The compiled pass takes flat views: an array in another memory order (of which reshape
        # would make a copy) is stepped as a contiguous copy and written back.
        stepped = [np.ascontiguousarray(array) for array in written]
        flat_param, flat_m, flat_v = (array.reshape(-1) for array in stepped)
        flat_grad = np.ascontiguousarray(grad).reshape(-1)

        def numbers(part: slice) -> None:  # a large parameter's halves on two lanes, each writing its own
            self._step_numbers(flat_param[part], flat_grad[part], flat_m[part], flat_v[part])

        parallel.split(numbers, param.size, self.WORK * param.size, exact=True)
        for array, copy in zip(written, stepped):
            if copy is not array:
                array[...] = copy

    def _step_numbers(self, param: np.ndarray, grad: np.ndarray, m: np.ndarray, v: np.ndarray) -> None:
        """m, v and the parameter a step on, flat arrays of the same numbers. The hyperparameters go
        in as numbers of the arrays' type, as NumPy takes a Python float into a float32 pass."""
        from dnnexp.core import compiled  # numba: imported by the first Adam step, not by every training

        number = param.dtype.type
        compiled.adam_step(
            param, grad, m, v, number(self.beta1), number(1.0 - self.beta1), number(self.beta2),
            number(1.0 - self.beta2), number(self.eps), number(self.lr_t),
        )


class Packed:
    """Adam's slots m and v of every parameter as views of two flat arrays, in the order of the
    parameters (so `state` keeps its "<param>/m" arrays and checkpoints do not change). The
    parameters and gradients are taken as the flat arrays they are views of where the model
    packed them so (`dnnexp.core.flat`); else each parameter is stepped apart."""

    def __init__(self, params: dict[str, np.ndarray], state: dict[str, np.ndarray]):
        self.params = list(params.values())
        self.bounds = np.cumsum([0, *(param.size for param in self.params)]).tolist()
        self.size, dtype = self.bounds[-1], self.params[0].dtype
        self.m, self.v = np.zeros(self.size, dtype), np.zeros(self.size, dtype)
        self.flat_params = flat.span(self.params)
        self._grads: list[np.ndarray] = []  # the gradient arrays of the last step, and their flat array
        self.flat_grads: np.ndarray | None = None
        self.views: dict[str, np.ndarray] = {}
        for (key, param), start, stop in zip(params.items(), self.bounds, self.bounds[1:]):
            for slot, flat_slot in (("m", self.m), ("v", self.v)):
                name = f"{key}/{slot}"
                if name in state:  # the steps before, or a loaded checkpoint
                    flat_slot[start:stop] = state[name].reshape(-1)
                state[name] = self.views[name] = flat_slot[start:stop].reshape(param.shape)
        self.keys = list(params)

    @staticmethod
    def can_hold(arrays: list[np.ndarray]) -> bool:
        return len(arrays) > 1 and len({a.dtype for a in arrays}) == 1 and all(a.flags.c_contiguous for a in arrays)

    def fits(self, arrays: list[np.ndarray], state: dict[str, np.ndarray]) -> bool:
        """Whether these are the arrays packed, and the state still the packed views."""
        return (
            len(arrays) == len(self.params)
            and all(a is b for a, b in zip(arrays, self.params))
            and all(state.get(name) is view for name, view in self.views.items())
        )

    def arrays(self, grads: list[np.ndarray]) -> Callable[[slice], Iterator[tuple[np.ndarray, ...]]]:
        """part → (parameter, gradient, m, v) flat views of the numbers within `part` of the flat
        arrays, `grads` in the parameters' order: once, where the parameters and the gradients are
        flat arrays, else one for each parameter with numbers there."""
        if len(grads) != len(self._grads) or any(a is not b for a, b in zip(grads, self._grads)):
            self._grads, self.flat_grads = grads, flat.span(grads)
        if self.flat_params is not None and self.flat_grads is not None:
            return lambda part: iter([(self.flat_params[part], self.flat_grads[part], self.m[part], self.v[part])])
        flat_params = [param.reshape(-1) for param in self.params]
        flat_grads = [np.ascontiguousarray(grad).reshape(-1) for grad in grads]

        def apart(part: slice) -> Iterator[tuple[np.ndarray, ...]]:
            for index, (start, stop) in enumerate(zip(self.bounds, self.bounds[1:])):
                low, high = max(start, part.start), min(stop, part.stop)
                if low < high:
                    own = slice(low - start, high - start)
                    yield flat_params[index][own], flat_grads[index][own], self.m[low:high], self.v[low:high]

        return apart


class AdamW(Adam):
    """AdamW: Adam with weight decay applied to the weights directly, not through the gradient."""

    kind = "adamw"

    def __init__(
        self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.01
    ):
        super().__init__(lr, beta1, beta2, eps)
        self.weight_decay = float(weight_decay)

    def update(self, params, grads):
        for param in params.values():
            param *= 1.0 - self.lr * self.weight_decay
        super().update(params, grads)


class AdamReference(Optimizer):
    """Adam in the course's three lines, for each parameter θ with gradient g at step t:

        m ← β1 m + (1 − β1) g
        v ← β2 v + (1 − β2) g²
        θ ← θ − lr · m̂ / (√v̂ + ε̂),    m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)

    The reference the fast `Adam` is tested against (not registered: not a spec name). ε̂ is
    ε / √(1 − β2^t): the fast `Adam`, like deep-learning-from-scratch's, adds ε to √v before the
    bias correction, lr_t · m / (√v + ε), which is ε̂ added to √v̂. Kingma & Ba's Algorithm 1 adds
    ε itself to √v̂; the two differ only where √v̂ is not far above ε̂ (tiny gradients, first steps).
    """

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def step(self, key, param, grad):
        m, v, t = self.slot(key, "m", param), self.slot(key, "v", param), self.steps
        m[...] = self.beta1 * m + (1.0 - self.beta1) * grad
        v[...] = self.beta2 * v + (1.0 - self.beta2) * grad**2
        m_hat, v_hat = m / (1.0 - self.beta1**t), v / (1.0 - self.beta2**t)
        param -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps / math.sqrt(1.0 - self.beta2**t))
