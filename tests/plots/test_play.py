"""dnnexp play's pieces: a greedy episode's frames and steps, printed as text."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
from rich.console import Console

from dnnexp.core.agents.dynamic_programming import ValueIteration
from dnnexp.data.environments import env_info, make_env
from dnnexp.plots.play import greedy_episode, play_text


def planner_in_the_grid_world():
    env = make_env("GridWorld-v0", render_mode="ansi")
    return SimpleNamespace(agent=ValueIteration(env_info(env), np.random.default_rng(0), gamma=0.9), env=env)


def test_a_greedy_episode_has_a_frame_before_the_first_step_and_after_each():
    rebuilt = planner_in_the_grid_world()
    frames, steps, total = greedy_episode(rebuilt.agent, rebuilt.env, seed=0)
    assert len(frames) == len(steps) + 1 == 6 and total == 1.0
    assert frames[0].splitlines()[2].startswith("A") and frames[-1].splitlines()[0] == "...A"


def test_text_frames_name_the_actions():
    out = io.StringIO()
    play_text(planner_in_the_grid_world(), 2, 0, Console(file=out, width=80))
    text = out.getvalue()
    assert text.count("return 1 in 5 steps") == 2 and "step 5: right, reward 1" in text
