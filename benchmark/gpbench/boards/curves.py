"""Learning curves: accuracy against training size, from units fitted on nested shares of
their training folds (``gpbench run --train-fraction``).

Every other board ranks only the units at the run's largest share (:func:`at_full_size`), so
a learning-curve run's leaderboard is the ordinary one; this module tabulates the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from tabulate import tabulate

from gpbench.boards.truth import fold_scores


def train_fraction(rec: dict[str, Any]) -> float:
    """The share of its training fold a record's model was fitted on (1.0: all of it)."""
    value = rec.get("train_fraction")
    return 1.0 if value is None else float(value)


def at_full_size(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records at the largest training share among ``records`` (all of them in a run
    without ``--train-fraction``), so that each (model, trait, fold) counts once."""
    records = list(records)
    if not records:
        return records
    top = max(train_fraction(r) for r in records)
    return [r for r in records if train_fraction(r) == top]


def curve_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per (model, trait, share, repeat, fold) of successful units: R², PCC, the
    training samples measured for the trait (``n_train``) and, where stored, r and R² against
    the true genetic values (``r_g``, ``r2_g``)."""
    rows = [{"model": rec["model"], "trait": trait, "fraction": train_fraction(rec),
             "repeat": rec["repeat"], "fold": rec["fold"], "r2": m.get("r2"),
             "pcc": m.get("pcc"), "n_train": m.get("n_train"), "r_g": r_g, "r2_g": r2_g}
            for rec, trait, m, r_g, r2_g in fold_scores(records)]
    cols = ["model", "trait", "fraction", "repeat", "fold", "r2", "pcc", "n_train", "r_g",
            "r2_g"]
    return pd.DataFrame(rows, columns=cols).astype(
        {"fraction": float, "r2": float, "pcc": float, "n_train": float, "r_g": float,
         "r2_g": float})


def curve_summary(df: pd.DataFrame, metric: str = "r2") -> pd.DataFrame:
    """Mean ``metric`` over folds per model (rows) and training share (columns) for one
    trait's rows of :func:`curve_frame`; a cell whose model missed a fold of that share is NaN
    (so every point of a curve is averaged over the same folds)."""
    folds = df.groupby("fraction")[["repeat", "fold"]].apply(
        lambda g: len(set(zip(g["repeat"], g["fold"], strict=True))))
    g = df.groupby(["model", "fraction"])[metric]
    means, counts = g.mean(), g.count()
    complete = counts.reset_index()["fraction"].map(folds).to_numpy() == counts.to_numpy()
    means[~complete] = np.nan
    return means.unstack("fraction").sort_index(axis=1)


def curve_section(records: Iterable[dict[str, Any]]) -> list[str]:
    """Markdown: per trait, mean R² (and r against the truth where stored) of every model at
    every training share, with the mean number of training samples; empty for a run with one
    share."""
    df = curve_frame(records)
    if df.empty or df["fraction"].nunique() < 2:
        return []
    out = ["## Learning curves (accuracy against training size)", "",
           "Each unit was also fitted on nested shares of its training fold (a smaller share's "
           "samples lie inside a larger one's, the same for every model and trait) and scored "
           "on the same test fold. Cells: mean over folds; – where a model missed a fold.", ""]
    for trait in sorted(df["trait"].unique()):
        sub = df[df.trait == trait]
        n_train = sub.groupby("fraction")["n_train"].mean()
        for metric, what in (("r2", "R² (phenotype)"), ("r_g", "r (true genetic value)")):
            if sub[metric].isna().all():
                continue
            table = curve_summary(sub, metric)
            last = table.columns[-1]
            table = table.sort_values(last, ascending=False)
            headers = ["model"] + [f"{f:g} (n≈{n_train[f]:.0f})" for f in table.columns]
            rows = [[model] + [f"{v:.3f}" if np.isfinite(v) else "–" for v in row]
                    for model, row in table.iterrows()]
            out += [f"### {trait}: {what}", "",
                    tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True),
                    ""]
    return out
