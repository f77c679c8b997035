"""The leaderboard across datasets: a pure function of several run directories' records.

A *task* is one trait of one dataset. Per task, each model's score is its mean R² (and PCC)
over the outer test folds and repeats of that dataset's run. Across tasks the board gives each
model's mean rank (rank 1 = highest R²; ties share the average rank), wins, R² relative to the
best model of each task, and coverage; a Friedman test over tasks with the Nemenyi post-hoc
critical difference (Demšar 2006) says which pairs of models the benchmark separates. Traits of
one dataset share its individuals and folds and are often correlated, so tasks are not
independent blocks; the same test with *datasets* as blocks (each model's mean rank over the
dataset's traits, ranked within the dataset) is the conservative check beside it.

Null models (declared ``board_role="null"``, e.g. the training mean) are shown with their
scores but left out of every rank, win and test: ranked in, they inflate the Friedman statistic
and every mean rank without saying anything about the models. Beside the mean-rank tests, which
let the other models in the comparison decide whether two models differ (Benavoli, Corani &
Mangili 2016), every model is compared with a fixed reference model (GBLUP) by a Wilcoxon
signed-rank test over datasets (each model's mean R² over the dataset's traits), with Holm's
adjustment over the models.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from tabulate import tabulate

from gpbench.boards.leaderboard import FOLD_COLUMNS, fold_table, holm, load_run
from gpbench.running.protocol import RANDOM, describe_scheme
from gpbench.running.runconfig import run_command

ALPHA = 0.05
TASK = ["dataset", "trait"]


@dataclass(frozen=True)
class RunSource:
    """One run directory as the board uses it: its label and what run.json says."""

    label: str  # the dataset name, or "name (dir)" when two runs share a dataset
    run_dir: str
    dataset: str
    k: Any
    seed: Any
    repeats: Any
    fold_sha256: str
    command: str  # reproduces every model of the run (its invocations may each have added some)
    cv: str = RANDOM  # the outer CV scheme: "random" or "group:COLUMN"


@dataclass(frozen=True)
class Friedman:
    """Friedman test over blocks (tasks, or datasets) and the Nemenyi critical difference of
    its mean ranks."""

    models: tuple[str, ...]  # the models present in every task, best mean rank first
    mean_ranks: pd.Series  # model -> mean rank over all blocks (1 = best)
    n_tasks: int  # the number of blocks
    statistic: float  # Friedman chi-square, corrected for ties (scipy)
    p_value: float
    iman_davenport: float  # F_F = (N-1) chi2 / (N(k-1) - chi2), the less conservative form
    iman_davenport_p: float
    q_alpha: float  # studentized range quantile / sqrt(2)
    cd: float  # Nemenyi critical difference in mean-rank units
    alpha: float
    pairs: pd.DataFrame  # model_a, model_b, rank_a, rank_b, difference, separated
    groups: tuple[tuple[str, ...], ...]  # maximal runs of models no pair of which is separated
    blocks: str = "tasks"  # what the blocks are: "tasks" (dataset x trait) or "datasets"

    @property
    def rejects(self) -> bool:
        return bool(np.isfinite(self.p_value) and self.p_value < self.alpha)


@dataclass
class CrossBoard:
    """Every table of the cross-dataset leaderboard (see ``cross_board``)."""

    sources: list[RunSource]
    folds: pd.DataFrame  # per fold: leaderboard.FOLD_COLUMNS
    tasks: pd.DataFrame  # per task and model: dataset, trait, model, r2, pcc, n_folds, rank
    r2: pd.DataFrame  # index (dataset, trait), one column per model (NaN: did not run)
    pcc: pd.DataFrame
    summary: pd.DataFrame  # per model, best first
    friedman: Friedman | None
    friedman_note: str  # why the test could not run, or "" when it ran
    notes: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "label: unit_id: error" of failed units
    dataset_friedman: Friedman | None = None  # the same test with datasets as blocks
    dataset_friedman_note: str = ""  # why that test did not run, or ""
    null_models: tuple[str, ...] = ()  # shown, but outside every rank and test
    reference: str | None = None  # the model of the Wilcoxon tests
    wilcoxon: pd.DataFrame = field(default_factory=pd.DataFrame)  # see wilcoxon_vs_reference
    wilcoxon_note: str = ""  # why the Wilcoxon tests did not run, or ""


# ------------------------------------------------------------------ ranks and summaries


def task_ranks(r2: pd.DataFrame) -> pd.DataFrame:
    """Rank the models of every task (row) by R², 1 = best, ties averaged, NaN stays NaN."""
    return r2.rank(axis=1, ascending=False, method="average", na_option="keep")


def model_summary(r2: pd.DataFrame, pcc: pd.DataFrame,
                  null_models: Sequence[str] = ()) -> tuple[pd.DataFrame, list[str]]:
    """Per model: mean rank, wins, mean R²/PCC, R² relative to each task's best, coverage.

    ``null_models`` are listed last with their mean R² and PCC, but without a mean rank, wins
    or relative R² (NaN): ranks, wins and the best of a task are among the other models.

    Where some models ran every task, those are ranked among themselves over all tasks (the
    models the Friedman test compares), and a model that missed tasks gets its mean rank among
    them and itself on the tasks it ran, listed after them: adding a model to a few datasets
    leaves the others' ranking alone. Where none ran every task, the mean rank is over the
    tasks where every model ran ("common tasks"); if there are none, over the tasks each model
    ran (not comparable between models, said in the returned notes). Wins count the tasks
    where the model has the highest R² among the models that ran it (a tie counts for each
    tied model). The relative
    R² is R²_model / R²_best averaged over the tasks where R²_best > 0; the difference
    R²_model - R²_best over all tasks the model ran.
    """
    notes: list[str] = []
    nulls = [m for m in r2.columns if m in set(null_models)]
    all_r2, r2 = r2, r2.drop(columns=nulls)
    n_tasks = len(r2)
    ran = r2.notna()
    common = ran.all(axis=1)
    full = [m for m in r2.columns if ran[m].all()]
    if common.all():
        mean_rank = task_ranks(r2).mean()
    elif full:
        mean_rank = task_ranks(r2[full]).mean()
        partial = [m for m in r2.columns if m not in full]
        for m in partial:
            mean_rank[m] = task_ranks(r2.loc[ran[m], [*full, m]])[m].mean()
        missing = ", ".join(f"{m} ({int(ran[m].sum())} of {n_tasks})" for m in partial)
        notes.append(f"Some models did not run every task ({missing} tasks); they are listed "
                     "after the models that ran all, with their mean rank among those models "
                     "and themselves on the tasks they ran; the others' mean ranks are over "
                     f"all {n_tasks} tasks among themselves.")
    elif common.any():
        mean_rank = task_ranks(r2[common]).mean()
        missing = ", ".join(f"{m} ({int((~ran[m]).sum())})" for m in r2.columns
                            if not ran[m].all())
        notes.append(f"Some models did not run on every task (missing tasks: {missing}); "
                     f"mean ranks are over the {int(common.sum())} of {n_tasks} tasks where "
                     "every model ran.")
    else:
        mean_rank = task_ranks(r2).mean()
        notes.append("No task has a result for every model, so the mean ranks are over the "
                     "tasks each model ran, among the models present there: they are not "
                     "directly comparable between models with different coverage.")
    best = r2.max(axis=1)
    winners = r2.eq(best, axis=0) & ran
    positive = best > 0
    ratio = r2[positive].div(best[positive], axis=0)
    if (~positive).any():
        notes.append(f"{int((~positive).sum())} task(s) have a best R² ≤ 0; they are left out "
                     "of the relative R² (R²_model / R²_best).")
    summary = pd.DataFrame({
        "mean_rank": mean_rank,
        "wins": winners.sum().astype(int),
        "r2_mean": r2.mean(),
        "pcc_mean": pcc.reindex(columns=r2.columns).mean(),
        "r2_rel_best": ratio.mean(),
        "r2_minus_best": r2.sub(best, axis=0).mean(),
        "tasks_ran": ran.sum().astype(int),
        "tasks": n_tasks,
    })
    if nulls:
        null_rows = pd.DataFrame({
            "r2_mean": all_r2[nulls].mean(), "pcc_mean": pcc.reindex(columns=nulls).mean(),
            "tasks_ran": all_r2[nulls].notna().sum().astype(int), "tasks": n_tasks})
        summary = pd.concat([summary, null_rows]).astype({"tasks_ran": int, "tasks": int})
        notes.append(f"Null model(s) shown but not ranked or tested: {', '.join(nulls)}.")
    summary.index.name = "model"
    summary["_partial"] = [m in r2.columns and bool(full) and m not in full
                           for m in summary.index]
    summary = summary.sort_values(["_partial", "mean_rank", "r2_mean"],
                                  ascending=[True, True, False],
                                  na_position="last").drop(columns="_partial")
    return summary, notes


# ------------------------------------------------------------------ Friedman and Nemenyi


def nemenyi_q(k: int, alpha: float = ALPHA) -> float:
    """The Nemenyi test's q_alpha for k models: studentized range quantile / sqrt(2)."""
    return float(stats.studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2))


def nemenyi_cd(k: int, n: int, alpha: float = ALPHA) -> float:
    """Critical difference of mean ranks for k models over n tasks (Demšar 2006, eq. 5)."""
    return nemenyi_q(k, alpha) * math.sqrt(k * (k + 1) / (6 * n))


def friedman_from_ranks(mean_ranks: Sequence[float], n: int) -> float:
    """Friedman's chi-square from mean ranks without a tie correction (Demšar 2006, eq. 3)."""
    r = np.asarray(mean_ranks, dtype=float)
    k = len(r)
    return float(12 * n / (k * (k + 1)) * (np.sum(r ** 2) - k * (k + 1) ** 2 / 4))


def iman_davenport(chi2: float, k: int, n: int) -> tuple[float, float]:
    """Iman-Davenport F_F from Friedman's chi-square, and its p-value (F(k-1, (k-1)(n-1)))."""
    denom = n * (k - 1) - chi2
    if denom <= 0:
        return float("inf"), 0.0
    f = (n - 1) * chi2 / denom
    return float(f), float(stats.f.sf(f, k - 1, (k - 1) * (n - 1)))


def groups_within(mean_ranks: pd.Series, cd: float) -> tuple[tuple[str, ...], ...]:
    """Maximal runs of models (sorted by mean rank) whose ranks span at most ``cd``.

    These are the bars of a critical-difference diagram: no pair inside a group is separated.
    Single models are not groups.
    """
    order = mean_ranks.sort_values()
    names, ranks = list(order.index), order.to_numpy()
    spans = []
    for i in range(len(names)):
        j = i
        while j + 1 < len(names) and ranks[j + 1] - ranks[i] <= cd:
            j += 1
        if j > i:
            spans.append((i, j))
    maximal = [s for s in spans if not any(o != s and o[0] <= s[0] and s[1] <= o[1]
                                           for o in spans)]
    return tuple(tuple(names[a:b + 1]) for a, b in maximal)


def friedman_nemenyi(r2: pd.DataFrame, alpha: float = ALPHA,
                     blocks: str = "tasks") -> tuple[Friedman | None, str]:
    """Friedman test over the rows (``blocks``, e.g. tasks) of ``r2`` (higher = better) for the
    columns with no missing value.

    Returns the result, or None and a sentence saying why the test cannot run (it needs at
    least 3 models present in every task and at least 3 blocks).
    """
    complete = r2.dropna(axis=1, how="any")
    k, n = complete.shape[1], complete.shape[0]
    if k < 3 or n < 3:
        have = f"{k} model(s) present in every task and {n} {blocks.rstrip('s')}(s)"
        return None, (f"The Friedman test needs at least 3 models present in every task and at "
                      f"least 3 {blocks}; this board has {have}. Add models, traits or "
                      "datasets.")
    ranks = task_ranks(complete)
    mean_ranks = ranks.mean().sort_values()
    if (ranks.nunique(axis=1) == 1).all():  # every model tied on every task: nothing to test
        chi2, p = 0.0, 1.0
    else:
        res = stats.friedmanchisquare(*(complete[c].to_numpy() for c in complete.columns))
        chi2, p = float(res.statistic), float(res.pvalue)
    f, f_p = iman_davenport(chi2, k, n)
    q = nemenyi_q(k, alpha)
    cd = q * math.sqrt(k * (k + 1) / (6 * n))
    rejects = p < alpha
    rows = []
    for a, b in combinations(mean_ranks.index, 2):
        diff = float(mean_ranks[b] - mean_ranks[a])
        rows.append({"model_a": a, "model_b": b, "rank_a": float(mean_ranks[a]),
                     "rank_b": float(mean_ranks[b]), "difference": diff,
                     "separated": bool(rejects and diff > cd)})
    pairs = pd.DataFrame(rows, columns=["model_a", "model_b", "rank_a", "rank_b", "difference",
                                        "separated"])
    return Friedman(tuple(mean_ranks.index), mean_ranks, n, chi2, p, f, f_p, q, cd, alpha,
                    pairs, groups_within(mean_ranks, cd), blocks), ""


def dataset_scores(r2: pd.DataFrame) -> pd.DataFrame:
    """One row per dataset for the models present in every task: minus each model's mean rank
    over the dataset's traits (so higher = better, as ``friedman_nemenyi`` expects). A dataset
    with many traits then weighs as much as a dataset with one."""
    complete = r2.dropna(axis=1, how="any")
    ranks = task_ranks(complete)
    return -ranks.groupby(level=0, sort=False).mean()


def dataset_friedman(r2: pd.DataFrame, alpha: float = ALPHA) -> tuple[Friedman | None, str]:
    """``friedman_nemenyi`` with datasets as blocks, or None and why it is not given."""
    n_datasets = r2.index.get_level_values(0).nunique()
    if n_datasets == len(r2):
        return None, "Every dataset has one task here, so datasets as blocks are the tasks."
    return friedman_nemenyi(dataset_scores(r2), alpha, blocks="datasets")


def separation_statement(fr: Friedman) -> list[str]:
    """Plain-language sentences: which pairs the benchmark separates at ``fr.alpha``."""
    k = len(fr.models)
    perfect = ("" if np.isfinite(fr.iman_davenport) else
               f": every {fr.blocks.rstrip('s')} ranks the models in the same order")
    over = ("tasks and the" if fr.blocks == "tasks" else
            f"{fr.blocks} (each model ranked by its mean rank over the dataset's traits) and the")
    head = (f"Over {fr.n_tasks} {over} {k} models present in all tasks, the Friedman "
            f"test {'rejects' if fr.rejects else 'does not reject'} equal mean ranks "
            f"(χ² = {fr.statistic:.2f}, p = {fr.p_value:.3g}; Iman-Davenport F = "
            f"{fr.iman_davenport:.2f}, p = {fr.iman_davenport_p:.3g}"
            f"{perfect}). The Nemenyi critical "
            f"difference at α = {fr.alpha} is CD = {fr.cd:.2f} mean-rank units (q = "
            f"{fr.q_alpha:.3f}).")
    sep = fr.pairs[fr.pairs.separated]
    unsep = fr.pairs[~fr.pairs.separated]

    def pair(r: pd.Series, verb: str) -> str:
        return (f"{r['model_a']} {verb} {r['model_b']} (mean rank {r['rank_a']:.2f} vs "
                f"{r['rank_b']:.2f})")

    lines = [head, ""]
    if not fr.rejects:
        lines.append(f"So the benchmark separates none of the {len(fr.pairs)} pairs at "
                     f"α = {fr.alpha}: its {fr.blocks} cannot tell these models apart.")
        return lines
    if len(sep):
        lines.append(f"It separates {len(sep)} of {len(fr.pairs)} pairs (rank difference > "
                     "CD): " + "; ".join(pair(r, "ranks above") for _, r in sep.iterrows())
                     + ".")
    else:
        lines.append("No pair's rank difference exceeds the CD, so no pair is separated "
                     "although the Friedman test rejects equality.")
    if len(unsep):
        lines += ["", f"It cannot separate {len(unsep)} pair(s): "
                  + "; ".join(pair(r, "vs") for _, r in unsep.iterrows()) + "."]
    return lines


# ------------------------------------------------------------------ Wilcoxon against a reference


WILCOXON_COLUMNS = ["model", "n_datasets", "mean_diff", "median_diff", "better", "worse",
                    "statistic", "p_value", "p_holm"]


def dataset_differences(r2: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Per dataset (rows) and model (columns): the mean over the dataset's traits of
    R²_model - R²_reference, on the traits both have (NaN where they share none)."""
    diff = r2.drop(columns=[reference]).sub(r2[reference], axis=0)
    return diff.groupby(level=0, sort=False).mean()


def wilcoxon_vs_reference(r2: pd.DataFrame, reference: str,
                          alpha: float = ALPHA) -> tuple[pd.DataFrame, str]:
    """Two-sided Wilcoxon signed-rank test of each model against ``reference`` with datasets
    as blocks (Benavoli, Corani & Mangili 2016), p-values Holm-adjusted over the models.

    ``r2``: index (dataset, trait), one column per model (null models already left out). A
    model's score on a dataset is its mean R² over the dataset's traits. scipy's ``wilcoxon``
    (exact distribution for small samples without ties or zero differences; zero differences
    dropped) gives the statistic (the smaller signed-rank sum) and p. Returns the table
    (``WILCOXON_COLUMNS``, best mean difference first) and "" or why no test could run.
    """
    if reference not in r2.columns:
        return (pd.DataFrame(columns=WILCOXON_COLUMNS),
                f"The reference model {reference} is not on this board; no Wilcoxon tests.")
    diffs = dataset_differences(r2, reference)
    rows = []
    for model in diffs.columns:
        d = diffs[model].dropna().to_numpy()
        row = {"model": model, "n_datasets": len(d),
               "mean_diff": float(np.mean(d)) if len(d) else np.nan,
               "median_diff": float(np.median(d)) if len(d) else np.nan,
               "better": int((d > 0).sum()), "worse": int((d < 0).sum()),
               "statistic": np.nan, "p_value": np.nan}
        if (d != 0).sum() >= 2:
            res = stats.wilcoxon(d)
            row["statistic"], row["p_value"] = float(res.statistic), float(res.pvalue)
        elif len(d) >= 2:  # every difference zero: nothing to reject
            row["p_value"] = 1.0
        rows.append(row)
    table = pd.DataFrame(rows, columns=WILCOXON_COLUMNS[:-1])
    if table.empty:
        return pd.DataFrame(columns=WILCOXON_COLUMNS), "No model besides the reference."
    table["p_holm"] = pd.Series(holm(table["p_value"].to_dict()), dtype=float)
    table = table.sort_values(["mean_diff", "model"], ascending=[False, True],
                              ignore_index=True)
    why = ("" if table["p_value"].notna().any() else
           f"Too few datasets to test against {reference} (each model needs two with a "
           "nonzero difference).")
    return table, why


def wilcoxon_statement(table: pd.DataFrame, reference: str, alpha: float = ALPHA) -> list[str]:
    """Plain-language sentences: which models the Wilcoxon tests separate from the reference."""
    tested = table[table["p_holm"].notna()]
    above = tested[(tested["p_holm"] < alpha) & (tested["mean_diff"] > 0)]
    below = tested[(tested["p_holm"] < alpha) & (tested["mean_diff"] < 0)]
    n = int(tested["n_datasets"].max()) if len(tested) else 0
    head = (f"Wilcoxon signed-rank tests of each of {len(tested)} models against {reference} "
            f"over up to {n} datasets (a model's score on a dataset: its mean R² over the "
            f"dataset's traits), Holm-adjusted over the models, α = {alpha}:")

    def names(rows: pd.DataFrame) -> str:
        return "; ".join(f"{r['model']} ({r['mean_diff']:+.3f}, p = {r['p_holm']:.3g})"
                         for _, r in rows.iterrows())

    lines = [head]
    if len(above):
        lines.append(f"above {reference}: {names(above)}.")
    if len(below):
        lines.append(f"below {reference}: {names(below)}.")
    if not len(above) and not len(below):
        lines.append(f"no model differs from {reference} at this level.")
    return [" ".join(lines)]


# ------------------------------------------------------------------ building the board


def _source(run: dict[str, Any], run_dir: Path, records: list[dict[str, Any]]) -> RunSource:
    ds = run.get("dataset") or {}
    cfg = run.get("config") or {}
    name = ds.get("name") or next((r.get("dataset") for r in records if r.get("dataset")),
                                  None) or Path(run_dir).name
    return RunSource(str(name), str(run_dir), str(name), cfg.get("k", "?"),
                     cfg.get("seed", "?"), cfg.get("repeats", "?"),
                     str(run.get("fold_sha256", "")), run_command(run),
                     str((run.get("run_config") or {}).get("cv") or RANDOM))


def _label_sources(sources: list[RunSource]) -> list[RunSource]:
    """Runs of the same dataset (e.g. two settings of one simulator) get their directory name."""
    counts = pd.Series([s.dataset for s in sources]).value_counts()
    out = []
    for s in sources:
        if counts[s.dataset] > 1:
            s = replace(s, label=f"{s.dataset} ({Path(s.run_dir).name})")
        out.append(s)
    labels = [s.label for s in out]
    if len(set(labels)) < len(labels):
        out = [replace(s, label=f"{s.label} #{i + 1}") for i, s in enumerate(out)]
    return out


def cross_board(runs: Sequence[tuple[Path, dict[str, Any], list[dict[str, Any]]]],
                alpha: float = ALPHA, reference: str | None = None,
                null_models: Sequence[str] = ()) -> CrossBoard:
    """The cross-dataset board of ``runs``: (run directory, run.json, records) per dataset.

    ``null_models`` are shown but left out of ranks and tests; every other model is compared
    with ``reference`` (if given and on the board) by :func:`wilcoxon_vs_reference`.
    """
    sources = _label_sources([_source(run, Path(d), recs) for d, run, recs in runs])
    frames, failed = [], []
    for src, (_, _, records) in zip(sources, runs, strict=True):
        frames.append(fold_table(records, src.label))
        failed += [f"{src.label}: {r.get('unit_id', '?')}: "
                   f"{str(r.get('error', '?')).splitlines()[0] if r.get('error') else '?'}"
                   for r in records if r.get("status") != "ok"]
    folds = (pd.concat(frames, ignore_index=True) if frames
             else pd.DataFrame(columns=FOLD_COLUMNS))
    notes: list[str] = []
    if len(sources) == 1:
        notes.append("One dataset only: the tasks are traits of one population (correlated, "
                     "on the same folds), so the test below is about these traits, not about "
                     "what holds across species. Pass several run directories.")
    protocols = {(s.k, s.seed, s.repeats, s.cv) for s in sources}
    if len(protocols) > 1:
        notes.append("The runs differ in folds/seed/repeats/CV scheme: "
                     + "; ".join(f"{s.label}: k={s.k}, seed={s.seed}, repeats={s.repeats}, "
                                 f"cv={s.cv}" for s in sources) + ".")
    if folds.empty:
        empty = pd.DataFrame()
        return CrossBoard(sources, folds, empty, empty, empty, empty, None,
                          "No finished units in these run directories.", notes, failed)
    g = folds.groupby([*TASK, "model"], sort=True)
    # folds are counted by their records: R² is NaN on a fold whose test values are all equal
    # (for every model alike), which must not make a finished model look short of folds
    tasks = pd.DataFrame({"r2": g["r2"].mean(), "pcc": g["pcc"].mean(),
                          "n_folds": g.size()}).reset_index()
    # a model that did not finish every fold of a task's run is not scored on that task (its
    # mean would come from other folds than its competitors')
    expected = {s.label: int(s.k) * int(s.repeats) for s in sources
                if str(s.k).isdigit() and str(s.repeats).isdigit()}
    short = tasks["n_folds"] < tasks[TASK[0]].map(expected).fillna(0)
    if short.any():
        notes.append("Not scored where a model has not finished every fold of the task: "
                     + "; ".join(f"{r[TASK[0]]} {r[TASK[1]]} {r['model']} ({r['n_folds']} "
                                 f"of {expected[r[TASK[0]]]} folds)"
                                 for _, r in tasks[short].iterrows()) + ".")
        tasks = tasks[~short]
    r2 = tasks.pivot(index=TASK, columns="model", values="r2")
    pcc = tasks.pivot(index=TASK, columns="model", values="pcc")
    order = [s.label for s in sources]
    r2 = r2.reindex(sorted(r2.index, key=lambda ix: (order.index(ix[0]), ix[1])))
    pcc = pcc.reindex(r2.index)
    nulls = tuple(m for m in r2.columns if m in set(null_models))
    ranks = task_ranks(r2.drop(columns=list(nulls))).stack().rename("rank").reset_index()
    tasks = tasks.merge(ranks, on=[*TASK, "model"], how="left")
    summary, more = model_summary(r2, pcc, nulls)
    notes += more
    r2 = r2[list(summary.index)]
    pcc = pcc[list(summary.index)]
    compared = r2.drop(columns=list(nulls))
    fr, why = friedman_nemenyi(compared, alpha)
    dfr, dwhy = dataset_friedman(compared, alpha) if fr is not None else (None, "")
    if reference:
        wil, wil_why = wilcoxon_vs_reference(compared, reference, alpha)
    else:
        wil, wil_why = pd.DataFrame(columns=WILCOXON_COLUMNS), "No reference model declared."
    dropped = [m for m in compared.columns if compared[m].isna().any()]
    if fr is not None and dropped:
        notes.append(f"Left out of the Friedman test and the CD diagram (missing on some tasks): "
                     f"{', '.join(dropped)}.")
    if fr is not None and (fr.n_tasks < 10 or len(fr.models) < 5):
        notes.append(f"With {fr.n_tasks} tasks and {len(fr.models)} models the chi-square "
                     "approximation of the Friedman test is rough (Demšar 2006 asks for about "
                     "10 tasks and 5 models); read the p-value as indicative.")
    return CrossBoard(sources, folds, tasks, r2, pcc, summary, fr, why, notes, failed, dfr,
                      dwhy, nulls, reference, wil, wil_why)


def load_cross_board(run_dirs: Sequence[Path], alpha: float = ALPHA,
                     reference: str | None = None,
                     null_models: Sequence[str] = ()) -> CrossBoard:
    """``cross_board`` of the stored run.json and records of ``run_dirs``."""
    return cross_board([(Path(d), *load_run(Path(d))) for d in run_dirs], alpha, reference,
                       null_models)


# ------------------------------------------------------------------ markdown


def _fmt(x: Any, digits: int = 3) -> str:
    return "" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{x:.{digits}f}"


def _wide_rows(wide: pd.DataFrame, higher_better: bool = True) -> list[list[str]]:
    rows = []
    for (dataset, trait), r in wide.iterrows():
        best = r.max() if higher_better else r.min()
        rows.append([dataset, trait] + [
            "–" if not np.isfinite(v) else (f"**{v:.3f}**" if v == best else f"{v:.3f}")
            for v in r.to_numpy(dtype=float)])
    return rows


def _wilcoxon_section(board: CrossBoard) -> list[str]:
    ref = board.reference
    out = [f"## Each model against {ref}", "",
           "Mean-rank tests (Friedman, Nemenyi) decide whether two models differ by how the "
           "other models on the board rank, so adding or removing a model can change the "
           "verdict (Benavoli, Corani & Mangili 2016). The paired test recommended there "
           f"compares each model with one fixed model, here the declared reference {ref}: a "
           "two-sided Wilcoxon signed-rank test over datasets (independent blocks; a model's "
           "score on a dataset is its mean R² over the dataset's traits), Holm-adjusted over "
           "the models.", ""]
    if board.wilcoxon_note:
        return out + [board.wilcoxon_note, ""]
    alpha = board.friedman.alpha if board.friedman is not None else ALPHA
    out += wilcoxon_statement(board.wilcoxon, str(ref), alpha) + [""]
    rows = [[r["model"], int(r["n_datasets"]), _fmt(r["mean_diff"]), _fmt(r["median_diff"]),
             f"{int(r['better'])}/{int(r['worse'])}", _fmt(r["statistic"], 1) or "–",
             _fmt(r["p_value"]) or "–", _fmt(r["p_holm"]) or "–"]
            for _, r in board.wilcoxon.iterrows()]
    out += [tabulate(rows, headers=["model", "datasets", f"mean ΔR² vs {ref}",
                                    f"median ΔR² vs {ref}", "better/worse", "W", "p",
                                    "p (Holm)"],
                     tablefmt="github", disable_numparse=True), ""]
    return out


def render_cross(board: CrossBoard, cd_image: str | None = None,
                 title: str = "Leaderboard across datasets",
                 dataset_cd_image: str | None = None) -> str:
    """Markdown of ``board``; ``cd_image`` (``dataset_cd_image``) is the file name of the CD
    diagram with tasks (datasets) as blocks beside it, if drawn."""
    out = [f"# {title}", ""]
    # a random scheme is written as before, so committed boards of random CV keep their text
    rows = [[s.label, s.run_dir, f"{s.k}-fold"
             + ("" if s.cv == RANDOM else f" {describe_scheme(s.cv)}")
             + f", seed {s.seed}, {s.repeats} repeat(s)",
             f"`{s.fold_sha256[:12]}`"] for s in board.sources]
    out += ["## Runs", "", tabulate(rows, headers=["dataset", "run directory", "protocol",
                                                    "fold file sha256"],
                                    tablefmt="github", disable_numparse=True), ""]
    commands = sorted({s.command for s in board.sources if s.command})
    if commands:
        out += ["Reproduce every model of each run with (one command per run directory; add "
                "`--data-dir` and `--out`):", "", "```", *commands, "```", ""]
    if board.summary.empty:
        out += ["No finished units yet.", ""]
        return "\n".join(out)
    n_tasks = len(board.r2)
    rows = [[m + (" (null model)" if m in board.null_models else ""),
             _fmt(r["mean_rank"], 2) or "–",
             str(int(r["wins"])) if np.isfinite(r["wins"]) else "–", _fmt(r["r2_mean"]),
             _fmt(r["pcc_mean"]), _fmt(r["r2_rel_best"]) or "–",
             _fmt(r["r2_minus_best"]) or "–",
             f"{int(r['tasks_ran'])}/{int(r['tasks'])}"] for m, r in board.summary.iterrows()]
    nulls = (f" Null models ({', '.join(board.null_models)}) are shown but not ranked: ranks, "
             "wins, the best of a task and every test below are among the other models."
             if board.null_models else "")
    out += ["## Models over all tasks", "",
            f"{n_tasks} tasks (dataset × trait). Rank 1 = highest mean R² on a task.{nulls}",
            "",
            tabulate(rows, headers=["model", "mean rank", "wins", "mean R²", "mean PCC",
                                    "R² / best", "R² − best", "tasks"],
                     tablefmt="github", disable_numparse=True), ""]
    out += ["## Which models the benchmark separates", ""]
    if board.friedman is None:
        out += [board.friedman_note, ""]
    else:
        out += separation_statement(board.friedman) + [""]
        if cd_image:
            out += [f"![Critical-difference diagram]({cd_image})", "",
                    "Critical-difference diagram: models on the axis of mean ranks (1 = best, "
                    "left); a thick bar joins models whose mean ranks differ by less than the "
                    "CD, i.e. that the Nemenyi test cannot tell apart at "
                    f"α = {board.friedman.alpha}.", ""]
        out += ["### Datasets as blocks", "",
                "The traits of one dataset share its individuals and folds and are often "
                "correlated, so the tasks above are not independent and their CD is optimistic. "
                "The conservative check ranks the models within each dataset by their mean "
                "rank over its traits and tests over datasets.", ""]
        if board.dataset_friedman is None:
            out += [board.dataset_friedman_note, ""]
        else:
            out += separation_statement(board.dataset_friedman) + [""]
            if dataset_cd_image:
                out += [f"![Critical-difference diagram, datasets as blocks]"
                        f"({dataset_cd_image})", ""]
    if board.reference:
        out += _wilcoxon_section(board)
    headers = ["dataset", "trait", *board.r2.columns]
    out += ["## R² per task", "", "Mean over outer test folds (and repeats); **bold** = best "
            "of the task; – = not run.", "",
            tabulate(_wide_rows(board.r2), headers=headers, tablefmt="github",
                     disable_numparse=True), ""]
    out += ["## PCC per task", "",
            tabulate(_wide_rows(board.pcc), headers=["dataset", "trait", *board.pcc.columns],
                     tablefmt="github", disable_numparse=True), ""]
    if board.notes:
        out += ["## Notes", "", *[f"- {n}" for n in board.notes], ""]
    if board.failed:
        out += ["## Failed units", "", *[f"- `{f}`" for f in board.failed], ""]
    out += ["Per-task scores come from each dataset's own run (its leaderboard.md has the "
            "per-fold spread and the paired tests). Tables as CSV and LaTeX are in `tables/`; "
            "the per-fold scores of every run are in `tables/folds.csv`.", ""]
    return "\n".join(out)
