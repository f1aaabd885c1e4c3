"""Data sets by name: real image sets read from IDX files and synthetic sets made from the run seed."""

from dnnexp.data.base import Batches, Dataset, Split, prepare

__all__ = ["Batches", "Dataset", "Split", "prepare"]
