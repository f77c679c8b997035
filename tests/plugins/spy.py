"""Test plugin: a dataset whose first marker column is the sample index, and models that
record every sample they are shown (fit, validation, predict), or fail on purpose."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gpbench import DataConfig, Dataset, DatasetSpec, ModelSpec, hookimpl

SEEN: list[dict[str, Any]] = []


def _samples(text: Any) -> list[int]:
    """Sample numbers from a dataset option written as a comma list ("3,17,40")."""
    return [int(i) for i in str(text).split(",")]


def indexed_dataset(config: DataConfig) -> Dataset:
    n = int(config.options.get("n", 60))
    if config.options.get("load_sleep"):  # a slow dataset: loading must not count as a unit
        import time

        time.sleep(float(config.options["load_sleep"]))
    rng = np.random.default_rng(1)
    G = rng.integers(0, 2, size=(n, 20)).astype(np.float64)
    G[:, 0] = np.arange(n)  # the spy reads sample identity from this column
    y1 = G[:, 1:6].sum(1) + rng.normal(size=n)
    y2 = G[:, 3:9].sum(1) + rng.normal(size=n)
    y1[::7] = np.nan  # missing values
    if config.options.get("b_measured"):  # trait B measured on these sample numbers only
        keep = np.zeros(n, bool)
        keep[_samples(config.options["b_measured"])] = True
        y2[~keep] = np.nan
    elif config.options.get("b_cases"):  # a rare binary trait B: 1 on these samples, else 0
        y2 = np.zeros(n)
        y2[_samples(config.options["b_cases"])] = 1.0
    else:
        y2[1::9] = np.nan
    traits = pd.DataFrame({"A": y1, "B": y2}, index=[f"s{i}" for i in range(n)])
    markers = pd.DataFrame({"chrom": ["chr01"] * 20, "pos": np.arange(20)},
                           index=[f"m{i}" for i in range(20)])
    return Dataset("indexed", G, traits, markers, "1", "abc")


class Spy:
    def __init__(self, options: dict[str, Any], context: Any) -> None:
        self.options, self.context = options, context

    def fit(self, X: np.ndarray, Y: np.ndarray, valid: Any = None) -> None:
        if self.options.get("sleep"):
            import time

            time.sleep(self.options["sleep"])
        if self.options.get("crash"):
            import os
            import signal

            os.kill(os.getpid(), signal.SIGKILL)  # like the kernel's out-of-memory killer
        self.event = {"options": dict(self.options), "seed": self.context.seed,
                      "fit": X[:, 0].astype(int).tolist(),
                      "fit_nan": int(np.isnan(Y).sum()), "n_traits": Y.shape[1],
                      "valid": valid[0][:, 0].astype(int).tolist() if valid else []}
        SEEN.append(self.event)
        Y = np.nan_to_num(Y, nan=np.nanmean(Y))
        self.coef = np.linalg.lstsq(np.c_[np.ones(len(X)), X[:, 1:]], Y, rcond=None)[0]
        if self.context.report:
            self.context.report(1, 0.5)

    def predict(self, X: np.ndarray) -> np.ndarray:
        self.event["predict"] = X[:, 0].astype(int).tolist()  # the last call's rows
        self.event.setdefault("predicts", []).append(self.event["predict"])  # every call's
        if self.options.get("fail"):
            raise RuntimeError("boom on purpose")
        out = np.c_[np.ones(len(X)), X[:, 1:]] @ self.coef
        if self.options.get("bad") == "shape":
            return out[:-1]
        if self.options.get("bad") == "nan":
            out[0] = np.nan
        return out


class SpyOOF(Spy):
    """A spy with ``fit_oof``: records the rows it is fitted on (all of them) and answers each
    inner fold by a least-squares fit without that fold's rows."""

    def fit_oof(self, X: np.ndarray, Y: np.ndarray, fold: np.ndarray) -> np.ndarray:
        self.fit(X, Y)
        self.event["oof_folds"] = int(len(np.unique(fold)))
        oof = np.empty(Y.shape)
        A = np.c_[np.ones(len(X)), X[:, 1:]]
        for f in np.unique(fold):
            b = fold == f
            oof[b] = A[b] @ np.linalg.lstsq(A[~b], Y[~b], rcond=None)[0]
        return oof


def _space(trial: Any) -> dict[str, Any]:
    # the option is derived from Optuna's raw parameter, as log-scale or coupled options are
    return {"alpha": 10 ** trial.suggest_float("log_alpha", -3.0, 0.0)}


@hookimpl
def register_datasets(register: Any) -> None:
    register(DatasetSpec("indexed", indexed_dataset, "sample index in column 0",
                         options={"n": 60, "load_sleep": 0, "b_measured": "", "b_cases": ""}))


def _by_device(options: dict[str, Any], context: Any) -> dict[str, Any]:
    # like the transformer's profile "auto": the resolved device picks the effective option
    if options.get("profile") == "auto":
        return {**options, "profile": "big" if context.device == "cuda" else "small"}
    return options


@hookimpl
def register_models(register: Any) -> None:
    opts = {"alpha": 0.0, "fail": False, "bad": "", "sleep": 0, "crash": False}
    register(ModelSpec("spy-gpu", Spy, {**opts, "profile": "auto"}, accelerator=True,
                       resolve_options=_by_device))
    register(ModelSpec("spy", Spy, opts, search_space=_space))
    register(ModelSpec("spy-val", Spy, opts, uses_validation=True, search_space=_space))
    register(ModelSpec("spy-oof", SpyOOF, opts))
    register(ModelSpec("spy-mt", Spy, opts, multi_trait=True, uses_validation=True,
                       search_space=_space))
