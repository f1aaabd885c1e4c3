"""Run folders (create, atomic writes, resume, read back); `dnnexp.runs.compare` compares runs."""

from dnnexp.runs.rundir import MetricsLog, RunDir, find_runs, timestamp, write_atomically

__all__ = ["MetricsLog", "RunDir", "find_runs", "timestamp", "write_atomically"]
