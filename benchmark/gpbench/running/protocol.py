"""The evaluation protocol: outer folds over samples and inner validation splits.

Outer folds depend only on (sample ids, k, seed, repeat) and, for grouped CV
(``--cv group:COLUMN``), the samples' group labels, never on a model or a trait, so every model
and every trait of a dataset is scored on the same folds. Fold assignments are written to a CSV
(grouped: with the group column, named ``group:COLUMN``) whose sha256 is recorded in every
result. The inner validation split is carved from the training fold only and is also
independent of the model.
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
    (``repeat0``, ``repeat1``, ...) holding the fold number 0..k-1; grouped CV adds the
    samples' group labels as a last column named after the scheme (``group:family``), so the
    scheme and the groups are part of the file and its hash.
    """

    assignment: pd.DataFrame
    k: int
    seed: int

    @property
    def repeats(self) -> int:
        return sum(str(c).startswith("repeat") for c in self.assignment.columns)

    @property
    def scheme(self) -> str:
        """``"random"``, or ``"group:COLUMN"`` for grouped CV."""
        return next((str(c) for c in self.assignment.columns
                     if str(c).startswith(GROUP_PREFIX)), RANDOM)

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
        # ids and group labels are names: "NA", "None" or "nan" must stay strings
        df = pd.read_csv(path, index_col="sample", dtype=str, keep_default_na=False,
                         na_filter=False)
        df = df.astype({c: np.int64 for c in df.columns if str(c).startswith("repeat")})
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


RANDOM = "random"
GROUP_PREFIX = "group:"


def cv_scheme(text: str) -> str:
    """``--cv``: ``random`` or ``group:COLUMN``, normalised; anything else a DataError."""
    text = (text or RANDOM).strip()
    if text.lower() == RANDOM:
        return RANDOM
    if text.lower().startswith(GROUP_PREFIX) and text[len(GROUP_PREFIX):].strip():
        return GROUP_PREFIX + text[len(GROUP_PREFIX):].strip()
    raise DataError(f"--cv takes 'random' or 'group:COLUMN' (e.g. group:family), got {text!r}")


def describe_scheme(scheme: str | None) -> str:
    """How a board names a CV scheme: ``over samples`` (random), or ``leave-family-out
    (whole `family` groups per fold)`` for ``group:family``."""
    if not scheme or scheme == RANDOM:
        return "over samples"
    column = scheme[len(GROUP_PREFIX):]
    return f"leave-{column}-out (whole `{column}` groups per fold, --cv {scheme})"


def group_labels(ds: Dataset, scheme: str) -> pd.Series:
    """The labels of grouping ``scheme`` (``group:COLUMN``) for every sample of ``ds``; a
    one-line DataError for a dataset without groupings, an unknown column, or samples
    without a label."""
    import difflib

    column = scheme[len(GROUP_PREFIX):]
    offered = [] if ds.groups is None else [str(c) for c in ds.groups.columns]
    if column not in offered:
        close = difflib.get_close_matches(column, offered, n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        what = (f"its groupings: {', '.join(offered)}" if offered else
                "it offers none (for your own files, a text column of --pheno is one)")
        raise DataError(f"--cv {scheme}: dataset {ds.name!r} has no grouping {column!r}."
                        f"{hint} {what[0].upper() + what[1:]}; or use --cv random")
    labels = ds.groups[column].copy()
    labels.index = labels.index.astype(str)
    labels = labels.reindex(ds.sample_ids)
    if labels.isna().any():
        missing = labels.index[labels.isna()]
        raise DataError(f"--cv {scheme}: {len(missing)} samples of dataset {ds.name!r} have "
                        f"no {column!r} label (e.g. {missing[:3].tolist()}); label every "
                        "sample or use --cv random")
    return labels.astype(str)


def make_group_folds(labels: pd.Series, k: int = 5, seed: int = 0, repeats: int = 1,
                     scheme: str = "group") -> FoldPlan:
    """Deal whole groups into ``k`` folds of near-equal size: groups in a seeded random order
    (``seed`` + repeat), each to the fold holding the fewest samples so far, so fold sizes
    differ by at most the largest group (a largest-first order would balance better but make
    every repeat the same). ``labels`` (index = sample id) names each sample's group; no group
    is ever split across folds. The labels are saved in column ``scheme``."""
    if k < 2:
        raise DataError(f"need at least 2 folds, got --folds {k}")
    names, codes = np.unique(labels.to_numpy(dtype=str), return_inverse=True)
    if len(names) < k:
        raise DataError(f"--cv {scheme}: {len(names)} groups cannot fill {k} folds; use "
                        f"--folds {len(names)} or fewer" if len(names) >= 2 else
                        f"--cv {scheme}: all samples are in one group; use --cv random")
    sizes = np.bincount(codes)
    cols: dict[str, np.ndarray] = {}
    for r in range(repeats):
        rng = np.random.default_rng([seed, r])
        order = rng.permutation(len(names))
        fold_of_group = np.empty(len(names), dtype=np.int64)
        load = np.zeros(k, dtype=np.int64)
        for g in order:
            f = int(np.argmin(load))
            fold_of_group[g] = f
            load[f] += sizes[g]
        cols[f"repeat{r}"] = fold_of_group[codes]
    frame = pd.DataFrame(cols, index=pd.Index([str(s) for s in labels.index], name="sample"))
    frame[scheme] = labels.to_numpy(dtype=str)
    return FoldPlan(frame, k, seed)


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


def training_subset_mask(train_ids: Sequence[str], seed: int, repeat: int, fold: int,
                         fraction: float) -> np.ndarray:
    """Boolean mask over ``train_ids``: True for the first ``round(fraction * n)`` ids of a
    seeded order (``--train-fraction``, learning curves).

    The order is a hash of (seed, repeat, fold, sample id) salted apart from
    :func:`inner_validation_mask`'s, so it is the same for every model and every trait, a
    smaller fraction's subset lies inside a larger one's, and the inner validation split keeps
    its share inside every subset. The test fold is never involved.
    """
    n = len(train_ids)
    if fraction >= 1.0:
        return np.ones(n, dtype=bool)
    keys = [f"subset/{seed}/{repeat}/{fold}/{s}".encode() for s in train_ids]
    u = np.array([int.from_bytes(hashlib.blake2b(k, digest_size=8).digest(), "big")
                  for k in keys], dtype=np.uint64)
    # ties are impossible in practice; the id breaks them so the order is total
    order = np.lexsort((np.asarray([str(s) for s in train_ids]), u))
    mask = np.zeros(n, dtype=bool)
    mask[order[:round(fraction * n)]] = True
    return mask
