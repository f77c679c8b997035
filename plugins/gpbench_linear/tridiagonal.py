"""REML kernel regression from one Householder tridiagonalisation, without eigenvectors.

The model and the REML likelihood are those of :func:`.kernel.fit_kernel` (``y = mu + g + e``,
``g ~ N(0, s2_g K)``, the intercept projected out by double-centring the kernel). ``fit_kernel``
diagonalises the centred kernel (``eigh``); REML needs only its eigenvalues and the quadratic
form ``yc' (Kc + delta I)^-1 yc``, and the dual coefficients only one solve. All three come from
``Kc = Q T Q'`` with ``T`` tridiagonal (LAPACK ``dsytrd``): eigenvalues of ``T`` in O(n^2), and
``(Kc + delta I)^-1 v = Q (T + delta I)^-1 Q' v``, a tridiagonal solve between two passes of the
``n - 1`` Householder reflectors (O(n^2)). The reduction is ~45% of an ``eigh`` (which adds the
eigenvectors and their back-transformation), so a REML fit costs less than half.

Used where many kernels are fitted and none needs its eigenvectors afterwards (RKHS chooses among
kernels by REML likelihood); GBLUP and ridge keep ``fit_kernel`` (ridge's leave-one-out error
needs the eigenvectors). Same optimum as ``fit_kernel`` up to rounding: ``fit_kernel`` treats
eigenvalues below ``1e-10`` of the largest as zero, which moves the log-likelihood by at most
``n * 1e-5`` of a unit over its ``delta`` range (``tests/test_linear.py`` checks the two agree).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import eigvalsh_tridiagonal, lapack, solveh_banded
from scipy.optimize import minimize_scalar

from .kernel import KernelFit, _intercept_only, double_centre


class TridiagonalKernel:
    """A symmetric PSD kernel, double-centred and reduced to ``Q T Q'`` once; REML fits of any
    ``y`` on its training rows then cost O(n^2) each."""

    def __init__(self, K: np.ndarray) -> None:
        K = np.asarray(K, dtype=np.float64)
        self.n = len(K)
        self.col_means = K.mean(axis=0)  # for the intercept: centring removed them
        Kc = np.asfortranarray(double_centre(K))
        self.trace = float(np.trace(Kc))
        lwork = int(lapack.dsytrd_lwork(self.n, lower=1)[0])
        # c holds the reflectors below the subdiagonal (column-major, so columns are contiguous)
        self._c, self.diag, self.off, self._tau, info = lapack.dsytrd(
            Kc, lower=1, lwork=max(lwork, 1), overwrite_a=1)
        if info != 0:
            raise np.linalg.LinAlgError(f"dsytrd failed (info={info}) on a {self.n}x{self.n} "
                                        "kernel; check it for NaN or inf")
        s = eigvalsh_tridiagonal(self.diag, self.off) if self.n > 1 else self.diag.copy()
        self.eigenvalues = np.clip(s, 0.0, None)

    def _reflect(self, v: np.ndarray, order: range) -> np.ndarray:
        """``v`` with the reflectors H(i), i in ``order``, applied in that order."""
        v = v.copy()
        c, tau = self._c, self._tau
        for i in order:
            if tau[i] != 0.0:
                h = c[i + 2:, i]
                w = tau[i] * (v[i + 1] + h @ v[i + 2:])
                v[i + 1] -= w
                v[i + 2:] -= w * h
        return v

    def _q_t(self, v: np.ndarray) -> np.ndarray:
        """``Q' v``: the reflectors H(1), ..., H(n-1) applied in turn."""
        return self._reflect(v, range(self.n - 1))

    def _q(self, v: np.ndarray) -> np.ndarray:
        """``Q v``: the reflectors applied in reverse order."""
        return self._reflect(v, range(self.n - 2, -1, -1))

    def _solve_t(self, z: np.ndarray, delta: float) -> np.ndarray:
        """``(T + delta I)^-1 z`` (T + delta I is positive definite for delta > 0)."""
        ab = np.zeros((2, self.n))
        ab[0, 1:] = self.off
        ab[1] = self.diag + delta
        return solveh_banded(ab, z, check_finite=False)

    def reml(self, y: np.ndarray) -> tuple[float, float]:
        """REML ``delta = s2_e / s2_g`` for ``y`` and the maximised log-likelihood, on the same
        scale as :func:`.kernel.fit_kernel`'s (constants in n dropped)."""
        y = np.asarray(y, dtype=np.float64)
        z = self._q_t(y - y.mean())
        s, m = self.eigenvalues, self.n - 1
        smax = float(s.max(initial=0.0))

        def neg_ll(log_d: float) -> float:
            d = np.exp(log_d)
            # the all-ones direction has eigenvalue 0 and is not a contrast: drop its log(d)
            logdet = np.sum(np.log(s + d)) - log_d
            return 0.5 * (m * np.log(z @ self._solve_t(z, d)) + logdet)

        res = minimize_scalar(neg_ll, bounds=(np.log(smax * 1e-5), np.log(smax * 1e5)),
                              method="bounded")
        return float(np.exp(res.x)), float(-res.fun)

    def fit(self, y: np.ndarray) -> KernelFit:
        """The REML fit of ``y``, as ``fit_kernel(K, y, "reml")`` returns it."""
        y = np.asarray(y, dtype=np.float64)
        ym = float(y.mean())
        yc = y - ym
        if not self.eigenvalues.max(initial=0.0) > 0.0:
            return _intercept_only(ym, yc, self.n, "reml")
        delta, loglik = self.reml(y)
        alpha = self._q(self._solve_t(self._q_t(yc), delta))
        # Kc(new) @ alpha = K(new) @ alpha - K.mean(0) @ alpha, as alpha sums to zero
        intercept = ym - float(self.col_means @ alpha)
        t = self.trace / self.n
        return KernelFit(alpha, intercept, float(delta), "reml", loglik, t / (t + delta))
