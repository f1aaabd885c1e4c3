"""train/memory.py: a training's large arrays, freed and made again each step, reuse the pages
they had instead of faulting in fresh ones."""

from __future__ import annotations

import subprocess
import sys

#: page faults of making and filling an 8 MB array 20 times, in a fresh process
FAULTS = """
import resource, sys, numpy as np
from dnnexp.train.memory import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
np.ones(2 * 1024 * 1024, np.float32)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    np.ones(2 * 1024 * 1024, np.float32)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(setting: str) -> int:
    done = subprocess.run([sys.executable, "-c", FAULTS, setting], capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_freed_arrays_come_back_without_page_faults():
    # An 8 MB block is 2,048 pages: malloc's default maps and unmaps it, faulting every page each time
    # (or a few huge pages where the kernel gives them, hence no fixed count for the default).
    kept = faults("keep")
    assert kept < 100
    assert faults("default") > 10 * max(kept, 1)
