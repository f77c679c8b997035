"""Probes of gbm's margins on mice body weight and soynam (outer folds of fold seed 0).

Each probe refits a model on one outer fold of the committed collection leaderboard with one
piece of information removed or added, through gpbench's own fold masks and per-fold
preprocessing (QC and mean imputation on the training rows):

- ``mice-gbm-noX``: gbm without the chromosome-X markers.
- ``mice-gblup-sex``: sex called from X heterozygosity (> 20% heterozygous X calls = female;
  fixed threshold) as a fixed effect (training-row means), GBLUP on the residuals.
- ``soynam-ridge-missing``: ridge on the markers plus one 0/1 missing-call indicator per marker.
- ``soynam-ridge-random`` / ``soynam-gbm-random``: missing calls replaced by random draws from
  the training rows' allele frequencies (hides which calls were missing).

    python docs/scripts/structure_probe.py PROBE TRAIT FOLD[,FOLD...]
"""
import sys
import tempfile
from pathlib import Path

import numpy as np
from structure_baselines import called_female

from gpbench import ModelContext
from gpbench.data.preprocess import FoldPreprocessor
from gpbench.plugins import load_registry
from gpbench.running.fitting import _fit_rows, unit_data
from gpbench.running.plan import RunConfig, plan_run
from gpbench.running.units import Environment


def _r2(y: np.ndarray, p: np.ndarray) -> float:
    return float(1 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2))


def probe(name: str, trait: str, fold: int, data_dir: Path) -> float:
    dataset = name.split("-")[0]
    reg = load_registry()
    cfg = RunConfig(models=["ridge"], dataset=dataset, traits=[trait], k=5, seed=0,
                    out=Path(tempfile.mkdtemp()), data_dir=data_dir)
    unit = next(u for u in plan_run(cfg, reg).units if u.fold == fold)
    d = unit_data(unit, Environment(registry=reg))
    fit, valid = _fit_rows(d.measured, d.train, d.inner, True)
    train, test = fit | valid, d.test & d.measured
    pre = FoldPreprocessor.fit(d.X[train], maf=unit.maf, min_call_rate=unit.min_call_rate)
    y = d.Y[:, :1]
    ctx = ModelContext(seed=fold, n_threads=2)
    rng = np.random.default_rng(fold)
    freq = np.nanmean(d.X[train][:, pre.keep].astype(np.float64), axis=0) / 2

    def random_fill(rows: np.ndarray) -> np.ndarray:
        Z = d.X[rows][:, pre.keep].astype(np.float64)
        miss = np.isnan(Z)
        Z[miss] = rng.binomial(2, np.broadcast_to(freq, Z.shape))[miss]
        return Z

    if name.startswith("mice"):
        chrom = d.dataset.markers["chrom"].astype(str).to_numpy()[pre.keep]
        auto = chrom != "X"
    if name == "mice-gbm-noX":
        m = reg.model("gbm").build({}, ctx)
        m.fit(pre.transform(d.X[fit])[:, auto], y[fit],
              valid=(pre.transform(d.X[valid])[:, auto], y[valid]))
        pred = m.predict(pre.transform(d.X[test])[:, auto])
    elif name == "mice-gblup-sex":
        X, Xt = pre.transform(d.X[train]), pre.transform(d.X[test])
        s, st = called_female(X[:, ~auto]), called_female(Xt[:, ~auto])
        mu = {v: float(y[train][s == v].mean()) for v in (False, True)}
        fixed = np.array([mu[v] for v in s])[:, None]
        m = reg.model("gblup").build({}, ctx).fit(X, y[train] - fixed)
        pred = m.predict(Xt) + np.array([mu[v] for v in st])[:, None]
    elif name == "soynam-ridge-missing":
        aug = lambda rows: np.hstack([pre.transform(d.X[rows]),  # noqa: E731
                                      np.isnan(d.X[rows][:, pre.keep]).astype(np.float64)])
        pred = reg.model("ridge").build({}, ctx).fit(aug(train), y[train]).predict(aug(test))
    elif name == "soynam-ridge-random":
        pred = reg.model("ridge").build({}, ctx).fit(random_fill(train), y[train]).predict(
            random_fill(test))
    elif name == "soynam-gbm-random":
        m = reg.model("gbm").build({}, ctx)
        m.fit(random_fill(fit), y[fit], valid=(random_fill(valid), y[valid]))
        pred = m.predict(random_fill(test))
    else:
        raise SystemExit(f"unknown probe {name!r}; see the module docstring")
    return _r2(y[test][:, 0], np.asarray(pred)[:, 0])


if __name__ == "__main__":
    name, trait, folds = sys.argv[1], sys.argv[2], sys.argv[3]
    for f in (int(x) for x in folds.split(",")):
        print(name, trait, "fold", f, "test R2", round(probe(name, trait, f, Path(
            "../shared/data")), 3), flush=True)
