"""A trained agent acting (`dnnexp play`): text frames of the toy-text worlds on the terminal, or
an animation (GIF) of gymnasium's pictures for CartPole and friends."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from dnnexp.data.environments import action_name
from dnnexp.runs.rundir import make_folder, write_atomically

#: frames a second in the GIF
FPS = 30


def greedy_episode(agent: Any, env: Any, seed: int) -> tuple[list[Any], list[tuple[int, float]], float]:
    """One greedy episode: the frames env.render() gave (the start, then after each step), each
    step's (action, reward), and the return."""
    observation, _ = env.reset(seed=seed)
    frames, steps, total, done = [env.render()], [], 0.0, False
    while not done:
        action = agent.act(observation, greedy=True)
        observation, reward, terminated, truncated, _ = env.step(action)
        frames.append(env.render())
        steps.append((action, float(reward)))
        total, done = total + float(reward), terminated or truncated
    return frames, steps, total


def play_text(rebuilt: Any, episodes: int, seed: int, console: Console) -> None:
    """`episodes` greedy episodes printed frame by frame, with each step's action and reward."""
    for episode in range(episodes):
        frames, steps, total = greedy_episode(rebuilt.agent, rebuilt.env, seed + episode)
        console.print(f"episode {episode + 1} (seed {seed + episode})", style="bold")
        console.print(frames[0], markup=False, highlight=False)
        for t, ((action, reward), frame) in enumerate(zip(steps, frames[1:]), start=1):
            console.print(f"step {t}: {action_name(rebuilt.env, action)}, reward {reward:g}", markup=False)
            console.print(frame, markup=False, highlight=False)
        console.print(f"return {total:g} in {len(steps)} steps\n")


def play_frames(rebuilt: Any, episodes: int, seed: int, out: Path) -> Path:
    """`episodes` greedy episodes drawn by the environment (rgb_array) as one GIF at `out`."""
    from matplotlib.animation import PillowWriter
    from matplotlib.figure import Figure

    # gymnasium draws off screen with pygame; without a display SDL would complain on stderr
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    pictures, captions = [], []
    for episode in range(episodes):
        frames, steps, total = greedy_episode(rebuilt.agent, rebuilt.env, seed + episode)
        pictures.extend(frames)
        captions.extend(
            f"episode {episode + 1}, step {t}" + (f": {action_name(rebuilt.env, steps[t - 1][0])}" if t else "")
            + f", return {sum(r for _, r in steps[:t]):g}"
            for t in range(len(frames))
        )
    height, width = np.asarray(pictures[0]).shape[:2]
    fig = Figure(figsize=(width / 100, height / 100 + 0.3), dpi=100)
    ax = fig.add_axes((0, 0, 1, height / (height + 30)))
    ax.set_axis_off()
    image = ax.imshow(pictures[0])
    title = fig.text(0.5, 0.98, captions[0], ha="center", va="top", fontsize=8)
    out = Path(out)
    make_folder(out.parent)
    partial = out.with_name(f".{out.stem}.part.gif")  # Pillow picks the format by the suffix
    writer = PillowWriter(fps=FPS)
    with writer.saving(fig, str(partial), dpi=100):
        for picture, caption in zip(pictures, captions):
            image.set_data(picture)
            title.set_text(caption)
            writer.grab_frame()
    write_atomically(out, lambda f: f.write(partial.read_bytes()))
    partial.unlink()
    return out
