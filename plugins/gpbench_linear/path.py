"""Fast elastic-net / lasso regularisation paths for n << p (strong rules + working sets).

For each penalty on a decreasing grid, coordinate descent runs only on the *strong set*
(features passing the sequential strong rule of Tibshirani et al. 2012, plus the active set),
warm-started from the previous solution; the KKT conditions are then checked on all features
and violators are added. Genotype matrices have ~10^4 markers but at most n non-zero lasso
coefficients, so each step costs one ``X.T @ r`` plus a small solve instead of sweeps over all
markers. The objective is scikit-learn's: ``1/(2n)||y - Xw||^2 + a*l1||w||_1 + a(1-l1)/2 ||w||^2``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import enet_path


def alpha_grid(X: np.ndarray, y: np.ndarray, l1_ratio: float = 1.0, n_alphas: int = 100,
               eps: float = 1e-3) -> np.ndarray:
    """scikit-learn's default grid: log-spaced from alpha_max down to eps * alpha_max.

    ``X`` and ``y`` must be centred.
    """
    alpha_max = np.max(np.abs(X.T @ y)) / (len(y) * max(l1_ratio, 1e-3))
    if alpha_max <= 0:
        alpha_max = 1.0
    return np.geomspace(alpha_max, alpha_max * eps, n_alphas)


def _solve(Xs: np.ndarray, y: np.ndarray, alpha: float, l1_ratio: float, w0: np.ndarray,
           tol: float, max_iter: int, gram: tuple[np.ndarray, np.ndarray] | None = None
           ) -> np.ndarray:
    """One coordinate-descent solve at ``alpha``; on ``gram = (Xs'Xs, Xs'y)`` when given."""
    precompute, Xy = (False, None) if gram is None else gram
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _, coefs, _ = enet_path(Xs, y, l1_ratio=l1_ratio, alphas=[alpha], coef_init=w0,
                                precompute=precompute, Xy=Xy, check_input=False, tol=tol,
                                max_iter=max_iter)
    return coefs[:, 0]


class _GramCache:
    """``X'X`` entries of the features seen so far (grown column block by column block)."""

    def __init__(self, X: np.ndarray, Xty: np.ndarray, max_features: int) -> None:
        self.X, self.Xty, self.max_features = X, Xty, max_features
        self.pos = np.full(X.shape[1], -1, dtype=np.int64)  # feature -> row of G, -1 = absent
        self.order = np.empty(0, dtype=np.int64)  # the cached features, in the order of G's rows
        self.G = np.empty((0, 0))

    def get(self, S: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """``(X_S'X_S, X_S'y)`` for the sorted features ``S``, or None past ``max_features``."""
        new = S[self.pos[S] < 0]
        have = len(self.G)
        if have + len(new) > self.max_features:
            return None
        if len(new):
            Xn = self.X[:, new]
            cross = self.X[:, self.order].T @ Xn if have else np.empty((0, len(new)))
            G = np.empty((have + len(new), have + len(new)))
            G[:have, :have] = self.G
            G[:have, have:] = cross
            G[have:, :have] = cross.T
            G[have:, have:] = Xn.T @ Xn
            self.G = G
            self.pos[new] = np.arange(have, have + len(new))
            self.order = np.concatenate([self.order, new])
        idx = self.pos[S]
        return np.ascontiguousarray(self.G[np.ix_(idx, idx)]), self.Xty[S]


def strong_rule_step(X: np.ndarray, grad: np.ndarray, w: np.ndarray, alpha: float,
                     prev: float | None, l1_ratio: float,
                     solve: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """One penalty of a warm-started path: solve on the sequential strong set (the features
    whose gradient at the previous penalty ``prev`` passes the strong rule, and the nonzero
    ones), grow it by every feature that violates the KKT condition, and solve again until
    none does. ``solve(S)`` fits the features ``S`` (updating ``w``) and returns the residual;
    returns the gradient ``X' r / n`` at ``alpha``."""
    n = X.shape[0]
    l1 = max(l1_ratio, 1e-12)
    prev = alpha if prev is None else prev
    strong = (np.abs(grad) >= l1 * (2 * alpha - prev)) | (w != 0)
    while True:
        grad = X.T @ solve(np.flatnonzero(strong)) / n
        # KKT for a zero coefficient: |x_j' r| / n <= alpha * l1_ratio
        viol = ~strong & (np.abs(grad) > l1 * alpha * (1 + 1e-9))
        if not viol.any():
            return grad
        strong |= viol


class ScreenedPath:
    """Walks a decreasing penalty grid one step at a time (so callers can stop early).

    ``X`` (float64, Fortran order preferred) and ``y`` must be centred; no intercept.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, l1_ratio: float = 1.0,
                 tol: float = 1e-4, max_iter: int = 5000, gram_max: int = 4000) -> None:
        self.X, self.y = X, y
        self.l1_ratio, self.tol, self.max_iter = l1_ratio, tol, max_iter
        self.w = np.zeros(X.shape[1])
        Xty = X.T @ y
        self.grad = Xty / len(y)
        self.prev: float | None = None
        # a Gram solve pays off only while the strong set is well below n
        limit = min(gram_max, len(y))
        self.gram = _GramCache(X, Xty, limit) if limit > 0 else None

    def step(self, alpha: float) -> np.ndarray:
        """Solve at ``alpha`` (warm-started from the previous step); returns the coefficients."""
        X, y, w = self.X, self.y, self.w

        def solve(S: np.ndarray) -> np.ndarray:
            if not len(S):
                return y
            Xs = np.asfortranarray(X[:, S])
            gram = self.gram.get(S) if self.gram is not None else None
            wS = _solve(Xs, y, alpha, self.l1_ratio, np.ascontiguousarray(w[S]),
                        self.tol, self.max_iter, gram)
            w[:] = 0.0
            w[S] = wS
            return y - Xs @ wS

        self.grad = strong_rule_step(X, self.grad, w, alpha, self.prev, self.l1_ratio, solve)
        self.prev = alpha
        return w.copy()


def enet_path_screened(X: np.ndarray, y: np.ndarray, alphas: np.ndarray, l1_ratio: float = 1.0,
                       tol: float = 1e-4, max_iter: int = 5000,
                       gram_max: int = 4000) -> np.ndarray:
    """Coefficients ``(len(alphas), p)`` along a decreasing ``alphas`` grid."""
    path = ScreenedPath(X, y, l1_ratio, tol, max_iter, gram_max)
    return np.array([path.step(a) for a in alphas]).reshape(len(alphas), X.shape[1])


# ------------------------------------------------------------------ elastic net (glmnet-style)


def glmnet_eps(n: int, p: int) -> float:
    """glmnet's default ``lambda.min.ratio``: 0.01 when ``n < p``, else 1e-4."""
    return 0.01 if n < p else 1e-4


class GlmnetPath:
    """A glmnet-class path (elastic net only; lasso keeps :class:`ScreenedPath`).

    Warm starts and the sequential strong rule with a KKT check, as :class:`ScreenedPath`, but
    the solves are glmnet's compiled coordinate descent (:mod:`._cd`) with glmnet's convergence
    threshold ``thresh`` (relative to the null deviance), and the path reports glmnet's early
    exit: :attr:`done` turns true once the training deviance explained exceeds ``devmax`` or
    grew by less than ``fdev`` of itself at the last step (checked from the 5th step on).
    ``X`` (float64; Fortran order is used in place, anything else is copied) and ``y`` must be
    centred; no intercept. The objective is scikit-learn's (see the module docstring).
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, l1_ratio: float, thresh: float = 1e-7,
                 fdev: float = 1e-5, devmax: float = 0.999, max_sweeps: int = 100_000) -> None:
        self.X = np.asfortranarray(X, dtype=np.float64)
        self.y = np.ascontiguousarray(y, dtype=np.float64)
        n = len(y)
        self.l1_ratio, self.fdev, self.devmax, self.max_sweeps = l1_ratio, fdev, devmax, max_sweeps
        self.null_dev = float(self.y @ self.y)
        self.thr = thresh * self.null_dev / n
        self.xsq = np.einsum("ij,ij->j", self.X, self.X) / n
        self.w = np.zeros(X.shape[1])
        self.r = self.y.copy()
        self.grad = self.X.T @ self.y / n
        self.prev: float | None = None
        self.dev, self.steps, self.sweeps, self.done = 0.0, 0, 0, False

    def step(self, alpha: float) -> np.ndarray:
        """Solve at ``alpha`` (warm-started from the previous step); returns the coefficients."""
        from ._cd import cd_solve

        X, w = self.X, self.w

        def solve(S: np.ndarray) -> np.ndarray:  # updates w and the residual in place
            if len(S):
                self.sweeps += cd_solve(X, self.r, w, S, self.xsq, alpha * self.l1_ratio,
                                        alpha * (1 - self.l1_ratio), self.thr,
                                        self.max_sweeps)
            return self.r

        self.grad = strong_rule_step(X, self.grad, w, alpha, self.prev, self.l1_ratio, solve)
        self.prev = alpha
        dev = 1.0 - float(self.r @ self.r) / self.null_dev if self.null_dev > 0 else 1.0
        self.steps += 1
        if self.steps >= 5 and (dev - self.dev < self.fdev * dev or dev > self.devmax):
            self.done = True
        self.dev = dev
        return w.copy()


def walk_cv(step: Callable[[int, float], np.ndarray], n_paths: int,
            vals: list[tuple[np.ndarray, np.ndarray]], alphas: np.ndarray, patience: int,
            n_threads: int, finished: Callable[[], bool] | None = None
            ) -> tuple[list[float], int]:
    """Walk the inner folds' paths down ``alphas`` together (``step(k, alpha)`` gives fold k's
    coefficients, folds in parallel threads): the mean validation MSE at each penalty walked,
    and the index of the best. Stops ``patience`` penalties after the best, or when
    ``finished()`` says every path is done."""
    errors: list[float] = []
    best = 0
    with ThreadPoolExecutor(max(1, n_threads)) as pool:
        for i, a in enumerate(alphas):
            ws = list(pool.map(step, range(n_paths), [a] * n_paths))
            err = np.mean([np.mean((yv - Xv @ w) ** 2)
                           for w, (Xv, yv) in zip(ws, vals, strict=True)])
            errors.append(float(err))
            if err < errors[best]:
                best = i
            if patience and i - best >= patience:
                break
            if finished is not None and finished():
                break
    return errors, best
