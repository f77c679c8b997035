"""The leaderboard across datasets: ranks, wins, relative R², Friedman/Nemenyi, the CD diagram,
exports, and a multi-dataset run from the command line."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from gpbench.boards.crossboard import (
    cross_board,
    dataset_friedman,
    dataset_scores,
    friedman_from_ranks,
    friedman_nemenyi,
    groups_within,
    iman_davenport,
    load_cross_board,
    model_summary,
    nemenyi_cd,
    nemenyi_q,
    render_cross,
    separation_statement,
    task_ranks,
)
from gpbench.boards.publish import write_cross_board
from tests.helpers import predictions_with_r2

# ------------------------------------------------------------------ hand-made scores


def _wide(rows, models):
    index = pd.MultiIndex.from_tuples([(d, t) for d, t, *_ in rows], names=["dataset", "trait"])
    return pd.DataFrame([r[2:] for r in rows], index=index, columns=models, dtype=float)


R2 = _wide([("wheat", "yield", 0.50, 0.40, 0.40),
            ("rice", "height", 0.20, 0.30, 0.10),
            ("pine", "dbh", -0.10, -0.05, -0.20)], ["a", "b", "c"])


def test_ranks_average_ties_and_put_the_highest_r2_first():
    ranks = task_ranks(R2)
    assert ranks.loc[("wheat", "yield")].tolist() == [1.0, 2.5, 2.5]
    assert ranks.loc[("rice", "height")].tolist() == [2.0, 1.0, 3.0]
    assert ranks.loc[("pine", "dbh")].tolist() == [2.0, 1.0, 3.0]


def test_summary_wins_relative_r2_and_coverage():
    summary, notes = model_summary(R2, R2 * 0 + 0.5)
    assert summary.loc["a", "mean_rank"] == pytest.approx((1 + 2 + 2) / 3)
    assert summary.loc["b", "mean_rank"] == pytest.approx((2.5 + 1 + 1) / 3)
    assert list(summary.index) == ["b", "a", "c"]  # best mean rank first
    assert summary["wins"].to_dict() == {"a": 1, "b": 2, "c": 0}
    # R²/best over tasks with a positive best (pine's best is -0.05: left out, with a note)
    assert summary.loc["a", "r2_rel_best"] == pytest.approx((1 + 0.2 / 0.3) / 2)
    assert summary.loc["c", "r2_rel_best"] == pytest.approx((0.4 / 0.5 + 0.1 / 0.3) / 2)
    assert summary.loc["b", "r2_minus_best"] == pytest.approx((-0.1 + 0 + 0) / 3)
    assert summary.loc["a", "r2_mean"] == pytest.approx(0.2)
    assert summary["tasks_ran"].tolist() == [3, 3, 3]
    assert any("best R² ≤ 0" in n for n in notes)


def test_a_model_missing_from_a_task_leaves_the_others_ranking_alone():
    r2 = R2.copy()
    r2["d"] = [0.9, np.nan, -0.07]  # did not run on rice
    summary, notes = model_summary(r2, r2)
    # a, b, c ran every task: ranked among themselves over all three, as without d
    assert summary.loc["a", "mean_rank"] == pytest.approx((1 + 2 + 2) / 3)
    # d among a, b, c and itself where it ran: first on wheat, second on pine; listed last
    assert summary.loc["d", "mean_rank"] == pytest.approx((1 + 2) / 2)
    assert list(summary.index) == ["b", "a", "c", "d"]
    assert summary.loc["d", "tasks_ran"] == 2
    assert summary.loc["d", "wins"] == 1
    assert any("d (2 of 3)" in n for n in notes)
    fr, why = friedman_nemenyi(r2)
    assert why == "" and set(fr.models) == {"a", "b", "c"}  # d is left out of the test


def test_without_a_complete_model_ranks_are_over_the_common_tasks():
    r2 = R2.copy()
    r2["d"] = [0.9, np.nan, -0.07]
    r2.loc[("pine", "dbh"), "a"] = np.nan
    r2 = r2.drop(columns=["b", "c"])  # neither a nor d ran every task
    summary, notes = model_summary(r2, r2)
    # common task: wheat only (a .5, d .9)
    assert summary.loc["d", "mean_rank"] == 1 and summary.loc["a", "mean_rank"] == 2
    assert any("1 of 3 tasks" in n for n in notes)


def test_friedman_needs_three_models_and_three_tasks():
    fr, why = friedman_nemenyi(R2[["a", "b"]])
    assert fr is None and "at least 3 models" in why and "2 model(s)" in why
    fr, why = friedman_nemenyi(R2.iloc[:2])
    assert fr is None and "2 task(s)" in why


def test_datasets_as_blocks_weigh_each_dataset_once():
    # wheat has three traits on which a wins, rice and pine one each on which c wins
    r2 = _wide([("wheat", "E1", .5, .4, .3, .1), ("wheat", "E2", .5, .4, .3, .1),
                ("wheat", "E3", .5, .4, .3, .1), ("rice", "h", .1, .2, .4, .0),
                ("pine", "d", .1, .2, .4, .0), ("mice", "w", .3, .3, .2, .1)],
               ["a", "b", "c", "null"])
    scores = dataset_scores(r2)
    assert list(scores.index) == ["wheat", "rice", "pine", "mice"]
    assert (-scores.loc["wheat"]).tolist() == [1, 2, 3, 4]
    assert (-scores.loc["mice"]).tolist() == [1.5, 1.5, 3, 4]
    by_task, _ = friedman_nemenyi(r2)
    by_dataset, why = dataset_friedman(r2)
    assert why == "" and by_dataset.blocks == "datasets" and by_dataset.n_tasks == 4
    # over tasks a leads (wheat counts three times); over datasets b, second everywhere, does
    assert by_task.mean_ranks.idxmin() == "a" and by_dataset.mean_ranks.idxmin() == "b"
    assert by_dataset.mean_ranks["b"] == pytest.approx((2 + 2 + 2 + 1.5) / 4)
    assert by_dataset.mean_ranks["a"] == pytest.approx((1 + 3 + 3 + 1.5) / 4)
    assert by_dataset.mean_ranks["c"] == pytest.approx((3 + 1 + 1 + 3) / 4)
    assert by_dataset.mean_ranks["null"] == 4.0
    assert by_dataset.cd == pytest.approx(nemenyi_cd(4, 4))
    assert by_dataset.cd > by_task.cd
    assert "Over 4 datasets (each model ranked by its mean rank" in \
        " ".join(separation_statement(by_dataset))


def test_datasets_as_blocks_need_three_datasets_with_more_tasks_than_datasets():
    assert dataset_friedman(R2) == (None, "Every dataset has one task here, so datasets as "
                                          "blocks are the tasks.")
    two = _wide([("wheat", "E1", .5, .4, .3), ("wheat", "E2", .5, .3, .4),
                 ("rice", "h", .1, .2, .4)], ["a", "b", "c"])
    fr, why = dataset_friedman(two)
    assert fr is None and "at least 3 datasets" in why and "2 dataset(s)" in why


# ------------------------------------------------------------------ Demšar (2006) example

# Demšar 2006, JMLR 7:1-30, Table 5a: Nemenyi critical values q_0.05 and q_0.10, k = 2..10
Q05 = [1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164]
Q10 = [1.645, 2.052, 2.291, 2.459, 2.589, 2.693, 2.780, 2.855, 2.920]

# Demšar's Table 6 (AUC of C4.5 variants on 14 data sets); his average ranks are 3.143,
# 2.000, 2.893 and 1.964. The row "voting" shows 0.975 twice; his ranks put C4.5+cf before
# C4.5+m+cf there, so that row is entered as unequal values here.
DEMSAR = pd.DataFrame(
    [[0.763, 0.768, 0.771, 0.798], [0.599, 0.591, 0.590, 0.569], [0.954, 0.971, 0.968, 0.967],
     [0.628, 0.661, 0.654, 0.657], [0.882, 0.888, 0.886, 0.898], [0.936, 0.931, 0.916, 0.931],
     [0.661, 0.668, 0.609, 0.685], [0.583, 0.583, 0.563, 0.625], [0.775, 0.838, 0.866, 0.875],
     [1.000, 1.000, 1.000, 1.000], [0.940, 0.962, 0.965, 0.962], [0.619, 0.666, 0.614, 0.669],
     [0.972, 0.981, 0.9751, 0.9749], [0.957, 0.978, 0.946, 0.970]],
    columns=["C4.5", "C4.5+m", "C4.5+cf", "C4.5+m+cf"])


def test_nemenyi_q_matches_demsar_table():
    for k, q05, q10 in zip(range(2, 11), Q05, Q10, strict=True):
        assert nemenyi_q(k, 0.05) == pytest.approx(q05, abs=1.5e-3)
        assert nemenyi_q(k, 0.10) == pytest.approx(q10, abs=1.5e-3)


def test_demsar_worked_example():
    fr, _ = friedman_nemenyi(DEMSAR)
    assert fr.mean_ranks.round(3).to_dict() == {"C4.5+m+cf": 1.964, "C4.5+m": 2.0,
                                                 "C4.5+cf": 2.893, "C4.5": 3.143}
    # his statistics use the formula without the tie correction
    chi2 = friedman_from_ranks([3.143, 2.000, 2.893, 1.964], 14)
    assert chi2 == pytest.approx(9.28, abs=0.01)
    assert iman_davenport(chi2, 4, 14)[0] == pytest.approx(3.69, abs=0.01)
    assert friedman_from_ranks(fr.mean_ranks, 14) == pytest.approx(9.28, abs=0.01)
    assert fr.statistic >= 9.28  # scipy corrects for ties, which only raises chi-square
    assert fr.p_value < 0.05
    assert nemenyi_cd(4, 14, 0.05) == pytest.approx(1.25, abs=0.005)
    assert fr.cd == pytest.approx(1.25, abs=0.005)
    # at 0.05 no pair is separated: the biggest gap, 3.143 - 1.964 = 1.18, is below 1.25
    assert not fr.pairs.separated.any()
    assert fr.groups == (("C4.5+m+cf", "C4.5+m", "C4.5+cf", "C4.5"),)
    # at 0.10 (CD 1.12) both C4.5+m+cf and C4.5+m are separated from C4.5, as in the paper
    fr10, _ = friedman_nemenyi(DEMSAR, alpha=0.10)
    assert fr10.cd == pytest.approx(1.12, abs=0.005)
    sep = {(a, b) for a, b, s in fr10.pairs[["model_a", "model_b", "separated"]].to_numpy()
           if s}
    assert sep == {("C4.5+m+cf", "C4.5"), ("C4.5+m", "C4.5")}
    text = " ".join(separation_statement(fr10))
    assert "separates 2 of 6 pairs" in text and "C4.5+m ranks above C4.5" in text
    assert "cannot separate 4 pair(s)" in text


def test_groups_are_maximal_runs_within_the_cd():
    ranks = pd.Series({"a": 1.0, "b": 1.5, "c": 2.2, "d": 3.5, "e": 3.6})
    assert groups_within(ranks, 1.0) == (("a", "b"), ("b", "c"), ("d", "e"))
    assert groups_within(ranks, 0.01) == ()


def test_no_pair_is_separated_when_friedman_does_not_reject():
    rng = np.random.default_rng(0)
    noise = pd.DataFrame(rng.normal(size=(5, 4)), columns=list("wxyz"))
    fr, _ = friedman_nemenyi(noise)
    assert fr.p_value > 0.05 and not fr.pairs.separated.any()
    assert "separates none" in " ".join(separation_statement(fr))


def test_all_ties_separate_nothing():
    fr, _ = friedman_nemenyi(pd.DataFrame([[0.5, 0.5, 0.5]] * 4, columns=list("abc")))
    assert (fr.statistic, fr.p_value) == (0.0, 1.0) and not fr.pairs.separated.any()
    assert fr.groups == (("a", "b", "c"),)


def test_cd_diagram_png(tmp_path):
    import matplotlib.image as mpimg

    from gpbench.boards.cd_diagram import cd_diagram, cd_diagram_png, plt

    fr, _ = friedman_nemenyi(DEMSAR, alpha=0.10)
    data = cd_diagram_png(fr)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    img = mpimg.imread(io.BytesIO(data))
    assert img.shape[1] > img.shape[0] > 100  # wide, not empty
    fig = cd_diagram(fr)
    try:
        texts = [t.get_text() for t in fig.axes[0].texts]
        assert "CD = 1.12" in texts and "C4.5 (3.14)" in texts
        assert "C4.5+m+cf (1.96)" in texts
        thick = [ln for ln in fig.axes[0].get_lines() if ln.get_linewidth() == 4]
        assert len(thick) == len(fr.groups) == 2  # one bar per group of unseparated models
    finally:
        plt.close(fig)
    assert plt.get_fignums() == []


# ------------------------------------------------------------------ boards from records


def _records(scores, dataset):
    """Records of a run: scores[model][trait] = list of per-fold R²."""
    recs = []
    for model, per_trait in scores.items():
        for trait, folds in per_trait.items():
            for f, r2 in enumerate(folds):
                made = predictions_with_r2(r2, n=10, seed=f)
                recs.append({"unit_id": f"{model}-{trait}-{f}", "model": model,
                             "dataset": dataset, "repeat": 0, "fold": f, "status": "ok",
                             "traits": [trait], "timing": {"fit_s": 0.1},
                             "metrics": {trait: {**made["metrics"], "n_train": 40,
                                                 "n_fit": 32}},
                             "predictions": {trait: made["prediction"]}})
    return recs


def _run(name):
    return {"dataset": {"name": name}, "config": {"k": 3, "seed": 0, "repeats": 1},
            "fold_sha256": "ab" * 32, "command": f"gpbench run --dataset {name}"}


def _runs(tmp_path):
    wheat = _records({"a": {"y1": [.5, .6, .55], "y2": [.3, .3, .3]},
                      "b": {"y1": [.4, .4, .4], "y2": [.35, .3, .4]},
                      "c": {"y1": [.1, .2, .1], "y2": [.1, .0, .1]}}, "wheat")
    rice = _records({"a": {"h": [.7, .7, .7]}, "b": {"h": [.6, .5, .7]},
                     "c": {"h": [.2, .2, .2]}, "d": {"h": [.9, .9, .9]}}, "rice")
    rice.append({"unit_id": "d-h-broken", "model": "e", "status": "failed", "fold": 0,
                 "repeat": 0, "error": "RuntimeError: diverged\ntraceback"})
    return [(tmp_path / "wheat", _run("wheat"), wheat), (tmp_path / "rice", _run("rice"), rice)]


def test_board_from_records(tmp_path):
    board = cross_board(_runs(tmp_path))
    assert board.r2.shape == (3, 4)
    assert board.r2.loc[("wheat", "y1"), "a"] == pytest.approx(0.55)
    assert board.summary.loc["d", "tasks_ran"] == 1 and board.summary.loc["d", "wins"] == 1
    assert board.friedman.models == ("a", "b", "c")  # d ran on one task only
    assert set(board.folds.columns) >= {"dataset", "trait", "model", "repeat", "fold", "r2",
                                        "pcc", "mse", "n_test", "n_fit"}
    assert len(board.folds) == 3 * 3 * 2 + 4 * 3
    md = render_cross(board, "cd_diagram.png")
    for part in ("## Models over all tasks", "## R² per task", "## PCC per task",
                 "![Critical-difference diagram](cd_diagram.png)", "Friedman test",
                 "Left out of the Friedman test", "rice: d-h-broken: RuntimeError: diverged",
                 "| wheat     | y1      |"):
        assert part in md, part


def test_one_dataset_and_two_models_say_what_is_missing(tmp_path):
    runs = _runs(tmp_path)[:1]
    runs[0][2][:] = [r for r in runs[0][2] if r["model"] != "c"]
    board = cross_board(runs)
    assert board.friedman is None
    md = render_cross(board)
    assert "One dataset only" in md and "needs at least 3 models" in md


def test_the_board_names_a_command_for_every_model_of_a_run_made_in_two_invocations(tmp_path):
    runs = _runs(tmp_path)
    wheat, run, recs = runs[0]
    # models a and b came with the first invocation, c with the second, whose command alone
    # run.json keeps; its run_config lists all three
    run = {**run, "command": "gpbench run --dataset wheat --models c",
           "run_config": {"dataset": "wheat", "models": ["a", "b", "c"], "traits": ["y1", "y2"],
                          "k": 3, "seed": 0, "repeats": 1}}
    md = render_cross(cross_board([(wheat, run, recs), runs[1]]))
    assert "gpbench run --models a,b,c --dataset wheat --envs y1,y2 --folds 3 --seed 0" in md
    assert "--models c" not in md
    assert "gpbench run --dataset rice" in md  # a run.json without run_config: its command


def test_two_runs_of_one_dataset_get_distinct_labels(tmp_path):
    (a, run, recs), _ = _runs(tmp_path)
    board = cross_board([(tmp_path / "s1", run, recs), (tmp_path / "s2", run, recs)])
    assert sorted(board.r2.index.get_level_values(0).unique()) == ["wheat (s1)", "wheat (s2)"]


def _store(tmp_path):
    from gpbench.storage.atomic import atomic_write_json
    from gpbench.storage.records import ResultStore

    dirs = []
    for run_dir, run, recs in _runs(tmp_path):
        atomic_write_json(run_dir / "run.json", run)
        store = ResultStore(run_dir)
        for rec in recs:
            store.write(rec)
        dirs.append(run_dir)
    return dirs


def test_write_cross_board_and_parse_its_exports(tmp_path):
    dirs = _store(tmp_path)
    md = write_cross_board(dirs, tmp_path / "cross")
    out = tmp_path / "cross"
    assert md == out / "leaderboard.md" and (out / "cd_diagram.png").stat().st_size > 1000
    tables = out / "tables"
    for name in ("summary", "r2", "pcc", "tasks", "friedman", "pairs"):
        assert (tables / f"{name}.csv").exists() and (tables / f"{name}.tex").exists(), name
    board = load_cross_board(dirs)
    summary = pd.read_csv(tables / "summary.csv")
    assert summary["model"].tolist() == list(board.summary.index)
    assert np.allclose(summary["mean_rank"], board.summary["mean_rank"])
    r2 = pd.read_csv(tables / "r2.csv").set_index(["dataset", "trait"])
    assert np.allclose(r2.to_numpy(), board.r2.to_numpy(), equal_nan=True)
    folds = pd.read_csv(tables / "folds.csv")
    assert len(folds) == len(board.folds) and folds["n_fit"].eq(32).all()
    assert not (tables / "folds.tex").exists()
    _check_latex((tables / "summary.tex").read_text(), len(summary), summary.shape[1])
    _check_latex((tables / "pairs.tex").read_text(), 3, 6)


def test_write_cross_board_with_datasets_as_blocks(tmp_path):
    from gpbench.storage.atomic import atomic_write_json
    from gpbench.storage.records import ResultStore

    dirs = _store(tmp_path)
    pine = _records({"a": {"d": [.3, .3, .3]}, "b": {"d": [.2, .2, .2]},
                     "c": {"d": [.1, .1, .1]}}, "pine")
    atomic_write_json(tmp_path / "pine" / "run.json", _run("pine"))
    store = ResultStore(tmp_path / "pine")
    for rec in pine:
        store.write(rec)
    out = tmp_path / "cross"
    md = write_cross_board([*dirs, tmp_path / "pine"], out).read_text()
    assert "### Datasets as blocks" in md and "Over 3 datasets" in md
    assert "![Critical-difference diagram, datasets as blocks](cd_diagram_datasets.png)" in md
    assert (out / "cd_diagram_datasets.png").stat().st_size > 1000
    friedman = pd.read_csv(out / "tables" / "friedman_datasets.csv")
    assert friedman["n_datasets"].tolist() == [3] and friedman["n_models"].tolist() == [3]
    assert len(pd.read_csv(out / "tables" / "pairs_datasets.csv")) == 3
    # with two datasets the section says why there is no test, and no table is written
    md = write_cross_board(dirs, tmp_path / "two").read_text()
    assert "### Datasets as blocks" in md and "at least 3 datasets" in md
    assert not (tmp_path / "two" / "tables" / "friedman_datasets.csv").exists()


def _check_latex(tex, n_rows, n_cols):
    body = tex.split("\\midrule\n")[1].split("\\bottomrule")[0].strip().splitlines()
    assert "\\begin{tabular}{" in tex and "\\toprule" in tex and "\\end{tabular}" in tex
    assert len(body) == n_rows
    for line in body:
        assert line.endswith(r"\\") and line.count(" & ") == n_cols - 1
    spec = tex.split("\\begin{tabular}{")[1].split("}")[0]
    assert len(spec) == n_cols and set(spec) <= {"l", "r"}


def test_latex_escapes_and_formats():
    from gpbench.boards.exports import latex_escape, to_latex

    assert latex_escape("a_b & 50% #1 {x}") == r"a\_b \& 50\% \#1 \{x\}"
    tex = to_latex(pd.DataFrame({"model": ["ridge_x"], "r2": [0.12345], "n": [5],
                                 "ok": [True], "p": [float("nan")]}))
    assert r"ridge\_x & 0.123 & 5 & yes & -- \\" in tex
    assert "\\begin{tabular}{lrrlr}" in tex
    # whole-number float columns (ranks) print as integers, other floats keep their decimals
    tex = to_latex(pd.DataFrame({"rank": [1.0, 2.0], "r2": [1.0, 0.5]}))
    assert r"1 & 1.000 \\" in tex and r"2 & 0.500 \\" in tex


def test_single_run_leaderboard_writes_tables(tmp_path):
    from gpbench.boards.publish import write_leaderboard

    wheat = _store(tmp_path)[0]
    write_leaderboard(wheat)
    tables = wheat / "tables"
    traits = pd.read_csv(tables / "traits.csv")
    assert set(traits["trait"]) == {"y1", "y2"} and {"model", "rank", "r2_mean"} <= set(traits)
    assert traits[traits.trait == "y1"].sort_values("rank")["model"].tolist() == ["a", "b", "c"]
    overall = pd.read_csv(tables / "overall.csv")
    assert overall["model"].tolist()[0] in {"a", "b"} and set(overall["traits"]) == {2}
    folds = pd.read_csv(tables / "folds.csv")
    assert len(folds) == 18 and set(folds["dataset"]) == {"wheat"}
    assert (tables / "traits.tex").read_text().count("\\toprule") == 1


# ------------------------------------------------------------------ multi-dataset runs


def test_dataset_list_trait_choice_and_options():
    from gpbench.api.errors import GpbenchError, UnknownNameError
    from gpbench.running.multirun import dataset_list, parse_traits, split_dataset_options

    names = ["rice", "sim", "wheat"]
    assert dataset_list("wheat, rice", names) == ["wheat", "rice"]
    assert dataset_list("all", names) == names
    assert dataset_list("all,-sim", names) == ["rice", "wheat"]
    with pytest.raises(UnknownNameError, match="Did you mean 'wheat'"):
        dataset_list("wheta,rice", names)
    choice = parse_traits("wheat:1,2;rice:Plant.height;yield", ["wheat", "rice"])
    assert choice.per_dataset == {"wheat": ["1", "2"], "rice": ["Plant.height"]}
    assert choice.plain == ["yield"]
    assert parse_traits("a,b", ["wheat"]).plain == ["a", "b"]
    with pytest.raises(GpbenchError, match="not among the datasets"):
        parse_traits("maize:1", ["wheat"])
    opts = split_dataset_options({"n_markers": "100", "wheat:seed": "3"}, ["wheat", "rice"])
    assert opts == {"wheat": {"n_markers": "100", "seed": "3"}, "rice": {"n_markers": "100"}}


@pytest.fixture
def multi_registry(monkeypatch):
    from gpbench import plugins
    from gpbench.running.units import Environment

    env = Environment(extra_plugins=("gpbench_sim", "gpbench_linear", "gpbench_metrics",
                                     "tests.plugins.multi"), load_entrypoints=False)
    registry = env.get_registry()
    monkeypatch.setattr(plugins, "load_registry", lambda *a, **k: registry)
    return registry


def test_multi_dataset_run_from_the_command_line(tmp_path, capsys, multi_registry):
    from gpbench.cli import main

    base = tmp_path / "runs"
    # the null model (mean) stays outside the Friedman test, which needs three other models
    args = ["run", "--models", "ridge,gblup,lasso,mean", "--dataset",
            "sim-a,sim-b,sim-c,sim-broken",
            "--folds", "2", "--out", str(base), "--cache-dir", str(tmp_path / "c"),
            "--envs", "sim-a:trait1,Trait3;trait3", "--no-report"]
    assert main(args) == 1  # sim-broken cannot be loaded; the others ran
    err = capsys.readouterr().err
    assert "ridge, gblup, lasso, mean on 4 datasets (sim-a, sim-b, sim-c, sim-broken)" in err
    assert "sim-broken: FAILED: sim-broken: the files are missing" in err
    for ds in ("sim-a", "sim-b", "sim-c"):
        assert (base / ds / "leaderboard.md").exists() and (base / ds / "tables").is_dir()
    assert not (base / "sim-broken" / "results").exists()
    board = load_cross_board([base / d for d in ("sim-a", "sim-b", "sim-c")])
    assert list(board.r2.index) == [("sim-a", "trait1"), ("sim-a", "trait3"),
                                    ("sim-b", "trait3"), ("sim-c", "trait3")]
    cross = base / "cross"
    assert (cross / "cd_diagram.png").exists() and (cross / "tables" / "summary.tex").exists()
    md = (cross / "leaderboard.md").read_text()
    assert "Friedman test" in md and "mean (null model)" in md
    assert "## Each model against gblup" in md  # the reference its plugin declares
    # without --envs each dataset's default traits (sim-b: trait2), else all traits
    args = ["run", "--models", "ridge,mean", "--dataset", "sim-b,sim-c", "--folds", "2",
            "--out", str(tmp_path / "d"), "--cache-dir", str(tmp_path / "c"), "--no-report"]
    assert main(args) == 0
    board = load_cross_board([tmp_path / "d" / "sim-b", tmp_path / "d" / "sim-c"])
    assert list(board.r2.index) == [("sim-b", "trait2"), ("sim-c", "trait1"),
                                    ("sim-c", "trait2"), ("sim-c", "trait3")]
    assert "needs at least 3 models" in (tmp_path / "d" / "cross" / "leaderboard.md").read_text()
    # a trailing comma is a list of one
    capsys.readouterr()
    assert main(["run", "--models", "mean", "--dataset", "sim-b,", "--folds", "2", "--out",
                 str(tmp_path / "e"), "--cache-dir", str(tmp_path / "c"), "--no-report"]) == 0
    assert "mean on 1 dataset (sim-b)" in capsys.readouterr().err
    # the board of stored runs, re-rendered by `gpbench leaderboard DIR DIR ...`
    capsys.readouterr()
    out = tmp_path / "again"
    assert main(["leaderboard", str(base / "sim-a"), str(base / "sim-c"), "-o", str(out),
                 "--print"]) == 0
    assert "## Models over all tasks" in capsys.readouterr().out
    assert (out / "leaderboard.md").exists() and (out / "tables" / "r2.csv").exists()


def test_plain_trait_names_that_no_dataset_has_are_an_error(tmp_path, capsys,
                                                            multi_registry):
    from gpbench.cli import main

    assert main(["run", "--models", "ridge", "--dataset", "sim-a,sim-c", "--envs", "trait9",
                 "--out", str(tmp_path), "--no-report"]) == 2
    assert "unknown trait 'trait9'" in capsys.readouterr().err
    assert not (tmp_path / "sim-a").exists()


def test_a_model_short_of_folds_is_not_scored_on_that_task(tmp_path):
    runs = _runs(tmp_path)
    wheat_dir, wheat_run, wheat = runs[0]
    # model b loses fold 2 of y1: its y1 mean would come from other folds than a's and c's
    wheat = [r for r in wheat if not (r["model"] == "b" and r["fold"] == 2
                                      and "y1" in r["metrics"])]
    board = cross_board([(wheat_dir, wheat_run, wheat), runs[1]])
    assert np.isnan(board.r2.loc[("wheat", "y1"), "b"])
    assert board.r2.loc[("wheat", "y2"), "b"] == pytest.approx(0.35)
    assert any("wheat y1 b (2 of 3 folds)" in n for n in board.notes)


def test_a_fold_without_variance_does_not_drop_the_task(tmp_path):
    runs = _runs(tmp_path)
    wheat_dir, wheat_run, wheat = runs[0]
    for r in wheat:  # y2's test values are all equal on fold 1: R² undefined for every model
        if r["fold"] == 1 and "y2" in r["metrics"]:
            r["metrics"]["y2"]["r2"] = float("nan")
    board = cross_board([(wheat_dir, wheat_run, wheat), runs[1]])
    assert board.r2.loc[("wheat", "y2"), "b"] == pytest.approx(0.375)
    assert not any("Not scored" in n for n in board.notes)


# ------------------------------------------------------------------ null model, Wilcoxon


def _eight_datasets():
    """Eight datasets (two traits each) of a reference ``ref``, ``up`` (above it on every
    dataset), ``mixed`` (differences of both signs), ``same`` (equal to ref) and ``null``."""
    rng = np.random.default_rng(3)
    rows = []
    for d in range(8):
        for t in range(2):
            ref = 0.3 + 0.05 * d + 0.01 * t
            rows.append((f"ds{d}", f"t{t}", ref, ref + 0.02 + 0.01 * d,
                         ref + rng.normal(0, 0.03), ref, rng.normal(0, 0.01)))
    return _wide(rows, ["ref", "up", "mixed", "same", "null"])


def test_wilcoxon_against_the_reference_matches_scipy_over_datasets():
    from scipy import stats

    from gpbench.boards.crossboard import dataset_differences, wilcoxon_vs_reference
    from gpbench.boards.leaderboard import holm

    r2 = _eight_datasets().drop(columns=["null"])
    table, why = wilcoxon_vs_reference(r2, "ref")
    assert why == ""
    table = table.set_index("model")
    diffs = dataset_differences(r2, "ref")
    # a dataset's difference is the mean over its traits
    assert diffs.loc["ds2", "mixed"] == pytest.approx(
        (r2.loc[("ds2", "t0"), "mixed"] - r2.loc[("ds2", "t0"), "ref"]
         + r2.loc[("ds2", "t1"), "mixed"] - r2.loc[("ds2", "t1"), "ref"]) / 2)
    for model in ("up", "mixed"):
        want = stats.wilcoxon(diffs[model].to_numpy())
        assert table.loc[model, "statistic"] == pytest.approx(want.statistic)
        assert table.loc[model, "p_value"] == pytest.approx(want.pvalue)
    # up is above ref on all 8 datasets: exact two-sided p = 2 / 2^8, W = 0
    assert table.loc["up", "p_value"] == pytest.approx(2 / 2 ** 8)
    assert table.loc["up", "statistic"] == 0
    assert (table.loc["up", "better"], table.loc["up", "worse"]) == (8, 0)
    # equal to the reference everywhere: nothing to reject
    assert table.loc["same", "p_value"] == 1.0 and np.isnan(table.loc["same", "statistic"])
    raw = table["p_value"].to_dict()
    assert table["p_holm"].to_dict() == pytest.approx(holm(raw))
    assert table.loc["up", "p_holm"] == pytest.approx(3 * 2 / 2 ** 8)


def test_wilcoxon_needs_the_reference_and_two_datasets():
    from gpbench.boards.crossboard import wilcoxon_vs_reference

    r2 = _eight_datasets()
    table, why = wilcoxon_vs_reference(r2, "gblup")
    assert table.empty and "gblup is not on this board" in why
    one = r2.loc[["ds0"]]
    table, why = wilcoxon_vs_reference(one, "ref")
    assert table["p_value"].isna().all() and "Too few datasets" in why


def test_the_null_model_is_shown_but_outside_ranks_and_tests(tmp_path):
    scores = _eight_datasets()
    runs = []
    for ds in scores.index.get_level_values(0).unique():
        per_model = {m: {t: [scores.loc[(ds, t), m]] * 3 for t in ("t0", "t1")}
                     for m in scores.columns}
        runs.append((tmp_path / ds, _run(ds), _records(per_model, ds)))
    with_null = cross_board(runs, reference="ref", null_models=("null",))
    without = cross_board([(d, run, [r for r in recs if r["model"] != "null"])
                           for d, run, recs in runs], reference="ref")
    assert with_null.friedman.models == without.friedman.models
    assert "null" not in with_null.friedman.models
    assert with_null.friedman.statistic == pytest.approx(without.friedman.statistic)
    assert with_null.dataset_friedman.statistic == pytest.approx(
        without.dataset_friedman.statistic)
    s = with_null.summary
    assert list(s.index)[-1] == "null" and np.isnan(s.loc["null", "mean_rank"])
    assert np.isnan(s.loc["null", "wins"])
    assert s.loc["null", "r2_mean"] == pytest.approx(scores["null"].mean(), abs=1e-9)
    assert s.drop("null")["mean_rank"].to_numpy() == pytest.approx(
        without.summary.loc[s.index[:-1], "mean_rank"].to_numpy())
    assert with_null.tasks.loc[with_null.tasks.model == "null", "rank"].isna().all()
    assert "null" not in set(with_null.wilcoxon["model"])
    md = render_cross(with_null)
    assert "null (null model)" in md
    assert "## Each model against ref" in md and "above ref: up" in md
    assert "Null models (null) are shown but not ranked" in md
