"""Model plugins on edge inputs (docs/notes/known-issues.md): a trait constant in the training rows,
phenotypes in very small units, a kernel without a positive eigenvalue, and a multi-trait fit
with an unmeasured trait. Small simulated data, fixed seeds."""

from __future__ import annotations

import numpy as np
import pytest

from gpbench import ModelContext
from gpbench_bayes.models import COMMON, SPECIFIC, BayesianRegression
from gpbench_linear.kernel import fit_kernel
from gpbench_linear.models import KernelRidge, TrainingMean
from gpbench_zoo.rkhs import RKHS

KINDS = ("brr", "bayesa", "bayesb", "bayesc", "bl")
SHORT = {"n_iter": 400, "burn_in": 100}


def _sampler(kind: str, **opts) -> BayesianRegression:
    return BayesianRegression({**COMMON, **SPECIFIC[kind], **SHORT, **opts},
                              ModelContext(seed=3), kind)


@pytest.fixture(scope="module")
def cross():
    """Binary markers in LD blocks of 4, 20 QTL, heritability 0.5; y standardised."""
    rng = np.random.default_rng(1)
    n, p = 120, 200
    X = np.repeat(rng.integers(0, 2, size=(n, p // 4)), 4, axis=1).astype(np.int8)
    b = rng.normal(0, 1, p) * (rng.random(p) < 0.1)
    g = X @ b
    y = g + rng.normal(0, g.std(), n)
    return X, (y - y.mean()) / y.std()


@pytest.mark.parametrize("kind", KINDS)
def test_samplers_fit_a_constant_trait_as_its_value(cross, kind):
    X, _ = cross
    model = _sampler(kind).fit(X[:90], np.full((90, 1), 2.5))
    assert np.array_equal(model.predict(X[90:]), np.full((30, 1), 2.5))
    assert model.fit_info["intercept_only"]


@pytest.mark.parametrize("kind", ["brr", "bayesa", "bayesb", "bayesc"])
def test_samplers_are_scale_equivariant(cross, kind):
    # the effect clamp (1e-9 in y's units) used to pin BRR's and BayesA's effects at y x 1e-7;
    # the chain is now the same one up to rounding
    X, y = cross
    ref = _sampler(kind).fit(X[:90], y[:90, None]).predict(X[90:])
    for factor in (1e-7, 1e7):
        got = _sampler(kind).fit(X[:90], factor * y[:90, None]).predict(X[90:]) / factor
        assert np.abs(got - ref).max() <= 1e-9 * ref.std()


def test_bayesian_lasso_is_scale_equivariant_up_to_its_start_value(cross):
    # BL's start value of tau2 is set from var(y), as BGLR sets it, so another scale starts
    # another (equally valid) chain: its predictions differ by Monte Carlo error, as between
    # y x 1e-3 and y, no longer by the clamp's distortion (42 sd(pred) at 1e-7 before)
    X, y = cross
    ref = _sampler("bl").fit(X[:90], y[:90, None]).predict(X[90:])
    for factor in (1e-7, 1e-3):
        got = _sampler("bl").fit(X[:90], factor * y[:90, None]).predict(X[90:]) / factor
        assert np.abs(got - ref).max() <= 0.2 * ref.std()
        assert np.corrcoef(got[:, 0], ref[:, 0])[0, 1] > 0.99


@pytest.mark.parametrize("kind", ["brr", "bayesa", "bayesb", "bayesc"])
def test_power_of_two_scales_give_the_same_chain_bit_for_bit(cross, kind):
    # y is rescaled by a power of two inside fit, so y x 2^-30 runs the very same chain
    X, y = cross
    ref = _sampler(kind).fit(X[:90], y[:90, None]).predict(X[90:])
    got = _sampler(kind).fit(X[:90], 2.0**-30 * y[:90, None]).predict(X[90:])
    assert np.array_equal(got * 2.0**30, ref)


@pytest.mark.parametrize("method", ["reml", "loo"])
def test_kernel_without_a_positive_eigenvalue_fits_the_mean(method):
    y = np.array([1.0, 2.0, 4.0, 5.0])
    fit = fit_kernel(np.ones((4, 4)), y, method)  # centred: all zeros
    assert np.array_equal(fit.alpha, np.zeros(4))
    assert fit.intercept == pytest.approx(3.0)
    assert np.allclose(fit.predict(np.ones((2, 4))), 3.0)
    one = fit_kernel(np.ones((1, 1)), y[:1], method)  # one row
    assert one.predict(np.ones((1, 1)))[0] == 1.0


@pytest.mark.parametrize("method", ["reml", "loo"])
def test_kernel_ridge_on_identical_markers_predicts_the_training_mean(method):
    X = np.ones((30, 12))
    y = np.random.default_rng(0).normal(size=30)
    model = KernelRidge({}, ModelContext(), method).fit(X, y[:, None])
    assert np.allclose(model.predict(np.ones((5, 12))), y.mean())


def test_rkhs_on_one_training_row_predicts_its_value():
    model = RKHS({}, ModelContext()).fit(np.array([[0.0, 1.0, 2.0]]), np.array([[7.0]]))
    assert np.allclose(model.predict(np.array([[1.0, 1.0, 1.0], [0.0, 1.0, 2.0]])), 7.0)


def test_mean_predicts_zero_for_a_trait_with_no_training_measurement():
    Y = np.array([[1.0, np.nan, 2.0], [3.0, np.nan, np.nan], [5.0, np.nan, 4.0]])
    model = TrainingMean({}, ModelContext()).fit(np.zeros((3, 2)), Y)
    pred = model.predict(np.zeros((2, 2)))
    assert np.array_equal(pred, np.array([[3.0, 0.0, 3.0], [3.0, 0.0, 3.0]]))
