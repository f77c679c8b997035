"""An example gpbench metric plugin: Spearman's rank correlation of observed and predicted.

A breeder who selects the top lines cares about ranks more than values. A metric is a plain
function of one trait's observed and predicted test values; boards compute it from the stored
predictions, so adding it needs no model to be rerun.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import spearmanr

from gpbench import MetricSpec, hookimpl


def spearman(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Spearman's rho; 0 when the predictions are constant (no ranking shown)."""
    if np.ptp(y_pred) == 0 or np.ptp(y_true) == 0:
        return 0.0
    return float(spearmanr(y_true, y_pred).statistic)


@hookimpl
def register_metrics(register: Any) -> None:
    register(MetricSpec(name="spearman", fn=spearman, higher_is_better=True,
                        description="Spearman rank correlation of observed and predicted",
                        version="1"))
