"""One's own data: PLINK, VCF and CSV files give the same benchmark; QC stays in training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gpbench_files
import gpbench_linear
import gpbench_metrics
from gpbench import DataConfig, ModelSpec, hookimpl
from gpbench.api.errors import DataError
from gpbench.cli import _setup_logging, main
from gpbench.plugins import load_registry
from gpbench.running.executors import InlineExecutor
from gpbench.running.plan import RunConfig, execute, plan_run
from gpbench.running.protocol import make_folds
from gpbench.running.units import Environment
from gpbench_files.writers import write_matrix, write_phenotypes
from tests.own_data import cross, with_checkout_plugins, write_all_formats

N, P, UNMATCHED = 90, 150, 3


def _registry(*extra):
    return load_registry([("files", gpbench_files), ("linear", gpbench_linear),
                          ("metrics", gpbench_metrics), *extra], load_entrypoints=False)


def _run(registry, out: Path, geno: Path, pheno: Path, models: list[str], **kw):
    config = RunConfig(models=models, dataset="files", out=out, cache_dir=out / "cache",
                       dataset_options={"geno": str(geno), "pheno": str(pheno)}, n_threads=1,
                       **kw)
    plan = plan_run(config, registry)
    return plan, execute(plan, executor=InlineExecutor(), env=Environment(registry=registry))


def _scores(run_dir: Path) -> dict[tuple, dict]:
    from gpbench.storage.records import ResultStore

    out = {}
    for rec in ResultStore(run_dir).records():
        assert rec["status"] == "ok", rec.get("error")
        for trait, m in rec["metrics"].items():
            out[(rec["model"], trait, rec["fold"])] = m
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return write_all_formats(tmp_path_factory.mktemp("own"), N, P, n_unmatched=UNMATCHED)


def test_the_three_formats_load_the_same_matrix(files, capsys):
    _setup_logging()
    loaded = {}
    for fmt in ("plink", "vcf", "matrix"):
        loaded[fmt] = gpbench_files.load(DataConfig(Path("."), None, {
            "geno": str(files[fmt]), "pheno": str(files["pheno"])}))
    err = capsys.readouterr().err
    ref = loaded["plink"]
    assert ref.sample_ids == sorted(ref.sample_ids)  # joined by id and sorted
    assert len(ref.sample_ids) == N - UNMATCHED
    assert np.isnan(ref.genotypes).any()
    assert set(np.unique(ref.genotypes[~np.isnan(ref.genotypes)])) == {0.0, 1.0, 2.0}
    for fmt, ds in loaded.items():
        assert ds.sample_ids == ref.sample_ids, fmt
        assert np.array_equal(ds.genotypes, ref.genotypes, equal_nan=True), fmt
        assert ds.genotypes.flags["F_CONTIGUOUS"], fmt
        assert list(ds.markers.index) == list(ref.markers.index), fmt
        pd.testing.assert_frame_equal(ds.traits, ref.traits)
    # the join is reported: matched count and a few unmatched ids on each side
    assert f"{N - UNMATCHED} individuals in both geno.bed ({N}) and pheno.csv ({N})" in err
    assert "3 genotyped only: geno_only0, geno_only1, geno_only2" in err
    assert "3 phenotyped only: ind087, ind088, ind089" in err
    assert "geno.vcf.gz: skipped 2 multi-allelic site(s)" in err


def test_the_three_formats_give_identical_leaderboards(files, tmp_path):
    registry = _registry()
    scores = {}
    for fmt in ("plink", "vcf", "matrix"):
        plan, summary = _run(registry, tmp_path / fmt, files[fmt], files["pheno"],
                             ["ridge", "gblup", "lasso"], k=3)
        assert not summary.failed
        scores[fmt] = _scores(tmp_path / fmt)
    assert len(scores["plink"]) == 3 * 2 * 3
    assert scores["vcf"] == scores["plink"]
    assert scores["matrix"] == scores["plink"]
    assert np.mean([m["r2"] for m in scores["plink"].values()]) > 0.1  # it learned


class Recorder:
    """A model plugin that records the genotype matrices it is shown."""

    SEEN: list[dict] = []

    class Model:
        def __init__(self, options, context):
            self.context = context

        def fit(self, X, Y, valid=None):
            Recorder.SEEN.append({"fit": np.array(X), "seed": self.context.seed,
                                  "markers": list(self.context.markers.index)})
            self.mean = Y.mean(axis=0)

        def predict(self, X):
            Recorder.SEEN[-1]["predict"] = np.array(X)
            return np.tile(self.mean, (len(X), 1))

    @hookimpl
    def register_models(self, register):
        register(ModelSpec("recorder", self.Model))


def test_qc_and_imputation_of_own_files_use_training_rows_only(tmp_path):
    """Fold 0's test individuals carry values that would change the QC and the imputation if
    they leaked into it: marker 'a' is 0/1 (or missing) in training and 2 in test; marker 'b'
    is missing in every training individual and called in test."""
    ids, dos, markers, traits = cross(60, 40, seed=5, missing=0.0)
    k, seed = 3, 0
    folds = make_folds(sorted(ids), k, seed)
    test = set(folds.assignment.index[folds.test_mask(0, 0)])
    is_test = np.array([i in test for i in ids])
    dos[:, 0] = np.where(is_test, 2.0, np.arange(len(ids)) % 2)
    dos[np.flatnonzero(~is_test)[::4], 0] = np.nan  # some training calls missing
    dos[:, 1] = np.where(is_test, 1.0, np.nan)
    names = ["a", "b", *markers.index[2:]]
    geno = write_matrix(tmp_path / "g.csv", ids, dos, markers.set_axis(names))
    pheno = write_phenotypes(tmp_path / "p.csv", traits)
    Recorder.SEEN.clear()
    registry = _registry(("recorder", Recorder()))
    _run(registry, tmp_path / "run", geno, pheno, ["recorder"], k=k, seed=seed, maf=0.0,
         min_call_rate=0.0)
    fold0 = [s for s in Recorder.SEEN if s["seed"] % 100 == 0]  # seed*1000 + repeat*100 + fold
    assert len(fold0) == 2  # one per trait
    for seen in fold0:
        assert "b" not in seen["markers"]  # all-missing in training: dropped
        a = seen["markers"].index("a")
        col = seen["fit"][:, a]
        called = np.isin(col, (0.0, 1.0))
        assert 0 < called.sum() < len(col)
        # missing training calls get the mean of the training calls; a leaked 2 would raise it
        assert np.allclose(col[~called], col[called].mean())
        assert np.all(seen["predict"][:, a] == 2.0)
        assert not np.isnan(seen["fit"]).any() and not np.isnan(seen["predict"]).any()


def test_resume_with_changed_files_is_refused(tmp_path):
    ids, dos, markers, traits = cross(40, 30, seed=2)
    geno = write_matrix(tmp_path / "g.csv", ids, dos, markers)
    pheno = write_phenotypes(tmp_path / "p.csv", traits)
    registry = _registry()
    _run(registry, tmp_path / "run", geno, pheno, ["ridge"], k=2)
    traits.iloc[0, 0] += 1.0
    write_phenotypes(pheno, traits)
    with pytest.raises(DataError, match="checksum .*use a new --out directory"):
        _run(registry, tmp_path / "run", geno, pheno, ["ridge"], k=2)


def test_run_cli_shorthand_records_the_file_hashes(tmp_path, monkeypatch, capsys):
    import hashlib
    import json

    with_checkout_plugins(monkeypatch, tmp_path / "dist")
    ids, dos, markers, traits = cross(40, 30, seed=2)
    geno = write_matrix(tmp_path / "g.tsv", ids, dos, markers, sep="\t")
    pheno = write_phenotypes(tmp_path / "p.csv", traits, id_name="line")
    out = tmp_path / "run"
    args = ["run", "--geno", str(geno), "--pheno", str(pheno), "--id-column", "line",
            "--models", "ridge", "--folds", "2", "--out", str(out), "--no-report"]
    assert main(args) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["config"]["dataset"] == "files"
    for f in (geno, pheno):
        assert f"{f.name} sha256 {hashlib.sha256(f.read_bytes()).hexdigest()}" in \
            run["dataset"]["version"]
    capsys.readouterr()
    assert main(["run", "--geno", str(geno), "--models", "ridge", "--out", str(out)]) == 2
    assert "--geno needs --pheno" in capsys.readouterr().err


def test_gpbench_list_shows_the_traits_of_ones_own_files(files, tmp_path, monkeypatch, capsys):
    import gpbench.plugins

    monkeypatch.setattr(gpbench.plugins, "load_registry", lambda: _registry())
    assert main(["list", "--geno", str(files["vcf"]), "--pheno", str(files["pheno"]),
                 "--cache-dir", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert f"files: {N - UNMATCHED} samples x " in out and "traits of files (2;" in out
    assert main(["list", "--traits", "sim", "--geno", str(files["vcf"]),
                 "--pheno", str(files["pheno"])]) == 2
    assert "cannot be combined with --traits sim" in capsys.readouterr().err
