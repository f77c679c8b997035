"""Bring run directories of older gpbench versions up to the current store and keys.

Schema-1 run directories keyed each unit on its plugin's source hash and kept one JSON file
per unit. ``migrate`` rekeys every record by declared versions (:mod:`gpbench.running.units`)
at version "1" of its model and dataset and protocol 1, packs the records into one
``results.parquet`` without training histories, and rewrites run.json's unit lists. Metrics and
predictions are kept exactly; the old key stays in the record as ``migrated_from``.

Records of any schema also get today's compact design summary: trial effects stored in full
(gpbench before 2026-12-07) become their digest and range (:func:`record_summary`), the digest
computed from the stored estimates exactly as a new run computes it. Records of the first
trial-adjustment scheme (:data:`TRIALS_SCHEME_V1`) that dropped no test record hold the second
scheme's numbers to the bit (it differs only for records the first dropped): they are rekeyed
to it. A run directory with a unit that dropped test records (or whose key another change made
stale) is left on the first scheme, all of it, to be rerun into a new directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gpbench.api.errors import GpbenchError
from gpbench.plugins import Registry
from gpbench.running.design import TRIALS_SCHEME, TRIALS_SCHEME_V1, record_summary
from gpbench.running.runconfig import read_run
from gpbench.running.units import (
    KEY_FIELDS,
    OPTIONAL_KEY_FIELDS,
    config_hash,
    record_key,
    unit_id,
    unit_key,
)
from gpbench.storage.atomic import atomic_write_json
from gpbench.storage.records import ResultStore

# fit_info fields of schema 1 that are training histories under another name
_LEGACY_HISTORY = ("valid_rmse",)


def rekey(rec: dict[str, Any], registry: Registry) -> dict[str, Any]:
    """``rec`` (schema 1) with its key by declared versions: config fields, config_hash and
    unit_id recomputed; "dataset_version" (the data's release) renamed "data_release"."""
    if "protocol_version" in rec:
        return rec  # already keyed by versions
    out = dict(rec)
    out["data_release"] = out.pop("dataset_version", None)
    info = dict(out.get("fit_info") or {})
    moved = {k: info.pop(k) for k in _LEGACY_HISTORY if k in info}
    if moved:
        info["history"] = {**info.get("history", {}), **moved}
        out["fit_info"] = info
    config = record_key(rec, registry)
    out.update(config)
    out["config_hash"] = config_hash(config)
    out["unit_id"] = unit_id(rec["model"], rec["traits"], rec["repeat"], rec["fold"],
                             out["config_hash"])
    out["migrated_from"] = rec["unit_id"]
    return out


def _dropped(rec: dict[str, Any]) -> int:
    """Test records the unit's trial adjustment dropped, over its traits."""
    trials = (rec.get("design_fit") or {}).get("trials") or {}
    return sum(int(info.get("test_records_dropped") or 0) for info in trials.values())


def upgrade_trials(rec: dict[str, Any]) -> dict[str, Any]:
    """``rec`` rekeyed from the first trial-adjustment scheme to today's, with its summaries'
    ``test_records_nested`` 0 (none was needed), when it dropped no test record; else as it
    is."""
    design = rec.get("design") or {}
    if design.get("trials") != TRIALS_SCHEME_V1 or _dropped(rec):
        return rec
    if config_hash(_own_key(rec)) != rec.get("config_hash"):
        return rec  # keyed otherwise (an older version of a model): a run replaces it
    out = {**rec, "design": {**design, "trials": TRIALS_SCHEME}}
    fit = out.get("design_fit")
    if isinstance(fit, dict) and isinstance(fit.get("trials"), dict):
        out["design_fit"] = {**fit, "trials": {
            trait: {**info, "test_records_nested": info.get("test_records_nested", 0)}
            for trait, info in fit["trials"].items()}}
    out["config_hash"] = config_hash(_own_key(out))
    out["unit_id"] = unit_id(rec["model"], rec["traits"], rec["repeat"], rec["fold"],
                             out["config_hash"])
    return out


def _own_key(rec: dict[str, Any]) -> dict[str, Any]:
    """The key of ``rec`` from its own stored fields (its model's version, not today's)."""
    return unit_key({**{f: rec.get(f) for f in (*KEY_FIELDS, *OPTIONAL_KEY_FIELDS)},
                     "design": rec.get("design")})


def migrate(run_dir: Path, registry: Registry) -> tuple[int, int]:
    """Rekey and pack one run directory in place; returns (records, units listed)."""
    run_dir = Path(run_dir)
    run = read_run(run_dir)
    if run is None:
        raise GpbenchError(f"{run_dir} has no run.json: not a run directory")
    store = ResultStore(run_dir)
    records, unreadable = store.scan()
    if unreadable:
        raise GpbenchError(f"{run_dir}: {len(unreadable)} unreadable record(s), e.g. "
                           f"{unreadable[0][0]} ({unreadable[0][1]}); mend or remove them first")
    new = {}
    for rec in records:
        out = rekey(rec, registry)
        if isinstance(out.get("design_fit"), dict):
            out = {**out, "design_fit": record_summary(out["design_fit"])}
        new[rec["unit_id"]] = out
    design = (run.get("run_config") or {}).get("design") or {}
    if design.get("trials") == TRIALS_SCHEME_V1:
        upgraded = {old: upgrade_trials(rec) for old, rec in new.items()}
        # the whole run or none of it, so run.json never lists units of both schemes
        if all((r.get("design") or {}).get("trials") != TRIALS_SCHEME_V1
               for r in upgraded.values()):
            new = upgraded
            run["run_config"]["design"] = {**design, "trials": TRIALS_SCHEME}
    rename = {old: rec["unit_id"] for old, rec in new.items()}
    by_model = {m: [rename.get(u, u) for u in ids]
                for m, ids in (run.get("units_by_model") or {}).items()}
    run["units_by_model"] = by_model
    run["units"] = [rename.get(u, u) for u in run.get("units") or []]
    # new records go to the journal before old files go: a kill leaves every record readable
    for rec in new.values():
        store.write(rec)
    for old, rec in new.items():
        if old != rec["unit_id"]:
            store.path(old).unlink(missing_ok=True)
    store.pack(keep={rec["unit_id"] for rec in new.values()})  # old keys leave the pack too
    atomic_write_json(run_dir / "run.json", run)
    return len(new), len(run["units"])
