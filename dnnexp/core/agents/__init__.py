"""Reinforcement-learning agents (course Day 4 §2): each module holds one family and registers its
agents by `kind`, as optimizers do; see base.py for what every agent offers the episode loop."""
