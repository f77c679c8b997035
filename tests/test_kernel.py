"""gpbench_linear.kernel.fit_kernel: the REML / LOO kernel solver shared by GBLUP and RKHS."""

from __future__ import annotations

import numpy as np
import pytest

from gpbench_linear import kernel as kernel_module
from gpbench_linear.kernel import double_centre, fit_kernel


@pytest.fixture(scope="module")
def kernel_data():
    rng = np.random.default_rng(4)
    X = np.repeat(rng.integers(0, 2, size=(80, 30)), 10, axis=1).astype(float)  # LD blocks
    d2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    K = np.exp(-d2 / (5 * np.median(d2)))  # an uncentred Gaussian kernel
    y = X[:, :5].sum(1) + rng.normal(size=80) + 10.0
    return K, y


def test_predictions_are_the_centred_kernel_blup(kernel_data):
    K, y = kernel_data
    tr, te = slice(0, 60), slice(60, None)
    fit = fit_kernel(K[tr, tr], y[tr], "reml")
    Kc = double_centre(K[tr, tr])
    ref_alpha = np.linalg.solve(Kc + fit.delta * np.eye(60), y[tr] - y[tr].mean())
    row = K[tr, tr].mean(0)
    Kc_new = K[te, tr] - row[None, :] - K[te, tr].mean(1)[:, None] + row.mean()
    assert np.allclose(fit.predict(K[te, tr]), y[tr].mean() + Kc_new @ ref_alpha, atol=1e-8)


def _reml_loglik(K: np.ndarray, y: np.ndarray, delta: float) -> float:
    """Textbook restricted log-likelihood of y = 1 mu + g + e, Cov = s2_g (K + delta I), with
    s2_g profiled out (Patterson & Thompson), on the uncentred K."""
    n = len(y)
    H = K + delta * np.eye(n)
    Hi = np.linalg.inv(H)
    one = np.ones(n)
    P = Hi - np.outer(Hi @ one, one @ Hi) / (one @ Hi @ one)
    return -0.5 * ((n - 1) * np.log(y @ P @ y) + np.linalg.slogdet(H)[1]
                   + np.log(one @ Hi @ one))


def test_reml_delta_maximises_the_textbook_reml_of_the_uncentred_kernel(kernel_data):
    K, y = kernel_data
    fit = fit_kernel(K, y)
    at = _reml_loglik(K, y, fit.delta)
    for factor in (0.5, 0.9, 1.1, 2.0):
        assert at > _reml_loglik(K, y, fit.delta * factor)
    assert 0 < fit.h2 < 1


def test_reml_is_invariant_to_the_kernel_scale(kernel_data):
    K, y = kernel_data
    a, b = fit_kernel(K, y), fit_kernel(7.0 * K, y)
    assert np.isclose(a.reml_loglik, b.reml_loglik)
    assert np.isclose(b.delta, 7.0 * a.delta, rtol=1e-3)
    assert np.allclose(a.predict(K), b.predict(7.0 * K), atol=1e-4 * y.std())


def test_unknown_method_is_refused(kernel_data):
    K, y = kernel_data
    with pytest.raises(ValueError, match="reml"):
        fit_kernel(K, y, "ml")


def test_the_same_kernel_is_decomposed_once_and_fits_bit_for_bit_as_before(kernel_data,
                                                                            monkeypatch):
    K, y = kernel_data
    y2 = y[::-1].copy()
    fresh = []
    for method in ("reml", "loo"):  # each with its own decomposition
        kernel_module._LAST_EIGH.clear()
        fresh.append(fit_kernel(K, y2, method))
    calls = []
    real = np.linalg.eigh
    monkeypatch.setattr(np.linalg, "eigh", lambda A: calls.append(1) or real(A))
    kernel_module._LAST_EIGH.clear()
    fit_kernel(K, y, "reml")  # another trait on the same rows first
    again = [fit_kernel(K, y2, "reml"), fit_kernel(K, y2, "loo")]
    assert len(calls) == 1
    for a, b in zip(again, fresh, strict=True):
        assert np.array_equal(a.alpha, b.alpha) and a.delta == b.delta
        assert a.reml_loglik == b.reml_loglik and a.intercept == b.intercept
    fit_kernel(K[1:, 1:], y[1:], "reml")  # other rows: decomposed anew
    assert len(calls) == 2


@pytest.mark.parametrize("method", ["reml", "loo"])
@pytest.mark.parametrize("n, p, copies", [(240, 40, 0), (240, 40, 10), (60, 150, 0)])
def test_the_marker_factor_path_fits_as_the_kernel_path(method, n, p, copies):
    """``fit_kernel_factor(Z)`` (the eigen-decomposition of Z'Z) gives the fit of
    ``fit_kernel(Z Z')``: penalty, marker effects, intercept, h2 and out-of-fold predictions,
    also with duplicated markers (a rank-deficient Z'Z) and with more markers than rows."""
    from gpbench_linear.kernel import fit_kernel_factor

    rng = np.random.default_rng(n + p + copies)
    X = rng.integers(0, 3, size=(n, p)).astype(float)
    if copies:
        X[:, -copies:] = X[:, :copies]
    Z = X - X.mean(0)
    Z /= np.sqrt((Z**2).sum() / n)
    y = X[:, :4] @ rng.normal(size=4) + 2 * rng.normal(size=n) + 5.0
    fold = np.arange(n) % 5
    a, b = fit_kernel(Z @ Z.T, y, method, fold), fit_kernel_factor(Z, y, method, fold)
    assert b.delta == pytest.approx(a.delta, rel=1e-7)
    assert np.allclose(Z.T @ b.alpha, Z.T @ a.alpha, rtol=1e-7, atol=1e-9)
    assert b.intercept == pytest.approx(a.intercept, abs=1e-9)
    assert np.allclose(b.oof, a.oof, atol=1e-7)
    if method == "reml":
        assert b.h2 == pytest.approx(a.h2, rel=1e-7)
        assert b.reml_loglik == pytest.approx(a.reml_loglik, rel=1e-9)


def test_gblup_and_ridge_take_the_factor_path_when_rows_outnumber_markers(monkeypatch):
    """With n > 1.5 p the models decompose Xc'Xc; their predictions are the n x n path's."""
    from gpbench import ModelContext
    from gpbench_linear import kernel as k
    from gpbench_linear import models

    rng = np.random.default_rng(3)
    X = rng.integers(0, 3, size=(300, 50)).astype(float)
    Y = (X[:, :3].sum(1) + rng.normal(size=300))[:, None]
    calls = []
    monkeypatch.setattr(models, "fit_kernel_factor",
                        lambda *a, **kw: calls.append(1) or k.fit_kernel_factor(*a, **kw))
    preds = {}
    for ratio in (1.5, 1e9):  # the factor path, then the n x n path
        monkeypatch.setattr(models, "FACTOR_RATIO", ratio)
        for method in ("reml", "loo"):
            m = models.KernelRidge({}, ModelContext(seed=0), method).fit(X[:250], Y[:250])
            preds[ratio, method] = m.predict(X[250:])
    assert len(calls) == 2
    for method in ("reml", "loo"):
        assert np.allclose(preds[1.5, method], preds[1e9, method], atol=1e-7)
