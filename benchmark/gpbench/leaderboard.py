"""Leaderboard markdown: a pure function of the records stored in a run directory.

Per trait, models are ranked by mean R² over outer folds (and repeats). Each model is compared
with the trait's best model on the same folds by the corrected resampled t-test (Nadeau &
Bengio 2003), which widens the variance for the overlap between CV training sets; differences
with p >= 0.05 are marked so that small gaps are not over-read. Published figures appear only
as labelled reference rows.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from tabulate import tabulate

from .results import ResultStore, atomic_write_bytes

ALPHA = 0.05


def records_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per (model, trait, repeat, fold) of successful units."""
    rows = []
    for rec in records:
        if rec.get("status") != "ok":
            continue
        for trait, m in rec["metrics"].items():
            rows.append({"model": rec["model"], "trait": trait, "repeat": rec["repeat"],
                         "fold": rec["fold"], "r2": m.get("r2"), "pcc": m.get("pcc"),
                         "mse": m.get("mse"), "n_test": m.get("n_test"),
                         "n_train": m.get("n_train"),
                         "fit_s": rec.get("timing", {}).get("fit_s", np.nan)
                         + rec.get("timing", {}).get("tune_s", 0.0),
                         "tuned": bool(rec.get("tuning"))})
    cols = ["model", "trait", "repeat", "fold", "r2", "pcc", "mse", "n_test", "n_train",
            "fit_s", "tuned"]
    return pd.DataFrame(rows, columns=cols).astype({"r2": float, "pcc": float, "mse": float})


def corrected_ttest(diff: np.ndarray, n_train: float, n_test: float) -> float:
    """Two-sided p-value of the Nadeau-Bengio corrected resampled t-test on paired diffs."""
    j = len(diff)
    if j < 2:
        return float("nan")
    var = np.var(diff, ddof=1)
    if var == 0:
        return 0.0 if np.mean(diff) != 0 else 1.0
    t = np.mean(diff) / math.sqrt((1 / j + n_test / n_train) * var)
    return float(2 * stats.t.sf(abs(t), df=j - 1))


def trait_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per-model summary for one trait, ranked by mean R², with paired p-values vs the best."""
    g = df.groupby("model")
    summary = pd.DataFrame({
        "r2_mean": g["r2"].mean(), "r2_sd": g["r2"].std(ddof=1),
        "pcc_mean": g["pcc"].mean(), "pcc_sd": g["pcc"].std(ddof=1),
        "mse_mean": g["mse"].mean(), "n_test": g["n_test"].sum(),
        "n_folds": g["r2"].count(), "fit_s": g["fit_s"].mean(),
    }).sort_values("r2_mean", ascending=False)
    best = summary.index[0]
    best_scores = df[df.model == best].set_index(["repeat", "fold"])["r2"]
    pvals = {}
    for model in summary.index:
        if model == best:
            pvals[model] = float("nan")
            continue
        mine = df[df.model == model].set_index(["repeat", "fold"])["r2"]
        both = best_scores.index.intersection(mine.index)
        sub = df[df.model == model]
        pvals[model] = corrected_ttest((best_scores[both] - mine[both]).to_numpy(),
                                       sub["n_train"].mean(), sub["n_test"].mean())
    summary["p_vs_best"] = pd.Series(pvals)
    summary.insert(0, "rank", np.arange(1, len(summary) + 1))
    return summary


def _pm(mean: float, sd: float, bold: bool = False) -> str:
    text = f"{mean:.3f}" if not np.isfinite(sd) else f"{mean:.3f} ± {sd:.3f}"
    return f"**{text}**" if bold else text


def _header(run: dict[str, Any], records: list[dict[str, Any]]) -> list[str]:
    ds = run.get("dataset", {})
    cfg = run.get("config", {})
    ok = [r for r in records if r.get("status") == "ok"]
    versions = ok[0].get("versions", {}) if ok else {}
    plugins = sorted({f"{r['versions']['plugin']['name']} "
                      f"{r['versions']['plugin'].get('version') or ''}".strip()
                      for r in ok if r.get("versions", {}).get("plugin")})
    dates = sorted(r.get("finished_at", "") for r in records)
    lines = [
        f"- dataset: **{ds.get('name', '?')}** version `{ds.get('version', '?')}`, "
        f"checksum `{str(ds.get('checksum', '?'))[:16]}`",
        f"- protocol: {cfg.get('k', '?')}-fold CV over samples, seed {cfg.get('seed', '?')}, "
        f"{cfg.get('repeats', '?')} repeat(s); fold file `{run.get('fold_file', '?')}` "
        f"sha256 `{str(run.get('fold_sha256', '?'))[:16]}`; inner validation fraction "
        f"{cfg.get('inner_fraction', '?')} of each training fold",
        f"- versions: gpbench {versions.get('gpbench', '?')}, python "
        f"{versions.get('python', '?')}, numpy {versions.get('numpy', '?')}, scikit-learn "
        f"{versions.get('sklearn', '?')}; plugins: {', '.join(plugins) or '-'}",
    ]
    if run.get("git_commit"):
        lines.append(f"- git commit: `{run['git_commit']}`")
    if run.get("machine"):
        lines.append(f"- machine: {run['machine']}")
    if dates:
        lines.append(f"- finished: {dates[0]} to {dates[-1]}")
    return lines


def params_section(records: list[dict[str, Any]]) -> list[str]:
    """Markdown lines listing the options chosen by tuning, per model, trait(s) and fold."""
    rows = []
    for rec in sorted((r for r in records if r.get("status") == "ok" and r.get("tuning")),
                      key=lambda r: (r["model"], r["traits"], r["repeat"], r["fold"])):
        t = rec["tuning"]
        params = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                           for k, v in sorted(t["best_params"].items()))
        rows.append([rec["model"], ", ".join(rec["traits"]), rec["repeat"], rec["fold"],
                     params or "-", f"{t['best_value']:.3f}",
                     f"{t['n_complete']}/{t['n_trials']}"])
    if not rows:
        return ["## Tuned parameters", "", "No unit of this run was tuned (`--tune N`).", ""]
    return ["## Tuned parameters", "", tabulate(
        rows, headers=["model", "traits", "repeat", "fold", "best options",
                       "inner score", "trials done"], tablefmt="github",
        disable_numparse=True), ""]


def render(run: dict[str, Any], records: list[dict[str, Any]], title: str = "Leaderboard",
           show_params: bool = False) -> str:
    """Markdown leaderboard for one run (``run`` is run.json, ``records`` its results).

    ``show_params`` adds the options that nested tuning chose in every fold.
    """
    df = records_frame(records)
    out = [f"# {title}", ""]
    out += _header(run, records)
    out.append("")
    if run.get("command"):
        out += ["Reproduce with:", "", "```", run["command"], "```", ""]
    refs = pd.DataFrame(run.get("references") or [])
    if df.empty:
        out.append("No finished units yet.")
    overall = []
    for trait in sorted(df["trait"].unique()) if not df.empty else []:
        table = trait_table(df[df.trait == trait])
        best_pcc = table["pcc_mean"].max()
        best_mse = table["mse_mean"].min()
        rows = []
        for model, r in table.iterrows():
            p = r["p_vs_best"]
            mark = "" if not np.isfinite(p) else (" ≈" if p >= ALPHA else "")
            rows.append([int(r["rank"]), f"{model}{mark}",
                         _pm(r["r2_mean"], r["r2_sd"], r["rank"] == 1),
                         _pm(r["pcc_mean"], r["pcc_sd"], r["pcc_mean"] == best_pcc),
                         (f"**{r['mse_mean']:.4g}**" if r["mse_mean"] == best_mse
                          else f"{r['mse_mean']:.4g}"),
                         "best" if not np.isfinite(p) else f"{p:.3f}",
                         int(r["n_test"]), int(r["n_folds"]), f"{r['fit_s']:.1f}"])
            overall.append({"model": model, "trait": trait, "r2": r["r2_mean"],
                            "rank": r["rank"]})
        if not refs.empty and "trait" in refs:
            for _, ref in refs[refs.trait == trait].iterrows():
                rows.append(["ref", f"*{ref['source']}: {ref['what']}* (published, not run "
                             "here)", f"*{float(ref['r2']):.3f}*", "", "", "", "", "", ""])
        out += [f"## {trait}", "",
                tabulate(rows, headers=["rank", "model", "R² (mean ± sd)", "PCC (mean ± sd)",
                                        "MSE", "p vs best", "n test", "folds", "fit s"],
                         tablefmt="github", disable_numparse=True), ""]
    if overall:
        ov = pd.DataFrame(overall).groupby("model").agg(
            r2=("r2", "mean"), rank=("rank", "mean"), traits=("trait", "count")
        ).sort_values(["rank", "r2"], ascending=[True, False])
        rows = [[m, f"{r['r2']:.3f}", f"{r['rank']:.2f}", int(r["traits"])]
                for m, r in ov.iterrows()]
        out += ["## Overall", "", tabulate(rows, headers=["model", "mean R²", "mean rank",
                                                           "traits"],
                                           tablefmt="github", disable_numparse=True), ""]
    if show_params:
        out += params_section(records)
    failed = [r for r in records if r.get("status") != "ok"]
    if failed:
        out += ["## Failed units", ""]
        out += [f"- `{r['unit_id']}`: {r.get('error', '?').splitlines()[0]}" for r in failed]
        out.append("")
    out += ["R² = 1 - SSE/SST on each outer test fold (strains where the trait is measured), "
            "averaged over folds; ± is the sd over folds. **Bold**: best value per column. "
            "p vs best: corrected resampled t-test (Nadeau & Bengio 2003) against the top "
            f"model on the same folds; ≈ marks models not significantly worse (p ≥ {ALPHA}). "
            "fit s: mean seconds per fit (tuning included). Reference rows are published "
            "figures, not results of this run.", ""]
    return "\n".join(out)


def load_run(run_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    run_file = Path(run_dir) / "run.json"
    run = json.loads(run_file.read_text()) if run_file.exists() else {}
    return run, ResultStore(run_dir).records()


def write_leaderboard(run_dir: Path, out: Path | None = None, show_params: bool = False) -> Path:
    """Render ``run_dir``'s stored results to markdown (default ``run_dir/leaderboard.md``)."""
    run, records = load_run(run_dir)
    target = out or Path(run_dir) / "leaderboard.md"
    atomic_write_bytes(target, render(run, records, show_params=show_params).encode())
    from .exports import write_run_tables  # exports builds on this module's tables

    write_run_tables(run, records, target.parent / "tables")
    return target
