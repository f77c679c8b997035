import numpy as np

from gpbench.running.protocol import FoldPlan, inner_validation_mask, make_folds

IDS = [f"s{i}" for i in range(103)]


def test_folds_are_deterministic_balanced_and_cover_every_sample():
    a, b = make_folds(IDS, 5, seed=3), make_folds(IDS, 5, seed=3)
    assert a.sha256 == b.sha256
    counts = np.bincount(a.assignment["repeat0"], minlength=5)
    assert counts.sum() == len(IDS) and counts.max() - counts.min() <= 1
    assert make_folds(IDS, 5, seed=4).sha256 != a.sha256


def test_repeats_differ_and_fold_file_round_trips(tmp_path):
    plan = make_folds(IDS, 5, seed=0, repeats=3)
    assert plan.repeats == 3
    assert not np.array_equal(plan.assignment["repeat0"], plan.assignment["repeat1"])
    digest = plan.save(tmp_path / "f.csv")
    loaded = FoldPlan.load(tmp_path / "f.csv", 5, 0)
    assert loaded.sha256 == digest
    assert list(loaded.assignment.index) == IDS


def test_ids_that_read_as_missing_values_survive_the_fold_file(tmp_path):
    ids = ["NA", "None", "nan", "null", ""] + [f"s{i}" for i in range(10)]
    plan = make_folds(ids, 3, seed=0)
    digest = plan.save(tmp_path / "f.csv")
    loaded = FoldPlan.load(tmp_path / "f.csv", 3, 0)
    assert list(loaded.assignment.index) == ids and loaded.sha256 == digest


def test_inner_split_is_stable_for_subsets():
    ids = np.array(IDS)
    full = inner_validation_mask(ids, 0, 0, 1)
    sub = inner_validation_mask(ids[::2], 0, 0, 1)
    # a sample keeps its side whatever else is in the training set (e.g. per-trait subsets)
    assert np.array_equal(full[::2], sub)
    assert 0.1 < full.mean() < 0.3
