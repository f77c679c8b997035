"""More model families: RKHS (Gaussian kernels, REML), SVR, random forest, XGBoost and a
stacked ensemble of registered models. Defaults and priors are documented in each module."""

from __future__ import annotations

from typing import Any

from gpbench import ModelSpec, hookimpl

from . import rf, rkhs, stack, svr, xgb


def rkhs_space(trial: Any) -> dict[str, Any]:
    """``--tune`` space for rkhs: the set of bandwidths and how kernels are combined."""
    return {"bandwidths": trial.suggest_categorical(
                "bandwidths", ["0.2,1,5", "0.1,0.5,2,10", "0.5", "1", "2", "0.2,1", "1,5"]),
            "combine": trial.suggest_categorical("combine", ["edge", "grid", "best", "mean"])}


def svr_space(trial: Any) -> dict[str, Any]:
    """``--tune`` space for svr (C and epsilon in units of y's sd)."""
    return {"C": trial.suggest_float("C", 0.1, 100.0, log=True),
            "epsilon": trial.suggest_float("epsilon", 0.01, 0.5, log=True),
            "gamma_scale": trial.suggest_float("gamma_scale", 0.05, 5.0, log=True)}


def rf_space(trial: Any) -> dict[str, Any]:
    """``--tune`` space for rf."""
    return {"max_features": trial.suggest_float("max_features", 0.005, 0.2, log=True),
            "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 20, log=True),
            "max_samples": trial.suggest_float("max_samples", 0.5, 1.0)}


def xgb_space(trial: Any) -> dict[str, Any]:
    """``--tune`` space for xgboost (ranges around the defaults)."""
    return {"learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
            "max_depth": trial.suggest_int("max_depth", 2, 8),
            "min_child_weight": trial.suggest_float("min_child_weight", 1.0, 30.0, log=True),
            "subsample": trial.suggest_float("subsample", 0.5, 1.0),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.05, 0.8, log=True),
            "colsample_bynode": trial.suggest_float("colsample_bynode", 0.2, 1.0),
            "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
            "reg_alpha": trial.suggest_float("reg_alpha", 1e-3, 10.0, log=True)}


def stack_space(trial: Any) -> dict[str, Any]:
    """``--tune`` space for stack: the number of inner folds of its out-of-fold predictions
    (under scheme=crossfit, those of the members with ``fit_oof`` only)."""
    return {"inner_folds": trial.suggest_categorical("inner_folds", [3, 5, 10])}


@hookimpl
def register_models(register: Any) -> None:
    register(ModelSpec(
        name="rkhs", family="kernel",
        factory=rkhs.RKHS, options=dict(rkhs.DEFAULTS), search_space=rkhs_space,
        version="2",  # 2: combine "edge" (4-6 REML fits) replaces the 15-point grid
        option_types={"bandwidths": (str, float, list)},  # "0.2,1,5", 1 or [0.2, 1, 5]
        description="RKHS: Gaussian kernels (h=0.2,1,5 x median d2) averaged by REML"))
    register(ModelSpec(
        name="svr", family="kernel",
        factory=svr.SupportVectorRegression, options=dict(svr.DEFAULTS),
        search_space=svr_space,
        description="SVR, RBF kernel (gamma 0.2 / median d2), C=10, epsilon=0.1 on standardised y"))
    register(ModelSpec(
        name="rf", family="trees",
        factory=rf.RandomForest, options=dict(rf.DEFAULTS), search_space=rf_space,
        description="random forest, 500 trees, 3% of markers per split"))
    register(ModelSpec(
        name="xgboost", family="trees",
        factory=xgb.XGBoostModel, options=dict(xgb.DEFAULTS),
        uses_validation=True, search_space=xgb_space, libraries=("xgboost",),
        description="XGBoost hist trees; early stopping on the inner validation split"))
    register(ModelSpec(
        name="stack", family="ensemble",
        factory=stack.Stack, options=dict(stack.DEFAULTS),
        search_space=stack_space, uses_models=stack.base_names,
        resolve_options=stack.key_options,  # scheme=refit keys as before scheme existed
        option_types={"base": (str, list)},  # "gblup,lasso" or ["gblup", "lasso"]
        description="stacked ensemble: NNLS weights on inner-CV predictions of its base models"))
