"""The course book's grid world (deep-learning-from-scratch-4, ch. 4–6): 3 rows × 4 columns, the
goal (+1) top right, a trap (−1) below it, a wall at row 1, column 1, the start bottom left.

It is the small world whose answers are known: with γ = 0.9 the optimal value of the start is
0.9⁴ = 0.6561 (five steps to the goal, its reward discounted four times). A gymnasium environment,
so that the episode loop treats it as any other, with its transition table `P` in gymnasium's
toy-text layout for dynamic programming.
"""

from __future__ import annotations

from typing import Any

import gymnasium
from gymnasium import spaces

#: the book's reward map: the reward for arriving in each cell (None: the wall)
REWARD_MAP = ((0.0, 0.0, 0.0, 1.0), (0.0, None, 0.0, -1.0), (0.0, 0.0, 0.0, 0.0))
GOAL, TRAP, WALL, START = (0, 3), (1, 3), (1, 1), (2, 0)
#: the book's action order: up, down, left, right, as (row, column) moves
MOVES = ((-1, 0), (1, 0), (0, -1), (0, 1))


class GridWorld(gymnasium.Env):
    """The course book's 3×4 grid world: goal +1, trap −1, one wall; moves are deterministic, a move
    into the wall or off the grid stays put, and only the goal ends an episode (as in the book).

    States are the cells numbered row by row (row · 4 + column, 12 of them, the wall's unreachable);
    actions 0 up, 1 down, 2 left, 3 right; the reward is the arrival cell's.
    """

    metadata = {"render_modes": ["ansi"]}

    def __init__(self, render_mode: str | None = None):
        self.shape = (len(REWARD_MAP), len(REWARD_MAP[0]))
        self.observation_space = spaces.Discrete(self.shape[0] * self.shape[1])
        self.action_space = spaces.Discrete(len(MOVES))
        self.render_mode = render_mode
        self.P = {s: {a: [self._transition(s, a)] for a in range(len(MOVES))} for s in range(self.observation_space.n)}
        self.state = self.index(START)

    def index(self, cell: tuple[int, int]) -> int:
        return cell[0] * self.shape[1] + cell[1]

    def _transition(self, state: int, action: int) -> tuple[float, int, float, bool]:
        """(probability, next state, reward, terminated): the goal and the wall absorb with reward 0."""
        cell = divmod(state, self.shape[1])
        if cell in (GOAL, WALL):
            return 1.0, state, 0.0, True
        row, col = cell[0] + MOVES[action][0], cell[1] + MOVES[action][1]
        if not (0 <= row < self.shape[0] and 0 <= col < self.shape[1]) or (row, col) == WALL:
            row, col = cell
        return 1.0, self.index((row, col)), float(REWARD_MAP[row][col]), (row, col) == GOAL

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[int, dict]:
        super().reset(seed=seed)
        self.state = self.index(START)
        return self.state, {}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict]:
        _, self.state, reward, terminated = self.P[self.state][int(action)][0]
        return self.state, reward, terminated, False, {}

    def render(self) -> str:
        """The grid as text: A the agent, G the goal, T the trap, # the wall, . the rest."""
        marks = {GOAL: "G", TRAP: "T", WALL: "#"}
        here = divmod(self.state, self.shape[1])
        rows = [
            "".join("A" if (r, c) == here else marks.get((r, c), ".") for c in range(self.shape[1]))
            for r in range(self.shape[0])
        ]
        return "\n".join(rows) + "\n"

