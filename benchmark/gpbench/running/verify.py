"""Recompute stored units of a run directory and compare them with their records
(``gpbench verify``).

A record's file name carries the hash of everything that determines its result, so a record
made on another machine, or copied in from elsewhere, is trusted by resuming runs without being
recomputed. This module checks that trust: it plans the run directory's own configuration with
this gpbench, picks stored records whose unit this plan would produce (a seeded sample, or
all), reruns those units without writing anything, and compares predictions sample by sample.
A record whose key this plan does not produce (other plugin code, options or data) cannot be
recomputed here and is counted as such.

Each unit is rerun under the thread count its record stores (``host.threads``; older records
do not store it and are rerun under ``threads``): deterministic models give the same
predictions under any count, but SGD training (the transformer) sums floats in another order
under another count and drifts in the last digits. So does it on another CPU.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from tabulate import tabulate

from gpbench.api.errors import GpbenchError
from gpbench.storage.pack import float32_precision


@dataclass(frozen=True)
class UnitCheck:
    """One recomputed unit against its stored record."""

    unit_id: str
    model: str
    traits: tuple[str, ...]
    repeat: int
    fold: int
    stored_r2: dict[str, float]
    recomputed_r2: dict[str, float]
    max_abs_diff: float  # largest |stored - recomputed| prediction over all traits and samples
    relative_diff: float  # max_abs_diff / sd of the observed test values
    error: str | None = None  # the rerun failed, or its samples differ from the record's
    threads: int | None = None  # the thread count of the rerun
    same_host: bool | None = None  # record made on a CPU (and GPU) of this name

    def agrees(self, tolerance: float) -> bool:
        return self.error is None and self.relative_diff <= tolerance


@dataclass(frozen=True)
class VerifyResult:
    run_dir: Path
    checks: list[UnitCheck]
    candidates: int  # ok records whose unit this gpbench plans (could be recomputed)
    unmatched: dict[str, int]  # per model: ok records this plan does not produce
    threads_unknown: int = 0  # rerun records that do not store their thread count
    # (unit, why) of records whose stored metrics disagree with their own predictions
    untrusted: list[tuple[str, str]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and not self.untrusted


def run_config_from(run: dict[str, Any], models: Sequence[str], out: Path,
                    data_dir: Path | None, cache_dir: Path) -> Any:
    """The :class:`~gpbench.running.plan.RunConfig` that plans ``models`` of run.json ``run``."""
    from gpbench.running.plan import RunConfig
    from gpbench.running.units import TuneConfig

    rc = run.get("run_config")
    if not rc:
        raise GpbenchError(f"{out} has no recorded run configuration (made by an older "
                           "gpbench); it cannot be replanned")
    tune = rc.get("tune")
    return RunConfig(
        models=list(models), dataset=rc["dataset"], traits=list(rc["traits"]), k=rc["k"],
        seed=rc["seed"], repeats=rc["repeats"], out=out, data_dir=data_dir,
        cache_dir=cache_dir, dataset_options=dict(rc.get("dataset_options") or {}),
        model_options={m: dict(o) for m, o in (rc.get("model_options") or {}).items()},
        tune=(TuneConfig(tune["n_trials"], None, metric=tune.get("metric", "r2"),
                         timeout_s=tune.get("timeout_s"), jobs=tune.get("jobs", 1))
              if tune else None),
        device=rc.get("device", "auto"), inner_fraction=rc.get("inner_fraction", 0.2),
        published_folds=bool(rc.get("published_folds")), maf=rc.get("maf", 0.01),
        min_call_rate=rc.get("min_call_rate", 0.5),
        # a run that recorded no design effects ran without them (the v1 protocol, e.g. a
        # board committed before they existed): replan it so, whatever the dataset declares
        covariates=(rc.get("covariates") or "auto") if rc.get("design") else "none",
        trials=(rc.get("trials") or "auto") if rc.get("design") else "none",
        cv=rc.get("cv", "random"),
        train_fractions=tuple(rc.get("train_fractions") or (1.0,)))


def compare(stored: dict[str, Any], fresh: dict[str, Any]) -> UnitCheck:
    """Predictions and R² of a recomputed record against the stored one."""
    common = dict(unit_id=stored["unit_id"], model=stored["model"],
                  traits=tuple(stored["traits"]), repeat=stored["repeat"], fold=stored["fold"],
                  stored_r2={t: m.get("r2") for t, m in (stored.get("metrics") or {}).items()})
    if fresh.get("status") != "ok":
        return UnitCheck(**common, recomputed_r2={}, max_abs_diff=float("nan"),
                         relative_diff=float("nan"),
                         error=f"the rerun failed: {str(fresh.get('error')).splitlines()[0]}")
    recomputed = {t: m.get("r2") for t, m in (fresh.get("metrics") or {}).items()}
    worst, relative, error = 0.0, 0.0, None
    if not stored.get("predictions"):
        error = "the record stores no predictions to compare"
    for trait, old in (stored.get("predictions") or {}).items():
        new = (fresh.get("predictions") or {}).get(trait)
        if new is None or list(new["sample"]) != list(old["sample"]):
            error = f"{trait}: the rerun predicts other samples than the record"
            continue
        # records made before pack format 3 hold float64 predictions; a rerun keeps float32
        # precision, so the stored ones are compared at that precision too
        kept = float32_precision(np.asarray(old["y_pred"], float))
        diff = np.abs(np.asarray(new["y_pred"], float) - kept)
        largest = float(diff.max(initial=0.0))
        scale = float(np.std(np.asarray(old["y_true"], float))) or 1.0
        worst, relative = max(worst, largest), max(relative, largest / scale)
    return UnitCheck(**common, recomputed_r2=recomputed, max_abs_diff=worst,
                     relative_diff=relative, error=error)


def verify_run(run_dir: Path, models: Sequence[str] | None = None, sample: int | None = 3,
               seed: int = 0, data_dir: Path | None = None, cache_dir: Path | None = None,
               jobs: int = 1, executor: Any = None, env: Any = None,
               threads: int = 1) -> VerifyResult:
    """Rerun ``sample`` stored units of ``run_dir`` (None: all) and compare them; each under
    its record's thread count, or ``threads`` where the record stores none."""
    from gpbench.boards.derive import UNTRUSTED
    from gpbench.boards.leaderboard import listed_records, load_run_files
    from gpbench.plugins import load_registry
    from gpbench.running.executors import LocalExecutor
    from gpbench.running.plan import default_cache_dir, plan_run
    from gpbench.running.runconfig import units_by_model
    from gpbench.running.units import Environment

    run_dir = Path(run_dir)
    run, records, problems = load_run_files(run_dir)
    records = listed_records(run, records)[0]
    untrusted = [(n, w) for n, w in problems if w.startswith(UNTRUSTED)]
    units_by_model(run, run_dir)  # raises for a directory that is not a run directory
    ok = [r for r in records if r.get("status", "ok") == "ok"]
    finished = {r["model"] for r in ok}
    order = list((run.get("run_config") or {}).get("models") or []) + sorted(finished)
    present = [m for m in dict.fromkeys(order) if m in finished]
    chosen = list(models) if models else present
    missing = [m for m in chosen if m not in present]
    if missing:
        raise GpbenchError(f"{run_dir} has no finished unit of {', '.join(missing)}; "
                           f"it holds {', '.join(present) or 'none'}")
    if data_dir is None and (run.get("config") or {}).get("data_dir"):
        saved = Path(run["config"]["data_dir"])
        data_dir = saved if saved.exists() else None
    registry = env.get_registry() if env is not None else load_registry()
    config = run_config_from(run, chosen, run_dir, data_dir, cache_dir or default_cache_dir())
    plan = plan_run(config, registry)
    planned = {u.unit_id: u for u in plan.units}
    by_id = {r["unit_id"]: r for r in ok if r["model"] in chosen}
    matched = sorted(uid for uid in by_id if uid in planned)
    unmatched = Counter(rec["model"] for uid, rec in by_id.items() if uid not in planned)
    picked = matched if sample is None else sorted(
        random.Random(seed).sample(matched, min(sample, len(matched))))
    hosts = {uid: by_id[uid].get("host") or {} for uid in picked}
    units = [replace(planned[uid], n_threads=int(hosts[uid].get("threads") or threads))
             for uid in picked]
    fresh: dict[str, dict[str, Any]] = {}
    runner = executor or LocalExecutor(jobs, None)
    runner.run(units, lambda unit, rec: fresh.__setitem__(unit.unit_id, rec),
               env or Environment(registry=registry))
    checks = []
    for uid, unit in zip(picked, units, strict=True):
        checks.append(replace(compare(by_id[uid], fresh[uid]), threads=unit.n_threads,
                              same_host=_same_host(hosts[uid], fresh[uid].get("host") or {})))
    unknown = sum(1 for uid in picked if not hosts[uid].get("threads"))
    return VerifyResult(run_dir, checks, len(matched), dict(unmatched), unknown, untrusted)


def _same_host(stored: dict[str, Any], rerun: dict[str, Any]) -> bool | None:
    """Whether a record and its rerun ran on a CPU (and, for CUDA units, a GPU) of the same
    name and vector extension; None where the record does not name its CPU."""
    if stored.get("cpu") is None:
        return None
    return all(stored.get(k) == rerun.get(k) for k in ("cpu", "gpu"))


def render_verify(result: VerifyResult, tolerance: float) -> str:
    """The table of checked units and a one-line verdict."""
    rows = []
    for c in result.checks:
        r2 = "; ".join(f"{t} {c.stored_r2.get(t, float('nan')):.4f} / "
                       f"{c.recomputed_r2.get(t, float('nan')):.4f}" for t in c.traits[:3])
        if len(c.traits) > 3:
            r2 += f"; ... ({len(c.traits)} traits)"
        verdict = c.error or ("identical" if c.max_abs_diff == 0 else
                              "agrees" if c.agrees(tolerance) else "DIFFERS")
        cpu = {True: "same", False: "other", None: "?"}[c.same_host]
        rows.append([c.model, f"r{c.repeat}f{c.fold}", r2, f"{c.max_abs_diff:.3g}",
                     f"{c.relative_diff:.3g}", c.threads, cpu, verdict])
    lines = [f"{result.run_dir}: {len(result.checks)} of {result.candidates} recomputable "
             "records rerun"]
    if rows:
        lines.append(tabulate(rows, headers=["model", "unit", "R² stored / rerun",
                                             "max |Δ pred|", "/ sd(y)", "threads", "CPU",
                                             "verdict"]))
    for model, n in sorted(result.unmatched.items()):
        lines.append(f"{model}: {n} record(s) not recomputable here: their keys (model or "
                     "dataset version, options, data or device kind) differ from what this "
                     "gpbench plans")
    if result.threads_unknown:
        lines.append(f"{result.threads_unknown} record(s) do not store the thread count they "
                     "ran with (older gpbench) and were rerun with --threads; CPU ?: the "
                     "record does not name its CPU")
    for name, why in result.untrusted:
        lines.append(f"{name}: {why}")
    bad = [c for c in result.checks if not c.agrees(tolerance)]
    lines.append(f"{len(bad)} of {len(result.checks)} disagree beyond {tolerance:g} x sd(y)"
                 if bad else f"all {len(result.checks)} agree within {tolerance:g} x sd(y)")
    if any(c.error is None and not c.same_host for c in bad):
        lines.append("models trained by SGD (the transformer) drift in the last digits on "
                     "another CPU or thread count: compare the R² columns, or rerun on the "
                     "machine that made the records")
    return "\n".join(lines) + "\n"
