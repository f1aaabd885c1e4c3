"""dnnexp: the classic deep-learning experiments, from YAML specs, on a NumPy core."""

__version__ = "0.1.0"
