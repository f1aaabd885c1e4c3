"""The sweep's console: a line per trial that ends, its folder and message shown as written."""

from __future__ import annotations

import io

from rich.console import Console

from dnnexp.tasks.sweep.execute import TrialResult
from dnnexp.tasks.sweep.progress import SweepMonitor


def test_a_trial_line_shows_markup_in_its_name_and_message_as_written(tmp_path):
    console = Console(file=io.StringIO(), color_system=None, width=300)  # markup on, as rich's default
    with SweepMonitor(tmp_path, {0: "000-act=[red]"}, "val_acc", "max", console) as monitor:
        monitor.started(0)
        monitor.finished(TrialResult(0, "failed", message="runs[/x]/t: cannot write", seconds=1.25))
    line = next(line for line in console.file.getvalue().splitlines() if line.startswith("failed"))
    assert line == "failed      000-act=[red]  runs[/x]/t: cannot write  (1.2 s)"
