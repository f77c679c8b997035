"""Marker quality control and imputation, fitted on one outer training fold.

``FoldPreprocessor.fit`` looks only at the training rows it is given: it drops markers that are
all-missing or constant there, or whose call rate or minor-allele frequency falls below the
thresholds, and stores each marker's training mean. ``transform`` selects the kept markers and
fills missing calls with those means, so the rows it is applied to (validation, test) never
influence what is dropped or imputed.

Allele frequencies come from dosages whatever the coding: with ``lo`` and ``hi`` the smallest
and largest dosage observed in the training matrix, a marker's frequency is
``p = (mean - lo) / (hi - lo)`` and its MAF is ``min(p, 1 - p)``. So 0/1 (inbred or haploid),
0/1/2, -1/0/1 and 0-4 (tetraploid) codings all work unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gpbench.api.errors import DataError


def _has_nan(X: np.ndarray) -> bool:
    return X.dtype.kind in "fc" and bool(np.isnan(X).any())


@dataclass(frozen=True)
class FoldPreprocessor:
    """A fitted marker filter and mean imputer.

    Attributes:
        keep: boolean mask over all markers, True for the markers ``transform`` keeps.
        means: training mean of every marker (NaN for a marker with no call in training);
            ``transform`` fills a kept marker's missing calls with its mean.
        lo, hi: smallest and largest dosage in the training matrix.
        maf, min_call_rate: the thresholds it was fitted with.
        n_train: training rows it was fitted on.
    """

    keep: np.ndarray
    means: np.ndarray
    lo: float
    hi: float
    maf: float = 0.0
    min_call_rate: float = 0.0
    n_train: int = 0

    @classmethod
    def fit(cls, X_train: np.ndarray, maf: float = 0.0,
            min_call_rate: float = 0.0) -> FoldPreprocessor:
        """Fit on outer training rows only; test rows must never be passed here."""
        if not 0.0 <= maf <= 0.5:
            raise DataError(f"--maf must lie in [0, 0.5], got {maf}")
        if not 0.0 <= min_call_rate <= 1.0:
            raise DataError(f"--min-call-rate must lie in [0, 1], got {min_call_rate}")
        X_train = np.asarray(X_train)
        if X_train.ndim != 2 or X_train.shape[0] == 0:
            raise DataError(f"cannot fit marker QC on a training matrix of shape "
                            f"{X_train.shape}")
        n, p = X_train.shape
        if _has_nan(X_train):
            called = ~np.isnan(X_train)
            n_called = called.sum(axis=0)
            call_rate = n_called / n
            with np.errstate(invalid="ignore", divide="ignore"):
                sums = np.where(called, X_train, 0).sum(axis=0, dtype=np.float64)
                means = sums / n_called
                col_min = np.where(called, X_train, np.inf).min(axis=0)
                col_max = np.where(called, X_train, -np.inf).max(axis=0)
        else:
            call_rate = np.ones(p)
            means = X_train.mean(axis=0, dtype=np.float64)
            col_min, col_max = X_train.min(axis=0), X_train.max(axis=0)
        any_call = call_rate > 0
        if not any_call.any():
            raise DataError("every marker is missing in the training fold; check the "
                            "genotype file")
        lo = float(col_min[any_call].min())
        hi = float(col_max[any_call].max())
        keep = any_call & (col_max > col_min) & (call_rate >= min_call_rate)
        if maf > 0 and hi > lo:
            p_allele = (means - lo) / (hi - lo)
            with np.errstate(invalid="ignore"):
                keep &= np.minimum(p_allele, 1 - p_allele) >= maf
        if not keep.any():
            raise DataError(f"no marker passes QC in the training fold (MAF >= {maf}, call "
                            f"rate >= {min_call_rate}, not constant); lower --maf or "
                            "--min-call-rate")
        return cls(keep, np.asarray(means, dtype=np.float64), lo, hi, float(maf),
                   float(min_call_rate), n)

    @property
    def n_kept(self) -> int:
        return int(self.keep.sum())

    def transform(self, X: np.ndarray) -> np.ndarray:
        """The kept markers of ``X`` with missing calls filled by the training means; ``X``
        itself (no copy) when every marker is kept and nothing is missing."""
        if X.ndim != 2 or X.shape[1] != len(self.keep):
            raise DataError(f"genotype matrix has shape {X.shape}, the marker QC was fitted "
                            f"on {len(self.keep)} markers")
        all_kept = bool(self.keep.all())
        missing = _has_nan(X)
        if all_kept and not missing:
            return X
        out = X if all_kept else X[:, self.keep]
        if missing:
            nan = np.isnan(out)
            if nan.any():
                fill = self.means[self.keep].astype(out.dtype)
                out = np.where(nan, fill[None, :], out)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (lists and numbers; a NaN mean is ``None``)."""
        return {"keep": self.keep.tolist(),
                "means": [None if np.isnan(m) else float(m) for m in self.means],
                "lo": self.lo, "hi": self.hi, "maf": self.maf,
                "min_call_rate": self.min_call_rate, "n_train": self.n_train}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FoldPreprocessor:
        """Rebuild the preprocessor that ``to_dict`` described."""
        means = np.array([np.nan if m is None else m for m in d["means"]], dtype=np.float64)
        return cls(np.asarray(d["keep"], dtype=bool), means, float(d["lo"]), float(d["hi"]),
                   float(d.get("maf", 0.0)), float(d.get("min_call_rate", 0.0)),
                   int(d.get("n_train", 0)))

    def summary(self) -> dict[str, Any]:
        """A few numbers for a result record."""
        return {"markers_kept": self.n_kept, "markers_dropped": int((~self.keep).sum()),
                "maf": self.maf, "min_call_rate": self.min_call_rate}
