"""The course book's grid world: its moves, rewards, walls and ending."""

from __future__ import annotations

from dnnexp.data.gridworld import GridWorld

UP, DOWN, LEFT, RIGHT = range(4)


def walk(env: GridWorld, actions: list[int]) -> list[tuple[int, float, bool]]:
    env.reset(seed=0)
    return [env.step(a)[:3] for a in actions]


def test_the_shortest_path_reaches_the_goal_in_five_steps():
    env = GridWorld()
    assert env.reset(seed=0)[0] == 8
    steps = walk(env, [UP, UP, RIGHT, RIGHT, RIGHT])
    assert [s for s, _, _ in steps] == [4, 0, 1, 2, 3]
    assert [r for _, r, _ in steps] == [0, 0, 0, 0, 1.0]
    assert [done for _, _, done in steps] == [False] * 4 + [True]


def test_walls_and_edges_keep_the_agent_in_place_and_the_trap_costs_one_without_ending():
    env = GridWorld()
    assert walk(env, [LEFT, DOWN, RIGHT, UP]) == [(8, 0.0, False), (8, 0.0, False), (9, 0.0, False), (9, 0.0, False)]
    assert walk(env, [RIGHT, RIGHT, RIGHT, UP]) == [(9, 0.0, False), (10, 0.0, False), (11, 0.0, False), (7, -1.0, False)]


def test_it_draws_itself_as_text():
    env = GridWorld(render_mode="ansi")
    env.reset(seed=0)
    assert env.render() == "...G\n.#.T\nA...\n"
