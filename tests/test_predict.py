"""gpbench predict: one-go predictions, --save then --load, marker alignment, refusals."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from gpbench.cli import main
from gpbench_files.writers import write_matrix, write_phenotypes, write_plink, write_vcf
from tests.own_data import cross, table, with_checkout_plugins

# tiny settings so every model fits in about a second
TINY = {
    "gbm": ["gbm.num_boost_round=30", "gbm.early_stopping_rounds=5"],
    "transformer": ["transformer.profile=fast", "transformer.window=16",
                    "transformer.max_epochs=2", "transformer.embed_dim=8",
                    "transformer.ff_dim=8"],
    **{m: [f"{m}.n_iter=200", f"{m}.burn_in=50"] for m in ("brr", "bayesb", "bl")},
    "transformer-mt": ["transformer-mt.profile=fast", "transformer-mt.window=16",
                       "transformer-mt.max_epochs=2", "transformer-mt.embed_dim=8",
                       "transformer-mt.ff_dim=8", "transformer-mt.n_models=1"],
}
SAVABLE = ["ridge", "gblup", "lasso", "elasticnet", "mean", "gbm", "transformer",
           "transformer-mt", "brr", "bayesb", "bl"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("predict")
    ids, dos, markers, traits = cross(100, 80, seed=4)
    train, new = slice(0, 80), slice(80, 100)
    out = {"geno": write_plink(d / "train", ids[train], dos[train], markers),
           "pheno": write_phenotypes(d / "pheno.csv", traits.iloc[train]),
           "new": write_vcf(d / "new.vcf", ids[new], dos[new], markers),
           "dir": d, "ids": ids[new], "markers": markers, "dosages": dos[new]}
    return out


@pytest.fixture(autouse=True)
def checkout_plugins(monkeypatch, tmp_path):
    with_checkout_plugins(monkeypatch, tmp_path / "dist")


def _predict(data, out, *extra):
    return main(["predict", "--geno", str(data["geno"]), "--pheno", str(data["pheno"]),
                 "--new", str(data["new"]), "--out", str(out), "--threads", "1",
                 "--device", "cpu", *extra])


def _options(model):
    return [a for o in TINY.get(model, []) for a in ("--model-option", o)]


@pytest.mark.parametrize("model", SAVABLE)
def test_save_then_load_predicts_exactly_as_one_go(model, data, tmp_path):
    saved = tmp_path / "model"
    assert _predict(data, tmp_path / "a.csv", "--model", model, "--save", str(saved),
                    *_options(model)) == 0
    assert main(["predict", "--load", str(saved), "--new", str(data["new"]),
                 "--out", str(tmp_path / "b.csv"), "--threads", "1", "--device", "cpu"]) == 0
    a, b = table(tmp_path / "a.csv"), table(tmp_path / "b.csv")
    assert list(a.index) == data["ids"] and list(a.columns) == ["trait1", "trait2"]
    assert np.isfinite(a.to_numpy()).all()
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    manifest = json.loads((saved / "manifest.json").read_text())
    assert manifest["format_version"] == 2 and manifest["model"] == model
    assert manifest["design"] is None  # own files without --covariates: no design effects
    assert manifest["markers"]["id"] == list(data["markers"].index)
    assert not list(saved.rglob("*.pkl")) and not list(saved.rglob("*.pickle"))


def test_one_go_without_save_gives_the_same_predictions(data, tmp_path):
    assert _predict(data, tmp_path / "a.csv", "--model", "gblup") == 0
    assert _predict(data, tmp_path / "b.csv", "--model", "gblup", "--save",
                    str(tmp_path / "m")) == 0
    pd.testing.assert_frame_equal(table(tmp_path / "a.csv"), table(tmp_path / "b.csv"))


def test_a_constant_trait_is_refused_in_one_line(data, tmp_path, capsys):
    ids = data["ids"]  # any 20 genotyped individuals; every one of them has the value 1
    pheno = write_phenotypes(tmp_path / "flat.csv", pd.DataFrame({"flat": 1.0}, index=ids))
    capsys.readouterr()
    assert main(["predict", "--geno", str(data["new"]), "--pheno", str(pheno), "--new",
                 str(data["new"]), "--out", str(tmp_path / "p.csv"), "--model", "bayesb"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1
    assert "trait 'flat' takes the one value 1 in all 20 measured individuals" in errors[0]


def test_new_markers_are_aligned_by_id(data, tmp_path, capsys):
    """Shuffled marker order, 5 training markers missing, 2 extra markers: the missing ones
    are imputed with the training means (a warning says how many), the extra ones ignored."""
    d = data["dir"]
    markers, dos = data["markers"], data["dosages"]
    rng = np.random.default_rng(0)
    order = rng.permutation(len(markers))[5:]  # drop five, shuffle the rest
    extra = pd.DataFrame({"chrom": ["chr09", "chr09"], "pos": [1, 2]}, index=["x1", "x2"])
    shuffled = pd.concat([markers.iloc[order], extra])
    new_dos = np.hstack([dos[:, order], np.ones((len(dos), 2), dtype=np.float32)])
    new = write_matrix(d / "new_shuffled.csv", data["ids"], new_dos, shuffled)
    assert _predict(data, tmp_path / "full.csv", "--model", "ridge", "--save",
                    str(tmp_path / "m")) == 0
    capsys.readouterr()
    assert main(["predict", "--load", str(tmp_path / "m"), "--new", str(new),
                 "--out", str(tmp_path / "part.csv")]) == 0
    err = capsys.readouterr().err
    assert "5 of 80 training markers are missing from new_shuffled.csv" in err
    assert "2 markers of new_shuffled.csv are not training markers and are ignored" in err
    full, part = table(tmp_path / "full.csv"), table(tmp_path / "part.csv")
    assert np.isfinite(part.to_numpy()).all()
    # five of 80 markers imputed: close to, but not the same as, the full predictions
    assert np.corrcoef(full["trait1"], part["trait1"])[0, 1] > 0.9
    # ... and exactly what the five markers at their training means give
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    group = manifest["groups"][0]  # single-trait ridge: one group (and QC) per trait
    means = dict(zip(manifest["markers"]["id"], group["preprocessor"]["means"], strict=True))
    dropped = np.setdiff1d(np.arange(len(markers)), order)
    at_means = np.array(dos, dtype=np.float64)
    for j in dropped:
        at_means[:, j] = means[str(markers.index[j])]
    filled = write_matrix(d / "new_at_means.csv", data["ids"], at_means, markers)
    assert main(["predict", "--load", str(tmp_path / "m"), "--new", str(filled),
                 "--out", str(tmp_path / "means.csv")]) == 0
    pd.testing.assert_series_equal(table(tmp_path / "means.csv")[group["traits"][0]],
                                   part[group["traits"][0]], rtol=1e-4)
    # all markers in reverse order, as a CSV instead of a VCF: exactly the same predictions
    reverse = write_matrix(d / "new_reversed.csv", data["ids"], dos[:, ::-1],
                           markers.iloc[::-1])
    assert main(["predict", "--load", str(tmp_path / "m"), "--new", str(reverse),
                 "--out", str(tmp_path / "rev.csv")]) == 0
    pd.testing.assert_frame_equal(table(tmp_path / "rev.csv"), full)


def test_predict_with_tuning_inside_the_training_set(data, tmp_path):
    assert _predict(data, tmp_path / "t.csv", "--model", "elasticnet", "--tune", "2",
                    "--envs", "trait1", "--save", str(tmp_path / "m")) == 0
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    (group,) = manifest["groups"]
    assert group["tuning"]["n_trials"] == 2 and group["tuning"]["metric"] == "r2"
    assert group["options"]["l1_ratio"] == group["tuning"]["best_params"]["l1_ratio"]
    assert list(table(tmp_path / "t.csv").columns) == ["trait1"]
    assert _predict(data, tmp_path / "p.csv", "--model", "elasticnet", "--tune", "2",
                    "--envs", "trait1", "--tune-metric", "pcc", "--save",
                    str(tmp_path / "mp")) == 0
    manifest = json.loads((tmp_path / "mp" / "manifest.json").read_text())
    assert manifest["groups"][0]["tuning"]["metric"] == "pcc"


def test_a_builtin_dataset_can_be_the_training_set(tmp_path, capsys):
    from gpbench_sim import simulate

    ds = simulate(n_strains=60, n_markers=50)
    new = write_matrix(tmp_path / "new.csv", [f"n{i}" for i in range(5)],
                       ds.genotypes[:5].astype(np.float32), ds.markers)
    assert main(["predict", "--model", "ridge", "--dataset", "sim", "--dataset-option",
                 "n_strains=60", "--dataset-option", "n_markers=50", "--envs", "trait1",
                 "--new", str(new), "--out", str(tmp_path / "p.csv")]) == 0
    assert table(tmp_path / "p.csv").shape == (5, 1)


def test_saved_model_refusals(data, tmp_path, capsys):
    saved = tmp_path / "m"
    assert _predict(data, tmp_path / "a.csv", "--model", "mean", "--save", str(saved)) == 0
    load = ["predict", "--load", str(saved), "--new", str(data["new"]),
            "--out", str(tmp_path / "b.csv")]
    manifest = json.loads((saved / "manifest.json").read_text())

    def with_manifest(**changes):
        (saved / "manifest.json").write_text(json.dumps({**manifest, **changes}))
        capsys.readouterr()
        assert main(load) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1  # one line, no traceback
        return err[0]

    assert "saved in model format 99" in with_manifest(format_version=99)
    assert "'design' is damaged" in with_manifest(design={"coding": [{"level": "M"}]})
    msg = with_manifest(model="bayesx", plugin={"name": "bayes", "distribution": "gpbench-bayes",
                                                "version": "2.0"})
    assert "needs model 'bayesx' from plugin 'bayes'" in msg and "not installed" in msg
    assert "not a saved gpbench model" in with_manifest(format="something-else")
    (saved / "manifest.json").unlink()
    capsys.readouterr()
    assert main(load) == 2
    assert "no manifest.json" in capsys.readouterr().err
    # --save into a non-empty directory, and --load with fitting options
    assert _predict(data, tmp_path / "c.csv", "--model", "mean", "--save", str(saved)) == 2
    assert "not empty" in capsys.readouterr().err
    assert main([*load, "--model", "ridge"]) == 2
    assert "drop --model" in capsys.readouterr().err
    for flag in (["--maf", "0.05"], ["--seed", "3"], ["--min-call-rate", "0.9"],
                 ["--model-option", "ridge.alpha=2"], ["--data-dir", str(tmp_path)],
                 ["--tune-metric", "pcc"], ["--covariates", "none"], ["--trials", "auto"]):
        assert main([*load, *flag]) == 2, flag
        assert f"drop {flag[0]}" in capsys.readouterr().err


def test_a_model_saved_in_format_1_still_loads(data, tmp_path):
    """Format 1 had no design effects: such a model loads and predicts as it did."""
    saved = tmp_path / "m"
    assert _predict(data, tmp_path / "a.csv", "--model", "ridge", "--save", str(saved)) == 0
    manifest = json.loads((saved / "manifest.json").read_text())
    del manifest["design"]
    (saved / "manifest.json").write_text(json.dumps({**manifest, "format_version": 1}))
    assert main(["predict", "--load", str(saved), "--new", str(data["new"]),
                 "--out", str(tmp_path / "b.csv")]) == 0
    pd.testing.assert_frame_equal(table(tmp_path / "a.csv"), table(tmp_path / "b.csv"),
                                  check_exact=True)


def test_a_model_without_save_predicts_in_one_go_but_cannot_be_saved(data, tmp_path,
                                                                      monkeypatch, capsys):
    import dataclasses

    import gpbench_linear
    from gpbench import hookimpl

    class NoSave:
        @hookimpl
        def register_models(self, register):
            spec = dataclasses.replace(
                next(s for s in _specs(gpbench_linear) if s.name == "ridge"), name="plain",
                load=None)
            register(spec)

    import gpbench.plugins

    real = gpbench.plugins.load_registry

    def registry(extra=(), **kw):
        return real([*extra, ("nosave", NoSave())], **kw)

    monkeypatch.setattr(gpbench.plugins, "load_registry", registry)
    assert _predict(data, tmp_path / "a.csv", "--model", "plain") == 0
    assert table(tmp_path / "a.csv").shape == (20, 2)
    capsys.readouterr()
    assert _predict(data, tmp_path / "b.csv", "--model", "plain", "--save",
                    str(tmp_path / "m")) == 2
    assert "cannot be saved" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def _specs(module):
    found = []
    module.register_models(found.append)
    return found


def test_markers_counted_by_the_other_allele_are_flipped(data, tmp_path, capsys):
    """A new PLINK file that counts REF instead of ALT at some markers (dosage 2 - x) gives the
    same predictions; a marker with other alleles altogether is treated as missing."""
    markers = data["markers"].copy()
    markers["counted"], markers["other"] = "G", "A"
    dos = data["dosages"].copy()
    flipped = np.arange(0, 80, 3)
    markers.iloc[flipped, markers.columns.get_loc("counted")] = "A"
    markers.iloc[flipped, markers.columns.get_loc("other")] = "G"
    dos[:, flipped] = 2.0 - dos[:, flipped]
    new = write_plink(tmp_path / "new_flipped", data["ids"], dos, markers)
    assert _predict(data, tmp_path / "vcf.csv", "--model", "ridge", "--save",
                    str(tmp_path / "m")) == 0
    capsys.readouterr()
    assert main(["predict", "--load", str(tmp_path / "m"), "--new", str(new),
                 "--out", str(tmp_path / "flipped.csv")]) == 0
    assert f"{len(flipped)} markers of new_flipped.bed count the other allele" in \
        capsys.readouterr().err
    pd.testing.assert_frame_equal(table(tmp_path / "flipped.csv"), table(tmp_path / "vcf.csv"))
    markers.iloc[1, markers.columns.get_loc("counted")] = "T"  # neither A nor G
    new = write_plink(tmp_path / "new_clash", data["ids"], dos, markers)
    assert main(["predict", "--load", str(tmp_path / "m"), "--new", str(new),
                 "--out", str(tmp_path / "clash.csv")]) == 0
    err = capsys.readouterr().err
    assert "1 markers of new_clash.bed name other alleles than in training" in err
    assert "1 of 80 training markers are missing from new_clash.bed" in err


# ------------------------------------------------- --new read first; damaged saved models


@pytest.mark.parametrize("new", ["missing.vcf", "garbage.csv", "other_ids.csv"])
def test_a_bad_new_file_fails_before_any_model_is_fitted(new, data, tmp_path, capsys,
                                                         monkeypatch):
    from gpbench.running import predict

    fits = []
    real_train = predict.train

    def spy_train(*args, **kw):
        fits.append(args)
        return real_train(*args, **kw)

    monkeypatch.setattr(predict, "train", spy_train)
    (tmp_path / "garbage.csv").write_text("this is\nnot a genotype\x00 file\n")
    write_matrix(tmp_path / "other_ids.csv", data["ids"], data["dosages"],
                 data["markers"].rename(index=lambda m: f"x{m}"))
    saved = tmp_path / "model"
    code = main(["predict", "--geno", str(data["geno"]), "--pheno", str(data["pheno"]),
                 "--new", str(tmp_path / new), "--out", str(tmp_path / "p.csv"),
                 "--model", "ridge", "--save", str(saved), "--threads", "1",
                 "--device", "cpu"])
    err = capsys.readouterr().err.strip()  # (reading the training files logs a line first)
    assert code == 2 and "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("gpbench: error: ")] == [
        err.splitlines()[-1]]
    assert fits == [] and not saved.exists() and not (tmp_path / "p.csv").exists()


def test_a_model_option_value_of_the_wrong_type_fails_before_any_data_are_read(
        data, tmp_path, capsys, monkeypatch):
    from gpbench.running import predict

    monkeypatch.setattr(predict, "train", lambda *a, **k: pytest.fail("fitted"))
    assert _predict(data, tmp_path / "p.csv", "--model", "gbm", "--model-option",
                    "gbm.learning_rate=abc") == 2
    err = capsys.readouterr().err.strip()
    assert err == ("gpbench: error: model 'gbm': option learning_rate=abc is not a number "
                   "(default 0.02)")


def _damage(saved, what):
    """Tamper with the saved model in ``saved`` as ``what`` says."""
    path = saved / "manifest.json"
    m = json.loads(path.read_text())
    g = m["groups"][0]
    if what == "invalid JSON":
        path.write_text(path.read_text()[:-20])
        return
    if what == "a JSON list":
        path.write_text("[1, 2]")
        return
    if what == "model.json invalid":
        (saved / g["path"] / "model.json").write_text("{kind: mean")
        return
    if what == "model.json a list":
        (saved / g["path"] / "model.json").write_text("[]")
        return
    if what == "arrays missing":
        (saved / g["path"] / "arrays.npz").unlink()
        return
    if what == "arrays garbage":
        (saved / g["path"] / "arrays.npz").write_bytes(b"PK\x03\x04 not a zip")
        return
    edits = {
        "no model": lambda: m.pop("model"),
        "model a number": lambda: m.update(model=3),
        "no groups": lambda: m.pop("groups"),
        "groups empty": lambda: m.update(groups=[]),
        "groups a string": lambda: m.update(groups="model0"),
        "group a list": lambda: m.update(groups=[[1]]),
        "no path": lambda: g.pop("path"),
        "path missing": lambda: g.update(path="model7"),
        "path outside": lambda: g.update(path="../.."),
        "no preprocessor": lambda: g.pop("preprocessor"),
        "preprocessor damaged": lambda: g["preprocessor"].pop("keep"),
        "preprocessor short": lambda: g["preprocessor"].update(
            keep=g["preprocessor"]["keep"][:3]),
        "traits a string": lambda: g.update(traits="A"),
        "options a list": lambda: g.update(options=[]),
        "no markers": lambda: m.pop("markers"),
        "marker pos short": lambda: m["markers"].update(pos=m["markers"]["pos"][:2]),
        "marker pos text": lambda: m["markers"].update(
            pos=["x"] * len(m["markers"]["pos"])),
        "seed text": lambda: m["training"].update(seed="one"),
        "training a list": lambda: m.update(training=[]),
        "plugin a string": lambda: m.update(plugin="linear"),
    }
    edits[what]()
    path.write_text(json.dumps(m))


DAMAGE = ["invalid JSON", "a JSON list", "model.json invalid", "model.json a list",
          "arrays missing", "arrays garbage", "no model", "model a number", "no groups",
          "groups empty", "groups a string", "group a list", "no path", "path missing",
          "path outside", "no preprocessor", "preprocessor damaged", "preprocessor short",
          "traits a string", "options a list", "no markers", "marker pos short",
          "marker pos text", "seed text", "training a list", "plugin a string"]


@pytest.fixture(scope="module")
def saved_mean(data, tmp_path_factory):
    saved = tmp_path_factory.mktemp("saved") / "m"
    with pytest.MonkeyPatch.context() as mp:
        with_checkout_plugins(mp, tmp_path_factory.mktemp("dist"))
        assert _predict(data, saved.parent / "a.csv", "--model", "mean", "--save",
                        str(saved)) == 0
    return saved


@pytest.mark.parametrize("what", DAMAGE)
def test_a_damaged_saved_model_is_one_line_naming_the_file(what, data, saved_mean, tmp_path,
                                                           capsys):
    import shutil

    saved = tmp_path / "m"
    shutil.copytree(saved_mean, saved)
    _damage(saved, what)
    capsys.readouterr()
    assert main(["predict", "--load", str(saved), "--new", str(data["new"]),
                 "--out", str(tmp_path / "p.csv")]) == 2, what
    err = capsys.readouterr().err.strip()
    assert err.startswith("gpbench: error: ") and len(err.splitlines()) == 1, err
    assert str(saved) in err and "again" in err, err
    assert not (tmp_path / "p.csv").exists()
