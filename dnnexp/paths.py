"""The optimizer-paths experiment: every optimizer of a spec walks the same 2-D function."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dnnexp.core.surfaces import SURFACES, descend
from dnnexp.registry import OPTIMIZERS
from dnnexp.runs.rundir import RunDir


def label(optimizer: dict[str, Any]) -> str:
    """A legend label: the optimizer's name and learning rate."""
    return f"{optimizer['name']} (lr {optimizer['lr']:g})"


def run(config: dict[str, Any], runs_dir: Path) -> RunDir:
    """Walk every optimizer from the start point; write paths.csv, summary.json and paths.png."""
    from dnnexp.plots.paths import plot_paths

    surface = SURFACES[config["function"]["name"]]
    walks = {
        label(spec): descend(surface, OPTIMIZERS.build(spec), tuple(config["start"]), config["steps"])
        for spec in config["optimizers"]
    }
    folder = RunDir.create(runs_dir, config["name"])
    folder.write_yaml("config.yaml", config)
    rows = ["optimizer,step,x,y,f\n"] + [
        f"{name},{step},{x:.10g},{y:.10g},{f:.10g}\n" for name, walk in walks.items() for step, (x, y, f) in enumerate(walk)
    ]
    folder.write_text("paths.csv", "".join(rows))
    final = {name: {"x": walk[-1, 0], "y": walk[-1, 1], "f": walk[-1, 2]} for name, walk in walks.items()}
    folder.write_json("summary.json", {"name": config["name"], "status": "completed", "final": final})
    plot_paths(surface, walks, folder.file("paths.png"), title=surface.__doc__.split(":")[0])
    return folder
