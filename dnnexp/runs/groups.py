"""Runs that differ only in `seed`, taken together: mean ± standard deviation and a 95%
interval of each result, and paired differences between two such groups.

Runs with the same seed draw the same initial weights and see the same mini-batches in the same
order (dnnexp.spec.build.Streams), so the difference between two settings at one seed holds
less noise than the difference between their means: `paired` compares seed by seed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from dnnexp.errors import DnnexpError
from dnnexp.runs.configs import differing_keys, flatten_config
from dnnexp.runs.rundir import RunDir

SEED = "seed"
#: results that are counts or times: a group shows their mean, not an interval
COUNTS = ("best_epoch", "epochs", "episodes", "solved_episode", "solved_step", "solved_wall_time_s",
          "online_solved_episode", "wall_time_s")
#: Student's t at 97.5% for 1 … 30 degrees of freedom: the half-width of a 95% interval is
#: t · s / √n (beyond 30, the expansion in `t975` is within 0.001 of the table)
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t975(dof: int) -> float:
    """The 97.5% quantile of Student's t with `dof` degrees of freedom."""
    if dof <= len(_T975):
        return _T975[dof - 1]
    z = 1.959964
    return z + (z**3 + z) / (4 * dof) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * dof**2)


def interval(values: Sequence[float]) -> tuple[float, float, float, int]:
    """(mean, sample standard deviation, half-width of the 95% interval, n) of the finite values;
    the spread is NaN for fewer than two."""
    finite = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=np.float64)
    n = len(finite)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(finite.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    std = float(finite.std(ddof=1))
    return mean, std, t975(n - 1) * std / math.sqrt(n), n


@dataclass
class Group:
    """Runs whose configs are the same but for the seed."""

    runs: list[RunDir]
    configs: list[dict[str, Any]]

    @property
    def seeds(self) -> list[Any]:
        return [config.get(SEED) for config in self.configs]


def group_runs(runs: Sequence[RunDir]) -> list[Group]:
    """`runs` gathered into groups that differ only in seed, in the order of their first run."""
    groups: dict[str, Group] = {}
    for run in runs:
        config = run.config()
        key = json.dumps({k: v for k, v in flatten_config(config).items() if k != SEED}, sort_keys=True, default=str)
        groups.setdefault(key, Group([], [])).runs.append(run)
        groups[key].configs.append(config)
    return list(groups.values())


def group_labels(groups: Sequence[Group]) -> list[str]:
    """A label per group: the settings that differ between groups (seed aside), else the spec's name."""
    firsts = [group.configs[0] for group in groups]
    keys = [key for key in differing_keys(firsts) if key != SEED]
    if len(groups) == 1 or not keys or len(keys) > 3:
        names = [str(config.get("name")) for config in firsts]
        return names if len(set(names)) == len(names) else [group.runs[0].name for group in groups]
    flat = [flatten_config(config) for config in firsts]
    return [", ".join(f"{key}={_short(config.get(key, '-'))}" for key in keys) for config in flat]


def _short(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _seeds(seeds: Sequence[Any]) -> str:
    return ",".join(str(seed) for seed in seeds)


def grouped_frame(frame: pd.DataFrame, groups: Sequence[Group]) -> pd.DataFrame:
    """compare's per-run `frame` as one row per group: its name, n, seeds, statuses, the keys
    that differ (seed aside), how many solved (RL runs), and for each result column its mean,
    `_std` and `_ci95` (the half-width of the 95% interval)."""
    keys = frame.attrs.get("keys", [])
    results = [c for c in frame.columns[2 + len(keys):] if pd.api.types.is_numeric_dtype(frame[c])]
    shown_keys = [key for key in keys if key != SEED]
    rows = []
    by_name = frame.set_index("run")
    for group in groups:
        part = by_name.loc[[run.name for run in group.runs]]
        counts = part["status"].value_counts()
        row: dict[str, Any] = {
            "group": group.configs[0].get("name", group.runs[0].name),
            "n": len(group.runs),
            "seeds": _seeds(group.seeds),
            "status": ", ".join(f"{count} {status}" for status, count in counts.items()) if len(counts) > 1 else counts.index[0],
        }
        row.update({key: part[key].iloc[0] for key in shown_keys})
        if "solved" in part and part["solved"].notna().any():  # RL: how many of the runs solved (the
            # solved_* means are over those alone)
            row["solved"] = f"{(part['solved'] == 'yes').sum()}/{part['solved'].notna().sum()}"
        for column in results:
            mean, std, half, _ = interval(part[column].tolist())
            row.update({column: mean} if column in COUNTS else {column: mean, f"{column}_std": std, f"{column}_ci95": half})
        rows.append(row)
    grouped = pd.DataFrame(rows)
    return grouped.drop(columns=[c for c in grouped.columns if c.endswith(("_std", "_ci95")) and grouped[c].isna().all()])


def with_intervals(frame: pd.DataFrame) -> pd.DataFrame:
    """A grouped frame for reading: each result as `mean ± std [low, high]` (the 95% interval)
    in one column, the `_std` and `_ci95` columns folded into it."""
    shown = frame.copy()
    for column in [c for c in frame.columns if f"{c}_std" in frame.columns]:
        half = frame.get(f"{column}_ci95", pd.Series(math.nan, index=frame.index))
        shown[column] = [
            _fmt(m) if not np.isfinite(s) else f"{_fmt(m)} ± {_fmt(s)} [{_fmt(m - h)}, {_fmt(m + h)}]"
            for m, s, h in zip(frame[column], frame[f"{column}_std"], half)
        ]
    return shown.drop(columns=[c for c in frame.columns if c.endswith(("_std", "_ci95"))])


def _fmt(value: float) -> str:
    return "" if value is None or not np.isfinite(value) else f"{value:.4g}"


def paired_frame(frame: pd.DataFrame, a: Group, b: Group) -> pd.DataFrame:
    """B − A seed by seed for every numeric result of compare's per-run `frame`: one row per
    result with n (seeds both have), the means of A and B, the mean difference ± its standard
    deviation, its 95% interval and the per-seed differences."""
    by_name = frame.set_index("run")
    seeds_a = dict(zip(a.seeds, (run.name for run in a.runs)))
    seeds_b = dict(zip(b.seeds, (run.name for run in b.runs)))
    common = [seed for seed in seeds_a if seed in seeds_b]
    if not common:
        raise DnnexpError(
            f"--paired: the two groups share no seed (A: {_seeds(a.seeds)}; B: {_seeds(b.seeds)}); "
            "pair runs trained with the same seeds"
        )
    rows = []
    for column in by_name.columns:
        if column in ("status", "epochs", "episodes", *frame.attrs.get("keys", ())) or not pd.api.types.is_numeric_dtype(by_name[column]):
            continue
        values_a = by_name.loc[[seeds_a[s] for s in common], column].to_numpy(dtype=np.float64)
        values_b = by_name.loc[[seeds_b[s] for s in common], column].to_numpy(dtype=np.float64)
        if np.isnan(values_a).all() or np.isnan(values_b).all():
            continue
        diffs = values_b - values_a
        mean, std, half, n = interval(diffs.tolist())
        rows.append({
            "result": column, "n": n, "A": float(np.nanmean(values_a)), "B": float(np.nanmean(values_b)),
            "B-A": mean, "B-A_std": std, "ci95_low": mean - half, "ci95_high": mean + half,
            "per_seed": " ".join(f"{seed}:{_fmt(d)}" for seed, d in zip(common, diffs)),
        })
    return pd.DataFrame(rows)
