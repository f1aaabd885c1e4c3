"""What a running sweep shows and keeps up to date: a progress bar (trials done, running,
failed, and the time left), a line per trial that ends, and the sweep folder's comparison."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from dnnexp.console import styled
from dnnexp.tasks.sweep.execute import TrialResult
from dnnexp.tasks.sweep.report import write_comparison

#: comparison.png is redrawn at most this often while trials finish (drawing takes a core for a
#: moment that the trials would rather have); comparison.md after every trial, and both at the end
PICTURE_EVERY_S = 15.0
_STYLE = {"completed": "green", "diverged": "yellow", "failed": "red", "interrupted": "yellow"}


class SweepMonitor:
    """Listens to a pool (dnnexp.tasks.sweep.execute.Events): counts, shows and reports."""

    def __init__(self, folder: Path, names: dict[int, str], metric: str, goal: str, console: Console | None, done_before: int = 0):
        self.folder, self.names, self.metric, self.goal, self.console = folder, names, metric, goal, console
        self.results: dict[int, TrialResult] = {}
        self.running: set[int] = set()
        self.done_before = done_before
        self.drawn_at = time.monotonic()
        self.progress: Progress | None = None
        self.task: Any = None

    def __enter__(self) -> SweepMonitor:
        if self.console is not None:
            self.progress = Progress(
                TextColumn("[bold]trials"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[state]}"),
                TextColumn("ETA"), TimeRemainingColumn(), console=self.console,
            )
            self.progress.start()
            self.task = self.progress.add_task("trials", total=len(self.names), completed=self.done_before, state=self.state())
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def state(self) -> str:
        counts = Counter(result.status for result in self.results.values())
        failed = counts["failed"]
        return f"{len(self.running)} running · {failed} failed" + (f" · {counts['diverged']} diverged" if counts["diverged"] else "")

    def started(self, index: int) -> None:
        self.running.add(index)
        self._refresh()

    def finished(self, result: TrialResult) -> None:
        self.running.discard(result.index)
        self.results[result.index] = result
        if self.progress is not None:
            style = _STYLE.get(result.status, "white")
            said = result.headline or result.message
            took = f"  ({result.seconds:.1f} s)" if result.seconds else ""
            line = f" {self.names[result.index]}  {said}{took}".rstrip()
            self.progress.console.print(styled((f"{result.status:<11}", style), line), highlight=False)
        pictures = time.monotonic() - self.drawn_at >= PICTURE_EVERY_S
        write_comparison(self.folder, self.metric, self.goal, pictures=pictures)
        if pictures:
            self.drawn_at = time.monotonic()
        self._refresh(advance=1)

    def _refresh(self, advance: int = 0) -> None:
        if self.progress is not None:
            self.progress.update(self.task, advance=advance, state=self.state())
