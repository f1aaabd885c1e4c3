"""dnnexp: the classic deep-learning experiments, from YAML specs, on a NumPy core."""

import os

# OpenBLAS's idle threads spin for 2^28 cycles (~0.1 s) after each product it ran on two of them,
# on the core where dnnexp's second lane then runs its share (core/parallel.py): that lane's work
# took twice as long beside them. 2^14 cycles (a few µs) lets them sleep at once. OpenBLAS reads
# this when NumPy loads it, so it takes effect where dnnexp is imported first (its command line).
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "14")

__version__ = "0.1.0"
