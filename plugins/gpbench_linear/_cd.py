"""Compiled coordinate descent for the elastic-net path (numba; imported only when one fits).

glmnet's "naive" updates: the residual ``r = y - Xw`` is kept up to date, so a coordinate costs
one dot product with its column (plus one axpy when it moves), and the columns are read in
place from the Fortran-ordered ``X``, never copied. Convergence is glmnet's: a sweep is
converged when no coordinate moved by more than ``thr`` in ``(x_j'x_j / n) * dw_j**2`` (the
objective decrease it bought, up to a factor 2).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_FAST = {"reassoc", "contract"}  # vectorised dot products; keeps inf/nan semantics


@njit(cache=True, nogil=True, fastmath=_FAST)
def _sweep(X: np.ndarray, r: np.ndarray, w: np.ndarray, idx: np.ndarray, xsq: np.ndarray,
           a1: float, a2: float) -> float:
    """One pass over the coordinates ``idx``; returns the largest ``xsq_j * dw_j**2``."""
    n = X.shape[0]
    inv_n = 1.0 / n
    dlx = 0.0
    for j in idx:
        g = 0.0
        for i in range(n):
            g += X[i, j] * r[i]
        wj = w[j]
        z = g * inv_n + xsq[j] * wj
        if z > a1:
            new = (z - a1) / (xsq[j] + a2)
        elif z < -a1:
            new = (z + a1) / (xsq[j] + a2)
        else:
            new = 0.0
        if new != wj:
            d = new - wj
            for i in range(n):
                r[i] -= d * X[i, j]
            w[j] = new
            v = xsq[j] * d * d
            if v > dlx:
                dlx = v
    return dlx


@njit(cache=True, nogil=True)
def cd_solve(X: np.ndarray, r: np.ndarray, w: np.ndarray, S: np.ndarray, xsq: np.ndarray,
             a1: float, a2: float, thr: float, max_sweeps: int) -> int:
    """Minimise ``1/(2n)||y - Xw||^2 + a1 ||w||_1 + a2/2 ||w||^2`` over the coordinates ``S``
    (the others held), updating ``w`` and ``r`` in place; returns the number of sweeps.

    As glmnet: a sweep over ``S``, then sweeps over its non-zero part until they converge,
    then again over ``S``, until a sweep over all of ``S`` converges.
    """
    sweeps = 0
    while sweeps < max_sweeps:
        dlx = _sweep(X, r, w, S, xsq, a1, a2)
        sweeps += 1
        if dlx < thr:
            break
        active = S[w[S] != 0.0]
        while sweeps < max_sweeps:
            dlx = _sweep(X, r, w, active, xsq, a1, a2)
            sweeps += 1
            if dlx < thr:
                break
    return sweeps
