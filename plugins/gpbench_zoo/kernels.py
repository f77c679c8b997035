"""Squared Euclidean distances between genotype rows and the Gaussian kernel built on them.

Shared by ``rkhs`` and ``svr``. The bandwidth is relative to the median squared distance
between distinct training rows (the median heuristic), so one value suits any marker count.
"""

from __future__ import annotations

import numpy as np


def sq_dist(A: np.ndarray, B: np.ndarray, a2: np.ndarray | None = None,
            b2: np.ndarray | None = None) -> np.ndarray:
    """``(len(A), len(B))`` squared distances (float64, clipped at 0 against rounding).

    ``a2`` / ``b2`` are the rows' squared norms when already known.
    """
    A = np.asarray(A, np.float64)
    B = np.asarray(B, np.float64)
    a2 = np.einsum("ij,ij->i", A, A) if a2 is None else a2
    b2 = np.einsum("ij,ij->i", B, B) if b2 is None else b2
    d2 = a2[:, None] + b2[None, :] - 2.0 * (A @ B.T)
    return np.clip(d2, 0.0, None)


class CentredRows:
    """Training genotypes centred on their own means, with what distances to new rows need."""

    def __init__(self, X: np.ndarray) -> None:
        X = np.asarray(X, np.float64)
        self.xm = X.mean(axis=0)
        self.Xc = X - self.xm
        self.x2 = np.einsum("ij,ij->i", self.Xc, self.Xc)

    def train_sq_dist(self) -> tuple[np.ndarray, float]:
        """Squared distances between training rows (exact zeros on the diagonal) and their
        median over distinct pairs."""
        D2 = sq_dist(self.Xc, self.Xc, self.x2, self.x2)
        np.fill_diagonal(D2, 0.0)
        return D2, median_offdiag(D2)

    def sq_dist_to(self, X: np.ndarray) -> np.ndarray:
        """Squared distances from new rows (centred on the training means) to training rows."""
        return sq_dist(np.asarray(X, np.float64) - self.xm, self.Xc, b2=self.x2)


def median_offdiag(D2: np.ndarray) -> float:
    """Median of the squared distances between distinct rows of a square distance matrix
    (1.0 when every row is identical)."""
    iu = np.triu_indices(len(D2), k=1)
    med = float(np.median(D2[iu])) if len(iu[0]) else 0.0
    return med if med > 0 else 1.0


def gaussian(D2: np.ndarray, h: float, median: float) -> np.ndarray:
    """``exp(-D2 / (h * median))``: ``h`` is the bandwidth relative to the median distance."""
    return np.exp(-D2 / (float(h) * median))


def parse_floats(value: object, what: str) -> tuple[float, ...]:
    """A tuple of positive floats from ``"0.2,1,5"``, a number or a list (CLI options arrive
    as JSON or as plain strings)."""
    if isinstance(value, str):
        items: list[object] = [v for v in value.replace(";", ",").split(",") if v.strip()]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = [value]
    try:
        out = tuple(float(v) for v in items)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        out = ()
    if not out or any(not np.isfinite(v) or v <= 0 for v in out):
        raise ValueError(f"{what} must be positive numbers such as '0.2,1,5', got {value!r}")
    return out
