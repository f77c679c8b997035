"""Conversion of numeric R matrices (as read by rdata) to gpbench's float32 dosages."""

from __future__ import annotations

from typing import Any

import numpy as np


def float32_matrix(values: Any) -> np.ndarray:
    """``values`` as float32 with NaN for R's NA.

    R stores NA_real_ as a signalling NaN, whose cast raises numpy's "invalid value" warning;
    the result is an ordinary NaN, so the warning is silenced here.
    """
    with np.errstate(invalid="ignore"):
        return np.asarray(values, dtype=np.float32)
