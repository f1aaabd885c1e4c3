"""GreedySolved: the first greedy evaluation that reaches the threshold, kept across a resume."""

from __future__ import annotations

from types import SimpleNamespace

from dnnexp.train.callbacks import GreedySolved

LOOP = SimpleNamespace()


def test_only_the_first_evaluation_that_reaches_the_threshold_counts():
    solved = GreedySolved(475.0)
    solved.on_train_begin(LOOP)
    solved.on_epoch_end(LOOP, {"episode": 1, "step": 500})  # no evaluation in this row
    solved.on_epoch_end(LOOP, {"episode": 2, "step": 900, "eval_return_mean": 474.9})
    assert solved.record() == {"episode": None, "step": None, "wall_time_s": None}
    solved.on_epoch_end(LOOP, {"episode": 3, "step": 1400, "eval_return_mean": 475.0})
    solved.on_epoch_end(LOOP, {"episode": 4, "step": 1900, "eval_return_mean": 500.0})
    record = solved.record()
    assert (record["episode"], record["step"]) == (3, 1400) and record["wall_time_s"] >= 0


def test_a_resumed_run_keeps_when_it_was_solved_and_counts_on_its_clock():
    before = GreedySolved(1.0)
    before.on_epoch_end(LOOP, {"episode": 6, "step": 30, "eval_return_mean": 1.0})
    saved = before.state_arrays()
    saved["elapsed_s"][...] = 100.0  # as if the first part had trained for 100 s
    resumed = GreedySolved(1.0)
    resumed.load_state_arrays(saved)
    resumed.on_train_begin(LOOP)
    assert resumed.record() == before.record()
    assert 100.0 <= resumed.elapsed() < 110.0


def test_a_run_not_solved_when_interrupted_can_still_be_solved_after():
    before = GreedySolved(1.0)
    before.on_epoch_end(LOOP, {"episode": 6, "step": 30, "eval_return_mean": 0.5})
    resumed = GreedySolved(1.0)
    resumed.load_state_arrays(before.state_arrays())
    resumed.on_epoch_end(LOOP, {"episode": 12, "step": 60, "eval_return_mean": 1.0})
    assert resumed.record()["episode"] == 12
