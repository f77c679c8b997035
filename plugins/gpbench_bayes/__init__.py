"""The Bayesian alphabet: brr, bayesa, bayesb, bayesc and bl (Bayesian LASSO), Gibbs samplers
with BGLR's default priors (see ``models.py`` for how each hyper-parameter is set)."""

from __future__ import annotations

from typing import Any

from gpbench import ModelSpec, hookimpl

from .models import COMMON, SPECIFIC, BayesianRegression, load

DOCS = {
    "brr": """Bayesian ridge regression (BGLR "BRR").

    ``b_j ~ N(0, var_b)`` for all markers, ``var_b ~ S0 chi^-2(df0)`` with ``df0 = 5`` and
    ``S0 = Vy r2 / MSx (df0 + 2)``; residual ``var_e ~ S0_e chi^-2(5)``, ``S0_e = Vy (1 - r2) 7``.
    ``Vy``: training phenotypic variance; ``r2`` (default 0.5): prior share of variance explained
    by the markers; ``MSx``: sum of the training marker variances. ``var_b`` / ``var_e`` fix the
    variances instead of sampling them (then the posterior mean is the ridge solution at
    ``var_e / var_b``).""",
    "bayesa": """BayesA (Meuwissen et al. 2001, as BGLR: the scale is sampled).

    ``b_j ~ N(0, var_b_j)``, ``var_b_j ~ S chi^-2(df0)`` (``df0 = 5``), ``S ~ Gamma(shape 1.1,
    rate 0.1 / S0)``, ``S0 = Vy r2 / MSx (df0 + 2)``; residual prior as brr. A t-like prior:
    heavier tails than brr, so large QTL are shrunk less.""",
    "bayesb": """BayesB (as BGLR): BayesA's marker-specific variances with a point mass at zero.

    ``b_j d_j`` with ``d_j ~ Bernoulli(probIn)``, ``probIn ~ Beta(counts prob_in + 1,
    counts (1 - prob_in) + 1)`` (defaults ``prob_in = 0.5``, ``counts = 10``; ``fix_prob_in``
    keeps it fixed), ``var_b_j ~ S chi^-2(df0)``, ``S ~ Gamma(1.1, 0.1 / S0)``,
    ``S0 = Vy r2 / MSx (df0 + 2) / prob_in``; residual prior as brr.""",
    "bayesc": """BayesC(pi) (as BGLR): one common effect variance with a point mass at zero.

    ``b_j d_j``, ``d_j ~ Bernoulli(probIn)`` with probIn's beta prior as bayesb, ``var_b ~ S0
    chi^-2(df0)``, ``S0 = Vy r2 / MSx (df0 + 2) / prob_in``; residual prior as brr. With
    ``prob_in = 1, fix_prob_in = true`` it is brr.""",
    "bl": """Bayesian LASSO (Park & Casella 2008, BGLR's parametrisation).

    ``b_j ~ N(0, tau2_j var_e)``, ``tau2_j ~ Exp(lambda^2 / 2)``, ``lambda^2 ~ Gamma(shape
    lambda_shape = 1.1, rate (shape - 1) / lambda^2_0)`` with ``lambda^2_0 = 2 (1 - r2) / r2 MSx``
    (BGLR's default "gamma" type); ``lambda`` sets the start value, ``fix_lambda`` keeps it fixed.
    Residual prior as brr (plus the effects' contribution to its full conditional).""",
}


def _common_space(trial: Any) -> dict[str, Any]:
    return {"r2": trial.suggest_float("r2", 0.1, 0.9)}


def _tailed_space(trial: Any) -> dict[str, Any]:
    return {**_common_space(trial), "df0": trial.suggest_float("df0", 3.0, 10.0, log=True)}


def _spike_space(trial: Any) -> dict[str, Any]:
    return {**_common_space(trial),
            "prob_in": trial.suggest_float("prob_in", 0.005, 0.8, log=True)}


SPACES = {"brr": _common_space, "bayesa": _tailed_space,
          "bayesb": lambda t: {**_tailed_space(t),
                               "prob_in": t.suggest_float("prob_in", 0.005, 0.8, log=True)},
          "bayesc": _spike_space,
          "bl": lambda t: {**_common_space(t),
                           "lambda_shape": t.suggest_float("lambda_shape", 1.05, 3.0)}}

# results versions: 2 = the chain shortened from 3,000 / 1,000 / 5 to BGLR's 1,500 / 500 / 5
# (docs/notes/sampler-chains.md); bayesc kept its chain, so its results stay current
VERSIONS = {"brr": "2", "bayesa": "2", "bayesb": "2", "bayesc": "1", "bl": "2"}

DESCRIPTIONS = {
    "brr": "Bayesian ridge regression (Gibbs, BGLR default priors)",
    "bayesa": "BayesA: marker-specific variances, t-like prior (Gibbs, BGLR default priors)",
    "bayesb": "BayesB: BayesA with a point mass at zero (Gibbs, BGLR default priors)",
    "bayesc": "BayesC(pi): common variance with a point mass at zero (Gibbs, BGLR priors)",
    "bl": "Bayesian LASSO (Gibbs, BGLR default priors, gamma prior on lambda^2)",
}


def _factory(kind: str) -> Any:
    def build(options: dict[str, Any], context: Any) -> BayesianRegression:
        return BayesianRegression(options, context, kind)

    build.__doc__ = DOCS[kind]
    return build


@hookimpl
def register_models(register: Any) -> None:
    for kind in ("brr", "bayesa", "bayesb", "bayesc", "bl"):
        register(ModelSpec(name=kind, factory=_factory(kind),
                           options={**COMMON, **SPECIFIC[kind]}, search_space=SPACES[kind],
                           description=DESCRIPTIONS[kind], load=load, libraries=("numba",),
                           family="bayesian", version=VERSIONS[kind]))
