"""Sweep speed: 8 short trials one after another (1 worker) and on 2 worker processes, and the
scheduler's overhead per trial. Targets (issue 10): 2 workers ≤ 0.6× the sequential time on a
2-core machine; overhead < 1 s a trial.

The trials: a 2-64-3 network on 3,000 Gaussian blobs for 60 epochs (about 1 s each on an idle
core), seeds 0–7. Overhead per trial = (sweep wall time × workers − Σ each trial's time inside its worker) /
trials: the time a worker slot spends not running a trial (starting processes, handing trials
out, writing comparison.md and .png). Each setting runs `--repeats` times; medians are reported.

    PYTHONPATH=. python bench/sweep_speed.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from dnnexp.tasks import sweep as sweeps

SPEC = {
    "name": "blobs",
    "seed": 0,
    "data": {"name": "blobs", "classes": 3, "n": 3000, "n_test": 300, "validation": 300},
    "model": {"input_shape": [2], "layers": [
        {"type": "dense", "units": 64, "activation": "relu", "init": "he_normal"},
        {"type": "dense", "units": 3, "activation": "softmax"},
    ]},
    "loss": "cross_entropy",
    "optimizer": {"name": "adam", "lr": 0.01},
    "train": {"epochs": 60, "batch_size": 32},
}
TRIALS = 8


def one_sweep(folder: Path, workers: int) -> tuple[float, float]:
    """(wall time, overhead per trial) of the 8-trial sweep on `workers` processes."""
    (folder / "spec.yaml").write_text(yaml.safe_dump(SPEC, sort_keys=False))
    (folder / "sweep.yaml").write_text(f"base: spec.yaml\nseeds: range({TRIALS})\n")
    sweep, document = sweeps.load_sweep(folder / "sweep.yaml")
    prepared = sweeps.plan(sweep, document, folder)
    prepared.workers = workers
    started = time.perf_counter()
    _, outcome = sweeps.start(prepared, folder / f"runs-{workers}", None)
    wall = time.perf_counter() - started
    assert outcome.status == "completed", outcome.message
    busy = sum(outcome.results["trial_seconds"].values())
    return wall, (wall * workers - busy) / TRIALS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats
    results: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as temp:
        for repeat in range(repeats):
            for workers in (1, 2):
                folder = Path(temp) / f"{repeat}-{workers}"
                folder.mkdir()
                results[workers].append(one_sweep(folder, workers))
    sequential = statistics.median(wall for wall, _ in results[1])
    parallel = statistics.median(wall for wall, _ in results[2])
    print(f"{TRIALS} trials, median of {repeats}:")
    for workers, runs in results.items():
        print(f"  {workers} worker(s): {statistics.median(w for w, _ in runs):6.2f} s wall, "
              f"overhead {statistics.median(o for _, o in runs):.3f} s a trial  (walls {', '.join(f'{w:.2f}' for w, _ in runs)})")
    print(f"  2 workers / sequential = {parallel / sequential:.2f}  (target ≤ 0.6)")


if __name__ == "__main__":
    main()
