"""Leaderboard markdown: a pure function of the records stored in a run directory.

Only the units listed in run.json count (a run directory holds one configuration; stray files
are counted in a footnote, unreadable ones are named). Per trait, models that finished every
outer fold are ranked by mean R² over those folds; a model with missing folds is shown as
incomplete and not ranked, so every ranked model is scored on the same folds. Each ranked model
is compared with two others on the same folds: the best model of the table (chosen on these
test folds, so the comparison favours it) and a fixed reference model declared before the
results (the model whose plugin declares ``board_role="reference"``, GBLUP, unless another is
named). Each comparison is the mean paired per-fold R² difference with the corrected
resampled t variance (Nadeau & Bengio 2003; for r repeats of k-fold CV, ``1/(kr) +
n_test/n_train`` with kr - 1 degrees of freedom, Bouckaert & Frank 2004) that allows for the
overlap between CV training sets; its p-value is Holm-adjusted over the models of the table,
and its interval is Bonferroni-adjusted over the same models (simultaneous 95%), so an interval
that excludes 0 always comes with a Holm-adjusted p below 0.05. Published figures appear only
in their own, labelled tables.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from tabulate import tabulate

from gpbench.boards.curves import at_full_size, curve_section
from gpbench.boards.derive import UNTRUSTED, derive_all
from gpbench.boards.truth import truth_section
from gpbench.running.design import describe
from gpbench.running.protocol import RANDOM, describe_scheme
from gpbench.running.runconfig import read_run, run_command
from gpbench.storage.records import ResultStore

ALPHA = 0.05
DASH = "–"


def declared_reference() -> str | None:
    """The model an installed plugin declares as the boards' reference, or None."""
    from gpbench.plugins import load_registry

    return next(iter(load_registry().models_with_role("reference")), None)


def declared_null_models() -> tuple[str, ...]:
    """The models installed plugins declare as null models."""
    from gpbench.plugins import load_registry

    return tuple(load_registry().models_with_role("null"))


def model_label(rec: dict[str, Any]) -> str:
    """The model as shown: its name, with the profile that ran when it has one."""
    profile = ((rec.get("used_options") or {}).get("profile")
               or (rec.get("fit_info") or {}).get("profile"))  # records of older versions
    return f"{rec['model']} ({profile})" if isinstance(profile, str) and profile else rec["model"]


def records_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per (model, trait, repeat, fold) of successful units (at the largest training
    share of a learning-curve run: :func:`~gpbench.boards.curves.at_full_size`)."""
    rows = []
    for rec in at_full_size(records):
        if rec.get("status") != "ok":
            continue
        timing = rec.get("timing") or {}
        for trait, m in rec["metrics"].items():
            rows.append({"model": rec["model"], "label": model_label(rec), "trait": trait,
                         "repeat": rec["repeat"], "fold": rec["fold"], "r2": m.get("r2"),
                         "pcc": m.get("pcc"), "mse": m.get("mse"), "n_test": m.get("n_test"),
                         "n_train": m.get("n_train"), "n_fit": rec.get("n_fit"),
                         "fit_s": (timing.get("fit_s") if timing.get("fit_s") is not None
                                   else np.nan) + (timing.get("tune_s") or 0.0),
                         "tuned": bool(rec.get("tuning"))})
    cols = ["model", "label", "trait", "repeat", "fold", "r2", "pcc", "mse", "n_test",
            "n_train", "n_fit", "fit_s", "tuned"]
    return pd.DataFrame(rows, columns=cols).astype(
        {"r2": float, "pcc": float, "mse": float, "n_fit": float, "n_test": float,
         "n_train": float})


def corrected_diff(diff: np.ndarray, n_train: float, n_test: float,
                   level: float = 0.95) -> tuple[float, float, float, float]:
    """Mean of paired per-fold differences, its ``level`` confidence interval and two-sided
    p-value, with the Nadeau-Bengio corrected variance ``(1/J + n_test/n_train) s²``.

    Returns ``(mean, low, high, p)``; interval and p are NaN with fewer than 2 folds.
    """
    diff = np.asarray(diff, dtype=float)
    j = len(diff)
    mean = float(np.mean(diff)) if j else float("nan")
    if j < 2:
        return mean, float("nan"), float("nan"), float("nan")
    var = float(np.var(diff, ddof=1))
    if var == 0:
        return mean, mean, mean, (0.0 if mean != 0 else 1.0)
    se = math.sqrt((1 / j + n_test / n_train) * var)
    half = float(stats.t.ppf(0.5 + level / 2, df=j - 1)) * se
    p = float(2 * stats.t.sf(abs(mean) / se, df=j - 1))
    return mean, mean - half, mean + half, p


def corrected_ttest(diff: np.ndarray, n_train: float, n_test: float) -> float:
    """Two-sided p-value of the Nadeau-Bengio corrected resampled t-test on paired diffs."""
    return corrected_diff(diff, n_train, n_test)[3]


def holm(pvalues: dict[str, float]) -> dict[str, float]:
    """Holm step-down adjusted p-values (NaN stays NaN and does not count as a test)."""
    finite = sorted((p, k) for k, p in pvalues.items() if np.isfinite(p))
    m, out, running = len(finite), {k: float("nan") for k in pvalues}, 0.0
    for i, (p, k) in enumerate(finite):
        running = max(running, min(1.0, (m - i) * p))
        out[k] = running
    return out


def compare_with(by_fold: pd.DataFrame, sizes: pd.DataFrame, models: list[str], against: str,
                 alpha: float = ALPHA) -> pd.DataFrame:
    """Each of ``models`` against ``against`` on the folds both finished: mean paired R²
    difference (model - against), its Bonferroni-adjusted simultaneous interval, raw p and
    Holm-adjusted p (corrected resampled t-test).

    ``by_fold``: R² per (repeat, fold) row and model column; ``sizes``: mean ``n_train`` and
    ``n_test`` per model. The family is the models with a finite p-value, m of them: the
    interval's level is ``1 - alpha/m``, so it excludes 0 exactly when ``m * p < alpha``, which
    implies a Holm-adjusted p below ``alpha`` (Holm is never above Bonferroni).
    """
    cols = ["diff", "ci_low", "ci_high", "p", "p_holm"]
    out = pd.DataFrame(np.nan, index=models, columns=cols)
    diffs = {m: (by_fold[m] - by_fold[against]).dropna().to_numpy() for m in models}
    for m in models:
        n_train, n_test = float(sizes.loc[m, "n_train"]), float(sizes.loc[m, "n_test"])
        out.loc[m, ["diff", "p"]] = [corrected_diff(diffs[m], n_train, n_test)[i] for i in (0, 3)]
    n_tests = int(np.isfinite(out["p"]).sum())
    level = 1 - alpha / max(n_tests, 1)
    for m in models:
        n_train, n_test = float(sizes.loc[m, "n_train"]), float(sizes.loc[m, "n_test"])
        out.loc[m, ["ci_low", "ci_high"]] = corrected_diff(diffs[m], n_train, n_test, level)[1:3]
    out["p_holm"] = pd.Series(holm(out["p"].to_dict()), dtype=float)
    return out


def trait_table(df: pd.DataFrame, folds: set[tuple[int, int]] | None = None,
                reference: str | None = None) -> pd.DataFrame:
    """Per-model summary for one trait.

    ``folds``: the (repeat, fold) pairs of the run (default: every pair any model finished).
    Models that finished all of them are ranked by mean R² on exactly those folds and compared
    with the best (``diff``, ``ci_low``, ``ci_high``, ``p_vs_best``, Holm-adjusted ``p_holm``)
    and with ``reference`` when it is ranked (``ref_diff``, ``ref_ci_low``, ``ref_ci_high``,
    ``p_vs_ref``, ``p_ref_holm``); intervals are Bonferroni-adjusted over the table's
    comparisons (:func:`compare_with`). The others have ``complete`` False, ``rank`` NaN and
    statistics over their own folds.
    """
    keys = list(zip(df["repeat"], df["fold"], strict=True))
    expected = set(folds) if folds is not None else set(keys)
    df = df.assign(_key=keys)
    done = df.groupby("model")["_key"].agg(lambda k: set(k))
    complete = {m for m, k in done.items() if expected <= k}
    df = df[~df.model.isin(complete) | df["_key"].isin(expected)]
    g = df.groupby("model")
    summary = pd.DataFrame({
        "label": g["label"].first(),
        "r2_mean": g["r2"].mean(), "r2_sd": g["r2"].std(ddof=1),
        "pcc_mean": g["pcc"].mean(), "pcc_sd": g["pcc"].std(ddof=1),
        "mse_mean": g["mse"].mean(), "n_test": g["n_test"].sum(),
        "n_folds": g["r2"].count(), "n_fit": g["n_fit"].mean(), "fit_s": g["fit_s"].mean(),
    })
    summary["complete"] = summary.index.isin(sorted(complete))
    summary["n_expected"] = len(expected)
    summary = summary.sort_values(["complete", "r2_mean"], ascending=[False, False])
    ranked = [m for m in summary.index if m in complete]
    # equal mean R² share a rank (1, 1, 3), as on the board across datasets
    summary["rank"] = summary.loc[ranked, "r2_mean"].rank(method="min", ascending=False)
    best_cols = ["diff", "ci_low", "ci_high", "p_vs_best", "p_holm"]
    ref_cols = ["ref_diff", "ref_ci_low", "ref_ci_high", "p_vs_ref", "p_ref_holm"]
    for col in best_cols + ref_cols:
        summary[col] = np.nan
    if ranked:
        by_fold = df.pivot_table(index=["repeat", "fold"], columns="model", values="r2")
        sizes = g[["n_train", "n_test"]].mean()
        best = ranked[0]
        if len(ranked) > 1:
            summary.loc[ranked[1:], best_cols] = compare_with(
                by_fold, sizes, ranked[1:], best).to_numpy()
        summary.loc[best, "diff"] = 0.0
        if reference in ranked:
            others = [m for m in ranked if m != reference]
            if others:
                summary.loc[others, ref_cols] = compare_with(
                    by_fold, sizes, others, reference).to_numpy()
            summary.loc[reference, "ref_diff"] = 0.0
    return summary


def _pm(mean: float, sd: float, bold: bool = False) -> str:
    text = f"{mean:.3f}" if not np.isfinite(sd) else f"{mean:.3f} ± {sd:.3f}"
    return f"**{text}**" if bold else text


def _versions(ok: list[dict[str, Any]]) -> str:
    """The library versions the records were computed with: one set, or each distinct set with
    its record count and models (units of one run computed on different machines)."""
    sets: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for rec in ok:
        v = rec.get("versions") or {}
        key = tuple(str(v.get(k, "?")) for k in ("gpbench", "python", "numpy", "sklearn"))
        sets.setdefault(key, []).append(rec)

    def text(key: tuple[str, ...]) -> str:
        return f"gpbench {key[0]}, python {key[1]}, numpy {key[2]}, scikit-learn {key[3]}"

    if len(sets) <= 1:
        return text(next(iter(sets), ("?",) * 4))
    parts = []
    for key, recs in sorted(sets.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        models = ", ".join(sorted({str(r.get("model")) for r in recs}))
        parts.append(f"{text(key)} ({len(recs)} records: {models})")
    return "; ".join(parts)


def _header(run: dict[str, Any], records: list[dict[str, Any]]) -> list[str]:
    ds = run.get("dataset", {})
    cfg = run.get("run_config") or run.get("config", {})
    ok = [r for r in records if r.get("status") == "ok"]
    plugins = sorted({f"{r['versions']['plugin']['name']} "
                      f"{r['versions']['plugin'].get('version') or ''}".strip()
                      for r in ok if (r.get("versions") or {}).get("plugin")})
    dplug = ds.get("plugin") or {}
    dataset_plugin = (f"{dplug.get('name')} {dplug.get('version') or ''}".strip()
                      if dplug else "?")
    dates = sorted(str(r["finished_at"]) for r in records if r.get("finished_at"))
    options = cfg.get("dataset_options") or {}
    opts = f" (options {', '.join(f'{k}={v}' for k, v in sorted(options.items()))})" \
        if options else ""
    tune = cfg.get("tune")
    lines = [
        f"- dataset: **{ds.get('name', '?')}**{opts} version `{ds.get('version', '?')}`, "
        f"checksum `{str(ds.get('checksum', '?'))[:16]}`",
        (f"- protocol: {cfg.get('k', '?')}-fold CV over samples on the folds published with "
         "the dataset (--folds published); fold file" if cfg.get("published_folds") else
         f"- protocol: {cfg.get('k', '?')}-fold CV {describe_scheme(cfg.get('cv'))}, seed "
         f"{cfg.get('seed', '?')}, "
         f"{cfg.get('repeats', '?')} repeat(s); fold file")
        + f" `{run.get('fold_file', '?')}` "
        f"sha256 `{str(run.get('fold_sha256', '?'))[:16]}`; inner validation fraction "
        f"{cfg.get('inner_fraction', '?')} of each training fold",
        "- tuning: " + (f"{tune['n_trials']} Optuna trials inside each outer training fold, "
                        f"objective {tune['metric']} on an inner split" if tune else
                        "none (each model's options as listed in its records)"),
        f"- device: {cfg.get('device', '?')}"
        + (f" (resolved to {cfg['device_kind']})" if cfg.get("device_kind") else ""),
        f"- versions: {_versions(ok)}; model plugins: {', '.join(plugins) or '-'}; "
        f"dataset plugin: {dataset_plugin}",
    ]
    if cfg.get("design"):  # boards of the v1 protocol (no design effects) keep their text
        lines.insert(2, "- design effects: " + describe(cfg["design"]))
    if run.get("git_commit"):
        lines.append(f"- git commit: `{run['git_commit']}`")
    if run.get("machine"):
        lines.append(f"- machine: {run['machine']}")
    if dates:
        lines.append(f"- finished: {dates[0]} to {dates[-1]}")
    return lines


def listed_records(run: dict[str, Any],
                   records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The records of the units run.json lists, and how many other records were left out."""
    units = run.get("units")
    if units is None:  # no run.json: everything stored
        return list(records), 0
    listed = set(units)
    keep = [r for r in records if r.get("unit_id") in listed]
    return keep, len(records) - len(keep)


def expected_folds(run: dict[str, Any]) -> set[tuple[int, int]] | None:
    cfg = run.get("run_config") or {}
    if "k" not in cfg or "repeats" not in cfg:
        return None
    return {(r, f) for r in range(int(cfg["repeats"])) for f in range(int(cfg["k"]))}


def _fmt(x: float, spec: str = ".3f") -> str:
    return format(x, spec) if np.isfinite(x) else DASH


def _reference_rows(refs: list[dict[str, Any]], trait: str) -> list[list[str]]:
    rows = []
    for ref in refs:
        if ref.get("trait") != trait:
            continue
        metric = str(ref.get("metric") or ("R2" if "r2" in ref else "?"))
        value = ref.get("value", ref.get("r2"))
        try:
            value = float(value)
        except (TypeError, ValueError):
            value = float("nan")
        r2 = _fmt(value) if metric.upper() in ("R2", "R²") else ""
        r = _fmt(value) if metric.lower() in ("r", "pcc") else ""
        other = "" if (r2 or r) else f"{metric} {_fmt(value)}"
        protocol = str(ref.get("protocol") or "unknown")
        if protocol.strip().lower() == "unknown":
            protocol = "unknown (not stated with the figure)"
        rows.append([f"{ref.get('source', '?')}: {ref.get('what', '?')}", r2, r or other,
                     protocol, str(ref.get("citation", ""))])
    return rows


def _reference_intro(run: dict[str, Any], refs: list[dict[str, Any]], trait: str) -> str:
    """The sentence above a trait's published rows: whether they were obtained on this run's
    folds (a reference marked ``"folds": "published"`` in a ``--folds published`` run)."""
    mine = [r for r in refs if r.get("trait") == trait]
    same = (bool((run.get("run_config") or {}).get("published_folds"))
            and all(r.get("folds") == "published" for r in mine))
    if same:
        return (f"Published figures for {trait}, obtained on the same published folds as this "
                "run (not run here; the published implementations differ, and a PCC above is "
                "the mean over folds):")
    return (f"Published figures for {trait} (not run here; other protocols, not comparable "
            "row by row with the table above):")


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


def _interval(diff: float, low: float, high: float) -> str:
    if np.isfinite(low):
        return f"{diff:+.3f} [{low:+.3f}, {high:+.3f}]"
    return f"{diff:+.3f}" if np.isfinite(diff) else DASH


def _p(p: float) -> str:
    return "<0.001" if p < 0.001 else _fmt(p)


def render(run: dict[str, Any], records: list[dict[str, Any]], title: str = "Leaderboard",
           show_params: bool = False, unreadable: list[tuple[str, str]] | None = None,
           reference: str | None = None) -> str:
    """Markdown leaderboard for one run (``run`` is run.json, ``records`` its results).

    ``show_params`` adds the options that nested tuning chose in every fold; ``unreadable``
    (file name, reason) lists results files that hold no usable record; ``reference`` (None:
    none) is the model every other one is compared with beside the best.
    """
    records, n_stray = listed_records(run, records)
    df = records_frame(records)
    expected = expected_folds(run)
    scheme = (run.get("run_config") or {}).get("cv") or RANDOM
    out = [f"# {title}" + ("" if scheme == RANDOM else f": {describe_scheme(scheme)}"), ""]
    out += _header(run, records)
    out.append("")
    command = run_command(run)
    if command:
        out += ["Reproduce the whole table with:", "", "```", command, "```", ""]
    refs = list(run.get("references") or [])
    if df.empty:
        out.append("No finished units yet.")
    overall = []
    ref_headers = ([f"ΔR² vs {reference} [simult. 95% CI]", f"p vs {reference} (Holm)"]
                   if reference else [])
    for trait in sorted(df["trait"].unique()) if not df.empty else []:
        table = trait_table(df[df.trait == trait], expected, reference)
        ranked = table[table.complete]
        best_pcc = ranked["pcc_mean"].max() if len(ranked) else np.nan
        best_mse = ranked["mse_mean"].min() if len(ranked) else np.nan
        rows = []
        for model, r in table.iterrows():
            label = r["label"]
            if not r["complete"]:
                rows.append([DASH, f"{label} (incomplete: {int(r['n_folds'])} of "
                             f"{int(r['n_expected'])} folds; not ranked)",
                             _pm(r["r2_mean"], r["r2_sd"]), _pm(r["pcc_mean"], r["pcc_sd"]),
                             _fmt(r["mse_mean"], ".4g"), "not compared", DASH,
                             *(["not compared", DASH] if reference else []),
                             int(r["n_test"]), _fmt(r["n_fit"], ".0f"), int(r["n_folds"]),
                             _fmt(r["fit_s"], ".1f")])
                continue
            p = r["p_holm"]
            mark = " †" if np.isfinite(p) and p < ALPHA else ""
            diff = ("best" if r["rank"] == 1
                    else _interval(r["diff"], r["ci_low"], r["ci_high"]))
            if model == reference:
                ref_diff = "reference"
            elif np.isfinite(r["ref_diff"]):
                ref_diff = _interval(r["ref_diff"], r["ref_ci_low"], r["ref_ci_high"])
            else:
                ref_diff = f"{reference} not ranked"
            rows.append([int(r["rank"]), f"{label}{mark}",
                         _pm(r["r2_mean"], r["r2_sd"], r["rank"] == 1),
                         _pm(r["pcc_mean"], r["pcc_sd"], r["pcc_mean"] == best_pcc),
                         (f"**{r['mse_mean']:.4g}**" if r["mse_mean"] == best_mse
                          else _fmt(r["mse_mean"], ".4g")),
                         diff, _p(p), *([ref_diff, _p(r["p_ref_holm"])] if reference else []),
                         int(r["n_test"]),
                         _fmt(r["n_fit"], ".0f"),
                         int(r["n_folds"]), _fmt(r["fit_s"], ".1f")])
            overall.append({"model": label, "trait": trait, "r2": r["r2_mean"],
                            "rank": r["rank"]})
        out += [f"## {trait}", "",
                tabulate(rows, headers=["rank", "model", "R² (mean ± sd)", "PCC (mean ± sd)",
                                        "MSE", "ΔR² vs best [simult. 95% CI]",
                                        "p (Holm)", *ref_headers, "n test", "n fit",
                                        "folds", "fit s"],
                         tablefmt="github", disable_numparse=True), ""]
        ref_rows = _reference_rows(refs, trait)
        if ref_rows:
            out += [_reference_intro(run, refs, trait), "",
                    tabulate(ref_rows, headers=["published", "R²", "PCC (r)", "protocol",
                                                "citation"],
                             tablefmt="github", disable_numparse=True), ""]
    if overall:
        ov = pd.DataFrame(overall).groupby("model").agg(
            r2=("r2", "mean"), rank=("rank", "mean"), traits=("trait", "count")
        ).sort_values(["traits", "r2", "rank"], ascending=[False, False, True])
        rows = [[m, f"{r['r2']:.3f}", f"{r['rank']:.2f}", int(r["traits"])]
                for m, r in ov.iterrows()]
        out += ["## Overall", "", tabulate(rows, headers=["model", "mean R²", "mean rank",
                                                           "traits ranked"],
                                           tablefmt="github", disable_numparse=True), ""]
    out += truth_section(at_full_size(records))
    out += curve_section(records)
    notes = sorted({f"- {model_label(r)}: {r['tuning_note']}" for r in records
                    if r.get("status") == "ok" and r.get("tuning_note")})
    if notes:
        out += ["## Notes", "", *notes, ""]
    if show_params:
        out += params_section(records)
    failed = [r for r in records if r.get("status") != "ok"]
    if failed:
        out += ["## Failed units", ""]
        out += [f"- `{r['unit_id']}`: {str(r.get('error', '?')).splitlines()[0]}"
                for r in failed]
        out.append("")
    untrusted = [(n, w) for n, w in unreadable or [] if w.startswith(UNTRUSTED)]
    broken = [(n, w) for n, w in unreadable or [] if not w.startswith(UNTRUSTED)]
    if untrusted:
        out += ["## Records not ranked", ""]
        out += [f"- `{name}`: {why}" for name, why in untrusted]
        out.append("")
    if broken:
        out += ["## Unreadable records", ""]
        out += [f"- `results/{name}`: {why}; the next `gpbench run` reruns its unit"
                for name, why in broken]
        out.append("")
    out += ["R² = 1 - SSE/SST on each outer test fold (strains where the trait is measured), "
            "averaged over folds; ± is the sd over folds. **Bold**: best value per column "
            "among ranked models. Only models that finished every fold are ranked, all on the "
            "same folds. ΔR² vs best: mean per-fold difference to the rank-1 model, which "
            "was picked on these same test folds (so the comparison favours it)"
            + (f"; ΔR² vs {reference}: the same against the reference model {reference}, "
               "declared before the results" if reference else "")
            + ". The tests use the corrected resampled t variance "
            "(Nadeau & Bengio 2003) for overlapping CV training sets, with folds × repeats "
            "- 1 degrees of freedom (4 for one 5-fold run). p (Holm): two-sided p-value of "
            "that corrected t-test, Holm-adjusted over the models of the table (each "
            "comparison separately); [simult. 95% CI]: Bonferroni-adjusted interval, "
            "simultaneous over the same models, so an interval that excludes 0 always has a "
            f"Holm p < {ALPHA} (Holm can reject where the interval still touches 0). † marks "
            f"a model whose R² is significantly below the best (adjusted p < {ALPHA}); no mark "
            "means the folds cannot tell the two apart, not that they are equivalent. – : not "
            "defined (e.g. one fold). n fit: training rows the final model was fitted on "
            "(mean over folds; see docs/protocol.md, \"What each model trains on\"). fit s: "
            "mean seconds per fit (tuning included). Overall: mean R² over the traits where the "
            "model is ranked, sorted by it (models ranked on fewer traits below), with the mean "
            "rank beside. Published figures are not results of this run.", ""]
    if n_stray:
        out += [f"{n_stray} result file(s) in results/ belong to no unit listed in run.json "
                "(another configuration or stale plugin code) and were ignored.", ""]
    return "\n".join(out)


def load_run(run_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """run.json (empty when missing) and the readable records of the units it lists."""
    run, records, _ = load_run_files(run_dir)
    return run, listed_records(run, records)[0]


def load_run_files(
        run_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]], list[tuple[str, str]]]:
    """run.json, the readable records with metrics derived from their predictions, and
    (file or unit, reason) of the unreadable ones and of those whose stored metrics disagree
    with their predictions (:mod:`gpbench.boards.derive`)."""
    run = read_run(Path(run_dir)) or {}
    records, unreadable = ResultStore(run_dir).scan()
    records, untrusted = derive_all(records)
    return run, records, [*unreadable, *untrusted]


FOLD_COLUMNS = ["dataset", "trait", "model", "repeat", "fold", "r2", "pcc", "mse", "n_test",
                "n_fit"]


def fold_table(records: Iterable[dict[str, Any]], dataset: str | None = None) -> pd.DataFrame:
    """One row per (trait, model, repeat, fold) of successful units, with the dataset name.

    ``n_fit`` (samples the model was fitted on) is filled where a record stores it, in its
    per-trait metrics or at the top level; otherwise it is empty. Only the largest training
    share of a learning-curve run counts (:func:`~gpbench.boards.curves.at_full_size`).
    """
    rows = []
    for rec in at_full_size(records):
        if rec.get("status") != "ok":
            continue
        for trait, m in (rec.get("metrics") or {}).items():
            rows.append({"dataset": dataset or rec.get("dataset", ""), "trait": trait,
                         "model": rec.get("model"), "repeat": rec.get("repeat"),
                         "fold": rec.get("fold"), "r2": m.get("r2"), "pcc": m.get("pcc"),
                         "mse": m.get("mse"), "n_test": m.get("n_test"),
                         "n_fit": m.get("n_fit", rec.get("n_fit"))})
    df = pd.DataFrame(rows, columns=FOLD_COLUMNS)
    df = df.astype({"r2": float, "pcc": float, "mse": float})
    return df.sort_values(["dataset", "trait", "model", "repeat", "fold"], kind="stable",
                          ignore_index=True)
