"""The NumPy core: layers, activations, losses, initializers, optimizers, schedules, models.

Nothing here knows about YAML, files or the command line.
"""
