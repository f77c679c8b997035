"""Bayesian alphabet regressions (BRR, BayesA, BayesB, BayesC, Bayesian LASSO) with BGLR's
default priors, fitted by the Gibbs sampler of ``sampler.py``.

Hyper-parameters are set from the training data passed to ``fit`` only, exactly as BGLR's
``setLT.*`` functions do (BGLR 1.1, ``R/BGLR.R``), with ``Vy`` the sample variance of the
training phenotypes, ``R2`` the prior proportion of variance explained by the markers and
``MSx = sum_j var(x_j)`` (population variances of the training genotypes):

- residual variance: scaled inverse chi-square, ``df0_e = 5``, ``S0_e = Vy (1 - R2)(df0_e + 2)``;
- BRR: common marker variance ``var_b ~ S0 chi^-2(df0)``, ``S0 = Vy R2 / MSx (df0 + 2)``;
- BayesA: marker-specific ``var_b_j ~ S chi^-2(df0)``, the scale ``S ~ Gamma(1.1, 0.1 / S0)``
  (shape 1.1, rate ``(shape - 1) / S0``), ``S0`` as BRR;
- BayesB: BayesA's variances with inclusion indicators ``d_j ~ Bernoulli(probIn)``,
  ``probIn ~ Beta(counts probIn + 1, counts (1 - probIn) + 1)`` (defaults probIn 0.5,
  counts 10), ``S0 = Vy R2 / MSx (df0 + 2) / probIn``;
- BayesC: BRR's common variance with BayesB's indicators and ``S0``;
- BL: ``b_j ~ N(0, tau2_j var_e)``, ``tau2_j ~ Exp(lambda^2 / 2)``, ``lambda^2 ~ Gamma(1.1,
  rate)`` with ``rate = 0.1 / lambda^2_0`` and ``lambda^2_0 = 2 (1 - R2) / R2 MSx``.

Markers are centred on the training rows; markers constant there are left out (no information,
effect unidentified). The intercept has a flat prior. Predictions use posterior-mean effects;
for BayesB/C that is the mean of ``b_j d_j`` (the effect in the model), not of the slab
``b_j`` that BGLR's ``ETA$b`` averages.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from gpbench import GpbenchError, ModelContext

from .convergence import summarise, tracked_rows

log = logging.getLogger("gpbench.bayes")

COMMON = {"n_iter": 1500, "burn_in": 500, "thin": 5, "r2": 0.5, "df0": 5.0, "seed": None}
"""Options every model of the family has (``seed: None`` = the host's seed). The chain is
BGLR's default, 1,500 iterations, burn-in 500, thin 5 (200 kept draws); bayesc keeps 3,000 /
1,000 (``SPECIFIC``): on yeast YPD its inclusion probability was still falling after 1,500
iterations and the shorter chain lost 0.03 R² (docs/notes/sampler-chains.md)."""

SPECIFIC: dict[str, dict[str, Any]] = {
    "brr": {"var_b": None, "var_e": None},
    "bayesa": {},
    "bayesb": {"prob_in": 0.5, "counts": 10.0, "fix_prob_in": False},
    "bayesc": {"n_iter": 3000, "burn_in": 1000, "prob_in": 0.5, "counts": 10.0,
               "fix_prob_in": False, "var_b": None, "var_e": None},
    "bl": {"lambda": None, "lambda_shape": 1.1, "fix_lambda": False},
}
"""Options only some models have, or defaults of ``COMMON`` one model overrides; ``None``
means "set from the data as BGLR does"."""

RESIDUAL_DF0 = 5.0  # BGLR's df0 for the residual variance
SCALE_SHAPE0 = 1.1  # BGLR's gamma shape for BayesA/B's scale S
MIN_ABS_BETA = 1e-9  # BGLR's minAbsBeta: the effect clamp of BRR, BayesA and BL, in y's units
MIN_ABS_SD = 0.01  # ... for sd(y) >= this; below, the clamp is MIN_ABS_BETA / MIN_ABS_SD * sd(y)


def _as_compact(X: np.ndarray) -> np.ndarray:
    """Genotypes as int8 when they are small integers (exact), else float32; one marker per
    contiguous row."""
    X = np.asarray(X)
    if X.dtype == np.int8:
        return np.ascontiguousarray(X.T)
    if np.issubdtype(X.dtype, np.integer) or np.all(X == np.round(X)):
        if X.size == 0 or (X.min() >= -128 and X.max() <= 127):
            return np.ascontiguousarray(X.T.astype(np.int8))
    return np.ascontiguousarray(X.T.astype(np.float32))


class BayesianRegression:
    """One model of the Bayesian alphabet; ``kind`` is brr, bayesa, bayesb, bayesc or bl."""

    def __init__(self, options: dict[str, Any], context: ModelContext, kind: str) -> None:
        self.o, self.ctx, self.kind = options, context, kind
        self.fit_info: dict[str, Any] = {}
        self._check()

    def _check(self) -> None:
        o = self.o
        n_iter, burn_in, thin = int(o["n_iter"]), int(o["burn_in"]), int(o["thin"])
        if thin < 1 or burn_in < 0 or n_iter - burn_in < thin:
            raise GpbenchError(f"{self.kind}: n_iter={n_iter}, burn_in={burn_in}, thin={thin} "
                               "keep no sample; use n_iter >= burn_in + thin, thin >= 1")
        if not 0.0 < float(o["r2"]) < 1.0:
            raise GpbenchError(f"{self.kind}: r2={o['r2']} must lie strictly between 0 and 1")
        if float(o["df0"]) <= 0:
            raise GpbenchError(f"{self.kind}: df0={o['df0']} must be positive")
        if "prob_in" in o and not 0.0 < float(o["prob_in"]) <= 1.0:
            raise GpbenchError(f"{self.kind}: prob_in={o['prob_in']} must be in (0, 1]")
        if "counts" in o and float(o["counts"]) < 0:
            raise GpbenchError(f"{self.kind}: counts={o['counts']} must be >= 0")
        if "lambda_shape" in o and not float(o["lambda_shape"]) > 1.0:
            raise GpbenchError(f"{self.kind}: lambda_shape={o['lambda_shape']} must exceed 1 "
                               "(the prior's rate is (shape - 1) / lambda^2)")
        for key in ("var_b", "var_e", "lambda"):
            if o.get(key) is not None and not float(o[key]) > 0:
                raise GpbenchError(f"{self.kind}: {key}={o[key]} must be positive (or null)")

    def fit(self, X: np.ndarray, Y: np.ndarray, valid: Any = None) -> BayesianRegression:
        from .sampler import MODEL_CODES, gibbs, moments  # numba loads only when a model fits

        o = self.o
        y = np.ascontiguousarray(np.asarray(Y, dtype=np.float64)[:, 0])
        X = np.asarray(X)
        if X.dtype.kind == "f" and not np.isfinite(X).all():
            raise GpbenchError(f"{self.kind}: genotypes contain missing or infinite values; "
                               "impute them first (gpbench's fold preprocessing does)")
        Xt = _as_compact(X)
        xm, x2 = moments(Xt)
        self.keep = x2 > 1e-12 * max(float(x2.max(initial=0.0)), 1.0)
        if not self.keep.all():
            Xt, xm, x2 = np.ascontiguousarray(Xt[self.keep]), xm[self.keep], x2[self.keep]
        n, p = len(y), int(self.keep.sum())
        if p == 0:
            raise GpbenchError(f"{self.kind}: every marker is constant in the training rows")

        vy = float(np.var(y, ddof=1))
        if vy == 0.0:
            # a trait constant in the training rows: nothing to learn (every prior scale below
            # would be 0); predict that value, as GBLUP and RKHS do
            self.coef, self.intercept, self.xm = np.zeros(p), float(y[0]), xm
            self.fit_info = {"n_markers_used": p, "n_samples": 0, "intercept_only": True}
            return self
        # Work on y * 2^k, k = -round(log2 sd(y)): a power of two, so every arithmetic step of
        # the chain scales exactly and the effects scaled back are those of the chain on y
        # itself, bit for bit; but intermediate values stay near unit scale. The effect clamp,
        # the one step that does not scale, keeps BGLR's 1e-9 in y's units down to
        # sd(y) = 0.01 and is 1e-7 sd(y) below, so BRR, BayesA and BL stay scale-equivariant
        # for traits in very small units instead of being pinned to the clamp.
        sd = np.sqrt(vy)
        scale = float(np.ldexp(1.0, -int(np.round(np.log2(sd)))))
        ys, vys = y * scale, vy * scale * scale  # vys == np.var(ys, ddof=1), exactly
        min_abs = min(MIN_ABS_BETA, MIN_ABS_BETA / MIN_ABS_SD * sd) * scale
        r2, df0 = float(o["r2"]), float(o["df0"])
        msx = float(x2.sum() / n)  # BGLR: sum(x2)/n - sum(mean^2) = sum of column variances
        var_e0 = vys * (1 - r2) if o.get("var_e") is None else float(o["var_e"]) * scale**2
        s0_e = vys * (1 - r2) * (RESIDUAL_DF0 + 2)
        prob_in = float(o.get("prob_in", 1.0))
        s0 = vys * r2 / msx * (df0 + 2)
        if self.kind in ("bayesb", "bayesc"):
            s0 /= prob_in
        # BL's start value of tau2 is scale-free (b_j ~ N(0, tau2_j var_e)); it stays set
        # from y's own variance, as before
        var_b0 = {"brr": s0 / (df0 + 2), "bayesa": s0 / (df0 + 2), "bayesb": s0 / (df0 + 2),
                  "bayesc": s0, "bl": vy * r2 / msx}[self.kind]
        if o.get("var_b") is not None:
            var_b0 = float(o["var_b"]) * scale**2
        counts = float(o.get("counts", 0.0))
        lambda2 = (2 * (1 - r2) / r2 * msx if o.get("lambda") is None
                   else float(o["lambda"]) ** 2)
        lambda_shape = float(o.get("lambda_shape", 1.1))
        seed = int(self.ctx.seed if o["seed"] is None else o["seed"])
        n_iter, burn_in, thin = int(o["n_iter"]), int(o["burn_in"]), int(o["thin"])
        n_keep = n_iter // thin - burn_in // thin  # iterations i > burn_in with i % thin == 0
        track = tracked_rows(n)
        var_g_draws, g_draws = np.zeros(n_keep), np.zeros((n_keep, len(track)))

        post_b, post_mu, stats = gibbs(
            Xt, xm, x2, ys, MODEL_CODES[self.kind], n_iter, burn_in, thin, seed,
            RESIDUAL_DF0, s0_e, var_e0, o.get("var_e") is not None,
            df0, s0, var_b0, o.get("var_b") is not None, SCALE_SHAPE0, (SCALE_SHAPE0 - 1) / s0,
            prob_in, counts * prob_in, counts * (1 - prob_in), bool(o.get("fix_prob_in", False)),
            lambda2, lambda_shape, (lambda_shape - 1) / lambda2, bool(o.get("fix_lambda", False)),
            min_abs, track, var_g_draws, g_draws)
        self.coef, self.intercept, self.xm = post_b / scale, float(post_mu) / scale, xm
        var_e, var_b, p_in, lam, ratio, s_scale, n_saved = (float(s) for s in stats)
        v = scale * scale  # variances back on y's scale (exact)
        info: dict[str, Any] = {"n_markers_used": p, "n_samples": int(n_saved),
                                "var_e": var_e / v, "var_b": var_b / v, "S0": s0 / v, "MSx": msx}
        if self.kind in ("brr", "bayesc"):
            info["ratio_var_e_var_b"] = ratio
        if self.kind in ("bayesa", "bayesb"):
            info["scale"] = s_scale / v
        if self.kind in ("bayesb", "bayesc"):
            info["prob_in"] = p_in
        if self.kind == "bl":
            info["lambda"] = lam
        # ESS and Geweke's z are scale-free: the traces stay on the chain's scale
        info.update(summarise(var_g_draws, g_draws))
        for warning in info.get("warnings", ()):
            log.warning("%s: %s", self.kind, warning)
        self.fit_info = info
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        Xk = np.asarray(X)[:, self.keep]
        return ((Xk.astype(np.float64) - self.xm) @ self.coef + self.intercept)[:, None]

    def save(self, directory: Path) -> None:
        """Write the fitted effects (``effects.npz``, no pickle) and ``model.json``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        np.savez(directory / "effects.npz", coef=self.coef, xm=self.xm, keep=self.keep)
        (directory / "model.json").write_text(json.dumps(
            {"format": SAVE_FORMAT, "kind": self.kind, "intercept": self.intercept,
             "options": self.o, "fit_info": self.fit_info}, indent=1))


SAVE_FORMAT = "gpbench_bayes/1"


def load(directory: Path, context: ModelContext) -> BayesianRegression:
    """Read a model written by ``BayesianRegression.save``."""
    directory = Path(directory)
    meta = json.loads((directory / "model.json").read_text())
    if meta.get("format") != SAVE_FORMAT:
        raise GpbenchError(f"{directory} holds a model saved as {meta.get('format')!r}, not "
                           f"{SAVE_FORMAT!r}; refit it with this version of gpbench_bayes")
    model = BayesianRegression(meta["options"], context, meta["kind"])
    with np.load(directory / "effects.npz", allow_pickle=False) as f:
        model.coef, model.xm, model.keep = f["coef"], f["xm"], f["keep"]
    model.intercept, model.fit_info = float(meta["intercept"]), meta["fit_info"]
    return model

