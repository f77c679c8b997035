"""gpbench_linear.tridiagonal.TridiagonalKernel: REML fits from one tridiagonal reduction agree
with fit_kernel's eigen-decomposition (same delta, likelihood and predictions up to rounding)."""

from __future__ import annotations

import numpy as np
import pytest

from gpbench_linear.kernel import fit_kernel
from gpbench_linear.tridiagonal import TridiagonalKernel


def _kernels(n: int = 150, p: int = 240, seed: int = 5):
    rng = np.random.default_rng(seed)
    X = np.repeat(rng.integers(0, 3, size=(n, p // 6)), 6, axis=1).astype(float)  # LD blocks
    d2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    med = np.median(d2[np.triu_indices(n, 1)])
    y = X[:, :12] @ rng.normal(size=12) + rng.normal(scale=2.0, size=n) + 5.0
    Xc = X - X.mean(0)
    # local to near-linear Gaussian kernels (h=0.2 drives delta to its lower bound) and GBLUP's
    return [np.exp(-d2 / (h * med)) for h in (0.2, 1, 5)] + [Xc @ Xc.T / p], y


@pytest.mark.parametrize("which", range(4))
def test_tridiagonal_reml_fit_is_fit_kernels_to_rounding(which):
    kernels, y = _kernels()
    K = kernels[which]
    tr, te = slice(0, 120), slice(120, None)
    ref = fit_kernel(K[tr, tr], y[tr], "reml")
    fit = TridiagonalKernel(K[tr, tr]).fit(y[tr])
    assert fit.delta == pytest.approx(ref.delta, rel=1e-6)
    assert fit.reml_loglik == pytest.approx(ref.reml_loglik, abs=1e-8)
    assert fit.h2 == pytest.approx(ref.h2, rel=1e-9)
    p_ref, p_fit = ref.predict(K[te, tr]), fit.predict(K[te, tr])
    assert np.abs(p_fit - p_ref).max() < 1e-7 * p_ref.std()


def test_a_kernel_without_positive_eigenvalue_fits_the_mean():
    fit = TridiagonalKernel(np.ones((5, 5))).fit(np.arange(5.0))
    assert fit.delta == float("inf") and fit.h2 == 0.0 and fit.intercept == 2.0
    assert np.array_equal(fit.alpha, np.zeros(5))
    assert TridiagonalKernel(np.ones((1, 1))).fit(np.array([3.0])).intercept == 3.0
