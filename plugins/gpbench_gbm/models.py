"""LightGBM regression with early stopping on the host's inner validation split.

What ``fit`` does, all on the training data passed to it:

1. **Marker thinning** (``ld_thin``): walking the markers in order, a marker is dropped when it
   differs from the last kept marker in at most ``ld_thin`` x n training samples. Neighbouring
   markers in a cross are nearly identical, and a tree gains nothing from near-copies of a split
   it already has; on the yeast data (11,623 markers) the default ``ld_thin=0.005`` keeps about
   3,900, which makes a fit about 3x faster for ~0.01 R² (docs/notes/gbm-dev.md). On diverse panels
   (rice) it keeps nearly every marker.
   **Marker cap** (``max_markers``, 0 = none): when more markers than that remain, an evenly
   spaced subset of them (by marker order) is kept. A fit's cost grows with the number of
   markers, and on dense panels of 25-40k markers (rice, maize) neighbours carry nearly the same
   information; the choice uses marker positions only, never genotypes or phenotypes. The
   default 5,000 is a time-budget trade-off (it halved mice's fit time, docs/notes/gbm-dev.md): on
   development traits it costs ~0.02 R² where it binds (apricot, maize-drops;
   docs/notes/gbm-defaults-recheck.md).
   The kept columns are remembered and selected again in ``predict``.
2. **Target scaling**: y is centred and scaled by the training mean/sd, so penalties and
   ``min_sum_hessian`` mean the same for every trait; predictions are scaled back.
3. **Boosting with early stopping** on ``valid`` (the host's inner split), at most
   ``num_boost_round`` rounds, stopping after ``early_stopping_rounds`` without improvement.
   When ``valid`` is None, ``valid_fraction`` of the training rows (seeded) are held out instead.
   Every ``report_every`` rounds the validation R^2 goes to ``context.report`` (Optuna pruning;
   an exception it raises, e.g. ``optuna.TrialPruned``, propagates).
4. **Refit** (``refit_scale`` > 0): a second model on train + valid with
   ``round(best_iteration * refit_scale)`` rounds; that model predicts.

How the defaults were chosen (experiments, figures): docs/notes/gbm-dev.md (the current ones, by CV
on yeast development traits), docs/notes/gbm-defaults-recheck.md (re-checked on the collection's
non-default traits) and docs/notes/gbm-defaults.md (the first release's).

``max_bin=3`` keeps 0/1/2 dosages apart; binary 0/1 markers get two bins whatever it is.
``force_col_wise`` and ``deterministic`` make the result independent of LightGBM's timing-based
choices, so the same seed gives the same predictions. The model runs on the CPU whatever
``context.device`` is (LightGBM's GPU build is rarely installed and not faster at this size).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from gpbench import ModelContext, read_model_json, write_model_json

# Chosen on yeast development traits (fold seed 1), never Lactate/Lactose: docs/notes/gbm-dev.md.
# Before (lr 0.05, 15 leaves, min_data_in_leaf 10, lambda_l2 1, 2,000 rounds, patience 100) the
# mean R² was 0.427 on yeast; now 0.446. Re-checked on the collection's non-default traits
# (gbm-dev.md's collection half used scored traits): 0.209 -> 0.218 over 6 datasets
# (docs/notes/gbm-defaults-recheck.md). max_markers (for the whole-collection time budget)
# leaves yeast unchanged.
DEFAULTS: dict[str, Any] = {
    "learning_rate": 0.02,
    "num_leaves": 8,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.2,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l1": 0.0,
    "lambda_l2": 0.0,
    "max_bin": 3,
    "num_boost_round": 3000,
    "early_stopping_rounds": 200,
    "ld_thin": 0.005,
    "max_markers": 5000,
    "refit_scale": 1.25,
    "valid_fraction": 0.2,
    "report_every": 10,
}

SAVE_FORMAT = 1  # version of what ``LightGBMModel.save`` writes

_LGB_KEYS = ("learning_rate", "num_leaves", "min_data_in_leaf", "feature_fraction",
             "bagging_fraction", "bagging_freq", "lambda_l1", "lambda_l2", "max_bin")


def thin_markers(X: np.ndarray, max_diff: float) -> np.ndarray:
    """Indices of markers kept: each differs from the previous kept one in > max_diff*n rows."""
    p = X.shape[1]
    if max_diff <= 0 or p == 0:
        return np.arange(p)
    limit = max_diff * X.shape[0]
    keep = [0]
    last = X[:, 0]
    for j in range(1, p):
        col = X[:, j]
        if np.count_nonzero(col != last) > limit:
            keep.append(j)
            last = col
    return np.asarray(keep, dtype=np.int64)


def cap_markers(cols: np.ndarray, max_markers: int) -> np.ndarray:
    """At most ``max_markers`` of ``cols``, evenly spaced in their order (all if 0 or fewer)."""
    if max_markers <= 0 or len(cols) <= max_markers:
        return cols
    picks = np.unique(np.linspace(0, len(cols) - 1, max_markers).round().astype(np.int64))
    return cols[picks]


def _r2(l2: float, var: float) -> float:
    return 1.0 - l2 / var if var > 0 else 0.0


class LightGBMModel:
    """Single-trait LightGBM regressor; see the module docstring."""

    def __init__(self, options: dict[str, Any], context: ModelContext) -> None:
        self.o = {**DEFAULTS, **options}
        self.ctx = context
        self.fit_info: dict[str, Any] = {}

    def _params(self) -> dict[str, Any]:
        p = {k: self.o[k] for k in _LGB_KEYS}
        p.update(objective="regression", metric="l2", verbosity=-1, deterministic=True,
                 force_col_wise=True, seed=int(self.ctx.seed),
                 num_threads=max(1, int(self.ctx.n_threads or 1)),
                 feature_pre_filter=False)
        if float(p["bagging_fraction"]) >= 1.0:
            p["bagging_freq"] = 0
        return p

    def _dataset(self, X: np.ndarray, y: np.ndarray) -> lgb.Dataset:
        return lgb.Dataset(X, y, free_raw_data=True,
                           params={"max_bin": int(self.o["max_bin"]), "verbosity": -1,
                                   "feature_pre_filter": False,
                                   # binning too runs on the unit's threads, not every core
                                   "num_threads": max(1, int(self.ctx.n_threads or 1))})

    def fit(self, X: np.ndarray, Y: np.ndarray,
            valid: tuple[np.ndarray, np.ndarray] | None = None) -> LightGBMModel:
        X = np.asarray(X)
        y = np.asarray(Y, dtype=np.float64).reshape(len(X), -1)[:, 0]
        own_split = valid is None
        if own_split:
            rng = np.random.default_rng(self.ctx.seed)
            n_val = int(round(len(y) * float(self.o["valid_fraction"])))
            n_val = min(max(n_val, 1), len(y) - 1)
            perm = rng.permutation(len(y))
            Xt, yt = X[perm[n_val:]], y[perm[n_val:]]
            Xv, yv = X[perm[:n_val]], y[perm[:n_val]]
        else:
            Xt, yt = X, y
            Xv = np.asarray(valid[0])
            yv = np.asarray(valid[1], dtype=np.float64).reshape(len(Xv), -1)[:, 0]

        self.cols = cap_markers(thin_markers(Xt, float(self.o["ld_thin"])),
                                int(self.o["max_markers"]))
        self.y_mean = float(yt.mean())
        self.y_sd = float(yt.std()) or 1.0
        scale = lambda v: (v - self.y_mean) / self.y_sd  # noqa: E731
        Xt_s = np.ascontiguousarray(Xt[:, self.cols], dtype=np.float32)
        Xv_s = np.ascontiguousarray(Xv[:, self.cols], dtype=np.float32)
        zt, zv = scale(yt), scale(yv)
        var_v = float(np.var(zv))

        params = self._params()
        # Bin the training rows once (train + valid: both are the training fold); the early-
        # stopped model and the refit use subsets/all of it, so LightGBM's binning, the costly
        # part with tens of thousands of markers, runs once instead of three times.
        n_t = len(zt)
        dall = self._dataset(np.concatenate([Xt_s, Xv_s]), np.concatenate([zt, zv])).construct()
        dtrain = dall.subset(np.arange(n_t))
        dvalid = dall.subset(np.arange(n_t, n_t + len(zv)))
        history: dict[str, list[float]] = {}
        callbacks = [lgb.record_evaluation(history),
                     lgb.early_stopping(int(self.o["early_stopping_rounds"]), verbose=False)]
        report, every = self.ctx.report, max(1, int(self.o["report_every"]))
        if report is not None:
            def _report(env: Any) -> None:
                it = env.iteration + 1
                if it % every == 0:
                    l2 = next(r[2] for r in env.evaluation_result_list if r[0] == "valid")
                    report(it, _r2(l2, var_v))
            callbacks.append(_report)
        booster = lgb.train(params, dtrain, num_boost_round=int(self.o["num_boost_round"]),
                            valid_sets=[dtrain, dvalid], valid_names=["train", "valid"],
                            callbacks=callbacks)
        best = int(booster.best_iteration) or booster.current_iteration()
        valid_l2 = [float(v) for v in history["valid"]["l2"]]
        train_l2 = [float(v) for v in history["train"]["l2"]]

        n_rounds = best
        refit = float(self.o["refit_scale"])
        if refit > 0:
            n_rounds = max(1, int(round(best * refit)))
            del dtrain, dvalid
            booster = lgb.train(params, dall, num_boost_round=n_rounds)
            self.num_iteration = n_rounds
        else:
            self.num_iteration = best
        self.booster = booster
        self.fit_info = {
            "best_iteration": best, "n_rounds": n_rounds,
            "stopped_at": len(valid_l2), "refit": refit > 0,
            "valid_source": "own split" if own_split else "host",
            "n_train": int(len(yt)), "n_valid": int(len(yv)),
            # rows the predicting model was trained on: the refit sees train + valid
            "n_fit": int(len(yt) + len(yv)) if refit > 0 else int(len(yt)),
            "n_markers_used": int(len(self.cols)), "n_markers": int(X.shape[1]),
            "best_valid_r2": _r2(valid_l2[best - 1], var_v) if valid_l2 else None,
            "history": {"iteration": list(range(1, len(valid_l2) + 1)),
                        "train_l2": train_l2, "valid_l2": valid_l2},
        }
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        Xs = np.ascontiguousarray(np.asarray(X)[:, self.cols], dtype=np.float32)
        z = self.booster.predict(Xs, num_iteration=self.num_iteration)
        return (z * self.y_sd + self.y_mean).reshape(-1, 1)

    def save(self, directory: Path) -> None:
        """LightGBM's text model, the kept marker columns (.npy) and the scaling (JSON)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(directory / "booster.txt"))
        np.save(directory / "cols.npy", np.asarray(self.cols, dtype=np.int64))
        write_model_json(directory, "lightgbm", SAVE_FORMAT,
                         {"y_mean": self.y_mean, "y_sd": self.y_sd,
                          "num_iteration": self.num_iteration, "options": self.o})

    @classmethod
    def load(cls, directory: Path, context: ModelContext) -> LightGBMModel:
        """Rebuild a model written by ``save`` (no pickle: text model, .npy, JSON)."""
        directory = Path(directory)
        meta = read_model_json(directory, "lightgbm", SAVE_FORMAT)
        model = cls(meta["options"], context)
        model.booster = lgb.Booster(model_file=str(directory / "booster.txt"))
        model.cols = np.load(directory / "cols.npy", allow_pickle=False)
        model.y_mean, model.y_sd = float(meta["y_mean"]), float(meta["y_sd"])
        model.num_iteration = int(meta["num_iteration"])
        return model
