"""Built-in metrics: r2, pcc, mse (one trait, one test fold)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpbench import MetricSpec, hookimpl


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Coefficient of determination 1 - SSE/SST on the test fold (can be negative)."""
    sst = float(np.sum((y_true - np.mean(y_true)) ** 2))
    return float("nan") if sst == 0 else 1.0 - float(np.sum((y_true - y_pred) ** 2)) / sst


def pcc(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Pearson correlation; 0 when predictions are constant (no linear association shown)."""
    if np.std(y_pred) == 0 or np.std(y_true) == 0:
        return 0.0
    return float(np.corrcoef(y_true, y_pred)[0, 1])


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean squared error."""
    return float(np.mean((y_true - y_pred) ** 2))


@hookimpl
def register_metrics(register: Any) -> None:
    register(MetricSpec("r2", r2, True, "coefficient of determination, 1 - SSE/SST"))
    register(MetricSpec("pcc", pcc, True, "Pearson correlation of observed and predicted"))
    register(MetricSpec("mse", mse, False, "mean squared error"))
