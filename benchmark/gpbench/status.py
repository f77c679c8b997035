"""What run directories hold against what their run.json planned (``gpbench status``).

Per run directory and model: the units run.json lists, how many have an ok record, a failed
record or none yet (a unit whose record is unreadable counts as missing: the next run redoes
it), and the seconds the finished units took. For runs that span sessions or machines, this
says what is left before a model can be ranked, without starting a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tabulate import tabulate

from .leaderboard import listed_records, load_run_files
from .runconfig import units_by_model


@dataclass(frozen=True)
class ModelStatus:
    """One model's units in one run directory."""

    run: str
    model: str
    planned: int
    ok: int
    failed: int
    unit_seconds: float

    @property
    def missing(self) -> int:
        return self.planned - self.ok - self.failed

    @property
    def complete(self) -> bool:
        return self.ok == self.planned


@dataclass
class RunStatus:
    """A run directory's models, and the files that count for none of them."""

    run_dir: Path
    models: list[ModelStatus] = field(default_factory=list)
    stray: int = 0  # records of units run.json does not list (other configuration, old code)
    unreadable: list[tuple[str, str]] = field(default_factory=list)


def _seconds(record: dict[str, Any]) -> float:
    timing = record.get("timing") or {}
    return float(sum(v for v in timing.values() if isinstance(v, (int, float))))


def run_status(run_dir: Path) -> RunStatus:
    """The status of every model run.json of ``run_dir`` lists."""
    run_dir = Path(run_dir)
    run, records, unreadable = load_run_files(run_dir)
    units = units_by_model(run, run_dir)
    by_id = {r["unit_id"]: r for r in records}
    name = (run.get("dataset") or {}).get("name") or run_dir.name
    order = list((run.get("run_config") or {}).get("models") or [])
    # the leaderboard's own test of which records count, so both name the same strays
    status = RunStatus(run_dir, stray=listed_records(run, records)[1],
                       unreadable=list(unreadable))
    for model in order + sorted(set(units) - set(order)):
        recs = [by_id[uid] for uid in units.get(model, []) if uid in by_id]
        ok = [r for r in recs if r.get("status") == "ok"]
        status.models.append(ModelStatus(name, model, len(units.get(model, [])), len(ok),
                                         len(recs) - len(ok), sum(map(_seconds, ok))))
    return status


def render_status(statuses: Sequence[RunStatus]) -> str:
    """A table of every run directory's models, then a line per model over all of them."""
    rows = [[m.run, m.model, m.ok, m.failed, m.missing, f"{m.unit_seconds:,.0f}"]
            for s in statuses for m in s.models]
    lines = [tabulate(rows, headers=["run", "model", "done", "failed", "missing", "unit-s"],
                      tablefmt="simple", colalign=("left", "left")), ""]
    if len(statuses) > 1:
        models: dict[str, list[ModelStatus]] = {}
        for m in (m for s in statuses for m in s.models):
            models.setdefault(m.model, []).append(m)
        for model, ms in models.items():
            todo = [f"{m.run} ({m.missing + m.failed})" for m in ms if not m.complete]
            lines.append(f"{model}: complete in {len(ms) - len(todo)} of {len(ms)} run "
                         "directories" + (f"; units left: {', '.join(todo)}" if todo else ""))
        lines.append("")
    for s in statuses:
        if s.stray:
            lines.append(f"{s.run_dir}: {s.stray} result file(s) belong to no unit listed in "
                         "run.json (another configuration or older plugin code) and count for "
                         "nothing")
        for name, why in s.unreadable:
            lines.append(f"{s.run_dir}: unreadable record {name} ({why}); the next run redoes "
                         "that unit")
    return "\n".join(lines).rstrip() + "\n"
