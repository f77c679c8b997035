"""Units of work and the pure function that evaluates one.

A unit is (dataset, model, options, traits, repeat, fold, tuning): everything needed to
reproduce one fitted model and its test-fold scores. ``run_unit`` turns a unit into a result
record and never raises (a failure becomes a record with its traceback), so any executor —
in-process, a process pool, a cluster — can run units and hand records back to the one
process that writes them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import time
import traceback
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .errors import GpbenchError
from .plugins import Registry, load_registry
from .protocol import FoldPlan, inner_validation_mask
from .types import DataConfig, Dataset, ModelContext, ModelSpec


class ModelOutputError(GpbenchError):
    """A model's ``predict`` returned something unusable."""


@dataclass(frozen=True)
class TuneConfig:
    """Nested tuning inside each outer training fold (see :mod:`gpbench.tuning`)."""

    n_trials: int
    storage: str | None = None
    metric: str = "pcc"
    timeout_s: float | None = None
    jobs: int = 1  # processes sharing one study through the storage


@dataclass(frozen=True)
class Unit:
    """One model fitted on one outer training fold and scored on its test fold."""

    dataset: str
    data_config: DataConfig
    dataset_checksum: str
    model: str
    options: Mapping[str, Any]
    traits: tuple[str, ...]
    repeat: int
    fold: int
    k: int
    seed: int
    fold_file: str
    fold_sha256: str
    tune: TuneConfig | None = None
    n_threads: int = 1
    device: str = "auto"
    inner_fraction: float = 0.2
    extra: Mapping[str, Any] = field(default_factory=dict)

    def config(self) -> dict[str, Any]:
        """Everything that determines the result (paths and thread counts excluded)."""
        return {
            "dataset": self.dataset, "dataset_checksum": self.dataset_checksum,
            "model": self.model, "options": dict(sorted(self.options.items())),
            "traits": list(self.traits), "repeat": self.repeat, "fold": self.fold,
            "k": self.k, "seed": self.seed, "fold_sha256": self.fold_sha256,
            "tune": asdict(self.tune) if self.tune else None,
            "inner_fraction": self.inner_fraction,
        }

    @property
    def config_hash(self) -> str:
        blob = json.dumps(self.config(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()

    @property
    def unit_id(self) -> str:
        what = self.traits[0] if len(self.traits) == 1 else f"{len(self.traits)}traits"

        def safe(text: str) -> str:  # a file name: no separators, nothing hidden
            return "".join(c if c.isalnum() or c in "-_." else "_" for c in text).lstrip(".")

        return (f"{safe(self.model)}--{safe(what)}--r{self.repeat}f{self.fold}--"
                f"{self.config_hash[:12]}")

    def label(self) -> str:
        what = self.traits[0] if len(self.traits) == 1 else f"{len(self.traits)} traits"
        return f"{self.model} {what} repeat {self.repeat} fold {self.fold}"


# ------------------------------------------------------------------ per-process environment


@functools.lru_cache(maxsize=4)
def _registry(extra_plugins: tuple[str, ...], load_entrypoints: bool) -> Registry:
    import importlib

    extra = [(name, importlib.import_module(name)) for name in extra_plugins]
    return load_registry(extra, load_entrypoints=load_entrypoints)


class _FrozenDict(dict):
    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))


@functools.lru_cache(maxsize=4)
def _dataset(registry: Registry, name: str, config: DataConfig) -> Dataset:
    return registry.dataset(name).load(config)


@dataclass(frozen=True)
class Environment:
    """How a process finds plugins: entry points and/or importable plugin modules.

    It is small and picklable so that worker processes and cluster workers rebuild the same
    registry; registries and loaded datasets are cached per process.
    """

    extra_plugins: tuple[str, ...] = ()
    load_entrypoints: bool = True
    # a registry already built in this process (not sent to other processes)
    registry: Registry | None = field(default=None, compare=False, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        return {"extra_plugins": self.extra_plugins, "load_entrypoints": self.load_entrypoints}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for key, value in {**state, "registry": None}.items():
            object.__setattr__(self, key, value)

    def get_registry(self) -> Registry:
        if self.registry is not None:
            return self.registry
        return _registry(tuple(self.extra_plugins), self.load_entrypoints)

    def get_dataset(self, unit: Unit) -> Dataset:
        # lru_cache needs a hashable key; options arrive as a dict
        config = DataConfig(unit.data_config.cache_dir, unit.data_config.data_dir,
                            _FrozenDict(unit.data_config.options))
        return _dataset(self.get_registry(), unit.dataset, config)


# ------------------------------------------------------------------ evaluation


def _check_predictions(pred: Any, n: int, t: int, who: str) -> np.ndarray:
    try:
        arr = np.asarray(pred, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelOutputError(f"{who}: predict returned non-numeric output ({exc})") from exc
    if arr.ndim == 1 and t == 1:
        arr = arr[:, None]
    if arr.shape != (n, t):
        raise ModelOutputError(f"{who}: predict returned shape {arr.shape}, expected ({n}, {t})"
                               " (samples x traits)")
    if not np.all(np.isfinite(arr)):
        bad = int((~np.isfinite(arr)).sum())
        raise ModelOutputError(f"{who}: predict returned {bad} NaN/inf values")
    return arr


def _fit_rows(measured: np.ndarray, train: np.ndarray, inner: np.ndarray,
              uses_validation: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows to fit on and rows for inner validation (both inside the training fold)."""
    if not uses_validation:
        return train & measured, None
    return train & ~inner & measured, train & inner & measured


def fit_predict(spec: ModelSpec, options: Mapping[str, Any], context: ModelContext,
                X: np.ndarray, Y: np.ndarray, fit_rows: np.ndarray,
                valid_rows: np.ndarray | None, predict_rows: np.ndarray,
                who: str) -> tuple[np.ndarray, dict[str, Any], dict[str, float]]:
    """Build, fit and predict; the only place a model sees data. Returns predictions,
    the model's ``fit_info`` and timings."""
    model = spec.build(options, context)
    valid = (X[valid_rows], Y[valid_rows]) if valid_rows is not None else None
    t0 = time.perf_counter()
    model.fit(X[fit_rows], Y[fit_rows], valid=valid)
    t1 = time.perf_counter()
    pred = model.predict(X[predict_rows])
    t2 = time.perf_counter()
    pred = _check_predictions(pred, int(predict_rows.sum()), Y.shape[1], who)
    info = dict(getattr(model, "fit_info", None) or {})
    return pred, info, {"fit_s": t1 - t0, "predict_s": t2 - t1}


def _versions(entry_plugin: Any) -> dict[str, Any]:
    import sklearn

    return {"gpbench": __version__, "python": platform.python_version(),
            "numpy": np.__version__, "sklearn": sklearn.__version__,
            "plugin": {"name": entry_plugin.name, "distribution": entry_plugin.distribution,
                       "version": entry_plugin.version}}


def record_header(unit: Unit) -> dict[str, Any]:
    """The fields every record of ``unit`` starts with, whoever writes it."""
    return {"unit_id": unit.unit_id, "config_hash": unit.config_hash, **unit.config(),
            "fold_file": Path(unit.fold_file).name}


def failed_record(unit: Unit, error: str) -> dict[str, Any]:
    """A record for a unit that produced none of its own (killed, timed out, worker lost)."""
    return {**record_header(unit), "status": "failed", "error": error, "traceback": "",
            "elapsed_s": float("nan"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds")}


def run_unit(unit: Unit, env: Environment | None = None) -> dict[str, Any]:
    """Evaluate one unit; always returns a record (``status`` ok or failed)."""
    env = env or Environment()
    started = time.perf_counter()
    record: dict[str, Any] = {
        **record_header(unit),
        "host": {"machine": platform.machine(), "node": platform.node(), "pid": os.getpid()},
    }
    try:
        record.update(_evaluate(unit, env))
        record["status"] = "ok"
    except BaseException as exc:  # noqa: BLE001 - a unit's failure must not stop the run
        if isinstance(exc, KeyboardInterrupt):
            raise
        record["status"] = "failed"
        record["error"] = f"{type(exc).__name__}: {exc}"
        record["traceback"] = traceback.format_exc()
    record["elapsed_s"] = time.perf_counter() - started
    record["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return record


@dataclass
class UnitData:
    """A unit's view of its dataset: arrays and the boolean row masks of its outer fold."""

    spec: ModelSpec
    who: str
    plugin: Any
    dataset: Dataset
    X: np.ndarray
    Y: np.ndarray
    ids: np.ndarray
    train: np.ndarray
    test: np.ndarray
    inner: np.ndarray
    measured: np.ndarray


def unit_data(unit: Unit, env: Environment) -> UnitData:
    """Resolve the unit's model and dataset and compute its fold masks (checked against the
    recorded dataset checksum and fold-file hash)."""
    entry = env.get_registry().entry("model", unit.model)
    spec: ModelSpec = entry.spec
    ds = env.get_dataset(unit)
    if ds.checksum != unit.dataset_checksum:
        raise GpbenchError(f"dataset {unit.dataset!r} changed since the run was planned "
                           f"({ds.checksum[:12]} != {unit.dataset_checksum[:12]})")
    plan = FoldPlan.load(Path(unit.fold_file), unit.k, unit.seed)
    if plan.sha256 != unit.fold_sha256:
        raise GpbenchError(f"fold file {unit.fold_file} does not match its recorded hash")
    if list(plan.assignment.index) != ds.sample_ids:
        raise GpbenchError("fold file samples do not match the dataset's samples")
    test = plan.test_mask(unit.repeat, unit.fold)
    train = ~test
    ids = np.asarray(ds.sample_ids)
    inner = np.zeros(len(ids), dtype=bool)
    inner[train] = inner_validation_mask(ids[train], unit.seed, unit.repeat, unit.fold,
                                         unit.inner_fraction)
    Y = ds.traits[list(unit.traits)].to_numpy(dtype=np.float64)
    measured = ~np.isnan(Y).all(axis=1) if spec.multi_trait else ~np.isnan(Y[:, 0])
    return UnitData(spec, f"model {spec.name!r} of {entry.plugin.describe()}", entry.plugin,
                    ds, ds.genotypes, Y, ids, train, test, inner, measured)


def _evaluate(unit: Unit, env: Environment) -> dict[str, Any]:
    registry = env.get_registry()
    d = unit_data(unit, env)
    spec, who, ds, X, Y, ids = d.spec, d.who, d.dataset, d.X, d.Y, d.ids
    train, test, measured = d.train, d.test, d.measured
    fit_rows, valid_rows = _fit_rows(measured, train, d.inner, spec.uses_validation)
    if fit_rows.sum() < 2:
        raise GpbenchError(f"only {int(fit_rows.sum())} measured training samples for "
                           f"{', '.join(unit.traits)}")

    options = dict(unit.options)
    out: dict[str, Any] = {}
    timing: dict[str, float] = {}
    if unit.tune and unit.tune.n_trials > 0:
        from .tuning import tune

        t0 = time.perf_counter()
        tuned = tune(unit, env, d, base_options=options)
        timing["tune_s"] = time.perf_counter() - t0
        options.update(tuned["best_params"])
        out["tuning"] = tuned
    context = ModelContext(seed=unit.seed * 1000 + unit.repeat * 100 + unit.fold,
                           markers=ds.markers, n_threads=unit.n_threads, device=unit.device,
                           get_model=registry.model)
    pred, info, t = fit_predict(spec, options, context, X, Y, fit_rows, valid_rows, test, who)
    timing.update(t)

    metrics: dict[str, dict[str, float]] = {}
    predictions: dict[str, dict[str, list]] = {}
    y_test = Y[test]
    for j, trait in enumerate(unit.traits):
        m = ~np.isnan(y_test[:, j])
        yt, yp = y_test[m, j], pred[m, j]
        scores: dict[str, float] = {"n_test": int(m.sum()),
                                    "n_train": int((train & ~np.isnan(Y[:, j])).sum())}
        for metric in registry.metrics():
            scores[metric.name] = float(metric.fn(yt, yp)) if len(yt) > 1 else float("nan")
        metrics[trait] = scores
        predictions[trait] = {"sample": ids[test][m].tolist(), "y_true": yt.tolist(),
                              "y_pred": yp.tolist()}
    out.update({"status": "ok", "metrics": metrics, "predictions": predictions,
                "timing": timing, "fit_info": info, "used_options": options,
                "multi_trait": spec.multi_trait, "versions": _versions(d.plugin),
                "dataset_version": ds.version})
    return out
