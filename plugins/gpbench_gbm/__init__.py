"""LightGBM gradient-boosted trees (``gbm``) for single-trait genomic prediction.

Defaults were chosen by CV on ten yeast development traits and the default traits of nine
collection datasets (fold seed 1, never Lactate or Lactose); ``models.py`` says what the options
do, docs/notes/gbm-dev.md why they have these values.
"""

from __future__ import annotations

from typing import Any

from gpbench import ModelSpec, hookimpl

from .models import DEFAULTS, LightGBMModel


def search_space(trial: Any) -> dict[str, Any]:
    """Options suggested for ``--tune`` (ranges around the defaults)."""
    bagging = trial.suggest_float("bagging_fraction", 0.5, 1.0)
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 4, 63, log=True),
        "min_data_in_leaf": trial.suggest_int("min_data_in_leaf", 5, 60, log=True),
        "feature_fraction": trial.suggest_float("feature_fraction", 0.05, 0.8, log=True),
        "bagging_fraction": bagging,
        "bagging_freq": 1 if bagging < 1.0 else 0,
        "lambda_l1": trial.suggest_float("lambda_l1", 1e-3, 10.0, log=True),
        "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 10.0, log=True),
        "ld_thin": trial.suggest_categorical("ld_thin", [0.0, 0.005, 0.01, 0.02]),
    }


@hookimpl
def register_models(register: Any) -> None:
    register(ModelSpec(
        name="gbm", factory=LightGBMModel, options=dict(DEFAULTS), multi_trait=False,
        uses_validation=True, search_space=search_space, load=LightGBMModel.load,
        libraries=("lightgbm",), family="trees",
        description="LightGBM boosted trees; early stopping on the inner validation split"))
