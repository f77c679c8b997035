"""What run directories hold against what their run.json planned (``gpbench status``).

Per run directory and model: the units run.json lists, how many have an ok record, a failed
record or none yet (a unit whose record is unreadable counts as missing: the next run redoes
it), and the seconds the finished units took. With a registry, each ok record's key is also
recomputed with today's declared versions and default options: a record whose key changed
is "stale" (it would be rerun, and counts as not done); a record whose plugin source hash
differs from today's is counted under "code changed", for information only. For runs that
span sessions or machines, this says what is left before a model can be ranked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tabulate import tabulate

from gpbench.api.errors import GpbenchError
from gpbench.boards.derive import UNTRUSTED
from gpbench.boards.leaderboard import listed_records, load_run_files
from gpbench.plugins import Registry
from gpbench.running.runconfig import units_by_model


@dataclass(frozen=True)
class ModelStatus:
    """One model's units in one run directory."""

    run: str
    model: str
    planned: int
    ok: int
    failed: int
    unit_seconds: float
    stale: int = 0  # ok records whose key today's versions or defaults no longer give
    code_changed: int = 0  # ok records made by other plugin source (information only)
    stale_why: str = ""

    @property
    def missing(self) -> int:
        return self.planned - self.ok - self.failed

    @property
    def complete(self) -> bool:
        return self.ok == self.planned and self.stale == 0


@dataclass
class RunStatus:
    """A run directory's models, and the files that count for none of them."""

    run_dir: Path
    models: list[ModelStatus] = field(default_factory=list)
    stray: int = 0  # records of units run.json does not list (other configuration, old code)
    unreadable: list[tuple[str, str]] = field(default_factory=list)


def _seconds(record: dict[str, Any]) -> float:
    """A unit's cost: the CPU seconds of its preprocessing, tuning, fit and predict where the
    record has them (the same on an idle core with one thread, and still the cost when other
    processes shared the cores), else their wall seconds (records made before CPU time was
    recorded)."""
    timing = record.get("cpu") or record.get("timing") or {}
    return float(sum(v for v in timing.values() if isinstance(v, (int, float))))


def _staleness(rec: dict[str, Any], registry: Registry,
               user_options: dict[str, Any]) -> tuple[str, bool]:
    """Why today's code would not reuse ``rec`` ("" when it would), and whether the source of
    its model's plugin changed since (information only)."""
    from gpbench.api.types import ModelContext
    from gpbench.plugins import code_sha256
    from gpbench.running.units import config_hash, record_key

    try:
        spec = registry.model(rec["model"])
    except GpbenchError:
        return f"model {rec['model']!r} is not installed", False
    changed = (rec.get("plugin") or {}).get("code_sha256") not in (None, "",
                                                                   code_sha256(spec.factory))
    if "protocol_version" not in rec:
        return "stored by an older gpbench (run `gpbench migrate`)", changed
    context = ModelContext(seed=rec.get("seed", 0), device=rec.get("device_kind", "cpu"))
    try:
        options = spec.effective_options(user_options, context)
        key = record_key(rec, registry, options)
    except (GpbenchError, ValueError, TypeError, KeyError) as exc:
        return f"its key cannot be recomputed ({exc})", changed
    if config_hash(key) == rec.get("config_hash"):
        return "", changed
    for field_ in ("protocol_version", "model_version", "dataset_version", "options", "uses"):
        if key[field_] != rec.get(field_):
            return f"{field_} changed ({rec.get(field_)!r} -> {key[field_]!r})"[:160], changed
    return "its key changed", changed


def run_status(run_dir: Path, registry: Registry | None = None) -> RunStatus:
    """The status of every model run.json of ``run_dir`` lists; with ``registry``, ok records
    are also checked against today's keys (stale) and plugin source (code changed)."""
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
        stale, changed, why = 0, 0, ""
        if registry is not None:
            user = ((run.get("run_config") or {}).get("model_options") or {}).get(model, {})
            for r in ok:
                reason, code = _staleness(r, registry, user)
                stale += bool(reason)
                changed += code
                why = why or reason
        status.models.append(ModelStatus(name, model, len(units.get(model, [])), len(ok),
                                         len(recs) - len(ok), sum(map(_seconds, ok)),
                                         stale, changed, why))
    return status


def prune_strays(run_dir: Path) -> int:
    """Rewrite ``run_dir``'s pack with only the records of the units its run.json lists
    (under the run's lock); returns how many it keeps. Records of units no longer listed, e.g.
    of a model's older version after its rerun, count for nothing on any board."""
    from gpbench.storage.records import ResultStore

    run, records, _ = load_run_files(Path(run_dir))
    units_by_model(run, Path(run_dir))  # raises for a directory that is not a run directory
    listed = {r["unit_id"] for r in listed_records(run, records)[0]}
    store = ResultStore(Path(run_dir))
    with store.lock():
        return store.pack(keep=listed)


def render_status(statuses: Sequence[RunStatus]) -> str:
    """A table of every run directory's models, then a line per model over all of them."""
    checked = any(m.stale or m.code_changed or m.stale_why for s in statuses for m in s.models)
    rows = [[m.run, m.model, m.ok - m.stale, m.failed, m.missing, m.stale, m.code_changed,
             f"{m.unit_seconds:,.0f}"] for s in statuses for m in s.models]
    headers = ["run", "model", "done", "failed", "missing", "stale", "code changed", "unit-s"]
    if not checked:
        rows = [r[:5] + r[7:] for r in rows]
        headers = headers[:5] + headers[7:]
    lines = [tabulate(rows, headers=headers, tablefmt="simple", colalign=("left", "left")), ""]
    if len(statuses) > 1:
        models: dict[str, list[ModelStatus]] = {}
        for m in (m for s in statuses for m in s.models):
            models.setdefault(m.model, []).append(m)
        for model, ms in models.items():
            todo = [f"{m.run} ({m.missing + m.failed + m.stale})" for m in ms
                    if not m.complete]
            lines.append(f"{model}: complete in {len(ms) - len(todo)} of {len(ms)} run "
                         "directories" + (f"; units left: {', '.join(todo)}" if todo else ""))
        lines.append("")
    for s in statuses:
        for m in s.models:
            if m.stale:
                lines.append(f"{s.run_dir}: {m.model}: {m.stale} record(s) are stale, e.g. "
                             f"{m.stale_why}; rerun the same command to redo them")
        if s.stray:
            lines.append(f"{s.run_dir}: {s.stray} result file(s) belong to no unit listed in "
                         "run.json (another configuration or older plugin code) and count for "
                         "nothing")
        for name, why in s.unreadable:
            if why.startswith(UNTRUSTED):
                lines.append(f"{s.run_dir}: {name}: {why}")
            else:
                lines.append(f"{s.run_dir}: unreadable record {name} ({why}); the next run "
                             "redoes that unit")
    return "\n".join(lines).rstrip() + "\n"


def render_costs(statuses: Sequence[RunStatus]) -> str:
    """Unit-seconds of the ok records per model (rows, most expensive first) and run directory
    (columns), with each model's total and share; a last row sums every model."""
    runs = list(dict.fromkeys(m.run for s in statuses for m in s.models))
    seconds: dict[str, dict[str, float]] = {}
    for m in (m for s in statuses for m in s.models):
        per_run = seconds.setdefault(m.model, {})
        per_run[m.run] = per_run.get(m.run, 0.0) + m.unit_seconds
    grand = sum(sum(v.values()) for v in seconds.values()) or 1.0
    order = sorted(seconds, key=lambda model: -sum(seconds[model].values()))
    rows = [[model, *(f"{seconds[model].get(r, 0.0):,.0f}" for r in runs),
             f"{sum(seconds[model].values()):,.0f}",
             f"{100 * sum(seconds[model].values()) / grand:.1f}"] for model in order]
    total = [sum(seconds[model].get(r, 0.0) for model in order) for r in runs]
    rows.append(["all", *(f"{t:,.0f}" for t in total), f"{sum(total):,.0f}", "100.0"])
    headers = ["unit-s", *runs, "total", "%"]
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True,
                    colalign=("left",) + ("right",) * (len(runs) + 2)) + "\n"
