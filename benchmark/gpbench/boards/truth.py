"""Accuracy against the true genetic values, for datasets that know them (simulations).

A unit of such a dataset stores the true genetic value of each test sample beside its
predictions (``record["g_true"][trait]``, in the order of ``predictions[trait]["sample"]``);
the scores here are derived from those stored values and the stored predictions, never stored
themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd


def truth_scores(rec: dict[str, Any], trait: str) -> tuple[float, float]:
    """(r, R²) of a record's test predictions of ``trait`` against the true genetic values;
    NaN where the record stores none or fewer than 2 samples."""
    g = (rec.get("g_true") or {}).get(trait)
    pred = (rec.get("predictions") or {}).get(trait)
    if g is None or pred is None or len(g) < 2:
        return float("nan"), float("nan")
    g, p = np.asarray(g, dtype=float), np.asarray(pred["y_pred"], dtype=float)
    sst = float(np.sum((g - g.mean()) ** 2))
    r2 = 1 - float(np.sum((g - p) ** 2)) / sst if sst > 0 else float("nan")
    r = float(np.corrcoef(g, p)[0, 1]) if np.std(g) > 0 and np.std(p) > 0 else float("nan")
    return r, r2


def has_truth(records: Iterable[dict[str, Any]]) -> bool:
    """Whether any successful record stores true genetic values."""
    return any(r.get("status") == "ok" and r.get("g_true") for r in records)


def fold_scores(records: Iterable[dict[str, Any]], with_truth: bool = False
                ) -> Iterator[tuple[dict[str, Any], str, dict[str, Any], float, float]]:
    """(record, trait, its stored metrics, r and R² against the true genetic values) for every
    trait of every successful record (with ``with_truth``, only records that store true
    values): what the per-fold frames of the boards are built from."""
    for rec in records:
        if rec.get("status") != "ok" or (with_truth and not rec.get("g_true")):
            continue
        for trait, m in (rec.get("metrics") or {}).items():
            yield (rec, trait, m, *truth_scores(rec, trait))


def truth_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per (model, trait, repeat, fold) of successful units that store true values:
    ``r_g`` and ``r2_g`` against the truth, ``r_y`` (PCC) against the phenotype."""
    rows = [{"model": rec["model"], "trait": trait, "repeat": rec["repeat"],
             "fold": rec["fold"], "r_g": r, "r2_g": r2, "r_y": m.get("pcc"),
             "r2_y": m.get("r2")} for rec, trait, m, r, r2 in fold_scores(records, True)]
    cols = ["model", "trait", "repeat", "fold", "r_g", "r2_g", "r_y", "r2_y"]
    return pd.DataFrame(rows, columns=cols).astype(
        {"r_g": float, "r2_g": float, "r_y": float, "r2_y": float})


def truth_section(records: Iterable[dict[str, Any]]) -> list[str]:
    """Markdown: per trait, each model's mean r and R² against the true genetic values beside
    its PCC against the phenotype; empty when no record stores true values."""
    from tabulate import tabulate

    df = truth_frame(records)
    if df.empty:
        return []
    out = ["## Against the true genetic values", "",
           "The dataset knows each sample's true genetic value (a simulation): r and R² of the "
           "test predictions against it, beside r against the noisy phenotype (mean over "
           "folds).", ""]
    for trait in sorted(df["trait"].unique()):
        means = (df[df.trait == trait].groupby("model")[["r_g", "r2_g", "r_y"]].mean()
                 .sort_values("r_g", ascending=False))
        rows = [[m, f"{r.r_g:.3f}", f"{r.r2_g:.3f}", f"{r.r_y:.3f}"]
                for m, r in means.iterrows()]
        out += [f"### {trait}", "", tabulate(rows, headers=["model", "r (truth)", "R² (truth)",
                                                            "r (phenotype)"],
                                             tablefmt="github", disable_numparse=True), ""]
    return out
