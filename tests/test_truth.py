"""True genetic values: the sim dataset knows them, records store them for the test samples,
and boards derive r and R² against them from the stored predictions."""

from __future__ import annotations

import numpy as np
import pytest

from gpbench.boards.truth import truth_frame, truth_scores
from gpbench.storage.records import ResultStore
from tests.helpers import run


def test_sim_truth_is_the_genetic_value_before_noise():
    from gpbench_sim import simulate

    ds = simulate(n_strains=2000, n_markers=200, h2=0.5, missing=0, n_traits=2)
    assert list(ds.truth.columns) == ds.trait_names
    assert ds.truth.index.equals(ds.traits.index)
    g, y = ds.truth["trait1"].to_numpy(), ds.traits["trait1"].to_numpy()
    assert g.var() == pytest.approx(1.0)
    assert np.corrcoef(g, y)[0, 1] == pytest.approx(np.sqrt(0.5), abs=0.03)
    # genotypes and phenotypes are those the sim made before it kept its truth (7a94500)
    assert ds.checksum == "6c1e61101c7723f381cfd2b5d329d481bf3d5f79a859162368a8f8fe50e2411f"


def test_truth_scores_are_derived_from_stored_values():
    g = [0.0, 1.0, 2.0, 3.0]
    rec = {"status": "ok", "model": "m", "repeat": 0, "fold": 0,
           "metrics": {"t": {"pcc": 0.5, "r2": 0.1}}, "g_true": {"t": g},
           "predictions": {"t": {"sample": list("abcd"), "y_true": [0, 0, 1, 1],
                                 "y_pred": [0.0, 1.0, 2.0, 4.0]}}}
    r, r2 = truth_scores(rec, "t")
    assert r == pytest.approx(np.corrcoef(g, [0, 1, 2, 4])[0, 1])
    assert r2 == pytest.approx(1 - 1 / 5)
    assert np.isnan(truth_scores({**rec, "g_true": {}}, "t")[0])
    assert truth_frame([rec]).loc[0, "r_y"] == 0.5


def test_records_store_the_test_samples_truth(registry, tmp_path):
    from gpbench_sim import simulate

    options = {"n_strains": "90", "n_markers": "60", "n_qtl": "5"}
    summary = run(registry, tmp_path, ["ridge"], dataset="sim", traits=["trait2"], k=3,
                  dataset_options=options)
    assert not summary.failed
    truth = simulate(**options).truth["trait2"]
    for rec in ResultStore(summary.run_dir).records():
        samples = rec["predictions"]["trait2"]["sample"]
        assert rec["g_true"]["trait2"] == truth.loc[samples].tolist()
