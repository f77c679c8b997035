"""The committed leaderboards and the docs' result tables are what gpbench computes from the
committed run records, and each record scores only its own outer test fold.

No figure in the result tables of docs/results.md and README.md is typed by hand: each row must
equal the summary recomputed here from the records of `leaderboard/yeast` and
`leaderboard/collection/*` (`docs/scripts/results_tables.py` regenerates the tables); every
committed leaderboard.md, cross board and CSV table must equal a fresh rendering of its records;
and every record's predicted samples lie in the test fold of the fold file whose sha256 it
carries, with metrics equal to those of its stored predictions.
"""
import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from gpbench.boards.crossboard import load_cross_board
from gpbench.boards.leaderboard import (
    declared_null_models,
    declared_reference,
    load_run,
    records_frame,
)
from gpbench.boards.publish import write_cross_board, write_leaderboard
from gpbench.data.download import sha256_file
from gpbench.running.protocol import FoldPlan
from gpbench.storage.records import ResultStore, holds_results
from gpbench_metrics import pcc, r2

ROOT = Path(__file__).parents[1]
COLLECTION = ROOT / "leaderboard" / "collection"
RESULTS_PAGE = ROOT / "docs" / "results.md"


def _results_table(section: str, page: Path = RESULTS_PAGE) -> list[list[str]]:
    """Cells of the first markdown table after the heading ``section`` of ``page``."""
    text = page.read_text()
    start = text.index(f"## {section}\n")
    lines = text[start:].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[first + 2:]:  # skip header and rule
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def _model(cell: str) -> str:
    return cell.split(" (")[0]


def _collection_runs() -> list[Path]:
    """The collection's run directories, relative to the repository root."""
    return sorted(p.relative_to(ROOT) for p in COLLECTION.iterdir() if (p / "run.json").exists())


@pytest.fixture(scope="module")
def collection_board():
    runs = [ROOT / p for p in _collection_runs()]
    assert len(runs) == 13, "leaderboard/collection should hold one run directory per dataset"
    # as written by `gpbench leaderboard`: the declared null model shown but not ranked
    return load_cross_board(runs, reference=declared_reference(),
                            null_models=declared_null_models())


def test_committed_cross_board_tables_are_recomputed_from_records(collection_board):
    saved = pd.read_csv(COLLECTION / "cross" / "tables" / "summary.csv", index_col=0)
    fresh = collection_board.summary
    assert list(saved.index) == list(fresh.index)
    for col in ("mean_rank", "wins", "r2_mean", "pcc_mean", "tasks"):
        assert saved[col].to_numpy() == pytest.approx(fresh[col].to_numpy(), abs=1e-9,
                                                      nan_ok=True), col
    assert fresh.loc["mean", ["mean_rank", "wins"]].isna().all()  # the null model: not ranked


@pytest.mark.parametrize(("page", "section"), [(RESULTS_PAGE, "Results across the collection"),
                                               (ROOT / "README.md", "Results")],
                         ids=["docs/results.md", "README.md"])
def test_collection_tables_are_the_cross_board(collection_board, page, section):
    _assert_summary_table(_results_table(section, page), collection_board.summary)


def _assert_summary_table(rows: list[list[str]], summary: pd.DataFrame) -> None:
    """``rows`` (model | mean rank | wins | mean R² | mean PCC) are ``summary``, in its order."""
    assert [_model(r[0]) for r in rows] == list(summary.index)
    for cells in rows:
        s = summary.loc[_model(cells[0])]
        ranked = np.isfinite(s.mean_rank)  # a null model is shown but not ranked: "–"
        assert cells[1:5] == [f"{s.mean_rank:.2f}" if ranked else "–",
                              f"{int(s.wins)}" if ranked else "–", f"{s.r2_mean:.3f}",
                              f"{s.pcc_mean:.3f}"], cells[0]


V2_TABLES = [(RESULTS_PAGE, "Board v2 so far", "v2"),
             (ROOT / "README.md", "Board v2 so far", "v2")]


@pytest.mark.parametrize(("page", "section", "folder"), V2_TABLES,
                         ids=["docs/results.md v2", "README.md v2"])
def test_v2_tables_are_their_cross_boards(page, section, folder):
    """The v2 tables of the results page and the README are the summary of the cross board of
    every run directory under leaderboard/v2."""
    runs = sorted(p for p in (ROOT / "leaderboard" / folder).iterdir()
                  if (p / "run.json").exists())
    summary = load_cross_board(runs, reference=declared_reference(),
                               null_models=declared_null_models()).summary
    _assert_summary_table(_results_table(section, page), summary)


def test_results_page_yeast_table_is_the_committed_run():
    _, records = load_run(ROOT / "leaderboard" / "yeast")
    df = records_frame(records)
    r2 = df.groupby(["model", "trait"]).r2.agg(["mean", "std"])
    fit_s = df.groupby("model").fit_s.mean()
    rows = _results_table("Results on the yeast data")
    assert sorted(_model(r[0]) for r in rows) == sorted(df.model.unique())
    for cells in rows:
        m = _model(cells[0])
        want = [f"{r2.loc[(m, t), 'mean']:.3f} ± {r2.loc[(m, t), 'std']:.3f}"
                for t in ("Lactate", "Lactose")]
        assert cells[1:3] == want, m
        assert cells[3] == f"{fit_s[m]:.1f} s", m


def _committed_runs() -> list[Path]:
    return sorted(p.parent.relative_to(ROOT) for p in (ROOT / "leaderboard").rglob("run.json"))


@pytest.mark.parametrize("run_dir", _committed_runs(), ids=str)
def test_committed_leaderboard_is_rendered_from_its_records(run_dir, tmp_path, monkeypatch):
    """Each committed leaderboard.md and its tables are gpbench's output for its records."""
    monkeypatch.chdir(ROOT)
    write_leaderboard(run_dir, tmp_path / "leaderboard.md")
    assert (tmp_path / "leaderboard.md").read_text() == (run_dir / "leaderboard.md").read_text()
    for table in sorted((tmp_path / "tables").iterdir()):
        assert table.read_bytes() == (run_dir / "tables" / table.name).read_bytes(), table.name


def _cross_boards() -> list[Path]:
    """Folders of run directories with a committed cross board (``FOLDER/cross``)."""
    return sorted(p.parent.relative_to(ROOT) for p in (ROOT / "leaderboard").glob("*/cross")
                  if (p / "leaderboard.md").exists())


@pytest.mark.parametrize("folder", _cross_boards(), ids=str)
def test_committed_cross_board_is_rendered_from_the_runs(folder, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    committed = ROOT / folder / "cross"
    # the runs it was made of, in its order: the run-directory column of its "Runs" table
    runs = [Path(cells[1]) for cells in _results_table("Runs", committed / "leaderboard.md")]
    assert runs and all((ROOT / r / "run.json").exists() for r in runs), runs
    write_cross_board(runs, tmp_path)
    assert (tmp_path / "leaderboard.md").read_text() == (committed / "leaderboard.md").read_text()
    for table in sorted((tmp_path / "tables").iterdir()):
        assert table.read_bytes() == (committed / "tables" / table.name).read_bytes(), table.name


def _check_scores_own_test_fold(records: list[dict], folds_dir: Path) -> None:
    """Each ok record predicts only samples of its own outer test fold (per the fold file it
    names in ``folds_dir``, whose sha256 it carries), with metrics equal to its predictions'."""
    folds = {}
    for rec in (r for r in records if r.get("status") == "ok"):
        path = folds_dir / rec["fold_file"]
        if path not in folds:
            folds[path] = (sha256_file(path), FoldPlan.load(path, rec["k"], rec["seed"]))
        sha, plan = folds[path]
        assert rec["fold_sha256"] == sha, rec["unit_id"]
        test_fold = set(plan.assignment.index[plan.test_mask(rec["repeat"], rec["fold"])])
        for trait, pred in rec["predictions"].items():
            assert set(pred["sample"]) <= test_fold, (rec["unit_id"], trait)
            y, yhat = np.asarray(pred["y_true"]), np.asarray(pred["y_pred"])
            metrics = rec["metrics"][trait]
            assert metrics["n_test"] == len(y)
            assert metrics["r2"] == pytest.approx(r2(y, yhat), abs=1e-9), (rec["unit_id"], trait)
            assert metrics["pcc"] == pytest.approx(pcc(y, yhat), abs=1e-9), (rec["unit_id"], trait)


@pytest.mark.parametrize("run_dir", _committed_runs(), ids=str)
def test_committed_records_score_their_own_test_fold(run_dir):
    """Every committed record scores only its own outer test fold."""
    run_dir = ROOT / run_dir
    _check_scores_own_test_fold(load_run(run_dir)[1], run_dir / "folds")


def _pending_dirs() -> list[Path]:
    pending = ROOT / "leaderboard" / "pending"
    return sorted(p.relative_to(ROOT) for p in pending.glob("*") if holds_results(p))


@pytest.mark.parametrize("pending_dir", _pending_dirs(), ids=str)
def test_pending_records_are_finished_units_on_the_collection_folds(pending_dir):
    """leaderboard/pending holds finished units of models not yet on the collection board: each
    on its dataset's committed collection folds, scoring its own test fold, of a model the
    collection run does not list (a model enters the board only by a run over all its units)."""
    records, unreadable = ResultStore(ROOT / pending_dir).scan()
    assert not unreadable, unreadable
    assert records and all(r["status"] == "ok" for r in records)
    dataset = pending_dir.name
    assert {r["dataset"] for r in records} == {dataset}
    run, _ = load_run(COLLECTION / dataset)
    assert not {r["model"] for r in records} & set(run["units_by_model"]), "already on the board"
    _check_scores_own_test_fold(records, COLLECTION / dataset / "folds")


def _docs_script(name: str) -> ModuleType:
    """docs/scripts/NAME.py as a module (the scripts are files, not a package)."""
    spec = importlib.util.spec_from_file_location(f"docs_scripts_{name}",
                                                  ROOT / "docs" / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_v1_v2_table_is_recomputed_from_both_boards():
    """leaderboard/v2/v1-v2.md is what docs/scripts/board_v1_v2.py computes from the records of
    leaderboard/collection and leaderboard/v2 (every v2 run directory, none left out)."""
    v2 = ROOT / "leaderboard" / "v2"
    if not (v2 / "v1-v2.md").exists():
        pytest.skip("no board v2 committed")
    script = _docs_script("board_v1_v2")
    df = script.compare(COLLECTION, v2)
    committed = {p.name for p in v2.iterdir() if (p / "run.json").exists()}
    assert set(df.dataset) == {p.name for p in script.complete_runs(v2)} == committed
    assert (v2 / "v1-v2.md").read_text() == "\n".join(script.markdown(df)) + "\n"


def test_random_grouped_table_is_recomputed_from_both_boards():
    """leaderboard/v2-grouped/random-grouped.md is what docs/scripts/board_grouped.py computes
    from the records of leaderboard/v2 and leaderboard/v2-grouped (every grouped run committed)."""
    grouped = ROOT / "leaderboard" / "v2-grouped"
    if not (grouped / "random-grouped.md").exists():
        pytest.skip("no grouped board v2 committed")
    script = _docs_script("board_grouped")
    df = script.compare(grouped, ROOT / "leaderboard" / "v2")
    committed = {p.parent.name for p in grouped.rglob("run.json")}
    assert set(df.run) == {p.name for p in script.grouped_runs(grouped)} == committed
    assert (df.cv != "random").all()
    assert (grouped / "random-grouped.md").read_text() == "\n".join(script.markdown(df)) + "\n"
