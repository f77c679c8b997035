"""Design effects inside a fold: covariates (fixed effects) and trial effects, estimated on a
unit's training rows only and applied the same way for every model (models know nothing of it).

Two stages, per trait:

1. **Trials** (a dataset with ``trial_records``: one row per individual, trial and trait): the
   additive model ``value ~ individual + trial`` is fitted by least squares on the records of
   the training individuals (and of individuals outside the dataset, e.g. check varieties,
   which are never tested). A training individual's target is its estimated individual effect
   (its BLUE); a test individual's target is the mean of its records minus the
   training-estimated effects of their trials, so test records form the test target and
   nothing else. Trials named from several columns (``environment/set``) are nested: a test
   record in a trial without any training record takes the mean training-estimated effect of
   the trials that share its environment (the text before the last ``/``, and so on upwards),
   e.g. a leave-family-out fold where each family is grown in its own set; a record with no
   such trial either cannot be adjusted: it is dropped and counted (an individual left without
   records has no target and is not scored). Trial effects sum to zero within each connected
   group of trials.
2. **Covariates** (a dataset's ``covariates``, or ``--covariates FILE``): ordinary least squares
   of the target on an intercept and the covariates over the training rows; the model fits the
   target minus the covariate part, and the covariate part is added back to its predictions,
   so stored predictions are of the target (the phenotype, or its trial-adjusted value).

Numeric covariates enter as they are (a missing value takes the training mean); others are
coded one column per level seen in the training rows but the first (a missing or unseen level
takes the training frequencies, i.e. the average effect).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gpbench.api.errors import DataError
from gpbench.api.types import Dataset

# what the key records for each stage (bump the text when an estimator changes its numbers)
TRIALS_SCHEME = ("value ~ individual + trial, least squares on training records; an unseen "
                 "trial takes its environment's mean effect (v2)")
# version 1 dropped a test record whose trial had no training record; where a unit dropped none,
# its numbers are version 2's to the bit, so ``gpbench migrate`` rekeys such records
TRIALS_SCHEME_V1 = "value ~ individual + trial, least squares on training records (v1)"
COVARIATES_SCHEME = "OLS on training rows, added back to predictions (v1)"


@dataclass(frozen=True)
class DesignFit:
    """What the design step hands the runner for one unit.

    Attributes:
        target: ``(n, t)`` what metrics compare, for every row (trial-adjusted where the trait
            has trial records, else the trait itself; NaN = no target).
        fit: ``(n, t)`` what models are fitted on: ``target`` minus ``fixed``.
        fixed: ``(n, t)`` the covariate part, added back to predictions; None without
            covariates.
        summary: the estimates and counts; the unit's record stores
            :func:`record_summary` of it.
        coding: how the covariates were coded (from the training rows), to code new rows alike.
    """

    target: np.ndarray
    fit: np.ndarray
    fixed: np.ndarray | None
    summary: dict[str, Any] = field(default_factory=dict)
    coding: tuple[CodedColumn, ...] = ()


@dataclass(frozen=True)
class CodedColumn:
    """One column of the covariate matrix, coded from the training rows: a numeric covariate
    (``level`` None; a missing value takes ``fill``, its training mean) or the indicator of one
    level of a categorical covariate (a missing or unseen level, one not in ``levels``, takes
    ``fill``, the level's training frequency)."""

    covariate: str
    level: str | None
    fill: float
    levels: tuple[str, ...] = ()  # the levels seen in the training rows (categorical only)

    @property
    def name(self) -> str:
        return self.covariate if self.level is None else f"{self.covariate}={self.level}"

    def values(self, column: pd.Series) -> np.ndarray:
        """This column's values for the rows of ``column`` (the covariate's raw values)."""
        if self.level is None:
            values = pd.to_numeric(column, errors="raise").to_numpy(dtype=np.float64)
            return np.where(np.isnan(values), self.fill, values)
        text = column.astype(object).where(column.notna(), None).to_numpy()
        dummy = np.array([v is not None and str(v) == self.level for v in text], dtype=float)
        known = np.array([v is not None and str(v) in self.levels for v in text])
        dummy[~known] = self.fill
        return dummy

    def to_dict(self) -> dict[str, Any]:
        return {"covariate": self.covariate, "level": self.level, "fill": self.fill,
                "levels": list(self.levels)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CodedColumn:
        return cls(str(d["covariate"]), None if d["level"] is None else str(d["level"]),
                   float(d["fill"]), tuple(str(v) for v in d.get("levels") or ()))


def frame_sha256(frame: pd.DataFrame) -> str:
    """sha256 of a table's CSV text: keys results on the covariates they were adjusted for."""
    return hashlib.sha256(frame.to_csv(lineterminator="\n").encode()).hexdigest()


def read_covariate_table(path: Path | str, flag: str = "--covariates") -> pd.DataFrame:
    """The covariate table in ``path`` (CSV or tab-separated; first column the sample id, every
    other column a covariate, or only the columns named after a colon: ``pheno.csv:sex,batch``),
    indexed by sample id. A DataError in one line, naming ``flag``, when it cannot be read,
    repeats an id or lacks a named column."""
    path, columns = str(path), None
    if not Path(path).exists() and ":" in path:
        path, _, names = path.rpartition(":")
        columns = [c.strip() for c in names.split(",") if c.strip()]
    try:
        frame = pd.read_csv(path, sep=None, engine="python", dtype={0: str},
                            keep_default_na=True)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"{flag} {path}: cannot read it ({exc}); give a CSV whose first "
                        "column is the sample id") from exc
    if frame.shape[1] < 2:
        raise DataError(f"{flag} {path}: needs a sample id column and at least one "
                        "covariate column")
    frame = frame.set_index(frame.columns[0])
    frame.index = pd.Index([str(i).strip() for i in frame.index], name="sample")
    if frame.index.has_duplicates:
        dup = frame.index[frame.index.duplicated()].unique()[:5].tolist()
        raise DataError(f"{flag} {path}: duplicate sample ids {dup}")
    frame.columns = [str(c) for c in frame.columns]
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise DataError(f"{flag} {path}: no column {missing[0]!r}; its columns are "
                            f"{list(frame.columns)[:15]}")
        frame = frame[columns]
    return frame


def read_covariates(path: Path | str, sample_ids: Sequence[str]) -> pd.DataFrame:
    """:func:`read_covariate_table` aligned to ``sample_ids`` (a sample not in the file has
    missing covariates); a DataError in one line when the file names none of the samples."""
    frame = read_covariate_table(path)
    if not frame.index.isin(list(sample_ids)).any():
        raise DataError(f"--covariates {path}: none of its ids {frame.index[:3].tolist()} is a "
                        "sample of the dataset; its first column must hold the sample ids")
    return frame.reindex([str(s) for s in sample_ids])


def covariate_coding(covariates: pd.DataFrame, train: np.ndarray) -> tuple[CodedColumn, ...]:
    """How each covariate becomes columns, from the training rows only (see the module
    docstring): a numeric one as it is, a categorical one as indicators of its training levels
    but the first."""
    coding = []
    for name in covariates.columns:
        col = covariates[name]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            values = col.to_numpy(dtype=np.float64)
            mean = np.nanmean(values[train]) if np.isfinite(values[train]).any() else 0.0
            coding.append(CodedColumn(str(name), None, float(mean)))
            continue
        text = col.astype(object).where(col.notna(), None).to_numpy()
        levels = sorted({str(v) for v in text[train] if v is not None})
        known = np.array([v is not None and str(v) in levels for v in text])
        for level in levels[1:]:
            dummy = np.array([v is not None and str(v) == level for v in text], dtype=float)
            share = dummy[train & known].mean() if (train & known).any() else 0.0
            coding.append(CodedColumn(str(name), level, float(share), tuple(levels)))
    return tuple(coding)


def coded_matrix(covariates: pd.DataFrame, coding: Sequence[CodedColumn]) -> np.ndarray:
    """The ``(n, q)`` covariate matrix of the rows of ``covariates`` under ``coding``."""
    if not coding:
        return np.zeros((len(covariates), 0))
    return np.column_stack([c.values(covariates[c.covariate]) for c in coding])


def covariate_matrix(covariates: pd.DataFrame, train: np.ndarray) -> tuple[np.ndarray,
                                                                          list[str]]:
    """The ``(n, q)`` covariate columns and their names, coded from the training rows only
    (see the module docstring)."""
    coding = covariate_coding(covariates, train)
    return coded_matrix(covariates, coding), [c.name for c in coding]


def covariate_effects(Z: np.ndarray, y: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Least-squares ``[intercept, effects...]`` of ``y`` on ``Z`` over ``rows`` (the
    minimum-norm solution when the columns are collinear in those rows)."""
    A = np.column_stack([np.ones(int(rows.sum())), Z[rows]])
    return np.linalg.lstsq(A, y[rows], rcond=None)[0]


def _two_way(ind: np.ndarray, trial: np.ndarray, v: np.ndarray, n_ind: int,
             n_trial: int) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares trial effects ``b`` and individual effects ``a`` of ``v ~ a[ind] +
    b[trial]``, with ``b`` summing to zero within each connected group of trials.

    The individuals are absorbed: ``(D_t - N' D_i^-1 N) b = s_t - N' (s_i / n_i)``. That
    matrix is singular exactly along the groups' indicator vectors, and the right side sums to
    zero within each group, so adding each group's ``1 1'`` gives a regular system whose one
    solution is the sum-to-zero least-squares one (a direct solve: soynam has ~1,700 trials).
    """
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    N = sparse.csr_matrix((np.ones(len(v)), (ind, trial)), shape=(n_ind, n_trial))
    n_i = np.asarray(N.sum(1)).ravel()
    n_t = np.asarray(N.sum(0)).ravel()
    s_i = np.bincount(ind, weights=v, minlength=n_ind)
    s_t = np.bincount(trial, weights=v, minlength=n_trial)
    scaled = sparse.diags(1.0 / n_i) @ N
    C = np.diag(n_t) - (N.T @ scaled).toarray()
    _, group = connected_components(sparse.csr_matrix(N.T @ N), directed=False)
    C += (group[:, None] == group[None, :]).astype(float)
    b = np.linalg.solve(C, s_t - N.T @ (s_i / n_i))
    a = (s_i - N @ b) / n_i
    return b, a


def _level_means(effect: Mapping[str, float]) -> dict[str, float]:
    """The mean effect of the estimated trials nested in each enclosing level of their names
    (``"E/S"`` counts towards level ``"E"``)."""
    sums: dict[str, list[float]] = {}
    for trial, value in effect.items():
        parent = trial.rpartition("/")[0]
        while parent:
            sums.setdefault(parent, []).append(value)
            parent = parent.rpartition("/")[0]
    return {level: float(np.mean(values)) for level, values in sums.items()}


def _nested_effect(trial: str, levels: Mapping[str, float]) -> float:
    """The effect an unseen ``trial`` takes: its nearest enclosing level's mean effect
    (:func:`_level_means`), NaN when no level encloses an estimated trial."""
    parent = trial.rpartition("/")[0]
    while parent:
        if parent in levels:
            return levels[parent]
        parent = parent.rpartition("/")[0]
    return float("nan")


def trial_targets(records: pd.DataFrame, sample_ids: Sequence[str],
                  train: np.ndarray) -> tuple[np.ndarray, dict[str, float], dict[str, int]]:
    """Targets of one trait from its records (columns ``sample``, ``trial``, ``value``).

    Returns ``(target, effects, counts)``: the per-row target (NaN where none), the trial
    effects estimated on the training records only, and counts of records used and dropped.
    """
    position = {s: i for i, s in enumerate(sample_ids)}
    records = records[np.isfinite(records["value"].to_numpy(dtype=float))]
    pos = np.array([position.get(str(s), -1) for s in records["sample"].to_numpy(dtype=object)],
                   dtype=np.int64)
    value = records["value"].to_numpy(dtype=np.float64)
    trial = records["trial"].astype(str).to_numpy()
    # records of individuals outside the dataset (checks) are never tested: they train
    is_train = np.where(pos >= 0, train[np.maximum(pos, 0)], True)
    names = records["sample"].astype(str).to_numpy(dtype=str)
    ind_key = np.where(pos >= 0, pos.astype(str), np.char.add("x:", names))
    inds, ind_idx = np.unique(ind_key[is_train], return_inverse=True)
    trials, trial_idx = np.unique(trial[is_train], return_inverse=True)
    b, a = _two_way(ind_idx, trial_idx, value[is_train], len(inds), len(trials))
    target = np.full(len(sample_ids), np.nan)
    is_row = np.char.startswith(inds.astype(str), "x:")
    rows = np.array([int(k) for k in inds[~is_row]], dtype=np.int64)
    target[rows] = a[~is_row]
    # test individuals: mean of their records minus the trials' training-estimated effects
    effect = dict(zip(trials.tolist(), b.tolist(), strict=True))
    test_rec = ~is_train
    levels = _level_means(effect)
    unseen = {t: _nested_effect(t, levels) for t in set(trial[test_rec]) - effect.keys()}
    test_effect = np.array([effect.get(t, unseen.get(t)) for t in trial[test_rec]],
                           dtype=np.float64)
    known = np.isfinite(test_effect)
    fallback = int(np.isin(trial[test_rec][known], list(unseen)).sum())
    t_pos, t_val = pos[test_rec][known], value[test_rec][known]
    adjusted = t_val - test_effect[known]
    if len(t_pos):
        sums = np.bincount(t_pos, weights=adjusted, minlength=len(sample_ids))
        n = np.bincount(t_pos, minlength=len(sample_ids))
        has = n > 0
        target[has] = sums[has] / n[has]
    tested = np.unique(pos[test_rec])
    info = {"train_records": int(is_train.sum()), "test_records": int(test_rec.sum()),
            "test_records_dropped": int((~known).sum()), "test_records_nested": fallback,
            "test_samples_without_target": int(np.isnan(target[tested]).sum()),
            "trials": len(trials)}
    return target, effect, info


def effects_digest(effects: Mapping[str, float]) -> str:
    """sha256 of trial effects as sorted JSON: equal digests, equal estimates to the bit."""
    return hashlib.sha256(json.dumps(dict(effects), sort_keys=True).encode()).hexdigest()


def record_summary(summary: Mapping[str, Any]) -> dict[str, Any]:
    """``summary`` as a unit's record stores it: each trait's trial effects (one per trial, 1,502
    on soynam, the same for every model of a fold) become their digest and range, since the
    full estimates made board v2's records 85% design; covariate effects stay as they are."""
    out = dict(summary)
    if "trials" in summary:
        out["trials"] = {trait: compact_trials(info) for trait, info in summary["trials"].items()}
    return out


def compact_trials(info: Mapping[str, Any]) -> dict[str, Any]:
    """One trait's trial summary with ``effects`` replaced by ``effects_sha256``,
    ``effects_min`` and ``effects_max`` (a compact one is returned unchanged)."""
    if "effects" not in info:
        return dict(info)
    effects = info["effects"]
    values = [float(v) for v in effects.values()]
    out = {k: v for k, v in info.items() if k != "effects"}
    out.update(effects_sha256=effects_digest(effects),
               effects_min=min(values) if values else None,
               effects_max=max(values) if values else None)
    return out


def fit_design(Y: np.ndarray, traits: Sequence[str], sample_ids: Sequence[str],
               train: np.ndarray, covariates: pd.DataFrame | None = None,
               trial_records: pd.DataFrame | None = None) -> DesignFit:
    """Targets, fitting values and the covariate part of every row for ``traits`` (the
    columns of ``Y``), from the training rows ``train`` only (see the module docstring).
    ``trial_records`` adjusts the traits it has records of; the others keep ``Y``."""
    target = np.array(Y, dtype=np.float64, copy=True)
    summary: dict[str, Any] = {}
    if trial_records is not None:
        by_trait = dict(tuple(trial_records.groupby("trait", sort=False)))
        for j, trait in enumerate(traits):
            if trait not in by_trait:
                continue
            target[:, j], effects, info = trial_targets(by_trait[trait], sample_ids, train)
            summary.setdefault("trials", {})[trait] = {**info, "effects": effects}
    fixed, coding = None, ()
    if covariates is not None and covariates.shape[1] > 0:
        coding = covariate_coding(covariates, train)
        Z, names = coded_matrix(covariates, coding), [c.name for c in coding]
        fixed = np.zeros_like(target)
        for j, trait in enumerate(traits):
            rows = train & ~np.isnan(target[:, j])
            if rows.sum() < 2:
                continue
            beta = covariate_effects(Z, target[:, j], rows)
            fixed[:, j] = Z @ beta[1:]
            summary.setdefault("covariates", {})[trait] = {
                "intercept": float(beta[0]),
                "effects": dict(zip(names, map(float, beta[1:]), strict=True))}
    fit = target if fixed is None else target - fixed
    return DesignFit(target, fit, fixed, summary, coding)


def design_key(covariates: pd.DataFrame | None, trial_records: pd.DataFrame | None,
               traits: Sequence[str]) -> dict[str, Any]:
    """The unit-key entry of a design: empty (neutral, the v1 protocol) when neither stage
    applies to ``traits``, else what each stage uses, so results adjusted for other
    covariates or by another scheme never share a key."""
    key: dict[str, Any] = {}
    if covariates is not None and covariates.shape[1] > 0:
        key["covariates"] = [str(c) for c in covariates.columns]
        key["covariates_sha256"] = frame_sha256(covariates)
        key["covariates_scheme"] = COVARIATES_SCHEME
    if trial_records is not None and set(traits) & {
            str(t) for t in pd.unique(trial_records["trait"].to_numpy(dtype=object))}:
        key["trials"] = TRIALS_SCHEME
    return key


def describe(design: Mapping[str, Any] | None) -> str:
    """One line for boards: what the design step did ("none" for the v1 protocol)."""
    if not design:
        return "none (targets as the dataset gives them)"
    parts = []
    if design.get("trials"):
        parts.append("trial effects estimated on each training fold's records only "
                     "(value ~ individual + trial); targets are trial-adjusted (training: "
                     "BLUEs; test: record means minus the training trial effects; a trial "
                     "without training records takes its environment's mean effect)")
    if design.get("covariates"):
        parts.append(f"covariates {', '.join(design['covariates'])} fitted by OLS on each "
                     "training fold; models fit the adjusted trait and the covariate part is "
                     "added back to their predictions")
    return "; ".join(parts)


def design_inputs(ds: Dataset, covariates: str = "auto",
                  trials: str = "auto") -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The covariate table and trial records a run uses on ``ds``: ``covariates`` "auto" (the
    dataset's own, if it declares any), "none", or the path of a covariate file
    (:func:`read_covariates`); ``trials`` "auto" (the dataset's trial records) or "none"."""
    if trials not in ("auto", "none"):
        raise DataError(f"--trials takes auto or none, got {trials!r}")
    if covariates == "auto":
        cov = ds.covariates
        if cov is not None:  # aligned by sample id, whatever order the plugin built it in
            cov = cov.set_axis([str(i) for i in cov.index]).reindex(ds.sample_ids)
    elif covariates == "none":
        cov = None
    else:
        cov = read_covariates(Path(covariates), ds.sample_ids)
    return cov, (ds.trial_records if trials == "auto" else None)
