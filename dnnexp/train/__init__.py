"""Training: the mini-batch loop and the callbacks that extend it."""
