"""The leaderboard is a pure function of stored records."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gpbench.leaderboard import (
    corrected_ttest,
    records_frame,
    render,
    trait_table,
    write_leaderboard,
)
from gpbench.results import ResultStore


def _record(model, trait, fold, r2, ok=True):
    rec = {"unit_id": f"{model}-{trait}-{fold}", "model": model, "repeat": 0, "fold": fold,
           "status": "ok" if ok else "failed", "timing": {"fit_s": 1.0},
           "versions": {"gpbench": "0.1", "plugin": {"name": "p", "version": "1"}},
           "metrics": {trait: {"r2": r2, "pcc": np.sqrt(max(r2, 0)), "mse": 1 - r2,
                               "n_test": 20, "n_train": 80}}}
    if not ok:
        rec["error"] = "RuntimeError: broke"
    return rec


RUN = {"dataset": {"name": "toy", "version": "1", "checksum": "c" * 64},
       "config": {"k": 5, "seed": 0, "repeats": 1, "inner_fraction": 0.2},
       "fold_file": "toy.csv", "fold_sha256": "f" * 64, "command": "gpbench run --models a,b",
       "references": [{"trait": "T", "source": "Paper 2020", "what": "best R²", "r2": 0.6,
                       "citation": "x"}]}


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
    assert "c ≈" in md and "b ≈" not in md
    assert "published, not run here" in md and "0.600*" in md
    assert "gpbench run --models a,b" in md and "toy.csv" in md and "ffffffffffffffff" in md
    assert "## Failed units" in md and "RuntimeError: broke" in md
    assert "## Overall" in md


def test_write_leaderboard_reads_only_stored_results(tmp_path):
    store = ResultStore(tmp_path)
    for rec in _records():
        store.write(rec)
    (tmp_path / "run.json").write_text(json.dumps(RUN))
    path = write_leaderboard(tmp_path)
    assert path.read_text() == render(RUN, store.records())


def test_empty_run_renders():
    assert "No finished units yet" in render({}, [])


@pytest.mark.parametrize("n", [1])
def test_single_fold_has_no_sd(n):
    md = render(RUN, [_record("a", "T", 0, 0.5)])
    assert "0.500" in md
