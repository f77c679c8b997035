"""Nested hyperparameter search with Optuna, entirely inside one outer training fold.

Each trial fits on the training fold minus the inner validation samples and is scored on the
inner validation samples with a registered metric (by default r2, the leaderboard's metric,
averaged over traits; ``--tune-metric`` picks another; a lower-is-better metric is negated).
Models that early-stop get a second split carved from the trial's training part, so the
samples that score a trial never steer its early stopping. The outer test fold is never passed
in. After the search the runner fits the best trial's options once more, on the same rows as an
untuned unit (the training fold; minus the inner split for models that early-stop), and scores
the test fold once. Those options are what the search space returned for that trial (stored as
the trial's user attribute "options"), not Optuna's raw parameters, which may differ (a
log-scale or derived option).

With ``TuneConfig.jobs > 1`` the trials of one study run in several processes that share it
through an Optuna RDB storage (``--optuna-storage``; a temporary SQLite file when none is
given). On a cluster, point every worker at the same PostgreSQL URL.
"""

from __future__ import annotations

import multiprocessing as mp
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gpbench.api.errors import GpbenchError
from gpbench.api.types import MetricSpec, ModelContext, ModelSpec
from gpbench.running.fitting import UnitData, fit_predict, unit_data
from gpbench.running.protocol import inner_validation_mask

if TYPE_CHECKING:
    from gpbench.running.units import Environment, Unit


MIN_SCORE_ROWS = 3  # measured rows a trait needs on the scoring split to be scored


def _score(metric: MetricSpec, Y: np.ndarray, P: np.ndarray) -> float:
    """Mean of a registered metric over traits, each on its measured rows (higher = better)."""
    vals = []
    for j in range(Y.shape[1]):
        m = ~np.isnan(Y[:, j])
        if m.sum() < MIN_SCORE_ROWS:
            continue
        value = float(metric.fn(Y[m, j], P[m, j]))
        vals.append(value if metric.higher_is_better else -value)
    return float(np.mean(vals)) if vals else float("nan")


@dataclass
class TuningRows:
    fit: np.ndarray
    stop: np.ndarray | None
    score: np.ndarray


def tuning_rows(unit: Unit, d: UnitData) -> TuningRows:
    """Rows for trials, all inside ``d.train``: fit, early-stopping and scoring rows."""
    train_rows = d.train & d.measured
    ids = d.ids
    tr_idx = np.flatnonzero(train_rows)
    score_mask = inner_validation_mask(ids[tr_idx], unit.seed, unit.repeat, unit.fold,
                                       unit.inner_fraction)
    score = np.zeros(len(ids), bool)
    score[tr_idx[score_mask]] = True
    fit = np.zeros(len(ids), bool)
    fit[tr_idx[~score_mask]] = True
    stop = None
    if d.spec.uses_validation:
        fi = np.flatnonzero(fit)
        stop_mask = inner_validation_mask(ids[fi], unit.seed + 7919, unit.repeat, unit.fold,
                                          unit.inner_fraction)
        stop = np.zeros(len(ids), bool)
        stop[fi[stop_mask]] = True
        fit[fi[stop_mask]] = False
    return TuningRows(fit, stop, score)


def is_tunable(spec: ModelSpec) -> bool:
    """True when ``spec`` has a search space that suggests something (a space that returns {}
    without suggesting anything would run N identical trials)."""
    if spec.search_space is None:
        return False
    import optuna

    try:  # a FixedTrial without parameters raises as soon as anything is suggested
        return spec.search_space(optuna.trial.FixedTrial({})) != {}
    except Exception:  # noqa: BLE001 - it suggested something (or needs a real trial)
        return True


def _jsonable_options(params: Mapping[str, Any]) -> dict[str, Any]:
    """The search space's options as plain JSON values (storages keep user attributes as
    JSON)."""
    out = {}
    for key, value in params.items():
        out[str(key)] = value.item() if isinstance(value, np.generic) else value
    return out


def _study(unit: Unit, storage: str | None, worker: int = 0) -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(
        study_name=f"gpbench-{unit.unit_id}", storage=storage, load_if_exists=True,
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=unit.model_seed + worker),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=5))


def _optimize(unit: Unit, d: UnitData, rows: TuningRows, study: Any, n_trials: int,
              base_options: Mapping[str, Any], metric: MetricSpec,
              get_model: Callable[[str], ModelSpec] | None = None) -> None:
    import optuna

    cfg = unit.tune

    def objective(trial: optuna.Trial) -> float:
        params = d.spec.search_space(trial)
        trial.set_user_attr("options", _jsonable_options(params))

        def report(step: int, value: float) -> None:
            trial.report(value, step)
            if trial.should_prune():
                raise optuna.TrialPruned()

        ctx = ModelContext(seed=unit.model_seed, markers=d.dataset.markers,
                           n_threads=unit.n_threads, device=unit.device, report=report,
                           get_model=get_model)
        pred, _, _ = fit_predict(d.spec, {**base_options, **params}, ctx, d.X, d.Y, rows.fit,
                                 rows.stop, rows.score, d.who, maf=unit.maf,
                                 min_call_rate=unit.min_call_rate)
        value = _score(metric, d.Y[rows.score], pred)
        if not np.isfinite(value):
            raise optuna.TrialPruned()
        return value

    if n_trials > 0:
        study.optimize(objective, n_trials=n_trials, timeout=cfg.timeout_s,
                       catch=(ValueError, ArithmeticError))


def _worker(unit: Unit, env: Environment, storage: str, n_trials: int, worker: int,
            base_options: dict[str, Any]) -> None:
    d = unit_data(unit, env)
    metric = env.get_registry().metric(unit.tune.metric)
    _optimize(unit, d, tuning_rows(unit, d), _study(unit, storage, worker), n_trials,
              base_options, metric, env.get_registry().model)


def tune(unit: Unit, env: Environment, d: UnitData,
         base_options: Mapping[str, Any]) -> dict[str, Any]:
    """Run ``unit.tune.n_trials`` trials of ``d.spec.search_space`` on the training fold."""
    import optuna

    if d.spec.search_space is None:
        raise GpbenchError(f"{d.who} declares no search space, so --tune cannot tune it; "
                           "run it without --tune or add search_space to its ModelSpec")
    cfg = unit.tune
    metric = env.get_registry().metric(cfg.metric)  # unknown names fail before any trial
    rows = tuning_rows(unit, d)
    n_score = int(max((~np.isnan(d.Y[rows.score])).sum(axis=0), default=0))
    if n_score < MIN_SCORE_ROWS:  # no trait could be scored: every trial would be pruned
        raise GpbenchError(f"{d.who}: the training fold leaves {n_score} measured rows to score "
                           f"tuning trials, {MIN_SCORE_ROWS} needed; use fewer --folds or run "
                           "without --tune")
    storage = cfg.storage
    tmp = None
    if cfg.jobs > 1 and storage is None:
        tmp = tempfile.TemporaryDirectory(prefix="gpbench-tune-")
        storage = f"sqlite:///{Path(tmp.name) / 'study.db'}"
    try:
        study = _study(unit, storage)
        done = len([t for t in study.trials if t.state.is_finished()])
        remaining = max(cfg.n_trials - done, 0)
        shares = [remaining // cfg.jobs + (i < remaining % cfg.jobs)
                  for i in range(max(cfg.jobs, 1))]
        procs = []
        if cfg.jobs > 1:
            ctx = mp.get_context("spawn")
            for i, share in enumerate(shares[1:], start=1):
                if share:
                    p = ctx.Process(target=_worker, args=(unit, env, storage, share, i,
                                                          dict(base_options)))
                    p.start()
                    procs.append(p)
        _optimize(unit, d, rows, study, shares[0], base_options, metric,
                  env.get_registry().model)
        for p in procs:
            p.join()
            if p.exitcode != 0:
                raise GpbenchError(f"{d.who}: a tuning worker failed (exit code {p.exitcode})")
        if procs:  # re-read the shared storage for the other workers' trials
            study = _study(unit, storage)
        trials = study.trials
    finally:
        if tmp is not None:
            tmp.cleanup()
    completed = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not completed:
        pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in trials)
        raise GpbenchError(f"{d.who}: no tuning trial completed ({pruned} pruned, "
                           f"{len(trials) - pruned} failed: see the trial errors above)")
    best = max(completed, key=lambda t: t.value)
    options = best.user_attrs.get("options")
    if options is None:  # a trial stored by an older gpbench: re-run the space on its params
        options = d.spec.search_space(optuna.trial.FixedTrial(best.params))
    return {"best_params": options, "optuna_params": best.params, "best_value": best.value,
            "metric": cfg.metric,
            "n_trials": len(trials), "n_complete": len(completed),
            "n_pruned": len([t for t in trials if t.state == optuna.trial.TrialState.PRUNED]),
            "n_fit": int(rows.fit.sum()), "n_score": int(rows.score.sum()), "jobs": cfg.jobs}
