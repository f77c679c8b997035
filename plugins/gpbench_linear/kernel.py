"""Kernel regression with a fixed intercept, solved on the eigen-decomposition of the kernel.

The model is ``y = mu + g + e`` with ``g ~ N(0, s2_g K)``, ``e ~ N(0, s2_e I)`` and
``delta = s2_e / s2_g``. The intercept is projected out: the kernel is double-centred
(``Kc = S K S`` with ``S = I - 11'/n``), so ``g`` is a centred random effect and the mean lives in
``mu``. The REML likelihood uses only the contrasts ``S y`` and is therefore the exact REML of the
model with the uncentred ``K`` too (EMMA, Kang et al. 2008). A kernel built from centred markers
(GBLUP, ridge) is already centred, so this changes nothing for them.

After one ``eigh`` of ``Kc`` every ``delta`` costs O(n^2): ``fit_kernel(..., "reml")`` estimates
it by REML and returns the maximised REML log-likelihood (comparable across kernels for the same
``y``, so it can choose among kernels); ``"loo"`` picks the ridge penalty with the smallest exact
leave-one-out error. Given inner folds, it also returns exact k-fold out-of-fold predictions at
the fitted ``delta`` from the same decomposition (:func:`kfold_oof`). Shared by GBLUP / ridge
(``gpbench_linear``) and RKHS (``gpbench_zoo``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar


@dataclass
class KernelFit:
    """A fitted kernel regression: predictions are ``K(new, train) @ alpha + intercept``.

    Attributes:
        alpha: ``(n_train,)`` dual coefficients.
        intercept: the constant added to ``K(new, train) @ alpha`` (the training mean of y,
            corrected for the kernel's row means, which centring removed).
        delta: ``s2_e / s2_g`` (ridge penalty on the kernel's scale).
        method: ``"reml"`` or ``"loo"``.
        reml_loglik: maximised REML log-likelihood (up to a constant that depends only on n);
            None for ``"loo"``.
        h2: the genetic share of variance, ``t / (t + delta)`` with ``t`` the mean diagonal of
            the centred kernel (REML only).
        oof: ``(n_train,)`` k-fold out-of-fold predictions at ``delta`` when ``fit_kernel``
            was given folds, else None.
    """

    alpha: np.ndarray
    intercept: float
    delta: float
    method: str
    reml_loglik: float | None = None
    h2: float | None = None
    oof: np.ndarray | None = None

    def predict(self, K_new: np.ndarray) -> np.ndarray:
        """``(n_new,)`` predictions from the ``(n_new, n_train)`` cross-kernel."""
        return K_new @ self.alpha + self.intercept


def double_centre(K: np.ndarray) -> np.ndarray:
    """``S K S`` with ``S = I - 11'/n`` (a new array)."""
    row = K.mean(axis=0)
    return K - row[None, :] - row[:, None] + row.mean()


def fit_kernel(K: np.ndarray, y: np.ndarray, method: str = "reml",
               fold: np.ndarray | None = None) -> KernelFit:
    """Fit ``y = mu + g + e`` with ``Cov(g) ~ K`` (``K`` symmetric PSD, ``n x n``).

    ``method="reml"``: ``delta`` by REML; ``"loo"``: by exact leave-one-out error. ``fold``
    (``(n,)`` integer labels): also the out-of-fold predictions of those folds at the fitted
    ``delta`` (``KernelFit.oof``; ``delta`` itself is chosen on all rows).
    """
    _check_method(method)
    y = np.asarray(y, dtype=np.float64)
    K = np.asarray(K, dtype=np.float64)
    Kc = double_centre(K)
    s, U = eigh_last(Kc)
    return _fit_spectrum(s, U, y, method, fold, trace=float(np.trace(Kc)),
                         row_mean=np.mean(K, axis=0))


def fit_kernel_factor(Z: np.ndarray, y: np.ndarray, method: str = "reml",
                      fold: np.ndarray | None = None) -> KernelFit:
    """:func:`fit_kernel` for ``K = Z Z'`` with ``Z`` (``n x p``) column-centred, from the
    ``eigh`` of the ``p x p`` matrix ``Z'Z`` (O(n p^2 + p^3)) instead of that of ``K`` (O(n^3)):
    for ``n >> p`` (the simulation ladder's 16,000 individuals on 2,000 markers) the only
    practical way. ``K``'s nonzero eigenvalues are ``Z'Z``'s, its eigenvectors ``Z v / sqrt(s)``
    (their error grows like ``sqrt(s_max / s)``: at most ~1e-11 above the 1e-10 cut of null
    directions). ``K``'s rows sum to zero, so its double-centring changes nothing. The fit
    equals ``fit_kernel(Z @ Z.T, ...)`` to rounding (~1e-10), not bit for bit."""
    _check_method(method)
    y = np.asarray(y, dtype=np.float64)
    Z = np.asarray(Z, dtype=np.float64)
    s, V = eigh_last(Z.T @ Z)
    keep = s > max(s.max(initial=0.0), 0.0) * 1e-10
    U = (Z @ V[:, keep]) / np.sqrt(s[keep])
    return _fit_spectrum(s[keep], U, y, method, fold, trace=float(np.clip(s, 0, None).sum()),
                         row_mean=None)


def _check_method(method: str) -> None:
    if method not in ("reml", "loo"):
        raise ValueError(f"unknown kernel fitting method {method!r}; use 'reml' or 'loo'")


def _fit_spectrum(s: np.ndarray, U: np.ndarray, y: np.ndarray, method: str,
                  fold: np.ndarray | None, trace: float,
                  row_mean: np.ndarray | None) -> KernelFit:
    """The fit from the centred kernel's eigenvalues ``s`` and eigenvectors ``U`` (columns; all
    of them, or those of its range), its trace, and the uncentred kernel's column means
    (``row_mean``; None when they are zero)."""
    n = len(y)
    ym = float(y.mean())
    yc = y - ym
    s = np.clip(s, 0.0, None)
    if not s.max(initial=0.0) > 0.0:
        kfit = _intercept_only(ym, yc, n, method)
        if fold is not None:
            kfit.oof = kfold_oof(y, U[:, :0], s[:0], fold)
        return kfit
    # the all-ones direction is in Kc's null space; drop null directions
    keep = s > s.max() * 1e-10
    s, U = s[keep], U[:, keep]
    eta = U.T @ yc
    resid = yc - U @ eta
    loglik = None
    if method == "reml":
        delta, loglik = _reml(s, eta, float(resid @ resid), n)
    else:
        delta = _loo(s, U, yc)
    # (Kc + delta I)^-1 yc: range part through the eigenvalues, null-space part scaled 1/delta
    alpha = U @ (eta / (s + delta)) + resid / delta
    # Kc(new) @ alpha = K(new) @ alpha - K.mean(0) @ alpha, as alpha sums to zero
    intercept = ym if row_mean is None else ym - float(row_mean @ alpha)
    t = trace / n
    h2 = t / (t + delta) if method == "reml" else None
    oof = None if fold is None else kfold_oof(y, U, s / (s + delta), fold)
    return KernelFit(alpha, intercept, float(delta), method, loglik, h2, oof)


_LAST_EIGH: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def eigh_last(Kc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.linalg.eigh(Kc)``, reused when ``Kc`` is byte for byte the previous call's.

    The traits of one outer fold share their training rows wherever every trait is measured on
    every line (soynam), so GBLUP's and ridge's kernels are identical across them and a worker
    that fits them in turn decomposes once. The key is a hash of the matrix (~1% of an ``eigh``
    at n = 4,000); one entry is kept (at n = 4,000, 128 MB of eigenvectors). The returned
    arrays are read-only.
    """
    Kc = np.ascontiguousarray(Kc, dtype=np.float64)
    key = f"{Kc.shape}:" + hashlib.blake2b(Kc.data, digest_size=20).hexdigest()
    if key not in _LAST_EIGH:
        _LAST_EIGH.clear()  # before the new eigh, so two decompositions are never held
        s, U = np.linalg.eigh(Kc)
        s.flags.writeable = U.flags.writeable = False  # shared by later calls
        _LAST_EIGH[key] = (s, U)
    return _LAST_EIGH[key]


def kfold_oof(y: np.ndarray, U: np.ndarray, shrink: np.ndarray, fold: np.ndarray) -> np.ndarray:
    """Exact k-fold out-of-fold predictions of the linear smoother ``H = 11'/n + U diag(shrink)
    U'`` (kernel ridge with an unpenalised intercept at a fixed penalty; ``U`` orthogonal to 1).

    For penalised least squares, deleting the rows ``B`` of a fold gives the residuals
    ``y_B - yhat_B(-B) = (I - H_BB)^-1 (y_B - yhat_B)``, so one fit and a small solve per fold
    replace a refit per fold.
    """
    n = len(y)
    r = y - (y.mean() + U @ (shrink * (U.T @ y)))  # residuals of the fit on all rows
    oof = np.empty(n)
    for f in np.unique(fold):
        b = fold == f
        Ub = U[b]
        I_minus_Hbb = np.eye(int(b.sum())) - 1.0 / n - (Ub * shrink) @ Ub.T
        oof[b] = y[b] - np.linalg.solve(I_minus_Hbb, r[b])
    return oof


def _intercept_only(ym: float, yc: np.ndarray, n: int, method: str) -> KernelFit:
    """The fit when the centred kernel has no positive eigenvalue (every row alike, or one row):
    no genetic variance to estimate, so ``alpha = 0`` and the training mean is the prediction
    (``delta = s2_e / s2_g`` is infinite, ``h2`` 0). The REML log-likelihood is that of the
    limit ``delta -> inf``, ``-m/2 log(yc'yc)`` with ``m = n - 1`` (constants dropped as in
    :func:`_reml`), so a degenerate kernel can still be compared with others for the same y."""
    m = n - 1
    rss = float(yc @ yc)
    loglik = None
    if method == "reml":
        loglik = float(-0.5 * m * np.log(rss)) if m > 0 and rss > 0 else 0.0
    return KernelFit(np.zeros(n), ym, float("inf"), method, loglik,
                     0.0 if method == "reml" else None)


def _loo(s: np.ndarray, U: np.ndarray, yc: np.ndarray) -> float:
    eta = U.T @ yc
    n = len(yc)
    best, best_err = 1.0, np.inf
    for d in np.geomspace(s.max() * 1e-4, s.max() * 1e3, 60):
        shrink = s / (s + d)
        fitted = U @ (shrink * eta)
        h = (U**2) @ shrink + 1.0 / n  # hat-matrix diagonal, the mean's share included
        err = np.mean(((yc - fitted) / (1 - h)) ** 2)
        if err < best_err:
            best, best_err = d, err
    return float(best)


def _reml(s: np.ndarray, eta: np.ndarray, resid2: float, n: int) -> tuple[float, float]:
    """REML ``delta`` and the maximised log-likelihood (constants in n dropped)."""
    # REML after projecting out the mean (EMMA, Kang et al. 2008): m = n - 1 contrasts;
    # contrasts outside range(K) have eigenvalue 0 and share the residual sum of squares.
    m = n - 1
    extra = max(m - len(s), 0)
    lam = np.concatenate([s, np.zeros(extra)])
    et2 = np.concatenate([eta**2, np.full(extra, resid2 / extra if extra else 0.0)])

    def neg_ll(log_d: float) -> float:
        d = np.exp(log_d)
        v = lam + d
        return 0.5 * (m * np.log(np.sum(et2 / v)) + np.sum(np.log(v)))

    res = minimize_scalar(neg_ll, bounds=(np.log(s.max() * 1e-5), np.log(s.max() * 1e5)),
                          method="bounded")
    return float(np.exp(res.x)), float(-res.fun)
