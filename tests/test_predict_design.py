"""gpbench predict with design effects: covariate effects estimated on every training
individual are added back from the new individuals' covariates (refused in one line when they
are missing), and a trial-adjusted trait is predicted as individual effects."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from gpbench.api.errors import GpbenchError
from gpbench.cli import main
from gpbench.running import predict
from gpbench.running.design import trial_targets
from gpbench.running.units import Environment
from gpbench_files.writers import write_phenotypes, write_plink, write_vcf
from tests.own_data import cross, table, with_checkout_plugins
from tests.plugins import design_spy

SEX_EFFECT = 10.0  # far above the genetic spread of the simulated trait (sd about 1)
N, NEW = 100, 20


@pytest.fixture(scope="module")
def sexed(tmp_path_factory):
    """80 training lines and 20 new ones whose trait carries a large sex effect; the training
    phenotype file holds sex as a column, the new lines' sex is in a file of its own."""
    d = tmp_path_factory.mktemp("predict-design")
    ids, dos, markers, traits = cross(N, 80, seed=5)
    sex = np.where(np.random.default_rng(7).random(N) < 0.5, "F", "M")
    pheno = traits[["trait1"]].copy()
    pheno["trait1"] += np.where(sex == "M", SEX_EFFECT, 0.0)
    pheno["sex"] = sex
    train, new = slice(0, N - NEW), slice(N - NEW, N)
    new_sex = pd.DataFrame({"sex": sex[new]}, index=pd.Index(ids[new], name="id"))
    new_sex.to_csv(d / "new_sex.csv")
    new_sex.iloc[1:].to_csv(d / "new_sex_short.csv")
    return {"geno": write_plink(d / "train", ids[train], dos[train], markers),
            "pheno": write_phenotypes(d / "pheno.csv", pheno.iloc[train]),
            "new": write_vcf(d / "new.vcf", ids[new], dos[new], markers),
            "new_sex": d / "new_sex.csv", "new_sex_short": d / "new_sex_short.csv",
            "truth": pheno["trait1"].iloc[new]}


@pytest.fixture(autouse=True)
def checkout_plugins(monkeypatch, tmp_path):
    with_checkout_plugins(monkeypatch, tmp_path / "dist")


def _predict(data, out, *extra):
    return main(["predict", "--geno", str(data["geno"]), "--pheno", str(data["pheno"]),
                 "--ignore-columns", "sex", "--new", str(data["new"]), "--out", str(out),
                 "--threads", "1", "--device", "cpu", "--model", "ridge", *extra])


def _one_error(capsys) -> str:
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1, errors
    return errors[0]


def test_covariate_effects_are_added_back_for_new_individuals(sexed, tmp_path):
    with_sex = ["--covariates", f"{sexed['pheno']}:sex", "--new-covariates",
                str(sexed["new_sex"])]
    assert _predict(sexed, tmp_path / "with.csv", *with_sex, "--save", str(tmp_path / "m")) == 0
    assert _predict(sexed, tmp_path / "without.csv", "--covariates", "none") == 0
    truth = sexed["truth"]
    with_, without = table(tmp_path / "with.csv")["trait1"], table(tmp_path / "without.csv")[
        "trait1"]
    assert list(with_.index) == list(truth.index) and np.isfinite(with_).all()
    measured = truth.notna()  # a few simulated values are missing
    truth, with_, without = truth[measured], with_[measured], without[measured]
    assert len(truth) >= 15
    mse_with = float(np.mean((with_ - truth) ** 2))
    mse_without = float(np.mean((without - truth) ** 2))
    assert mse_with < 0.2 * mse_without  # sex explains most of the new lines' spread
    assert np.corrcoef(with_, truth)[0, 1] > np.corrcoef(without, truth)[0, 1] + 0.3
    # the saved model stores the coding and effects and predicts the same with --load
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["format_version"] == 2
    assert [c["level"] for c in manifest["design"]["coding"]] == ["M"]
    assert manifest["design"]["effects"]["trait1"][0] == pytest.approx(SEX_EFFECT, abs=1.5)
    assert main(["predict", "--load", str(tmp_path / "m"), "--new", str(sexed["new"]),
                 "--new-covariates", str(sexed["new_sex"]), "--out",
                 str(tmp_path / "again.csv")]) == 0
    pd.testing.assert_frame_equal(table(tmp_path / "with.csv"), table(tmp_path / "again.csv"),
                                  check_exact=True)


def test_missing_covariates_of_new_individuals_fail_in_one_line(sexed, tmp_path, capsys):
    cov = ["--covariates", f"{sexed['pheno']}:sex"]
    capsys.readouterr()
    assert _predict(sexed, tmp_path / "p.csv", *cov) == 2  # before any fit
    error = _one_error(capsys)
    assert "covariate(s) sex fitted in training" in error
    assert "--new-covariates FILE (a CSV: the id column, then sex)" in error
    assert not (tmp_path / "p.csv").exists()
    assert _predict(sexed, tmp_path / "p.csv", *cov, "--new-covariates",
                    str(sexed["new_sex_short"])) == 2
    assert "has no row for 1 of the 20 new individuals" in _one_error(capsys)
    assert _predict(sexed, tmp_path / "p.csv", *cov, "--new-covariates",
                    f"{sexed['new_sex']}:age") == 2
    assert "no column 'age'" in _one_error(capsys)
    # a saved model asks for them too
    assert _predict(sexed, tmp_path / "p.csv", *cov, "--new-covariates", str(sexed["new_sex"]),
                    "--save", str(tmp_path / "m")) == 0
    capsys.readouterr()
    assert main(["predict", "--load", str(tmp_path / "m"), "--new", str(sexed["new"]),
                 "--out", str(tmp_path / "q.csv")]) == 2
    assert "--new-covariates FILE" in _one_error(capsys)
    # and covariates given to a model fitted without them are refused, not ignored
    assert _predict(sexed, tmp_path / "p.csv", "--covariates", "none", "--new-covariates",
                    str(sexed["new_sex"])) == 2
    assert "fitted without covariates" in _one_error(capsys)
    assert main(["predict", "--load", str(tmp_path / "m"), "--covariates", "none", "--new",
                 str(sexed["new"]), "--out", str(tmp_path / "q.csv")]) == 2
    assert "drop --covariates" in _one_error(capsys)


def _design_registry():
    env = Environment(extra_plugins=("gpbench_linear", "tests.plugins.design_spy"),
                      load_entrypoints=False)
    return env.get_registry()


def test_trial_adjusted_traits_are_predicted_as_individual_effects():
    """The final model of a trait with trial records fits the individuals' effects from all
    training records (not their raw means), so what it predicts are individual effects."""
    ds = design_spy.design_dataset(type("C", (), {"options": {}})())
    registry = _design_registry()
    trained = predict.train(registry, ds, "mean", ["Y"], covariates="none")
    assert trained.design is not None and trained.design.trials == ("Y",)
    assert not trained.design.effects  # no covariates: nothing to add back
    blues, _, _ = trial_targets(ds.trial_records, ds.sample_ids,
                                np.ones(len(ds.sample_ids), dtype=bool))
    out = predict.predict(trained, ds)
    assert out["Y"].to_numpy() == pytest.approx(np.full(len(ds.sample_ids), blues.mean()))
    raw = float(ds.traits["Y"].mean())  # the raw means carry each line's trials' effects
    assert abs(out["Y"].iloc[0] - raw) > 0.05
    plain = predict.train(registry, ds, "mean", ["Y"], covariates="none", trials="none")
    assert plain.design is None
    assert predict.predict(plain, ds)["Y"].iloc[0] == pytest.approx(raw)


def test_declared_covariates_are_fitted_and_needed_through_the_api():
    ds = design_spy.design_dataset(type("C", (), {"options": {}})())
    trained = predict.train(_design_registry(), ds, "ridge", ["W"], trials="none")
    assert trained.design.covariates == ["sex"]
    assert trained.design.effects["W"][0] == pytest.approx(5.0, abs=1.0)
    with pytest.raises(GpbenchError, match="covariates= in Python"):
        predict.predict(trained, ds)
    with_sex = predict.predict(trained, ds, covariates=ds.covariates)
    without = predict.predict(trained, ds, covariates=ds.covariates.assign(sex="F"))
    male = ds.covariates["sex"].to_numpy() == "M"
    diff = (with_sex["W"] - without["W"]).to_numpy()
    assert diff[male] == pytest.approx(trained.design.effects["W"][0])
    assert diff[~male] == pytest.approx(0.0)
