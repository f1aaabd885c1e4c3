"""Callbacks: everything the training loop does besides learning, one callback a module.

EarlyStopping and ReduceLROnPlateau share the MonitorCallback base; LayerStats and TimeGrads
average over each epoch with EpochMeans. The episode loop of reinforcement learning uses
MetricsLogger and Checkpoint as they are (an episode is its epoch), and EpisodeProgress,
FiniteLoss and GreedySolved of its own. See `base` for what a callback may do.
"""

from dnnexp.train.callbacks.base import Callback, RowLog, SaveArrays
from dnnexp.train.callbacks.checkpoint import Checkpoint
from dnnexp.train.callbacks.divergence_guard import DivergenceGuard
from dnnexp.train.callbacks.early_stopping import EarlyStopping
from dnnexp.train.callbacks.epoch_means import EpochMeans
from dnnexp.train.callbacks.episode_progress import EpisodeProgress
from dnnexp.train.callbacks.finite_loss import FiniteLoss
from dnnexp.train.callbacks.greedy_solved import GreedySolved
from dnnexp.train.callbacks.layer_stats import LayerStats
from dnnexp.train.callbacks.metrics_logger import MetricsLogger
from dnnexp.train.callbacks.monitor import MonitorCallback
from dnnexp.train.callbacks.neighbours import NeighbourLog
from dnnexp.train.callbacks.progress import Progress
from dnnexp.train.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from dnnexp.train.callbacks.time_grads import TimeGrads

__all__ = [
    "Callback",
    "Checkpoint",
    "DivergenceGuard",
    "EarlyStopping",
    "EpisodeProgress",
    "EpochMeans",
    "FiniteLoss",
    "GreedySolved",
    "LayerStats",
    "MetricsLogger",
    "MonitorCallback",
    "NeighbourLog",
    "Progress",
    "ReduceLROnPlateau",
    "RowLog",
    "SaveArrays",
    "TimeGrads",
]
