"""Test plugin: a dataset with a covariate (sex) and per-trial records, and a model that
records the targets it is fitted on, to show that test rows never shape the design estimates."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gpbench import DataConfig, Dataset, DatasetSpec, ModelSpec, hookimpl

FITTED: list[dict[str, Any]] = []
N = 60
TRIALS = ("t0", "t1", "t2", "t3")


def design_dataset(config: DataConfig) -> Dataset:
    """Trait "W" = genetics + a sex effect; trait "Y" has per-trial records (each sample in
    two of four trials with large trial effects; the trait column is the plain mean). Option
    ``perturb``: sample numbers whose phenotypes, records and sex are changed."""
    rng = np.random.default_rng(3)
    G = rng.integers(0, 2, size=(N, 12)).astype(np.float64)
    G[:, 0] = np.arange(N)  # sample identity, as in the spy dataset
    ids = [f"s{i}" for i in range(N)]
    sex = np.where(np.arange(N) % 2 == 0, "F", "M").astype(object)
    genetic = G[:, 1:7].sum(1)
    w = genetic + np.where(sex == "M", 5.0, 0.0) + rng.normal(size=N)
    effect = dict(zip(TRIALS, (10.0, -4.0, 0.0, -6.0), strict=True))
    rows = []
    for i in range(N):
        for t in rng.choice(TRIALS, size=2, replace=False):
            rows.append((ids[i], str(t), "Y", genetic[i] + effect[str(t)] + rng.normal()))
    rows.append(("check1", "t0", "Y", 13.0))  # a check variety: not a sample, never tested
    records = pd.DataFrame(rows, columns=["sample", "trial", "trait", "value"])
    if config.options.get("perturb"):
        changed = [int(i) for i in str(config.options["perturb"]).split(",")]
        w[changed] += 100.0
        sex[changed] = "M"
        mask = records["sample"].isin([ids[i] for i in changed])
        records.loc[mask, "value"] += 50.0 + np.arange(int(mask.sum()))
    y = records[records["sample"].isin(ids)].groupby("sample")["value"].mean().reindex(ids)
    traits = pd.DataFrame({"W": w, "Y": y.to_numpy()}, index=ids)
    markers = pd.DataFrame({"chrom": ["1"] * 12, "pos": np.arange(12.0)},
                           index=[f"m{j}" for j in range(12)])
    return Dataset("design", G, traits, markers, "1", "design-spy",
                   covariates=pd.DataFrame({"sex": sex}, index=ids), trial_records=records)


class TargetSpy:
    """Ridge-free least squares on two markers that records what it is fitted on."""

    def __init__(self, options: dict[str, Any], context: Any) -> None:
        self.options = options

    def fit(self, X: np.ndarray, Y: np.ndarray, valid: Any = None) -> None:
        FITTED.append({"fit": X[:, 0].astype(int).tolist(), "Y": Y[:, 0].tolist()})
        A = np.c_[np.ones(len(X)), X[:, 1:3]]
        self.coef = np.linalg.lstsq(A, Y, rcond=None)[0]

    def predict(self, X: np.ndarray) -> np.ndarray:
        FITTED[-1]["predict"] = X[:, 0].astype(int).tolist()
        return np.c_[np.ones(len(X)), X[:, 1:3]] @ self.coef


@hookimpl
def register_datasets(register: Any) -> None:
    register(DatasetSpec("design", design_dataset, "covariate and trial records",
                         options={"perturb": ""}))


@hookimpl
def register_models(register: Any) -> None:
    register(ModelSpec("target-spy", TargetSpy, {}))
