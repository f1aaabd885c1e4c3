"""Reinforcement-learning runs end to end: seeded episodes, exact resume after Ctrl-C or a kill,
summary.json, the CLI's train, compare, plot, play, and the course's known optimum."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from dnnexp.runs.rundir import RunDir
from dnnexp.tasks import rl
from dnnexp.train.callbacks import Callback
from tests.tasks.conftest import train

CONFIGS = Path(__file__).parents[2] / "configs" / "day4" / "rl"


def lake(agent: Any = "q_learning", episodes: int = 40, **changes: Any) -> dict[str, Any]:
    """FrozenLake 4×4, slippery: the environment's own draws matter for every step."""
    return {
        "name": "lake", "kind": "rl", "seed": 0, "env": "FrozenLake-v1",
        "agent": {"kind": agent, "epsilon": 0.3} if isinstance(agent, str) else agent,
        "train": {"episodes": episodes, "checkpoint_every": 10}, "evaluation": {"every": 10, "episodes": 5}, **changes,
    }


class StopAfterEpisode(Callback):
    """Interrupts the run as episode `episode` ends: as the Ctrl-C handler does, with a real SIGINT,
    or as a kill does (the process gone before anything of that episode is written)."""

    def __init__(self, episode: int, how: str):
        self.episode, self.how = episode, how

    def on_epoch_end(self, loop, logs):
        if logs["episode"] != self.episode:
            return
        if self.how == "sigint":
            signal.raise_signal(signal.SIGINT)
        elif self.how == "kill":
            raise KeyboardInterrupt("killed")
        else:
            loop.state.stop, loop.state.status = True, "interrupted"


@pytest.fixture
def extra(monkeypatch: pytest.MonkeyPatch) -> list[Callback]:
    """Callbacks an RL run gets ahead of its own while they are in this list."""
    added: list[Callback] = []
    own = rl.run_callbacks
    monkeypatch.setattr(rl, "run_callbacks", lambda *args: [*added, *own(*args)])
    return added


#: checkpoint arrays that time the run, and so differ between any two runs
CLOCKS = {"callback/GreedySolved/elapsed_s", "callback/GreedySolved/wall_time_s"}


def arrays(run: RunDir) -> dict[str, np.ndarray]:
    return run.load_npz(rl.CHECKPOINT)


def test_the_same_seed_gives_the_same_episodes_and_another_seed_others(runs_dir):
    first, _ = train(lake(), runs_dir)
    again, _ = train(lake(), runs_dir)
    other, _ = train(lake(seed=1), runs_dir)
    assert first.file("metrics.csv").read_text() == again.file("metrics.csv").read_text()
    assert first.file("metrics.csv").read_text() != other.file("metrics.csv").read_text()
    np.testing.assert_array_equal(arrays(first)["agent/q"], arrays(again)["agent/q"])


@pytest.mark.parametrize("agent", ["q_learning", "sarsa", "monte_carlo"])
@pytest.mark.parametrize("how, stop_at", [("ctrl_c", 17), ("sigint", 23), ("kill", 27)])
def test_a_resumed_run_ends_exactly_as_an_uninterrupted_one(runs_dir, extra, agent, how, stop_at):
    config = lake(agent)
    whole, outcome = train(config, runs_dir)
    assert outcome.status == "completed"
    extra.append(StopAfterEpisode(stop_at, how))
    if how == "kill":
        with pytest.raises(KeyboardInterrupt):
            train(config, runs_dir)
        part = RunDir(max(runs_dir.iterdir(), key=lambda p: p.stat().st_mtime_ns))
        assert len(part.metrics()) == stop_at - 1  # the killed episode left no row
    else:
        part, outcome = train(config, runs_dir)
        assert outcome.status == "interrupted" and int(arrays(part)["state/episode"]) == stop_at
    extra.clear()
    resumed, outcome = train(config, runs_dir, resume=part)
    assert outcome.status == "completed" and resumed.path == part.path
    assert resumed.file("metrics.csv").read_text() == whole.file("metrics.csv").read_text()
    expected, got = arrays(whole), arrays(resumed)
    assert set(got) == set(expected)
    for key in expected:  # the Q-table, the agent's generator, the environment's generators, the counters
        if key in CLOCKS:
            continue
        np.testing.assert_array_equal(got[key], expected[key], err_msg=key)


def test_summary_records_the_best_mean_return_and_when_the_threshold_was_reached(runs_dir):
    config = {
        "name": "grid", "kind": "rl", "env": "GridWorld-v0", "agent": {"kind": "value_iteration", "gamma": 0.9},
        "train": {"episodes": 12, "solved_threshold": 1.0}, "evaluation": {"every": 6, "episodes": 2},
    }
    run, outcome = train(config, runs_dir)
    summary = run.summary()
    assert summary["kind"] == "rl" and summary["status"] == "completed"
    assert summary["episodes_completed"] == 12 and summary["steps"] == 60  # five steps an episode
    assert summary["best"]["return_mean_100"] == 1.0 and summary["best"]["eval_return_mean"] == 1.0
    # Solved: the first greedy evaluation (episode 6) reaching the threshold.
    solved = summary["solved"]
    assert solved.pop("wall_time_s") >= 0
    assert solved == {"threshold": 1.0, "evaluation_episodes": 2, "episode": 6, "step": 30}
    # Online: the window is the run's 12 episodes (fewer than 100), first full at episode 12.
    assert summary["online_solved"] == {"threshold": 1.0, "window": 12, "episode": 12, "step": 60}
    assert summary["final"]["q_error"] == 0.0 and summary["final"]["length"] == 5
    metrics = run.metrics()
    assert list(metrics.columns) == ["episode", "step", "return", "length", "epsilon", "loss",
                                     "eval_return_mean", "eval_return_std", "q_error"]
    assert metrics["eval_return_mean"].notna().tolist() == [i in (6, 12) for i in range(1, 13)]
    assert "best 100-episode mean return 1" in outcome.headline


def test_without_a_threshold_solved_is_null_and_a_gymnasium_threshold_is_used(runs_dir):
    run, _ = train(lake(episodes=3), runs_dir)
    assert run.summary()["solved"]["threshold"] == 0.7  # FrozenLake-v1's reward_threshold
    assert run.summary()["solved"]["episode"] is None and run.summary()["solved"]["wall_time_s"] is None
    grid, _ = train({"name": "g", "kind": "rl", "env": "GridWorld-v0", "agent": "q_learning", "train": {"episodes": 2}},
                    runs_dir)
    assert grid.summary()["solved"] is None and grid.summary()["online_solved"] is None


def test_a_resumed_run_keeps_when_it_was_solved(runs_dir, extra):
    config = {
        "name": "grid", "kind": "rl", "env": "GridWorld-v0", "agent": {"kind": "value_iteration", "gamma": 0.9},
        "train": {"episodes": 12, "solved_threshold": 1.0}, "evaluation": {"every": 3, "episodes": 2},
    }
    extra.append(StopAfterEpisode(8, "ctrl_c"))
    part, _ = train(config, runs_dir)
    extra.clear()
    resumed, _ = train(config, runs_dir, resume=part)
    assert resumed.summary()["solved"]["episode"] == 3


def test_compare_shows_whether_and_when_a_run_was_solved(cli, runs_dir):
    grid = {
        "name": "grid", "kind": "rl", "env": "GridWorld-v0", "agent": {"kind": "value_iteration", "gamma": 0.9},
        "train": {"episodes": 4, "solved_threshold": 1.0}, "evaluation": {"every": 2, "episodes": 1},
    }
    unreachable = {**grid, "train": {"episodes": 4, "solved_threshold": 2.0}}
    runs = [train(grid, runs_dir)[0], *(train({**unreachable, "seed": seed}, runs_dir)[0] for seed in (0, 1))]
    result = cli("compare", *[run.path for run in runs], "--format", "json", "--no-group")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [row["solved"] for row in rows] == ["yes", "no", "no"]
    assert rows[0]["solved_episode"] == 2 and rows[0]["solved_step"] == 10 and rows[0]["solved_wall_time_s"] >= 0
    assert rows[1]["solved_episode"] is None
    grouped = json.loads(cli("compare", *[run.path for run in runs], "--format", "json").output)
    assert [(row["n"], row["solved"]) for row in grouped] == [(1, "1/1"), (2, "0/2")]


def test_the_course_grid_world_value_iteration_and_q_learning_agree_with_the_optimum(runs_dir):
    for name in ("gridworld_value_iteration", "gridworld_q_learning"):
        config = yaml.safe_load((CONFIGS / f"{name}.yaml").read_text())
        run, outcome = train({**config, "name": name}, runs_dir)
        q = arrays(run)["agent/q"]
        assert q[8].max() == pytest.approx(0.9**4, abs=1e-3), name  # max Q at the start: 0.6561
        assert outcome.results["final"]["eval_return_mean"] == 1.0  # the greedy path reaches the goal
        assert outcome.results["final"]["q_error"] < 0.01


def test_a_spec_that_cannot_run_leaves_no_folder(cli, tmp_path, runs_dir):
    spec = tmp_path / "bad.yaml"
    spec.write_text(yaml.safe_dump({"kind": "rl", "env": "CartPol-v1", "agent": "q_learning", "train": {"episodes": 2}}))
    result = cli("train", spec, "--runs-dir", runs_dir)
    assert result.exit_code == 2 and "did you mean 'CartPole-v1'?" in result.output
    spec.write_text(yaml.safe_dump({"kind": "rl", "env": "CartPole-v1", "agent": "sarsa", "train": {"episodes": 2}}))
    result = cli("train", spec, "--runs-dir", runs_dir)
    assert result.exit_code == 2 and "keeps a table of states" in result.output
    assert not runs_dir.exists()


TILES = {"kind": "tile_coding", "low": [-1.2, -0.07], "high": [0.6, 0.07]}


@pytest.mark.parametrize("env, features, expected", [
    ("MountainCar-v0", {**TILES, "kind": "tile_code"}, "agent.features.kind: 'tile_code' is not a feature; did you mean 'tile_coding'?"),
    ("MountainCar-v0", {**TILES, "tiling": 4}, "agent.features.tiling: unknown key; did you mean 'tilings'?"),
    ("MountainCar-v0", {"kind": "tile_coding", "low": [-1.2, -0.07]}, "agent.features.high: missing; this key is required"),
    ("MountainCar-v0", {**TILES, "low": [-1.2, -0.07, 0.0]},
     "agent.features: tile_coding needs low and high for each of the observation's 2 dimensions, and low has 3, high 2"),
    ("MountainCar-v0", {**TILES, "high": [-1.2, 0.07]}, "high > low in every dimension, and dimension(s) [0] are not"),
    ("MountainCar-v0", "one_hot", "agent.features: one_hot features need a discrete world; use tile_coding"),
    ("FrozenLake-v1", TILES, "agent.features: tile_coding covers a vector of real numbers"),
])
def test_wrong_features_are_one_spec_error_and_leave_no_folder(cli, tmp_path, runs_dir, env, features, expected):
    spec = tmp_path / "bad.yaml"
    agent = {"kind": "linear_q", "epsilon": 0.0, "features": features}
    spec.write_text(yaml.safe_dump({"kind": "rl", "env": env, "agent": agent, "train": {"episodes": 2}}))
    result = cli("train", spec, "--runs-dir", runs_dir)
    assert result.exit_code == 2, result.output
    assert expected in " ".join(result.output.split()) and "Traceback" not in result.output
    assert not runs_dir.exists()


def test_resuming_a_finished_run_says_to_give_more_episodes(cli, two_runs):
    result = cli("train", "--resume", two_runs[0].path)
    assert result.exit_code == 0 and "nothing to resume" in result.output
    assert "with more episodes (`dnnexp train SPEC --set train.episodes=N`)" in " ".join(result.output.split())


@pytest.fixture
def two_runs(runs_dir) -> list[RunDir]:
    return [train(lake(agent, episodes=20, name=agent), runs_dir)[0] for agent in ("q_learning", "sarsa")]


def test_compare_and_plot_read_rl_runs(cli, two_runs, tmp_path):
    result = cli("compare", *[run.path for run in two_runs], "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {row["agent.kind"] for row in rows} == {"q_learning", "sarsa"}
    assert all(row["best_return_mean_100"] is not None and row["episodes"] == 20 for row in rows)
    out = tmp_path / "returns.png"
    result = cli("plot", *[run.path for run in two_runs], "-o", out)
    assert result.exit_code == 0 and out.stat().st_size > 10_000
    result = cli("plot", two_runs[0].path, "--metric", "eval_return_mean", "-o", tmp_path / "one.png")
    assert result.exit_code == 0, result.output


def test_a_trained_run_leaves_its_pictures(cli, write_spec, runs_dir):
    result = cli("train", write_spec(lake(episodes=5)), "--runs-dir", runs_dir)
    assert result.exit_code == 0, result.output
    assert "completed" in result.output and "episode 5/5" in result.output
    run = RunDir(next(runs_dir.iterdir()))
    assert run.has("learning_curves.png") and run.has("values.png") and run.has("checkpoint.npz")
    result = cli("train", "--resume", run.path)
    assert result.exit_code == 0 and "has finished" in result.output


def test_plot_values_draws_grid_worlds_only(cli, two_runs, runs_dir, tmp_path):
    result = cli("plot", two_runs[0].path, "--values", "-o", tmp_path / "v.png")
    assert result.exit_code == 0 and (tmp_path / "v.png").is_file()
    taxi, _ = train({"name": "taxi", "kind": "rl", "env": "Taxi-v4", "agent": "q_learning", "train": {"episodes": 1}}, runs_dir)
    result = cli("plot", taxi.path, "--values")
    assert result.exit_code == 2 and "--values draws grid worlds" in result.output


def test_play_shows_text_frames_of_the_toy_text_worlds(cli, two_runs):
    result = cli("play", two_runs[0].path, "--episodes", "2")
    assert result.exit_code == 0, result.output
    assert result.output.count("episode ") == 2 and "SFFF" in result.output.replace("\x1b[41m", "").replace("\x1b[0m", "")


def test_play_writes_an_animation(cli, two_runs, tmp_path):
    out = tmp_path / "lake.gif"
    result = cli("play", two_runs[0].path, "--episodes", "1", "-o", out)
    assert result.exit_code == 0, result.output
    from PIL import Image

    assert Image.open(out).n_frames >= 2


def test_play_refuses_what_it_cannot_show(cli, runs_dir, tmp_path, write_spec):
    grid, _ = train({"name": "g", "kind": "rl", "env": "GridWorld-v0", "agent": "q_learning", "train": {"episodes": 1}},
                    runs_dir)
    result = cli("play", grid.path, "-o", tmp_path / "g.gif")
    assert result.exit_code == 2 and "draws itself only as text" in result.output
    result = cli("play", grid.path, "-o", tmp_path / "g.png")
    assert result.exit_code == 2 and "must end in .gif" in result.output
    supervised = train(yaml.safe_load(write_spec().read_text()), runs_dir)[0]
    result = cli("play", supervised.path)
    assert result.exit_code == 2 and "has no agent to play" in result.output


@pytest.mark.parametrize("spec", sorted(CONFIGS.glob("*.yaml")), ids=lambda path: path.stem)
def test_the_shipped_specs_are_valid(cli, spec):
    result = cli("validate", spec)
    assert result.exit_code == 0 and "valid" in result.output, result.output


@pytest.mark.parametrize("sweep", sorted((CONFIGS.parents[1] / "sweeps").glob("rl-*.yaml")), ids=lambda path: path.stem)
def test_the_shipped_sweeps_plan_their_trials(cli, sweep):
    result = cli("sweep", sweep, "--dry-run")
    assert result.exit_code == 0 and "seed=4" in result.output, result.output
