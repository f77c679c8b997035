"""Nested hyperparameter search with Optuna, entirely inside one outer training fold.

Each trial fits on the training fold minus the inner validation samples and is scored on the
inner validation samples (mean PCC over traits by default). Models that early-stop get a second
split carved from the trial's training part, so the samples that score a trial never steer its
early stopping. The outer test fold is never passed in. After the search the runner refits the
best options on the whole training fold and scores the test fold once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import GpbenchError
from .protocol import inner_validation_mask
from .types import ModelContext, ModelSpec


def _score(metric: str, Y: np.ndarray, P: np.ndarray) -> float:
    vals = []
    for j in range(Y.shape[1]):
        m = ~np.isnan(Y[:, j])
        yt, yp = Y[m, j], P[m, j]
        if len(yt) < 3:
            continue
        if metric == "pcc":
            if np.std(yp) == 0 or np.std(yt) == 0:
                vals.append(0.0)
            else:
                vals.append(float(np.corrcoef(yt, yp)[0, 1]))
        else:  # r2
            vals.append(1.0 - float(np.sum((yt - yp) ** 2) / np.sum((yt - yt.mean()) ** 2)))
    return float(np.mean(vals)) if vals else float("nan")


def tune(spec: ModelSpec, unit: Any, X: np.ndarray, Y: np.ndarray, train_rows: np.ndarray,
         ids: np.ndarray, *, who: str, base_options: Mapping[str, Any]) -> dict[str, Any]:
    """Search ``spec.search_space`` with ``unit.tune.n_trials`` trials on ``train_rows`` only."""
    import optuna

    from .runner import fit_predict

    if spec.search_space is None:
        raise GpbenchError(f"{who} declares no search space, so --tune cannot tune it; "
                           "run it without --tune or add search_space to its ModelSpec")
    cfg = unit.tune
    tr_idx = np.flatnonzero(train_rows)
    score_mask = inner_validation_mask(ids[tr_idx], unit.seed, unit.repeat, unit.fold,
                                       unit.inner_fraction)
    score_rows = np.zeros(len(ids), bool)
    score_rows[tr_idx[score_mask]] = True
    fit_rows = np.zeros(len(ids), bool)
    fit_rows[tr_idx[~score_mask]] = True
    stop_rows = None
    if spec.uses_validation:
        fi = np.flatnonzero(fit_rows)
        stop_mask = inner_validation_mask(ids[fi], unit.seed + 7919, unit.repeat, unit.fold,
                                          unit.inner_fraction)
        stop_rows = np.zeros(len(ids), bool)
        stop_rows[fi[stop_mask]] = True
        fit_rows[fi[stop_mask]] = False

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    seed = unit.seed * 1000 + unit.repeat * 100 + unit.fold
    study = optuna.create_study(
        study_name=f"gpbench-{unit.unit_id}", storage=cfg.storage, load_if_exists=True,
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=5))

    def objective(trial: optuna.Trial) -> float:
        params = spec.search_space(trial)

        def report(step: int, value: float) -> None:
            trial.report(value, step)
            if trial.should_prune():
                raise optuna.TrialPruned()

        ctx = ModelContext(seed=seed, n_threads=unit.n_threads, device=unit.device,
                           report=report)
        pred, _, _ = fit_predict(spec, {**base_options, **params}, ctx, X, Y, fit_rows,
                                 stop_rows, score_rows, who)
        value = _score(cfg.metric, Y[score_rows], pred)
        if not np.isfinite(value):
            raise optuna.TrialPruned()
        return value

    done = len([t for t in study.trials if t.state.is_finished()])
    remaining = max(cfg.n_trials - done, 0)
    if remaining:
        study.optimize(objective, n_trials=remaining, timeout=cfg.timeout_s,
                       catch=(ValueError, ArithmeticError))
    completed = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not completed:
        raise GpbenchError(f"{who}: no tuning trial completed; see the trial errors above")
    best = study.best_trial
    return {"best_params": best.params, "best_value": best.value, "metric": cfg.metric,
            "n_trials": len(study.trials), "n_complete": len(completed),
            "n_pruned": len([t for t in study.trials
                             if t.state == optuna.trial.TrialState.PRUNED]),
            "n_fit": int(fit_rows.sum()), "n_score": int(score_rows.sum())}
