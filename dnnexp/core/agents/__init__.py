"""Reinforcement-learning agents (course Day 4 §2): each module holds one family and registers its
agents by `kind`, as optimizers do; see base.py for what every agent offers the episode loop.

Every module here is imported with the package, so that a new agent is one new file.
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
