"""Measuring helpers for the benchmarks: peak memory of a block, one outer fold of a model."""

from __future__ import annotations

import resource
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gpbench.api.types import ModelContext
from gpbench.running.fitting import fit_predict
from gpbench.running.protocol import inner_validation_mask, make_folds


class PeakMemory:
    """Peak traced allocation (numpy and torch CPU tensors included) of a block, in MiB."""

    def __enter__(self) -> PeakMemory:
        tracemalloc.start()
        return self

    def __exit__(self, *exc: object) -> None:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        self.mib = peak / 2**20
        self.max_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fold_rows(data: Any, Y: np.ndarray, spec: Any) -> tuple[np.ndarray, np.ndarray | None,
                                                          np.ndarray]:
    """Fit, validation and predict rows of outer fold 0 (seed 0, 5 folds) as the runner takes
    them: inner validation rows out of the training fold for models that use them; predicted
    are the test rows with the first trait measured."""
    train = ~make_folds(data.sample_ids, 5, seed=0).test_mask(0, 0)
    measured = ~np.isnan(Y).all(1) if spec.multi_trait else ~np.isnan(Y[:, 0])
    ids = np.asarray(data.sample_ids)
    inner = np.zeros(len(ids), bool)
    inner[train] = inner_validation_mask(ids[train], 0, 0, 0)
    fit_rows = train & measured & (~inner if spec.uses_validation else True)
    valid_rows = (train & measured & inner) if spec.uses_validation else None
    return fit_rows, valid_rows, ~train & ~np.isnan(Y[:, 0])


def fit_one_outer_fold(benchmark, data, spec, traits: Sequence[str], model: str,
                       get_model: Callable[[str], Any] | None = None) -> tuple[dict, float]:
    """Fit ``spec`` with default options on the training rows of outer fold 0 (seed 0, 5 folds)
    of ``data`` as the runner would (inner validation rows taken out of the training fold
    for models that use them), predict the fold's measured test rows of the first trait and
    record time and memory in ``benchmark.extra_info``. Returns the model's fit info and the
    fold's R² on the first trait."""
    Y = data.traits[list(traits)].to_numpy()
    fit_rows, valid_rows, predict_rows = fold_rows(data, Y, spec)
    ctx = ModelContext(seed=0, markers=data.markers, n_threads=2, device="cpu",
                       get_model=get_model)

    def once():
        return fit_predict(spec, {}, ctx, data.genotypes, Y, fit_rows, valid_rows,
                           predict_rows, model)

    with PeakMemory() as mem:
        pred, info, timing = benchmark.pedantic(once, rounds=1, iterations=1)
    y = Y[predict_rows, 0]
    r2 = float(1 - np.sum((y - pred[:, 0]) ** 2) / np.sum((y - y.mean()) ** 2))
    benchmark.extra_info.update({"peak_traced_mib": round(mem.mib, 1),
                                 "max_rss_mib": round(mem.max_rss_mib, 1),
                                 "fit_s": round(timing["fit_s"], 2),
                                 f"r2_{traits[0]}_fold0": round(r2, 4)})
    return info, r2
