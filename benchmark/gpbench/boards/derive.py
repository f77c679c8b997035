"""Metrics derived from stored predictions: what every board ranks, never a stored figure.

A record's ``metrics`` are recomputed from its observed and predicted test values with the
registered metric functions. A record whose stored figure disagrees with its own predictions
(edited by hand, or made by other metric code) is named and left out of every ranking. A
stored metric that no installed plugin defines cannot be derived and is shown as stored.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from gpbench.api.types import MetricSpec

UNTRUSTED = "not ranked"  # how every reason for leaving a record out starts


@functools.cache
def registered_metrics() -> dict[str, MetricSpec]:
    """The metrics of the installed plugins (loaded once per process)."""
    from gpbench.plugins import load_registry

    return {m.name: m for m in load_registry().metrics()}


def _same(stored: Any, derived: float) -> bool:
    if stored is None or (isinstance(stored, float) and math.isnan(stored)):
        return math.isnan(derived)
    return bool(np.isclose(float(stored), derived, rtol=1e-9, atol=1e-12))


def derive(rec: dict[str, Any], metrics: Mapping[str, MetricSpec]) -> tuple[dict[str, Any],
                                                                              str | None]:
    """``rec`` with its metrics recomputed from its predictions, and why it cannot be trusted
    (None when every stored figure agrees). Failed records pass unchanged."""
    if rec.get("status") != "ok":
        return rec, None
    preds = rec.get("predictions") or {}
    derived: dict[str, dict[str, Any]] = {}
    for trait, stored in (rec.get("metrics") or {}).items():
        p = preds.get(trait)
        if p is None:
            return rec, (f"{UNTRUSTED}: no stored predictions of {trait!r} to derive its "
                         "metrics from")
        yt = np.asarray(p["y_true"], dtype=float)
        yp = np.asarray(p["y_pred"], dtype=float)
        out: dict[str, Any] = {"n_test": len(yt)}
        if "n_train" in stored:
            out["n_train"] = stored["n_train"]
        for name, spec in metrics.items():
            out[name] = float(spec.fn(yt, yp)) if len(yt) > 1 else float("nan")
        for name, value in stored.items():
            if name not in out:  # a metric no installed plugin defines: shown as stored
                out[name] = value
                continue
            if not _same(value, out[name]):
                shown = "none" if value is None else f"{float(value):.4f}"
                return rec, (f"{UNTRUSTED}: {name} of {trait!r} stored {shown}, its "
                             f"predictions give {out[name]:.4f} (edited by hand?)")
        derived[trait] = out
    return {**rec, "metrics": derived}, None


def derive_all(records: Iterable[dict[str, Any]],
               metrics: Mapping[str, MetricSpec] | None = None
               ) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Records with derived metrics, and (unit id, why) for those left out."""
    metrics = registered_metrics() if metrics is None else metrics
    kept, left_out = [], []
    for rec in records:
        out, why = derive(rec, metrics)
        if why is None:
            kept.append(out)
        else:
            left_out.append((str(rec.get("unit_id")), why))
    return kept, left_out
