"""A unit's data and the one function that shows data to a model.

``unit_data`` resolves a unit's model and dataset and computes its fold masks;
``fit_predict`` builds, fits and predicts a model on given rows. Both the runner (one outer
fold) and tuning (trials inside it) stand on this module; it imports neither of them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gpbench.api.errors import GpbenchError
from gpbench.api.types import Dataset, ModelContext, ModelSpec
from gpbench.data.preprocess import FoldPreprocessor
from gpbench.running.design import DesignFit, design_inputs, design_key, fit_design
from gpbench.running.protocol import FoldPlan, inner_validation_mask, training_subset_mask

if TYPE_CHECKING:  # annotations only: the runner imports this module, never the reverse
    from gpbench.running.units import Environment, Unit


class ModelOutputError(GpbenchError):
    """A model's ``predict`` returned something unusable."""


@dataclass
class UnitData:
    """A unit's view of its dataset: arrays and the boolean row masks of its outer fold.

    ``Y`` is what models fit. With design effects (``design`` not None) it is the target
    adjusted on the training fold (:mod:`gpbench.running.design`): metrics then compare
    ``design.target`` with predictions plus ``design.fixed``."""

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
    design: DesignFit | None = None


def unit_data(unit: Unit, env: Environment) -> UnitData:
    """Resolve the unit's model and dataset and compute its fold masks (checked against the
    recorded dataset checksum and fold-file hash)."""
    entry = env.get_registry().entry("model", unit.model)
    spec: ModelSpec = entry.spec
    ds = env.get_dataset(unit)
    if ds.checksum != unit.dataset_checksum:
        raise GpbenchError(f"dataset {unit.dataset!r} changed since the run was planned "
                           f"(checksum {ds.checksum[:12]}, planned with "
                           f"{unit.dataset_checksum[:12]}; changed input files?); use a new "
                           "--out directory, or restore the original files to resume")
    plan = FoldPlan.load(Path(unit.fold_file), unit.k, unit.seed)
    if plan.sha256 != unit.fold_sha256:
        raise GpbenchError(f"fold file {unit.fold_file} does not match its recorded hash")
    if list(plan.assignment.index) != ds.sample_ids:
        raise GpbenchError("fold file samples do not match the dataset's samples")
    test = plan.test_mask(unit.repeat, unit.fold)
    ids = np.asarray(ds.sample_ids)
    train = ~test
    if unit.train_fraction < 1.0:  # a learning curve's point: a nested subset of the fold
        train[train] = training_subset_mask(ids[train], unit.seed, unit.repeat, unit.fold,
                                            unit.train_fraction)
    inner = np.zeros(len(ids), dtype=bool)
    inner[train] = inner_validation_mask(ids[train], unit.seed, unit.repeat, unit.fold,
                                         unit.inner_fraction)
    Y = ds.traits[list(unit.traits)].to_numpy(dtype=np.float64)
    design = None
    if unit.design:
        covariates, records = design_inputs(ds, unit.covariates, unit.trials)
        if design_key(covariates, records, unit.traits) != dict(unit.design):
            raise GpbenchError(f"the covariates or trial records of dataset {unit.dataset!r} "
                               "changed since the run was planned (changed --covariates "
                               "file?); use a new --out directory or restore the file")
        design = fit_design(Y, unit.traits, ds.sample_ids, train, covariates, records)
        Y = design.fit
    measured = ~np.isnan(Y).all(axis=1) if spec.multi_trait else ~np.isnan(Y[:, 0])
    return UnitData(spec, f"model {spec.name!r} of {entry.plugin.describe()}", entry.plugin,
                    ds, ds.genotypes, Y, ids, train, test, inner, measured, design)


def _check_predictions(pred: Any, n: int, t: int, who: str) -> np.ndarray:
    """Predictions as an ``(n, t)`` float array. For a single trait, a 1-D array or a flat list
    of ``n`` numbers is accepted and taken as that trait's column; anything else that is not
    ``(n, t)`` raises :class:`ModelOutputError` naming the model and its plugin."""
    try:
        arr = np.asarray(pred, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelOutputError(f"{who}: predict returned {type(pred).__name__} that is not a "
                               f"numeric ({n}, {t}) array ({exc})") from exc
    if arr.ndim == 1 and t == 1:
        arr = arr[:, None]
    if arr.shape != (n, t):
        raise ModelOutputError(f"{who}: predict returned shape {arr.shape}, expected ({n}, {t})"
                               " (samples x traits)" + (" or a 1-D array of length "
                                                         f"{n}" if t == 1 else ""))
    if not np.all(np.isfinite(arr)):
        bad = int((~np.isfinite(arr)).sum())
        raise ModelOutputError(f"{who}: predict returned {bad} NaN/inf values")
    return arr


def _blame(exc: BaseException, who: str, stage: str) -> None:
    """Mark an exception raised by a model with the model, its plugin and the stage, for the
    record's error message (the exception keeps its type, so tuning can still catch it)."""
    if getattr(exc, "gpbench_who", None) is None:
        try:
            exc.gpbench_who = f"{who} failed in {stage}"  # type: ignore[attr-defined]
        except AttributeError:  # an exception type without __dict__
            pass


def describe_error(exc: BaseException) -> str:
    """One line for a record: the exception, prefixed by the model that raised it if known."""
    text = f"{type(exc).__name__}: {exc}"
    who = getattr(exc, "gpbench_who", None)
    return f"{who}: {text}" if who else text


def _fit_rows(measured: np.ndarray, train: np.ndarray, inner: np.ndarray,
              uses_validation: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows to fit on and rows for inner validation (both inside the training fold)."""
    if not uses_validation:
        return train & measured, None
    return train & ~inner & measured, train & inner & measured


def constant_trait(Y: np.ndarray, rows: np.ndarray,
                   traits: Sequence[str]) -> tuple[str, float, int] | None:
    """The first trait whose measured values in ``rows`` are all equal, as (name, value,
    count), or None. A model can learn nothing from it (e.g. a rare binary trait whose cases
    all fall in the test fold), so the host refuses it before any model is fitted."""
    for j, trait in enumerate(traits):
        values = Y[rows, j]
        values = values[~np.isnan(values)]
        if len(values) and np.ptp(values) == 0:
            return trait, float(values[0]), len(values)
    return None


def fit_predict(spec: ModelSpec, options: Mapping[str, Any], context: ModelContext,
                X: np.ndarray, Y: np.ndarray, fit_rows: np.ndarray,
                valid_rows: np.ndarray | None, predict_rows: np.ndarray,
                who: str, *, maf: float = 0.0,
                min_call_rate: float = 0.0) -> tuple[np.ndarray, dict[str, Any], dict[str, float]]:
    """Build, fit and predict; the only place a model sees data. Returns predictions,
    the model's ``fit_info`` (plus ``preprocess``: what the marker QC kept) and timings: wall
    seconds ``preprocess_s``, ``fit_s``, ``predict_s`` and this process's CPU seconds of the same
    spans (all its threads) as ``cpu_preprocess_s``, ``cpu_fit_s``, ``cpu_predict_s``.

    Marker QC and mean imputation (:class:`~gpbench.data.preprocess.FoldPreprocessor`) are fitted
    on the fit and validation rows only, never on ``predict_rows``; the model gets finite
    arrays of the kept markers and ``context.markers`` restricted to them.
    """
    t0, c0 = time.perf_counter(), time.process_time()
    train_rows = fit_rows if valid_rows is None else fit_rows | valid_rows
    pre = FoldPreprocessor.fit(X[train_rows], maf=maf, min_call_rate=min_call_rate)
    if not pre.keep.all() and context.markers is not None:
        context = replace(context, markers=context.markers.iloc[pre.keep])
    try:
        model = spec.build(options, context)
    except Exception as exc:
        _blame(exc, who, "build")
        raise
    valid = ((pre.transform(X[valid_rows]), Y[valid_rows]) if valid_rows is not None
             else None)
    X_fit = pre.transform(X[fit_rows])
    t1, c1 = time.perf_counter(), time.process_time()
    try:
        model.fit(X_fit, Y[fit_rows], valid=valid)
    except Exception as exc:
        _blame(exc, who, "fit")
        raise
    X_pred = pre.transform(X[predict_rows])
    t2, c2 = time.perf_counter(), time.process_time()
    try:
        pred = model.predict(X_pred)
    except Exception as exc:
        _blame(exc, who, "predict")
        raise
    t3, c3 = time.perf_counter(), time.process_time()
    pred = _check_predictions(pred, int(predict_rows.sum()), Y.shape[1], who)
    info = dict(getattr(model, "fit_info", None) or {})
    info["preprocess"] = pre.summary()
    return pred, info, {"preprocess_s": t1 - t0, "fit_s": t2 - t1, "predict_s": t3 - t2,
                        "cpu_preprocess_s": c1 - c0, "cpu_fit_s": c2 - c1,
                        "cpu_predict_s": c3 - c2}
