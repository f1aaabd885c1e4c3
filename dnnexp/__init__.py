"""dnnexp: the classic deep-learning experiments, from YAML specs, on a NumPy core."""

import os
import sys

# OpenBLAS's idle threads spin for 2^28 cycles (~0.1 s) after each product it ran on two of them,
# on the core where dnnexp's second lane then runs its share (core/parallel.py): that lane's work
# took twice as long beside them, and a CNN's training step half as long again. 2^14 cycles (a
# few µs) lets them sleep at once. OpenBLAS reads this when NumPy loads it, so dnnexp can set it
# only when it is imported first (as its command line is); a program that imports NumPy before
# dnnexp can set it in the environment itself.
_TIMEOUT = "OPENBLAS_THREAD_TIMEOUT"
if _TIMEOUT not in os.environ and "numpy" not in sys.modules:
    os.environ[_TIMEOUT] = "14"
#: whether OpenBLAS's threads sleep soon after a product: where not, dnnexp leaves them idle
OPENBLAS_SLEEPS_SOON = os.environ.get(_TIMEOUT, "").strip().isdigit() and int(os.environ[_TIMEOUT]) <= 16

__version__ = "0.1.0"
