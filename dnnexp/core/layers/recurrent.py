"""Recurrent layers over sequences (N, T, D) (course Day 3 §1–3): simple RNN, LSTM and GRU.

Each is a cell — the course's equations for one time step, forward and backward — looped over
the T steps by the Time layer `Recurrent`, as deep-learning-from-scratch-2's time layers do. The
parameters carry the course's names from u^t = W_(in) x^t + W z^{t−1} + b:

    W_in (D, G·H)   input weights        G gate blocks of H units each:
    W    (H, G·H)   recurrent weights    1 simple RNN, 4 LSTM, 3 GRU
    b    (G·H,)     biases

stored like the dense layer's W (D, units), for row vectors: u = x W_in + z W + b.

Inside, arrays are feature-major, (T, features, N): the course's column vectors
u^t = W_inᵀ x^t + Wᵀ z^{t−1} + b of the N samples side by side, so that each gate of each step is
one contiguous block (elementwise NumPy on a column slice of a row-major array is several times
slower). Speed: the input part W_inᵀ x^t + b of every step is one batched product before the loop
(the bias as the weight of an input fixed at 1), and W_in, b and W get their gradients from one
product per block of steps (`time_blocks`), worked out beside the backward loop once the loop is
through the block; only Wᵀ z^{t−1} (forward) and W δ^t (backward) run per step, with as few
elementwise passes around them as the cell allows (the LSTM's: one compiled loop a step, and
the T steps one compiled call, see core/compiled.py). On two lanes a large batch goes through
the steps as two halves side by side, each with its own arrays (`Piece`): the steps of one
sequence are serial, its samples are not; each half's loop works out its samples' shares of
the weight gradients, the sums over the halves apart whether they ran side by side or not, so
that both give the same bits.

State, for wiring an encoder's final state (the "thought vector") into a decoder:
`set_state(h, c=None)` gives the next forward its initial state (N, H) (zeros otherwise); after a
forward `h` (and the LSTM's `c`) hold the final state; `backward(dout, dfinal)` takes a gradient
for that final state from outside, and leaves the gradient with respect to the initial state in
`dh` (and `dc`). With `layer.stateful = True` the final state is the next forward's initial
state, until `reset_state()` (a decoder generating one step at a time).

Truncated BPTT (`truncate_bptt: k`): the forward pass runs through the whole sequence, but the
gradient does not flow from one block of k steps into the block before (steps 0…k−1, k…2k−1,
…): each block treats the state it starts from as a constant. That is the gradient
deep-learning-from-scratch-2 gets by feeding a stateful layer the blocks one after another.

The course's form of each cell is at the end: `SimpleRNNStep`, `LSTMStep` and `GRUStep` are the
same equations for one step with row vectors, h_t = tanh(h_{t−1} W + x_t W_in + b), as
deep-learning-from-scratch-2 writes them, on the layer's own `params`; `TimeReference` loops them
over T (and truncates BPTT the same way). They are the reference the fast layers are tested
against, forward and backward, and the place to read the equations.
"""

from __future__ import annotations

from typing import Callable, Iterator, Literal

import numpy as np

from dnnexp.core import parallel
from dnnexp.core.functions import sigmoid, sigmoid_
from dnnexp.core.initializers import initializer
from dnnexp.core.layers.base import BuildContext, Layer, ShapeError

State = tuple[np.ndarray, ...]


#: the fewest samples in a half: BLAS takes a product with one column (or a few) by another road,
#: whose sums may round differently from the whole batch's
MIN_HALF = parallel.COLUMN_ALIGN


class Piece:
    """The samples `part` of a batch on their way through the T steps: the arrays a cell reads and
    writes for them, feature-major (T, features, n) — xt, a (gate values), states, da (δ) and the
    cell's own — set by the layer's forward and backward passes. A layer runs its batch as one
    piece, or as two halves, one on each lane (`Recurrent._halves`)."""

    def __init__(self, part: slice):
        self.part = part


def joined(arrays: list[np.ndarray]) -> np.ndarray:
    """The pieces' arrays, samples first, as the whole batch's: the one array itself, else joined."""
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


class Recurrent(Layer):
    """The Time layer: runs a cell (a subclass's `_cell_forward`/`_cell_backward`) over T steps.

    Input (N, T, D); output (N, T, H) with `return_sequences`, else the last step's (N, H).
    Subclasses set `gates` (G) and `state_names` (("h",) or ("h", "c")).
    """

    gates = 1
    state_names: tuple[str, ...] = ("h",)
    penalized = ("W_in", "W")
    #: multiply-adds of a half batch's recurrent product in one step (G·H·H·N/2) from which the
    #: halves go through the steps side by side on two lanes (`_halves`). Each step's dozen NumPy
    #: calls hand the GIL between the two loops: at 2.1·10⁶ (an LSTM of 128 units, batch 64, then
    #: NumPy too) a training step took 0.85 of the whole batch's time, at 1.0–1.6·10⁶ (a GRU of
    #: 128 units at batch 64) from 1.0 to 1.3 times as long.
    half_step_work = 2_000_000
    #: the same over the whole sequence (T·G·H·H·N/2): handing a half to the other lane must pay
    #: (a decoder generating one step at a time would hand one over for each step)
    half_sequence_work = parallel.SPLIT_WORK

    def __init__(
        self,
        units: int,
        return_sequences: bool = False,
        truncate_bptt: int | None = None,
        init: str | dict = "xavier_uniform",
        recurrent_init: str | dict = "orthogonal",
    ):
        super().__init__()
        self.units, self.return_sequences = units, return_sequences
        #: carry the final state into the next forward (set in code, not a spec key: the trainer
        #: shuffles its batches, so state carried from one to the next would mean nothing)
        self.stateful = False
        self.truncate_bptt, self.init, self.recurrent_init = truncate_bptt, init, recurrent_init
        #: set by a callback: backward then leaves ‖dL/ds_t‖ per step in `time_grad_norms` (T,), the
        #: gradient reaching the state s_t = h_t (the LSTM's (h_t, c_t)) from the output and the steps after t
        self.record_time_grads = False
        self.time_grad_norms: np.ndarray | None = None
        self.reset_state()

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) != 2:
            raise ShapeError(
                f"{self.kind} takes sequences (T, D), got {tuple(input_shape)}; "
                "for images read row by row set data.sequence: true"
            )
        T, _ = input_shape
        return (T, self.units) if self.return_sequences else (self.units,)

    def build(self, input_shape, ctx: BuildContext):
        output_shape = self.compute_output_shape(input_shape)
        _, D = input_shape
        H, G = self.units, self.gates
        self.params["W_in"] = initializer(self.init)((D, G * H), D, G * H, ctx.init_rng, ctx.dtype)
        # One orthogonal (H, H) block per gate: each gate's recurrence starts norm-preserving.
        recurrent = initializer(self.recurrent_init)
        self.params["W"] = np.concatenate([recurrent((H, H), H, H, ctx.init_rng, ctx.dtype) for _ in range(G)], axis=1)
        self.params["b"] = np.zeros(G * H, ctx.dtype)
        self._build_extra(ctx)
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        return output_shape

    def _build_extra(self, ctx: BuildContext) -> None:
        """Parameters beyond W_in, W, b (peepholes), and bias initial values."""

    # ---- state ---------------------------------------------------------------------------

    def set_state(self, h: np.ndarray, c: np.ndarray | None = None) -> None:
        """The initial state (N, H) of the next forward pass; the LSTM also takes its cell `c`."""
        state = (h,) if c is None else (h, c)
        if len(state) != len(self.state_names):
            raise ValueError(f"{self.kind} has state {self.state_names}, got {len(state)} array(s)")
        self.initial_state: State | None = state

    def reset_state(self) -> None:
        """Start the next forward pass from zeros."""
        self.initial_state = None

    @property
    def h(self) -> np.ndarray:
        """The final hidden state (N, H) of the last forward pass."""
        return self.final_state[0]

    @property
    def dh(self) -> np.ndarray:
        """dL/d(initial hidden state) (N, H), from the last backward pass."""
        return self.dstate[0]

    # ---- the loop over time --------------------------------------------------------------

    def forward(self, x, train=False):
        N, T, D = x.shape
        self._begin_forward(x.dtype)
        initial = list(self._initial_state(N))
        self.halves = self._halves(N, T, D, x.dtype)
        # Each half through the steps on a lane of its own, where there are two and no per-step
        # norm (a sum over the whole batch) is recorded; else the batch whole, on this lane.
        whole = self.record_time_grads or parallel.lanes() == 1 or len(self.halves) == 1
        self.pieces = [Piece(part) for part in ([slice(0, N)] if whole else self.halves)]
        parallel.side_by_side(lambda piece: self._forward_piece(piece, x, initial), self.pieces)
        self.final_state = tuple(
            joined([piece.states[k][T].T for piece in self.pieces]) for k in range(len(self.state_names))
        )
        if self.stateful:
            self.initial_state = self.final_state
        if self.return_sequences:
            return joined([piece.states[0][1:].transpose(2, 0, 1) for piece in self.pieces])
        return self.final_state[0]

    def _halves(self, N: int, T: int, D: int, dtype: type) -> list[slice]:
        """The batch in two halves, which go through the T steps side by side, one on each lane
        where there are two, or whole: halves where each half's recurrent product is large enough
        to outweigh the GIL the two loops hand back and forth (`half_step_work`), the whole
        sequence's to outweigh handing a half over (`half_sequence_work`), and BLAS gives each of
        the layer's products the same bits in halves as whole (`parallel.exact_in_halves`), so
        that the halves give the whole's very numbers. Not by the lanes: the weight gradients are
        summed over the halves apart on one lane too (`backward`)."""
        step_work = self.gates * self.units * self.units * (N // 2)
        large = N // 2 >= MIN_HALF and step_work >= self.half_step_work and T * step_work >= self.half_sequence_work
        if not large or not parallel.exact_in_halves(self._products(D), N, dtype):
            return [slice(0, N)]
        return parallel.halves(N, parallel.COLUMN_ALIGN)

    def _products(self, D: int) -> tuple[tuple[int, int, bool], ...]:
        """(m, k, whether the first operand is read transposed) of every product (m, k) @ (k, n) of
        a piece's n samples: [W_in; b]ᵀ [x^t; 1] and W_in δ^t here, the cell's own after them."""
        GH = self.gates * self.units
        return (GH, D + 1, True), (D, GH, False), *self._cell_products()

    def _cell_products(self) -> tuple[tuple[int, int, bool], ...]:
        """The cell's products per step, as `_products` gives them."""
        raise NotImplementedError

    def _forward_piece(self, piece: Piece, x: np.ndarray, initial: list[np.ndarray]) -> None:
        """The forward pass of the samples x[piece.part] through all T steps, from `initial` (N, H)."""
        x = x[piece.part]
        n, T, D = x.shape
        # x^t as columns (D, n) over a row of ones, the input the bias weighs, step by step: (T, D + 1, n)
        piece.xt = np.empty((T, D + 1, n), x.dtype)
        piece.xt[:, :D] = x.transpose(1, 2, 0)
        piece.xt[:, D] = 1
        # W_inᵀ x^t + b for all T steps in one batched product; each step adds Wᵀ z^{t−1} in place
        # and turns the sum into its gate values, which backward reads from here.
        piece.a = np.empty((T, self.gates * self.units, n), x.dtype)

        def inputs(steps: slice) -> None:
            np.matmul(self.input_weights.T, piece.xt[steps], out=piece.a[steps])

        parallel.split(inputs, T, piece.a.size * D, exact=True)  # one product per step: see core/parallel.py
        # One (T + 1, H, n) array per state: index 0 holds the initial state, t + 1 the state after step t.
        piece.states = [np.empty((T + 1, self.units, n), x.dtype) for _ in self.state_names]
        for states, state in zip(piece.states, initial):
            states[0] = state[piece.part].T
        self._begin_piece(piece)
        self._forward_steps(piece)

    def _forward_steps(self, piece: Piece) -> None:
        """The cell through all T steps of `piece`, the first first."""
        for t in range(len(piece.a)):
            self._cell_forward(piece, t)

    def backward(self, dout, dfinal: State | None = None):
        """dout: dL/d(output); `dfinal`: dL/d(final state) from outside the layer, as (dh,) or (dh, dc)."""
        T = len(self.pieces[0].a)
        # The weight gradients are sums over the samples and steps, in shares: each half of a
        # batch cut in halves apart, and blocks of steps. A piece's loop works out the shares of
        # its samples as soon as it is through a block, where its numbers are still in its core's
        # cache: with two pieces, each on its own lane; with one, on another lane, where there is
        # one, while the loop goes on (`_weight_grads_later`). The shares do not depend on the
        # lanes (`_halves`): they are the same on one lane as on two, and so is their sum, added
        # in the order of `shares`.
        blocks = time_blocks(T)
        shares = [(half, steps) for half in self.halves for steps in blocks]
        partials = [self.grads]
        if len(shares) > 1:
            partials = [{key: np.empty_like(grad) for key, grad in self.grads.items()} for _ in shares]
        self.time_grad_norms = np.empty(T) if self.record_time_grads and len(self.pieces) == 1 else None
        into = [(half, steps, partial) for (half, steps), partial in zip(shares, partials)]
        parallel.side_by_side(lambda piece: self._backward_piece(piece, dout, dfinal, into), self.pieces)
        if len(partials) > 1:
            parallel.then(lambda: sum_into(self.grads, partials))
        self.dstate = tuple(
            joined([piece.dstate[k] for piece in self.pieces]) for k in range(len(self.state_names))
        )
        if not self.needs_input_grad:
            return None
        return joined([piece.dx.transpose(2, 0, 1) for piece in self.pieces])

    def _backward_piece(
        self, piece: Piece, dout: np.ndarray, dfinal: State | None,
        shares: list[tuple[slice, slice, dict[str, np.ndarray]]],
    ) -> None:
        """The backward pass of the samples of `piece` through all T steps, into piece.da (δ of every
        step's pre-activations), piece.dstate and piece.dx, and the weight gradients' shares
        (half, steps, into) of its samples, block by block (see `backward`)."""
        T, GH, n = piece.a.shape
        own = [share for share in shares if piece.part.start <= share[0].start and share[0].stop <= piece.part.stop]
        dnext = [np.zeros((self.units, n), piece.a.dtype) for _ in self.state_names]
        if dfinal is not None:
            for carried, given in zip(dnext, dfinal):
                carried += given[piece.part].T
        douts = None
        if self.return_sequences:
            douts = np.ascontiguousarray(dout[piece.part].transpose(1, 2, 0))
        else:
            dnext[0] += dout[piece.part].T
        piece.da = np.empty_like(piece.a)  # δ of every step's pre-activations, filled by the cell
        for block in time_blocks(T):
            dnext = self._backward_steps(piece, block, dnext, douts)
            for half, steps, into in own:
                if steps == block:
                    self._weight_grads_later(piece, half, steps, into)
        piece.dstate = [d.T for d in dnext]
        if self.needs_input_grad:
            piece.dx = np.empty((T, len(self.params["W_in"]), n), piece.da.dtype)

            def inputs(steps: slice) -> None:
                np.matmul(self.params["W_in"], piece.da[steps], out=piece.dx[steps])

            parallel.split(inputs, T, piece.dx.size * GH, exact=True)

    def _backward_steps(
        self, piece: Piece, steps: slice, dnext: list[np.ndarray], douts: np.ndarray | None
    ) -> list[np.ndarray]:
        """The cell backwards through `steps` of `piece`, the last first: from dL/d(state after the
        last) (H, n), and douts (T, H, n), dL/d(output) of each step (`return_sequences`), write δ
        into piece.da and return dL/d(state before the first)."""
        norms = self.time_grad_norms
        for t in reversed(range(steps.start, steps.stop)):
            if douts is not None:
                dnext[0] += douts[t]
            if norms is not None:
                norms[t] = np.sqrt(sum(np.vdot(d, d) for d in dnext))  # over the batch, h and c together
            dnext = self._cell_backward(piece, t, dnext)
            if self.truncate_bptt and t % self.truncate_bptt == 0 and t > 0:
                dnext = [np.zeros_like(d) for d in dnext]  # a block boundary: no gradient into the block before
        return dnext

    def _weight_grads_later(self, piece: Piece, half: slice, steps: slice, out: dict[str, np.ndarray]) -> None:
        """`_weight_grads` of the samples `half` of `piece` over `steps`, on another lane where
        there is one (`parallel.later`)."""
        inputs = len(self.params["W_in"]) + 1 + self.units  # x^t, 1 and z^{t−1}
        work = (steps.stop - steps.start) * (half.stop - half.start) * self.gates * self.units * inputs
        parallel.later(lambda: self._weight_grads(piece, half, steps, out), work)

    @staticmethod
    def _gathered(arrays: tuple[np.ndarray, ...], samples: slice, steps: slice) -> np.ndarray:
        """(features, steps·n): a piece's (T, features, ·) arrays over `steps` and its columns
        `samples`, one over the other, their columns in the order (step, sample)."""
        S, n = steps.stop - steps.start, samples.stop - samples.start
        edges = np.cumsum([0] + [array.shape[1] for array in arrays])
        out = np.empty((edges[-1], S, n), arrays[0].dtype)
        for array, start, stop in zip(arrays, edges, edges[1:]):
            out[start:stop] = array[steps, :, samples].transpose(1, 0, 2)
        return out.reshape(edges[-1], S * n)

    def _weight_grads(self, piece: Piece, half: slice, steps: slice, out: dict[str, np.ndarray]) -> None:
        """The share of the samples `half` (of those of `piece`) and of `steps` in every dL/dparam,
        into `out`: the course's ∂E/∂W_(in) = Σ_t δ^t [x^t]ᵀ, ∂E/∂b = Σ_t δ^t and
        ∂E/∂W = Σ_t δ^t [z^{t−1}]ᵀ (stored transposed, like W), one product over those steps and
        samples: δ times the inputs it came from, x^t, the bias's 1 and z^{t−1}, one over the
        other (the cell says which z^{t−1} each gate block multiplies)."""
        samples = slice(half.start - piece.part.start, half.stop - piece.part.start)  # the piece's columns
        da = self._gathered((piece.da,), samples, steps)  # (G·H, steps·n)
        D = len(self.params["W_in"])
        for gates, recurrent_input in self._recurrent_inputs():
            inputs = self._gathered((piece.xt, recurrent_input(piece)), samples, steps)
            grads = inputs @ da[gates].T  # (D + 1 + H, gate units)
            out["W_in"][:, gates], out["b"][gates], out["W"][:, gates] = grads[:D], grads[D], grads[D + 1 :]
        self._cell_grads(piece, samples, steps, da, out)

    def _recurrent_inputs(self) -> list[tuple[slice, Callable[[Piece], np.ndarray]]]:
        """Which gate blocks (columns of W) multiply which (T, H, n) array of a piece: z^{t−1} for all."""
        return [(slice(None), lambda piece: piece.states[0][:-1])]

    def _cell_grads(self, piece: Piece, samples: slice, steps: slice, da: np.ndarray, out: dict[str, np.ndarray]) -> None:
        """The share of the columns `samples` of `piece` and of `steps` in the cell's own parameters
        (the LSTM's peepholes), from their δ (G·H, steps·n)."""

    def _initial_state(self, N: int) -> Iterator[np.ndarray]:
        """The initial state as (N, H) arrays."""
        if self.initial_state is None:
            return (np.zeros((N, self.units)) for _ in self.state_names)
        if self.initial_state[0].shape != (N, self.units):
            raise ValueError(
                f"{self.kind}: the initial state is {self.initial_state[0].shape} but the batch needs "
                f"{(N, self.units)}; call reset_state() (a stateful layer needs batches of one size)"
            )
        return iter(self.initial_state)

    def _begin_forward(self, dtype: type) -> None:
        """Work out what every piece's steps share: [W_in; b] (D + 1, G·H), the weights of x^t and
        of the bias's 1 (and the LSTM's halved recurrent weights)."""
        self.input_weights = np.concatenate([self.params["W_in"], self.params["b"][None]])

    def _begin_piece(self, piece: Piece) -> None:
        """Allocate what a cell keeps per step besides its gates (the LSTM's tanh(c)), for one piece."""

    def _cell_forward(self, piece: Piece, t: int) -> None:
        """Step t: turn piece.a[t] into the gate values in place, write the new state at t + 1."""
        raise NotImplementedError

    def _cell_backward(self, piece: Piece, t: int, dnext: list[np.ndarray]) -> list[np.ndarray]:
        """Step t backwards: from dL/d(state after t) (H, n), write δ into piece.da[t], return
        dL/d(state before t)."""
        raise NotImplementedError


class SimpleRNN(Recurrent):
    """Simple RNN: z^t = f(W_(in) x^t + W z^{t−1} + b), f = tanh or relu (course Day 3 §1).

    Input (N, T, D); output (N, T, H) with `return_sequences`, else (N, H). The step in the
    course's row-vector form: `SimpleRNNStep`.
    """

    kind = "simple_rnn"

    def __init__(
        self,
        units: int,
        activation: Literal["tanh", "relu"] = "tanh",
        return_sequences: bool = False,
        truncate_bptt: int | None = None,
        init: str | dict = "xavier_uniform",
        recurrent_init: str | dict = "orthogonal",
    ):
        super().__init__(units, return_sequences, truncate_bptt, init, recurrent_init)
        self.activation = activation

    def _cell_products(self):
        H = self.units
        return (H, H, True), (H, H, False)  # Wᵀ z^{t−1}, W δ^t

    def _cell_forward(self, piece, t):
        u = piece.a[t]
        u += self.params["W"].T @ piece.states[0][t]
        z = piece.states[0][t + 1]
        if self.activation == "tanh":
            np.tanh(u, out=z)
        else:
            np.maximum(u, 0, out=z)

    def _cell_backward(self, piece, t, dnext):
        z = piece.states[0][t + 1]
        # f'(u) from the output: 1 − z² for tanh, 1 where z > 0 for relu
        slope = 1.0 - z * z if self.activation == "tanh" else z > 0
        delta = piece.da[t]
        np.multiply(dnext[0], slope, out=delta)
        return [self.params["W"] @ delta]


class LSTM(Recurrent):
    """Long short-term memory (course Day 3 §2): gates around the constant error carousel c.

        i = σ(a_i [+ p_i ⊙ c^{t−1}])    input gate       a = W_inᵀ x^t + Wᵀ h^{t−1} + b,
        f = σ(a_f [+ p_f ⊙ c^{t−1}])    forget gate          in blocks [i, f, o, g]
        g = tanh(a_g)                   the new input
        c^t = f ⊙ c^{t−1} + i ⊙ g       the CEC: dc^{t−1} = f ⊙ dc^t, no squashing on the way
        o = σ(a_o [+ p_o ⊙ c^t])        output gate
        h^t = o ⊙ tanh(c^t)

    The bracketed terms are the peephole connections (`peephole: true`, parameter `p` of shape
    (3, H), rows i, f, o, from `peephole_init`; zeros: a plain LSTM at first): the gates look at
    the cell itself (course: 覗き穴結合). The forget gate's bias starts from `forget_bias_init`
    (ones: the cell remembers at first). Input (N, T, D); output (N, T, H) with
    `return_sequences`, else (N, H). State (h, c). The step in the course's row-vector form:
    `LSTMStep`.
    """

    kind = "lstm"

    gates = 4
    state_names = ("h", "c")
    # Compiled steps hand the GIL over at their calls, not a dozen times a step: halves pay from
    # smaller sizes (measured with the steps' loops called one step at a time).
    # Layer forward and backward, T = 28, two lanes, halves against whole: 64 units at batch 64
    # (5.2·10⁵ a step, 1.5·10⁷ the sequence) 2.9–3.0 against 3.5–4.0 ms, 32 units at 256 3.9–4.8
    # against 5.2–5.4, 128 units at 32 4.5–4.7 against 5.5–6.2; 32 units at batch 64 (1.3·10⁵,
    # 3.7·10⁶) 2.1–2.9 against 1.5–2.0.
    half_step_work = 500_000
    half_sequence_work = 8_000_000

    def __init__(
        self,
        units: int,
        return_sequences: bool = False,
        peephole: bool = False,
        peephole_init: str | dict = "zeros",
        forget_bias_init: str | dict = "ones",
        truncate_bptt: int | None = None,
        init: str | dict = "xavier_uniform",
        recurrent_init: str | dict = "orthogonal",
    ):
        super().__init__(units, return_sequences, truncate_bptt, init, recurrent_init)
        self.peephole, self.peephole_init, self.forget_bias_init = peephole, peephole_init, forget_bias_init

    def _build_extra(self, ctx):
        H = self.units
        self.params["b"][H : 2 * H] = initializer(self.forget_bias_init)((H,), H, H, ctx.init_rng, ctx.dtype)
        if self.peephole:
            self.params["p"] = initializer(self.peephole_init)((3, H), H, H, ctx.init_rng, ctx.dtype)

    @property
    def c(self) -> np.ndarray:
        """The final cell state (N, H) of the last forward pass."""
        return self.final_state[1]

    @property
    def dc(self) -> np.ndarray:
        """dL/d(initial cell state) (N, H), from the last backward pass."""
        return self.dstate[1]

    def _begin_forward(self, dtype):
        # σ(a) = (1 + tanh(a/2))/2 (never overflows). The halving is done once, on the weights: the
        # input weights and biases, the recurrent weights and the peepholes of i, f and o. Halving
        # is exact in floating point, so each step's a/2 is the same number as halving the full sum.
        # The compiled loops come with numba (a quarter of a second and 65 MB to import): imported
        # by the first LSTM step, not by every training. Once imported, an import is a lookup.
        from dnnexp.core import compiled

        super()._begin_forward(dtype)
        H = self.units
        self.input_weights[:, : 3 * H] *= 0.5
        self.W_half = np.empty((4 * H, H), dtype)  # (4H, H): rows are the gate units
        compiled.halved_transpose(self.params["W"], 3 * H, self.W_half)
        # (3, H), rows i, f, o: the compiled steps take zeros for a plain LSTM (+ 0 · c changes no number)
        self.peepholes = self.params["p"] if self.peephole else np.zeros((3, H), dtype)
        self.half_peepholes = self.peepholes * 0.5

    def _cell_products(self):
        H = self.units
        return (4 * H, H, False), (H, 4 * H, False)  # W_half h^{t−1}, W δ^t

    def _begin_piece(self, piece):
        T, GH, n = piece.a.shape
        piece.tanh_c = np.empty((T, self.units, n), piece.a.dtype)
        piece.recurrent = np.empty((GH, n), piece.a.dtype)  # Wᵀ h^{t−1}: one buffer for every step

    def _forward_steps(self, piece):
        # All T steps in one compiled call, which calls BLAS for each step's product itself: no
        # return to Python between steps (its calls were 5% of a step, and each hands the GIL
        # between the halves' loops). Where NumPy's BLAS cannot be called so, step by step.
        from dnnexp.core import compiled

        gemm = self._blas_gemm(piece)
        if gemm is None:
            super()._forward_steps(piece)
            return
        hs, cs = piece.states
        compiled.lstm_forward_steps(
            gemm, self.W_half, piece.a, self.half_peepholes, hs, cs, piece.tanh_c, piece.recurrent
        )

    def _backward_steps(self, piece, steps, dnext, douts):
        from dnnexp.core import compiled

        gemm = self._blas_gemm(piece)
        if gemm is None or self.time_grad_norms is not None:  # norms: step by step, between the steps
            return super()._backward_steps(piece, steps, dnext, douts)
        dh, dc = dnext  # carried through the steps in place
        if douts is None:
            douts = np.empty((0, *dh.shape), dh.dtype)
        compiled.lstm_backward_steps(
            gemm, np.ascontiguousarray(self.params["W"]), piece.a, self.peepholes, piece.states[1], piece.tanh_c,
            douts, dh, dc, piece.da, steps.start, steps.stop, self.truncate_bptt or 0,
        )
        return [dh, dc]

    def _blas_gemm(self, piece: Piece) -> int | None:
        """The BLAS routine the compiled time loops call for the products of `piece`
        (`compiled.blas_gemm`), or None, and the steps go one at a time: where NumPy's BLAS cannot
        be called so, where NumPy's matmul would take another (a product with a side of 1, one
        unit or one sample: gemv), or where the weights' type is not the input's (NumPy then
        works in the wider)."""
        from dnnexp.core import compiled

        if self.units < 2 or piece.a.shape[2] < 2 or self.params["W"].dtype != piece.a.dtype:
            return None
        return compiled.blas_gemm(piece.a.dtype)

    def _cell_forward(self, piece, t):
        # The gates, the CEC and h^t in one compiled loop (core/compiled.py): the course's
        # equations, written out elementwise.
        from dnnexp.core import compiled

        hs, cs = piece.states
        np.matmul(self.W_half, hs[t], out=piece.recurrent)
        compiled.lstm_forward_step(
            piece.a[t], piece.recurrent, self.half_peepholes, cs[t], cs[t + 1], piece.tanh_c[t], hs[t + 1]
        )

    def _cell_backward(self, piece, t, dnext):
        from dnnexp.core import compiled

        dh, dc = dnext  # dc becomes dL/dc^{t−1} in place
        c_prev = piece.states[1][t]
        compiled.lstm_backward_step(piece.a[t], self.peepholes, c_prev, piece.tanh_c[t], dh, dc, piece.da[t])
        return [self.params["W"] @ piece.da[t], dc]

    def _cell_grads(self, piece, samples, steps, da, out):
        if self.peephole:
            H, dp = self.units, out["p"]
            cells = self._gathered((piece.states[1][:-1], piece.states[1][1:]), samples, steps)
            c_prev, c_next = cells[:H], cells[H:]
            # Σ over steps and samples of δ of the gate ⊙ the cell that gate looked at
            dp[0] = np.einsum("hk,hk->h", da[:H], c_prev)
            dp[1] = np.einsum("hk,hk->h", da[H : 2 * H], c_prev)
            dp[2] = np.einsum("hk,hk->h", da[2 * H : 3 * H], c_next)


class GRU(Recurrent):
    """Gated recurrent unit (course Day 3 §3; Cho et al. 2014, as deep-learning-from-scratch-2):

        z = σ(a_z + W_zᵀ h^{t−1})              update gate      a = W_inᵀ x^t + b,
        r = σ(a_r + W_rᵀ h^{t−1})              reset gate           in blocks [z, r, h̃]
        h̃ = tanh(a_h + W_hᵀ (r ⊙ h^{t−1}))     candidate
        h^t = (1 − z) ⊙ h^{t−1} + z ⊙ h̃

    Three gate blocks where the LSTM has four, and no cell state. Input (N, T, D); output
    (N, T, H) with `return_sequences`, else (N, H). The step in the course's row-vector form:
    `GRUStep`.
    """

    kind = "gru"

    gates = 3

    def _cell_products(self):
        H = self.units
        # W_z,rᵀ h^{t−1}, W_hᵀ (r ⊙ h^{t−1}); W_h δ_h, W_z,r δ_z,r
        return (2 * H, H, True), (H, H, True), (H, H, False), (H, 2 * H, False)

    def _begin_piece(self, piece):
        T, _, n = piece.a.shape
        piece.rh = np.empty((T, self.units, n), piece.a.dtype)  # r ⊙ h^{t−1}: what W_h multiplies

    def _cell_forward(self, piece, t):
        H = self.units
        hs, W, rh = piece.states[0], self.params["W"], piece.rh
        a = piece.a[t]
        zr = a[: 2 * H]
        zr += W[:, : 2 * H].T @ hs[t]
        sigmoid_(zr)
        z, r, candidate = a[:H], a[H : 2 * H], a[2 * H :]
        np.multiply(r, hs[t], out=rh[t])
        candidate += W[:, 2 * H :].T @ rh[t]
        np.tanh(candidate, out=candidate)
        # (1 − z) h + z h̃ = h + z (h̃ − h)
        h = hs[t + 1]
        np.subtract(candidate, hs[t], out=h)
        h *= z
        h += hs[t]

    def _cell_backward(self, piece, t, dnext):
        (dh,) = dnext
        H = self.units
        h_prev, W = piece.states[0][t], self.params["W"]
        a, da = piece.a[t], piece.da[t]
        z, r, candidate = a[:H], a[H : 2 * H], a[2 * H :]
        daz, dar, dah = da[:H], da[H : 2 * H], da[2 * H :]
        np.multiply(dh, z, out=dah)
        dah *= 1.0 - candidate * candidate
        drh = W[:, 2 * H :] @ dah
        np.subtract(candidate, h_prev, out=daz)
        daz *= dh
        daz *= z * (1.0 - z)
        np.multiply(drh, h_prev, out=dar)
        dar *= r * (1.0 - r)
        dh_prev = dh * (1.0 - z)
        dh_prev += drh * r
        dh_prev += W[:, : 2 * H] @ da[: 2 * H]
        return [dh_prev]

    def _recurrent_inputs(self):
        H = self.units  # W_z and W_r multiply h^{t−1}, W_h multiplies r ⊙ h^{t−1}
        return [(slice(0, 2 * H), lambda piece: piece.states[0][:-1]), (slice(2 * H, None), lambda piece: piece.rh)]


# ---- the course's form: the reference the fast cells above are tested against ----


class ReferenceStep:
    """One time step of a recurrent layer in the course's form: the reference of a fast cell.

    Row vectors as deep-learning-from-scratch-2 writes them: x (N, D), state (N, H), and gate
    block k reads columns k·H … (k+1)·H − 1 of the layer's own W_in (D, G·H), W (H, G·H) and
    b (G·H,), so a step runs on a built layer's `params` as they are. `forward(x, *state)`
    returns the next state and keeps what `backward` needs; `backward(dh_next[, dc_next])`
    returns (dx, dh_prev[, dc_prev]) and leaves this step's share of every dL/dparam in `grads`.
    One object per step, as deep-learning-from-scratch-2's Time layers keep one cell per step.
    """

    def __init__(self, params: dict[str, np.ndarray]):
        self.params = params
        self.grads: dict[str, np.ndarray] = {}

    def affine(self, x: np.ndarray, h_prev: np.ndarray) -> np.ndarray:
        """A = x W_in + h_{t−1} W + b: every gate block's pre-activation (N, G·H)."""
        return x @ self.params["W_in"] + h_prev @ self.params["W"] + self.params["b"]

    def affine_backward(self, dA: np.ndarray, x: np.ndarray, h_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """From dL/dA (N, G·H): dW_in = xᵀ dA, dW = h_{t−1}ᵀ dA, db = Σ_n dA into `grads`;
        returns (dx, dh_prev) = (dA W_inᵀ, dA Wᵀ)."""
        self.grads.update(W_in=x.T @ dA, W=h_prev.T @ dA, b=dA.sum(axis=0))
        return dA @ self.params["W_in"].T, dA @ self.params["W"].T


class SimpleRNNStep(ReferenceStep):
    """The simple RNN's step in the course's form, the reference of `SimpleRNN`'s cell:

        h_t = f(h_{t−1} W + x_t W_in + b)      (u^t = W_(in) x^t + W z^{t−1} + b, row vectors)
        δ_t = dh_t ⊙ f'(u_t),  f' = 1 − h_t² for tanh, [h_t > 0] for relu
    """

    def __init__(self, params: dict[str, np.ndarray], activation: Literal["tanh", "relu"] = "tanh"):
        super().__init__(params)
        self.activation = activation

    def forward(self, x: np.ndarray, h_prev: np.ndarray) -> State:
        u = self.affine(x, h_prev)
        h_next = np.tanh(u) if self.activation == "tanh" else np.maximum(u, 0)
        self.cache = (x, h_prev, h_next)
        return (h_next,)

    def backward(self, dh_next: np.ndarray) -> State:
        x, h_prev, h_next = self.cache
        du = dh_next * (1 - h_next**2) if self.activation == "tanh" else dh_next * (h_next > 0)
        return self.affine_backward(du, x, h_prev)


class LSTMStep(ReferenceStep):
    """The LSTM's step in the course's form, the reference of `LSTM`'s cell. deep-learning-from-
    scratch-2 orders the gate blocks f, g, i, o; this layer's are [i, f, o, g]:

        A = x_t W_in + h_{t−1} W + b
        i = σ(A_i + p_i ⊙ c_{t−1})    f = σ(A_f + p_f ⊙ c_{t−1})    g = tanh(A_g)
        c_t = f ⊙ c_{t−1} + g ⊙ i
        o = σ(A_o + p_o ⊙ c_t)
        h_t = o ⊙ tanh(c_t)

    The peepholes p (3, H), rows i, f, o, are the layer's `p` when it has them, else zero.
    """

    def peepholes(self, H: int, dtype: np.dtype) -> np.ndarray:
        return self.params["p"] if "p" in self.params else np.zeros((3, H), dtype)

    def forward(self, x: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray) -> State:
        N, H = h_prev.shape
        A, p = self.affine(x, h_prev), self.peepholes(H, h_prev.dtype)
        i = sigmoid(A[:, :H] + p[0] * c_prev)
        f = sigmoid(A[:, H : 2 * H] + p[1] * c_prev)
        g = np.tanh(A[:, 3 * H :])
        c_next = f * c_prev + g * i
        o = sigmoid(A[:, 2 * H : 3 * H] + p[2] * c_next)
        h_next = o * np.tanh(c_next)
        self.cache = (x, h_prev, c_prev, i, f, o, g, c_next)
        return h_next, c_next

    def backward(self, dh_next: np.ndarray, dc_next: np.ndarray) -> State:
        x, h_prev, c_prev, i, f, o, g, c_next = self.cache
        N, H = h_prev.shape
        p = self.peepholes(H, h_prev.dtype)
        tanh_c = np.tanh(c_next)
        do = dh_next * tanh_c * o * (1 - o)
        # dL/dc_t: from the next step along the CEC, from h_t, and through o's peephole
        ds = dc_next + dh_next * o * (1 - tanh_c**2) + do * p[2]
        di = ds * g * i * (1 - i)
        df = ds * c_prev * f * (1 - f)
        dg = ds * i * (1 - g**2)
        dc_prev = ds * f + di * p[0] + df * p[1]
        dx, dh_prev = self.affine_backward(np.hstack((di, df, do, dg)), x, h_prev)
        if "p" in self.params:
            self.grads["p"] = np.stack([(di * c_prev).sum(axis=0), (df * c_prev).sum(axis=0), (do * c_next).sum(axis=0)])
        return dx, dh_prev, dc_prev


class GRUStep(ReferenceStep):
    """The GRU's step in the course's form (as deep-learning-from-scratch-2), the reference of
    `GRU`'s cell; gate blocks [z, r, h̃]:

        z = σ(x_t W_in,z + h_{t−1} W_z + b_z)       update gate
        r = σ(x_t W_in,r + h_{t−1} W_r + b_r)       reset gate
        h̃ = tanh(x_t W_in,h + (r ⊙ h_{t−1}) W_h + b_h)
        h_t = (1 − z) ⊙ h_{t−1} + z ⊙ h̃
    """

    def forward(self, x: np.ndarray, h_prev: np.ndarray) -> State:
        N, H = h_prev.shape
        W_in, W, b = self.params["W_in"], self.params["W"], self.params["b"]
        z = sigmoid(x @ W_in[:, :H] + h_prev @ W[:, :H] + b[:H])
        r = sigmoid(x @ W_in[:, H : 2 * H] + h_prev @ W[:, H : 2 * H] + b[H : 2 * H])
        h_hat = np.tanh(x @ W_in[:, 2 * H :] + (r * h_prev) @ W[:, 2 * H :] + b[2 * H :])
        h_next = (1 - z) * h_prev + z * h_hat
        self.cache = (x, h_prev, z, r, h_hat)
        return (h_next,)

    def backward(self, dh_next: np.ndarray) -> State:
        x, h_prev, z, r, h_hat = self.cache
        N, H = h_prev.shape
        W_in, W = self.params["W_in"], self.params["W"]
        dt = dh_next * z * (1 - h_hat**2)  # dL/d(h̃'s pre-activation)
        dhr = dt @ W[:, 2 * H :].T  # dL/d(r ⊙ h_{t−1})
        dz = dh_next * (h_hat - h_prev) * z * (1 - z)
        dr = dhr * h_prev * r * (1 - r)
        dA = np.hstack((dz, dr, dt))
        dW = np.hstack((h_prev.T @ dA[:, : 2 * H], (r * h_prev).T @ dt))
        self.grads.update(W_in=x.T @ dA, W=dW, b=dA.sum(axis=0))
        dh_prev = dh_next * (1 - z) + dhr * r + dA[:, : 2 * H] @ W[:, : 2 * H].T
        return dA @ W_in.T, dh_prev


class TimeReference:
    """deep-learning-from-scratch-2's Time layer over reference steps: a Python loop over the T
    steps, one `step(params)` object each, the gradients of the parameters summed over them.

    `forward(xs, state)`: xs (N, T, D) and the initial state ((h,) or (h, c), each (N, H)) give
    hs (N, T, H), every step's h; the final state is left in `final_state`.
    `backward(dhs, dfinal)`: dL/dh_t for every step (N, T, H) and dL/d(final state) give
    dxs (N, T, D); `grads` holds dL/dparam, `dstate` dL/d(initial state). With `truncate_bptt`
    k, the state each block of k steps starts from (the one before steps k, 2k, …) is a constant
    to that block: no gradient flows back into it from there, as in the fast layer.
    """

    def __init__(
        self,
        step: Callable[[dict[str, np.ndarray]], ReferenceStep],
        params: dict[str, np.ndarray],
        truncate_bptt: int | None = None,
    ):
        self.step, self.params, self.truncate_bptt = step, params, truncate_bptt

    def forward(self, xs: np.ndarray, state: State) -> np.ndarray:
        N, T, D = xs.shape
        self.steps, hs = [], []
        for t in range(T):
            self.steps.append(self.step(self.params))
            state = self.steps[t].forward(xs[:, t], *state)
            hs.append(state[0])
        self.final_state = tuple(state)
        return np.stack(hs, axis=1)

    def backward(self, dhs: np.ndarray, dfinal: State | None = None) -> np.ndarray:
        N, T, H = dhs.shape
        dstate = list(dfinal) if dfinal is not None else [np.zeros_like(s) for s in self.final_state]
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        dxs = np.empty((N, T, len(self.params["W_in"])), dhs.dtype)
        for t in reversed(range(T)):
            step = self.steps[t]
            # h_t goes both to the output and to the next step: the two gradients add up
            dxs[:, t], *dstate = step.backward(dhs[:, t] + dstate[0], *dstate[1:])
            for key, grad in step.grads.items():
                self.grads[key] += grad
            if self.truncate_bptt and t % self.truncate_bptt == 0 and t > 0:
                dstate = [np.zeros_like(d) for d in dstate]
        self.dstate = tuple(dstate)
        return dxs


#: how many steps make a block of the weight gradients' sums: the fewest that keep each block's
#: products large (a block is worked out beside the backward loop, see `Recurrent.backward`)
BLOCK_STEPS = 8


def time_blocks(T: int) -> list[slice]:
    """The blocks of steps whose shares of the weight gradients are summed, in the order the backward
    loop finishes them (the last steps first): up to four, fixed by T alone, so the sums come out
    the same bit for bit whichever lane worked out each block."""
    count = 4 if T >= 4 * BLOCK_STEPS else 2 if T >= 2 * BLOCK_STEPS else 1
    edges = [T * k // count for k in range(count + 1)]
    return [slice(edges[k], edges[k + 1]) for k in reversed(range(count))]


def sum_into(grads: dict[str, np.ndarray], partials: list[dict[str, np.ndarray]]) -> None:
    """grads[key] = Σ partials[k][key] over two or more partials, added in the order of the list."""
    for key, grad in grads.items():
        np.add(partials[0][key], partials[1][key], out=grad)
        for partial in partials[2:]:
            grad += partial[key]


def recurrent_layers(layers: dict[str, Layer]) -> list[tuple[str, Recurrent]]:
    """(name, layer) of every recurrent layer among `layers` (by name), also inside wrappers, which
    list what they wrap in `wrapped`: "lstm1", "bidirectional1.forward", …"""
    found: list[tuple[str, Recurrent]] = []
    for name, layer in layers.items():
        if isinstance(layer, Recurrent):
            found.append((name, layer))
        found += recurrent_layers({f"{name}.{key}": inner for key, inner in getattr(layer, "wrapped", {}).items()})
    return found
