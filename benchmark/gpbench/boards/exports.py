"""Leaderboard tables as CSV and LaTeX files, and the per-fold table, for writing a paper.

LaTeX is written by a small writer of our own (booktabs rules: ``\\usepackage{booktabs}``)
because ``pandas.DataFrame.to_latex`` needs jinja2, which gpbench does not depend on; the
output is the same everywhere. The per-fold table is CSV only (hundreds of rows are data, not a
table for a paper).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gpbench.boards.curves import curve_frame
from gpbench.boards.leaderboard import (
    expected_folds,
    fold_table,
    records_frame,
    trait_table,
)
from gpbench.storage.atomic import atomic_write_bytes

if TYPE_CHECKING:
    from gpbench.boards.crossboard import CrossBoard, Friedman

_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}"}


def latex_escape(text: Any) -> str:
    """``text`` with LaTeX's special characters escaped (R², ±, Greek letters pass as UTF-8)."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def _cell(value: Any, digits: int) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{value:.{digits}f}" if np.isfinite(value) else "--"
    return latex_escape(value)


def _whole(col: pd.Series) -> bool:
    """A float column that only holds whole numbers (counts stored as float after a merge)."""
    values = pd.to_numeric(col, errors="coerce").dropna()
    return bool(len(values)) and bool(np.all(np.mod(values, 1) == 0))


def to_latex(df: pd.DataFrame, caption: str | None = None, label: str | None = None,
             digits: int = 3, index: bool = False) -> str:
    """A booktabs ``tabular`` of ``df``: numbers right-aligned with ``digits`` decimals."""
    if index:
        df = df.reset_index()
    cols = list(df.columns)
    align = "".join("r" if pd.api.types.is_numeric_dtype(df[c]) and
                    not pd.api.types.is_bool_dtype(df[c]) else "l" for c in cols)
    lines = ["% needs \\usepackage{booktabs}"]
    if caption or label:
        lines += ["\\begin{table}[ht]", "\\centering"]
        if caption:
            lines.append(f"\\caption{{{latex_escape(caption)}}}")
        if label:
            lines.append(f"\\label{{{label}}}")
    lines += [f"\\begin{{tabular}}{{{align}}}", "\\toprule",
              " & ".join(latex_escape(c) for c in cols) + r" \\", "\\midrule"]
    places = [0 if pd.api.types.is_float_dtype(df[c]) and _whole(df[c]) else digits
              for c in cols]
    for row in df.itertuples(index=False):
        lines.append(" & ".join(_cell(v, d) for v, d in zip(row, places, strict=True))
                     + r" \\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    if caption or label:
        lines.append("\\end{table}")
    return "\n".join(lines) + "\n"


def write_table(df: pd.DataFrame, out_dir: Path, name: str, latex: bool = True,
                caption: str | None = None) -> list[Path]:
    """Write ``df`` as ``out_dir/name.csv`` (and ``name.tex``); returns the paths written."""
    out_dir = Path(out_dir)
    paths = [out_dir / f"{name}.csv"]
    atomic_write_bytes(paths[0], df.to_csv(index=False).encode())
    if latex:
        paths.append(out_dir / f"{name}.tex")
        atomic_write_bytes(paths[1], to_latex(df, caption=caption,
                                              label=f"tab:{name}").encode())
    return paths


def run_tables(run: dict[str, Any], records: Sequence[dict[str, Any]],
               reference: str | None = None) -> dict[str, pd.DataFrame]:
    """The tables of one run's leaderboard (models compared with the best and with
    ``reference``): ``traits`` (every per-trait table, stacked),
    ``overall`` (per model, over the traits where it is ranked: mean R², mean rank, traits)
    and ``folds`` (per fold)."""
    df = records_frame(records)
    per_trait = []
    for trait in sorted(df["trait"].unique()) if not df.empty else []:
        table = trait_table(df[df.trait == trait], expected_folds(run),
                            reference).reset_index()
        table.insert(0, "trait", trait)
        per_trait.append(table)
    traits = pd.concat(per_trait, ignore_index=True) if per_trait else pd.DataFrame(
        columns=["trait", "model"])
    if "index" in traits.columns and "model" not in traits.columns:
        traits = traits.rename(columns={"index": "model"})
    if len(traits) and "rank" in traits.columns:
        # as in leaderboard.md: only traits where the model is ranked (finished every fold)
        overall = traits[traits["complete"].astype(bool)].groupby("model").agg(
            r2_mean=("r2_mean", "mean"), mean_rank=("rank", "mean"), traits=("trait", "count")
        ).sort_values(["mean_rank", "r2_mean"], ascending=[True, False]).reset_index()
    else:
        overall = pd.DataFrame(columns=["model", "r2_mean", "mean_rank", "traits"])
    dataset = (run.get("dataset") or {}).get("name")
    return {"traits": traits, "overall": overall, "folds": fold_table(records, dataset)}


def write_run_tables(run: dict[str, Any], records: Sequence[dict[str, Any]],
                     out_dir: Path, reference: str | None = None) -> list[Path]:
    """Write ``run_tables`` into ``out_dir``: CSV + LaTeX, the per-fold table as CSV only, and
    for a learning-curve run (``--train-fraction``) its per-share, per-fold ``curves.csv``."""
    tables = run_tables(run, records, reference)
    name = (run.get("dataset") or {}).get("name", "run")
    paths = write_table(tables["traits"], out_dir, "traits",
                        caption=f"Per-trait leaderboard on {name}")
    paths += write_table(tables["overall"], out_dir, "overall",
                         caption=f"Models over all traits of {name}")
    paths += write_table(tables["folds"], out_dir, "folds", latex=False)
    curves = curve_frame(records)
    if curves["fraction"].nunique() > 1:  # a learning-curve run: every share, per fold
        paths += write_table(curves, out_dir, "curves", latex=False)
    return paths


def cross_tables(board: CrossBoard) -> dict[str, pd.DataFrame]:
    """The cross-dataset board's tables: summary, per-task R² and PCC (wide), tasks (long),
    Friedman results and Nemenyi pairs (tasks, and datasets, as blocks) and the per-fold scores
    of every run."""
    def friedman(fr: Friedman | None) -> pd.DataFrame:
        return pd.DataFrame([{
            "n_models": len(fr.models), "n_tasks": fr.n_tasks, "chi2": fr.statistic,
            "p_value": fr.p_value, "iman_davenport_F": fr.iman_davenport,
            "iman_davenport_p": fr.iman_davenport_p, "alpha": fr.alpha, "q_alpha": fr.q_alpha,
            "critical_difference": fr.cd}] if fr is not None else [])

    by_dataset = board.dataset_friedman
    return {
        "summary": board.summary.reset_index(),
        "r2": board.r2.reset_index(),
        "pcc": board.pcc.reset_index(),
        "tasks": board.tasks,
        "friedman": friedman(board.friedman),
        "pairs": board.friedman.pairs if board.friedman is not None else pd.DataFrame(),
        "friedman_datasets": friedman(by_dataset).rename(columns={"n_tasks": "n_datasets"}),
        "pairs_datasets": by_dataset.pairs if by_dataset is not None else pd.DataFrame(),
        "wilcoxon": board.wilcoxon,
        "folds": board.folds,
    }


_CAPTIONS = {"summary": "Models over all tasks (dataset x trait)",
             "r2": "Mean R² per task", "pcc": "Mean PCC per task",
             "tasks": "Per task and model: mean R², PCC, folds and rank",
             "friedman": "Friedman test over tasks and Nemenyi critical difference",
             "pairs": "Nemenyi pairwise comparisons of mean ranks",
             "friedman_datasets": "Friedman test over datasets and Nemenyi critical difference",
             "pairs_datasets": "Nemenyi pairwise comparisons of mean ranks over datasets",
             "wilcoxon": "Wilcoxon signed-rank tests against the reference over datasets "
                         "(Holm-adjusted)"}


def write_cross_tables(board: CrossBoard, out_dir: Path) -> list[Path]:
    """Write every table of ``board`` into ``out_dir`` (CSV + LaTeX; folds as CSV only)."""
    paths: list[Path] = []
    for name, df in cross_tables(board).items():
        if df.empty and name.startswith(("friedman", "pairs", "wilcoxon")):
            continue
        paths += write_table(df, out_dir, name, latex=name != "folds",
                             caption=_CAPTIONS.get(name))
    return paths
