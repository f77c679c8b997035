"""The leaderboard is a pure function of stored records."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gpbench.boards.leaderboard import (
    corrected_diff,
    corrected_ttest,
    holm,
    records_frame,
    render,
    trait_table,
)
from gpbench.boards.publish import write_leaderboard
from gpbench.storage.records import ResultStore


def _record(model, trait, fold, r2, ok=True):
    """A record whose stored predictions give test R² ``r2`` (boards derive metrics from them)."""
    from gpbench_metrics import mse, pcc
    from gpbench_metrics import r2 as r2_of

    y = np.linspace(-1.0, 1.0, 20)
    noise = np.cos(np.arange(20) * 2.1 + fold)
    noise -= noise.mean()
    pred = y + noise * np.sqrt((1 - r2) * np.sum((y - y.mean()) ** 2) / np.sum(noise ** 2))
    rec = {"unit_id": f"{model}-{trait}-{fold}", "model": model, "repeat": 0, "fold": fold,
           "status": "ok" if ok else "failed", "timing": {"fit_s": 1.0},
           "versions": {"gpbench": "0.1", "plugin": {"name": "p", "version": "1"}},
           "metrics": {trait: {"r2": r2_of(y, pred), "pcc": pcc(y, pred), "mse": mse(y, pred),
                               "n_test": 20, "n_train": 80}},
           "predictions": {trait: {"sample": [f"s{i}" for i in range(20)],
                                   "y_true": y.tolist(), "y_pred": pred.tolist()}}}
    if not ok:
        rec["error"] = "RuntimeError: broke"
        del rec["metrics"], rec["predictions"]
    return rec


RUN = {"dataset": {"name": "toy", "version": "1", "checksum": "c" * 64,
                   "plugin": {"name": "toydata", "version": "2.1"}},
       "run_config": {"dataset": "toy", "k": 5, "seed": 0, "repeats": 1, "inner_fraction": 0.2,
                      "models": ["a", "b", "c", "d"], "traits": ["T"], "device": "auto"},
       "fold_file": "toy.csv", "fold_sha256": "f" * 64,
       "references": [{"trait": "T", "source": "Paper 2020", "what": "best R²",
                       "metric": "R2", "value": 0.6, "protocol": "10-fold CV",
                       "citation": "x"},
                      {"trait": "T", "source": "Other 2021", "what": "transformer",
                       "metric": "r", "value": 0.7, "protocol": "unknown", "citation": "y"}]}


def _records():
    recs = []
    for f, (a, b, c) in enumerate([(.60, .50, .595), (.62, .52, .61), (.58, .49, .59),
                                   (.61, .50, .60), (.59, .51, .58)]):
        recs += [_record("a", "T", f, a), _record("b", "T", f, b), _record("c", "T", f, c)]
    recs.append(_record("d", "T", 0, 0.0, ok=False))
    return recs


def test_ranking_and_paired_test():
    table = trait_table(records_frame(_records()))
    assert list(table.index) == ["a", "c", "b"]
    assert table.loc["b", "p_vs_best"] < 0.05  # clearly worse on every fold
    assert table.loc["c", "p_vs_best"] >= 0.05  # within noise of the best


def test_corrected_ttest_is_more_conservative_than_naive():
    from scipy import stats

    diff = np.array([0.01, 0.02, 0.015, 0.005, 0.012])
    naive = stats.ttest_1samp(diff, 0).pvalue
    assert corrected_ttest(diff, 80, 20) > naive


def test_render_shows_best_reference_rows_header_and_failures():
    md = render(RUN, _records())
    assert "## T" in md and "**0.600 ± 0.016**" in md
    assert "b †" in md and "c †" not in md  # b below the best on every fold, c not
    assert "≈" not in md
    assert "gpbench run --models a,b,c,d" in md and "toy.csv" in md
    assert "ffffffffffffffff" in md and "dataset plugin: toydata 2.1" in md
    assert "## Failed units" in md and "RuntimeError: broke" in md
    assert "## Overall" in md


def test_header_names_every_environment_the_records_were_computed_in():
    recs = _records()
    for rec in recs:
        rec["versions"].update(python="3.11.7", numpy="2.4.6", sklearn="1.9.1")
    assert "- versions: gpbench 0.1, python 3.11.7, numpy 2.4.6, scikit-learn 1.9.1;" \
        in render(RUN, recs)
    for rec in recs:
        if rec["model"] == "c" and rec["fold"] < 2:  # two units run on another machine
            rec["versions"].update(python="3.12.3", numpy="2.5.2")
    md = render(RUN, recs)
    assert ("- versions: gpbench 0.1, python 3.11.7, numpy 2.4.6, scikit-learn 1.9.1 "
            "(13 records: a, b, c); gpbench 0.1, python 3.12.3, numpy 2.5.2, scikit-learn 1.9.1 "
            "(2 records: c);") in md


def test_published_rows_are_apart_with_metric_and_protocol():
    md = render(RUN, _records())
    published = md.split("Published figures for T")[1].split("## ")[0]
    table = md.split("## T")[1].split("Published figures")[0]
    assert "Paper 2020" not in table and "Paper 2020" in published
    row_r2 = next(line for line in published.splitlines() if "Paper 2020" in line)
    row_r = next(line for line in published.splitlines() if "Other 2021" in line)
    cells_r2 = [c.strip() for c in row_r2.split("|")]
    cells_r = [c.strip() for c in row_r.split("|")]
    assert cells_r2[2] == "0.600" and cells_r2[3] == "" and "10-fold CV" in row_r2
    assert cells_r[2] == "" and cells_r[3] == "0.700"  # r goes to the PCC column, never R²
    assert "unknown (not stated" in row_r


def test_transformer_row_shows_the_profile_that_ran():
    recs = [_record("transformer", "T", f, 0.4) for f in range(5)]
    for r in recs:
        r["used_options"] = {"profile": "fast"}
    assert "transformer (fast)" in render(RUN, recs)


def test_models_with_equal_mean_r2_share_a_rank():
    recs = [r for r in _records() if r["model"] != "d"]
    recs += [{**r, "model": "a2", "unit_id": "a2" + r["unit_id"]} for r in recs
             if r["model"] == "a"]
    table = trait_table(records_frame(recs))
    assert table.loc["a", "rank"] == table.loc["a2", "rank"] == 1
    assert table.loc["c", "rank"] == 3 and table.loc["b", "rank"] == 4


def test_models_with_missing_folds_are_not_ranked():
    recs = [r for r in _records() if not (r["model"] == "a" and r["fold"] == 4)]
    table = trait_table(records_frame(recs), {(0, f) for f in range(5)})
    assert not table.loc["a", "complete"] and np.isnan(table.loc["a", "rank"])
    assert table.loc["c", "rank"] == 1 and table.loc["b", "rank"] == 2
    md = render(RUN, recs)
    assert "a (incomplete: 4 of 5 folds; not ranked)" in md
    overall = md.split("## Overall")[1]
    assert "| a " not in overall
    from gpbench.boards.exports import run_tables

    tables = run_tables(RUN, recs)  # the CSV/LaTeX export agrees with the markdown
    assert "a" in set(tables["traits"]["model"])
    assert tables["overall"]["model"].tolist() == ["c", "b"]


def test_nan_p_value_prints_a_dash_never_best():
    recs = [_record("a", "T", 0, 0.6), _record("b", "T", 0, 0.5)]
    run = {**RUN, "run_config": {**RUN["run_config"], "k": 1}}
    md = render(run, recs)
    row_b = next(line for line in md.splitlines() if line.startswith("| 2 "))
    cells = [c.strip() for c in row_b.split("|")]
    assert cells[7] == "–" and "best" not in row_b


def test_interval_and_holm():
    diff = np.array([-0.1, -0.12, -0.09, -0.11, -0.1])
    mean, lo, hi, p = corrected_diff(diff, 80, 20)
    assert lo < mean < hi < 0 and p < 0.05
    assert corrected_ttest(diff, 80, 20) == p
    adjusted = holm({"x": 0.01, "y": 0.04, "z": 0.03, "w": float("nan")})
    assert adjusted["x"] == pytest.approx(0.03) and adjusted["z"] == pytest.approx(0.06)
    assert adjusted["y"] == pytest.approx(0.06) and np.isnan(adjusted["w"])
    table = trait_table(records_frame(_records()))
    assert table.loc["b", "p_holm"] >= table.loc["b", "p_vs_best"]
    assert table.loc["b", "ci_high"] < 0 < table.loc["c", "ci_high"]


def test_overall_sorts_by_mean_r2_so_the_null_model_is_never_above_a_real_one():
    # b is far better than the null model on T and slightly worse on U and V: by mean rank the
    # null model would sit above b (2.33 vs 2.67), by mean R² it does not (0.0 vs 0.13)
    scores = {"T": (0.6, 0.5, 0.0), "U": (0.3, -0.05, 0.0), "V": (0.3, -0.05, 0.0)}
    recs = []
    for trait, (a, b, m) in scores.items():
        for f in range(5):
            for model, value in (("a", a + f * 0.001), ("b", b + f * 0.002), ("mean", m)):
                rec = _record(model, trait, f, value)
                rec["unit_id"] += f"-{trait}"
                recs.append(rec)
    run = {**RUN, "run_config": {**RUN["run_config"], "traits": list(scores)}}
    run.pop("references")
    overall = render(run, recs).split("## Overall")[1]
    rows = [[c.strip() for c in line.split("|")[1:-1]] for line in overall.splitlines()
            if line.startswith("| ") and "model" not in line]
    assert [r[0] for r in rows] == ["a", "b", "mean"]
    assert float(rows[1][2]) > float(rows[2][2])  # mean rank shown beside: b's is worse


def test_write_leaderboard_reads_only_stored_results(tmp_path):
    store = ResultStore(tmp_path)
    for rec in _records():
        store.write(rec)
    (tmp_path / "run.json").write_text(json.dumps(RUN))
    path = write_leaderboard(tmp_path)
    # compared with the reference model an installed plugin declares (GBLUP)
    assert path.read_text() == render(RUN, store.records(), reference="gblup")
    assert "gblup not ranked" in path.read_text()


@pytest.mark.parametrize("content", ["", '{"model": "a", "sta', "{}", "[]",
                                     "NUMBERS", "TIMING", "PREDICTIONS"])
def test_unreadable_records_are_named_and_rerun(tmp_path, content):
    store = ResultStore(tmp_path)
    for rec in _records():
        store.write(rec)
    bad = store.path("a-T-0")
    if content in ("NUMBERS", "TIMING", "PREDICTIONS"):
        rec = json.loads(bad.read_text())
        if content == "NUMBERS":
            rec["metrics"]["T"]["r2"] = "oops"
        elif content == "TIMING":
            rec["timing"] = {"fit_s": "slow"}
        else:
            rec["predictions"] = {"T": {"sample": ["s1"], "y_true": [1.0], "y_pred": ["x"]}}
        content = json.dumps(rec)
    bad.write_text(content)
    (tmp_path / "run.json").write_text(json.dumps(RUN))
    assert not store.is_done("a-T-0") and store.is_done("a-T-1")
    md = write_leaderboard(tmp_path).read_text()
    assert "## Unreadable records" in md and "results/a-T-0.json" in md
    assert "a (incomplete: 4 of 5 folds" in md
    from gpbench.boards.report import write_report

    assert "Unreadable records" in write_report(tmp_path).read_text()  # plots do not crash


def test_empty_run_renders():
    assert "No finished units yet" in render({}, [])


def test_single_fold_has_no_sd():
    run = {**RUN, "run_config": {**RUN["run_config"], "k": 1}}
    md = render(run, [_record("a", "T", 0, 0.5)])
    row = next(line for line in md.splitlines() if line.startswith("| 1 "))
    cells = [c.strip() for c in row.split("|")]
    assert cells[3] == "**0.500**" and "±" not in row and "nan" not in row


def test_published_rows_on_the_runs_own_published_folds_say_so():
    same = {**RUN, "run_config": {**RUN["run_config"], "published_folds": True},
            "references": [{**r, "folds": "published"} for r in RUN["references"]]}
    assert "on the same published folds as this run" in render(same, _records())
    # published folds in the run but a figure from elsewhere: still "other protocols"
    mixed = {**same, "references": [same["references"][0], RUN["references"][1]]}
    assert "other protocols" in render(mixed, _records())
    assert "other protocols" in render(RUN, _records())


def _with_reference():
    recs = _records()
    recs += [_record("gblup", "T", f, v) for f, v in enumerate([.55, .56, .54, .57, .55])]
    return recs


def test_every_model_is_compared_with_the_reference_beside_the_best():
    table = trait_table(records_frame(_with_reference()), reference="gblup")
    assert table.loc["gblup", "ref_diff"] == 0.0 and np.isnan(table.loc["gblup", "p_vs_ref"])
    by_fold = {m: np.array([r["metrics"]["T"]["r2"] for r in _with_reference()
                            if r["model"] == m and r["status"] == "ok"]) for m in "abc"}
    ref = np.array([r["metrics"]["T"]["r2"] for r in _with_reference()
                    if r["model"] == "gblup"])
    for m in "abc":
        mean, _, _, p = corrected_diff(by_fold[m] - ref, 80, 20)
        assert table.loc[m, "ref_diff"] == pytest.approx(mean)
        assert table.loc[m, "p_vs_ref"] == pytest.approx(p)
    assert table["p_ref_holm"].dropna().to_dict() == pytest.approx(
        holm(table["p_vs_ref"].dropna().to_dict()))
    # without a reference (or one not ranked) the columns stay empty
    assert table.drop(columns=[c for c in table if c.startswith(("ref_", "p_ref", "p_vs_ref"))]
                      ).equals(trait_table(records_frame(_with_reference())).drop(
                          columns=[c for c in table if c.startswith(("ref_", "p_ref",
                                                                     "p_vs_ref"))]))
    assert trait_table(records_frame(_records()), reference="gblup")["ref_diff"].isna().all()


def test_intervals_are_bonferroni_adjusted_like_the_holm_p_values():
    table = trait_table(records_frame(_with_reference()), reference="gblup")
    compared = table[table["p_vs_best"].notna()]
    m = len(compared)
    assert m == 3
    for model, r in compared.iterrows():
        d = np.array([x["metrics"]["T"]["r2"] for x in _with_reference()
                      if x["model"] == model]) - np.array(
            [x["metrics"]["T"]["r2"] for x in _with_reference() if x["model"] == "a"])
        _, low, high, _ = corrected_diff(d, 80, 20, level=1 - 0.05 / m)
        assert (r["ci_low"], r["ci_high"]) == pytest.approx((low, high))
        _, low95, high95, _ = corrected_diff(d, 80, 20)
        assert r["ci_high"] - r["ci_low"] > high95 - low95  # wider than unadjusted
        # an interval that excludes 0 always comes with a Holm p below 0.05
        if r["ci_high"] < 0 or r["ci_low"] > 0:
            assert r["p_holm"] < 0.05
    assert compared.loc["b", "ci_high"] < 0  # b is worse on every fold


def test_render_shows_the_reference_columns_and_says_how_intervals_are_adjusted():
    md = render(RUN, _with_reference(), reference="gblup")
    assert "ΔR² vs gblup [simult. 95% CI]" in md and "p vs gblup (Holm)" in md
    assert "| reference " in md and "Bonferroni-adjusted" in md
    assert "gblup not ranked" in render(RUN, _records(), reference="gblup")
    assert "vs gblup" not in render(RUN, _with_reference())


def test_the_command_line_names_another_reference(tmp_path, capsys):
    from gpbench.cli import main

    store = ResultStore(tmp_path)
    for rec in _records():
        store.write(rec)
    (tmp_path / "run.json").write_text(json.dumps(RUN))
    assert main(["leaderboard", str(tmp_path), "--reference", "c", "--print"]) == 0
    out = capsys.readouterr().out
    assert "ΔR² vs c [simult. 95% CI]" in out and "| reference " in out
