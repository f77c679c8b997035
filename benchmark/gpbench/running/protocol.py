"""The evaluation protocol: outer folds over samples and inner validation splits.

Outer folds depend only on (sample ids, k, seed, repeat), never on a model or a trait, so
every model and every trait of a dataset is scored on the same folds. Fold assignments are
written to a CSV whose sha256 is recorded in every result. The inner validation split is
carved from the training fold only and is also independent of the model.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gpbench.api.errors import DataError
from gpbench.api.types import Dataset


@dataclass(frozen=True)
class FoldPlan:
    """Outer fold assignment for every sample, for each repeat.

    ``assignment`` has one row per sample (index = sample id) and one column per repeat
    (``repeat0``, ``repeat1``, ...) holding the fold number 0..k-1.
    """

    assignment: pd.DataFrame
    k: int
    seed: int

    @property
    def repeats(self) -> int:
        return self.assignment.shape[1]

    def test_mask(self, repeat: int, fold: int) -> np.ndarray:
        return self.assignment[f"repeat{repeat}"].to_numpy() == fold

    def to_csv_bytes(self) -> bytes:
        buf = io.StringIO()
        self.assignment.to_csv(buf, index_label="sample", lineterminator="\n")
        return buf.getvalue().encode()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.to_csv_bytes()).hexdigest()

    def save(self, path: Path) -> str:
        """Write the assignment (atomically) and return its sha256."""
        from gpbench.storage.atomic import atomic_write_bytes

        atomic_write_bytes(path, self.to_csv_bytes())
        return self.sha256

    @classmethod
    def load(cls, path: Path, k: int, seed: int) -> FoldPlan:
        # ids are names: "NA", "None" or "nan" must stay strings, not become missing values
        df = pd.read_csv(path, index_col="sample", dtype={"sample": str},
                         keep_default_na=False, na_filter=False)
        return cls(df, k, seed)


def make_folds(sample_ids: Sequence[str], k: int = 5, seed: int = 0,
               repeats: int = 1) -> FoldPlan:
    """Shuffle samples with ``seed`` (+ repeat) and deal them into ``k`` near-equal folds."""
    n = len(sample_ids)
    if k < 2:
        raise DataError(f"need at least 2 folds, got --folds {k}")
    if n < k:
        raise DataError(f"cannot make {k} folds from {n} samples; use fewer --folds")
    cols = {}
    for r in range(repeats):
        rng = np.random.default_rng([seed, r])
        fold = np.empty(n, dtype=np.int64)
        fold[rng.permutation(n)] = np.arange(n) % k
        cols[f"repeat{r}"] = fold
    return FoldPlan(pd.DataFrame(cols, index=pd.Index([str(s) for s in sample_ids],
                                                       name="sample")), k, seed)


def published_fold_plan(ds: Dataset) -> FoldPlan:
    """The fold assignment published with ``ds`` (``--folds published``), as one repeat.

    Fold labels are renumbered 0..k-1 in sorted order; every sample must have one.
    """
    if ds.published_folds is None:
        raise DataError(f"dataset {ds.name!r} publishes no fold assignment; use --folds K")
    folds = ds.published_folds.copy()
    folds.index = folds.index.astype(str)
    folds = folds.reindex(ds.sample_ids)
    if folds.isna().any():
        missing = folds.index[folds.isna()][:5].tolist()
        raise DataError(f"dataset {ds.name!r}: samples {missing} have no published fold; "
                        "use --folds K")
    labels = sorted(folds.unique())
    number = {v: i for i, v in enumerate(labels)}
    column = folds.map(number).astype(np.int64).to_numpy()
    frame = pd.DataFrame({"repeat0": column},
                         index=pd.Index(ds.sample_ids, name="sample"))
    return FoldPlan(frame, len(labels), seed=0)


def inner_validation_mask(train_ids: Sequence[str], seed: int, repeat: int, fold: int,
                          fraction: float = 0.2) -> np.ndarray:
    """Boolean mask over ``train_ids``: True for the inner validation samples.

    The choice of each sample is a hash of (seed, repeat, fold, sample id), so the split is
    identical for every model and every trait (a trait's measured samples are a subset, and a
    sample keeps its side), and never involves the test fold.
    """
    keys = [f"{seed}/{repeat}/{fold}/{s}".encode() for s in train_ids]
    u = np.array([int.from_bytes(hashlib.blake2b(k, digest_size=8).digest(), "big")
                  for k in keys], dtype=np.float64) / 2.0**64
    return u < fraction
