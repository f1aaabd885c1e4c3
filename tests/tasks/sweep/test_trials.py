"""Sweep files expanded into trials, and every problem of one told at its line before anything trains."""

from __future__ import annotations

import pytest

from dnnexp.errors import DnnexpError, SpecError
from dnnexp.tasks.sweep import plan
from dnnexp.tasks.sweep.trials import command_line_sweep, load_sweep


def planned(path):
    sweep, document = load_sweep(path)
    return plan(sweep, document, path.parent)


def test_a_grid_with_seeds_expands_in_order_with_seeds_fastest(write_sweep):
    prepared = planned(write_sweep(grid={"optimizer.lr": [0.1, 0.01], "model.layers[0].activation": ["relu", "tanh"]}, seeds="0-1"))
    assert len(prepared.trials) == 8
    assert [t.overrides for t in prepared.trials[:3]] == [
        ["optimizer.lr=0.1", "model.layers[0].activation=relu", "seed=0"],
        ["optimizer.lr=0.1", "model.layers[0].activation=relu", "seed=1"],
        ["optimizer.lr=0.1", "model.layers[0].activation=tanh", "seed=0"],
    ]
    assert prepared.trials[2].folder == "2-spec-lr_0.1-activation_tanh-seed_0"
    third = prepared.trials[2].config
    assert third["optimizer"]["lr"] == 0.1 and third["model"]["layers"][0]["activation"] == "tanh" and third["seed"] == 0
    assert len({t.folder for t in prepared.trials}) == 8
    assert prepared.config["seeds"] == [0, 1] and len(prepared.config["trials"]) == 8


def test_a_random_search_draws_the_same_trials_from_the_same_seed(write_sweep):
    path = write_sweep(random={"trials": 5, "seed": 3, "optimizer.lr": "loguniform(1e-4, 1e-1)", "model.layers[0].activation": "choice(relu, tanh)"})
    first, again = planned(path), planned(path)
    lrs = [t.config["optimizer"]["lr"] for t in first.trials]
    assert lrs == [t.config["optimizer"]["lr"] for t in again.trials]
    assert len(set(lrs)) == 5 and all(1e-4 <= lr <= 1e-1 for lr in lrs)


def test_specs_take_globs_relative_to_the_sweep_file(tmp_path, write_sweep):
    write_sweep()
    (tmp_path / "more").mkdir()
    for name in ("b", "a"):
        (tmp_path / "more" / f"{name}.yaml").write_text((tmp_path / "spec.yaml").read_text().replace("name: blobs", f"name: {name}", 1))
    (tmp_path / "sweep.yaml").write_text("specs: [more/*.yaml, spec.yaml]\nseeds: [0, 1]\n")
    trials = planned(tmp_path / "sweep.yaml").trials
    assert [t.config["name"] for t in trials] == ["a", "a", "b", "b", "blobs", "blobs"]


def test_every_problem_is_told_once_at_the_sweep_files_line(write_sweep):
    path = write_sweep(
        "name: bad\n"
        "base: spec.yaml\n"
        "grid:\n"
        "  optimizer.lr: [0.1, -1]\n"
        "  optimizer.lrr: [0.1]\n"
        "  train.epochs: []\n"
        "seeds: [0, 1]\n"
        "wokers: 2\n"
    )
    with pytest.raises(SpecError) as caught:
        planned(path)
    assert any(p.startswith(f"{path}:8: wokers") for p in caught.value.problems), caught.value.problems
    with pytest.raises(SpecError) as caught:
        planned(write_sweep(path.read_text().replace("wokers", "workers")))
    problems = caught.value.problems
    assert f"{path}:6: grid train.epochs: the list of values is empty; give at least one value" in problems
    lr = [p for p in problems if p.startswith(f"{path}:4: grid optimizer.lr=-1: optimizer.lr:")]
    assert len(lr) == 1 and "greater than" in lr[0]  # told once, though two trials (seeds) have it
    assert any(p.startswith(f"{path}:5: grid optimizer.lrr=0.1:") and "lrr" in p for p in problems)


def test_a_spec_file_that_is_not_there_is_a_problem_at_its_line(write_sweep):
    path = write_sweep("specs:\n  - spec.yaml\n  - missing/*.yaml\n")
    with pytest.raises(SpecError, match=r"sweep.yaml:3: missing/\*.yaml: no such spec file"):
        planned(path)


def test_more_than_ten_thousand_trials_need_yes(write_sweep):
    path = write_sweep(grid={"optimizer.lr": "linspace(0.001, 0.1, 101)", "train.batch_size": "range(1, 101)"})
    with pytest.raises(DnnexpError, match="10,100 trials; run it with --yes"):
        planned(path)


def test_a_dry_run_of_more_than_ten_thousand_trials_counts_them_and_builds_none(write_sweep, cli):
    path = write_sweep(grid={"optimizer.lr": "linspace(0.001, 0.1, 1000)", "train.batch_size": "range(1, 1001)"})
    result = cli("sweep", path, "--dry-run")
    assert result.exit_code == 0 and "1,000,000 trials" in result.output


def test_a_random_search_of_a_billion_draws_is_refused(write_sweep):
    path = write_sweep(random={"trials": 1_000_000_000, "optimizer.lr": "loguniform(1e-4, 1e-1)"})
    with pytest.raises(SpecError, match=r"random.trials: give how many draws, a whole number from 1 to 100,000"):
        planned(path)


def test_the_command_line_sweep_takes_lists_ranges_and_fixed_values(write_sweep, tmp_path):
    path = write_sweep()
    sweep, document = command_line_sweep(tmp_path / "spec.yaml", ["optimizer.lr=0.1,0.01", "train.epochs=2", "train.batch_size=range(16, 48, 16)"], "0-2")
    prepared = plan(sweep, document, path.parent)
    assert len(prepared.trials) == 2 * 2 * 3
    assert all(t.config["train"]["epochs"] == 2 for t in prepared.trials)
    with pytest.raises(SpecError, match=r"--set optimizer.lr=0.1,-1: grid optimizer.lr=-1: optimizer.lr: should be greater than 0"):
        sweep, document = command_line_sweep(tmp_path / "spec.yaml", ["optimizer.lr=0.1,-1"], None)
        plan(sweep, document, path.parent)


def test_a_command_line_sweep_of_a_file_whose_name_cannot_name_a_folder_is_named_in_letters_it_can(write_sweep, tmp_path):
    write_sweep()
    odd = tmp_path / "sp ec[1].yaml"
    odd.write_text((tmp_path / "spec.yaml").read_text())
    sweep, _ = command_line_sweep(odd, ["optimizer.lr=0.1,0.01"], None)
    assert sweep.name == "sp_ec_1_"
