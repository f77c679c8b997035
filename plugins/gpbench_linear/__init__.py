"""Built-in classical baselines: lasso, elasticnet, ridge, gblup, and the null model mean."""

from __future__ import annotations

from typing import Any

from gpbench import ModelSpec, hookimpl

from .enet import ElasticNetPathCV
from .models import ElasticNetCV, KernelRidge, TrainingMean

_ENET_OPTIONS = {"n_alphas": 100, "eps": 1e-3, "inner_folds": 5, "patience": 10,
                 "tol": 1e-4}
# elastic net's glmnet-class path (docs/notes/elasticnet-path.md): eps None = glmnet's
# lambda.min.ratio, thresh = glmnet's convergence threshold, fdev/devmax = its early exit
_GLMNET_OPTIONS = {"n_alphas": 100, "eps": None, "inner_folds": 5, "patience": 10,
                   "thresh": 1e-7, "fdev": 1e-5, "devmax": 0.999}


def _enet_space(trial: Any) -> dict[str, Any]:
    """The mix of L1 and L2; the penalty itself is chosen by inner CV inside every fit."""
    return {"l1_ratio": trial.suggest_float("l1_ratio", 0.05, 1.0)}


# lasso, ridge and gblup have no search space: their one hyperparameter, the penalty, is chosen
# inside every fit (inner CV, exact leave-one-out, REML); under --tune they run once, untuned.
# (lasso once tuned eps and inner_folds, which set where the penalty grid ends and how many
# inner folds choose the penalty, not the penalty itself.)


@hookimpl
def register_models(register: Any) -> None:
    register(ModelSpec(
        name="lasso", family="linear",
        factory=ElasticNetCV, options={**_ENET_OPTIONS, "l1_ratio": 1.0},
        load=ElasticNetCV.load,
        description="Lasso; penalty by inner 5-fold CV on the training fold (screened path)"))
    register(ModelSpec(
        name="elasticnet", family="linear",
        factory=ElasticNetPathCV,
        options={**_GLMNET_OPTIONS, "l1_ratio": 0.5}, search_space=_enet_space,
        load=ElasticNetPathCV.load, version="2",  # 2: glmnet-class path (elasticnet-path.md)
        description="Elastic net (l1_ratio 0.5); penalty by inner 5-fold CV on the training fold"))
    register(ModelSpec(
        name="ridge", family="linear",
        factory=lambda o, c: KernelRidge(o, c, "loo"), options={},
        load=lambda d, c: KernelRidge.load(d, c, "loo"),
        description="Ridge regression (rrBLUP form); penalty by exact leave-one-out error"))
    register(ModelSpec(
        name="gblup", family="linear", board_role="reference",
        factory=lambda o, c: KernelRidge(o, c, "reml"), options={},
        load=lambda d, c: KernelRidge.load(d, c, "reml"),
        description="GBLUP: genomic relationship kernel, variance ratio by REML"))
    register(ModelSpec(
        name="mean", family="linear", board_role="null",
        factory=TrainingMean, multi_trait=True, load=TrainingMean.load,
        description="null model: the training mean of each trait (R² ≈ 0)"))
