"""Stacked ensemble: base models combined by non-negative least squares on out-of-fold
predictions (stacked regression, Breiman 1996).

``fit`` sees only the rows the host passes to it (the outer training fold; the stack does not
ask for the host's validation split, so it gets all of them) and never the outer test fold:

1. The rows are dealt into ``inner_folds`` folds (seeded). For each inner fold, every base
   model is fitted on the other folds and predicts the held-out one, giving out-of-fold
   predictions for every row.
2. Weights ``w >= 0`` minimise ``||yc - Pc w||^2`` (``scipy.optimize.nnls``), where ``yc`` and
   the columns of ``Pc`` are centred; the intercept is ``mean(y) - mean(P) @ w``. Centring leaves
   the weights free of the intercept without a sign constraint on it.
3. Every base model with a non-zero weight is refitted on all rows; ``predict`` is the weighted
   sum plus the intercept.

Base models are built through ``context.get_model(name)`` with their default options and the
stack's context (seed, threads, device; no tuning reports). A base model that uses validation
(early stopping) gets ``valid_fraction`` of the rows it is fitted on as its validation split,
carved (seeded) from those rows. Names in ``base`` that are not registered are skipped with a
note in ``fit_info["skipped"]``; at least one must be left. Weights go to ``fit_info``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.optimize import nnls

from gpbench import GpbenchError, ModelContext, ModelSpec

DEFAULTS: dict[str, Any] = {"base": "gblup,lasso,gbm,bayesb", "inner_folds": 5,
                            "valid_fraction": 0.2}


def base_names(options: Mapping[str, Any]) -> list[str]:
    """The base model names of ``options["base"]`` (a comma-separated string or a list),
    in order, without repeats."""
    names = options.get("base", DEFAULTS["base"])
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    return list(dict.fromkeys(names))


def nnls_weights(P: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Non-negative weights and intercept for ``y ~ intercept + P @ w`` (columns of P centred
    before the fit, so the intercept is unconstrained)."""
    pm, ym = P.mean(axis=0), float(y.mean())
    w, _ = nnls(P - pm, y - ym)
    return w, ym - float(pm @ w)


class Stack:
    """Stacked ensemble of registered models; see the module docstring."""

    def __init__(self, options: dict[str, Any], context: ModelContext) -> None:
        self.o = {**DEFAULTS, **options}
        self.ctx = context
        self.fit_info: dict[str, Any] = {}
        if context.get_model is None:
            raise GpbenchError("model 'stack' needs the host's model registry "
                               "(ModelContext.get_model); run it through gpbench")
        names = base_names(self.o)
        self.specs: list[ModelSpec] = []
        self.skipped: list[str] = []
        for name in names:
            try:
                spec = context.get_model(name)
            except KeyError:  # the registry's UnknownNameError is a KeyError
                self.skipped.append(f"{name}: not registered")
                continue
            if spec.name == "stack":
                self.skipped.append(f"{name}: a stack cannot contain a stack")
            elif spec.multi_trait:
                self.skipped.append(f"{name}: multi-trait models are not stacked")
            else:
                self.specs.append(spec)
        if not self.specs:
            raise GpbenchError(f"stack: none of the base models {list(names)} can be used "
                               f"({'; '.join(self.skipped)}); set stack.base to registered "
                               "single-trait models, e.g. base=gblup,lasso")
        if int(self.o["inner_folds"]) < 2:
            raise GpbenchError("stack: inner_folds must be at least 2")

    def _base_context(self) -> ModelContext:
        c = self.ctx
        return ModelContext(seed=c.seed, markers=c.markers, n_threads=c.n_threads,
                            device=c.device, report=None, get_model=c.get_model)

    def _fit_one(self, spec: ModelSpec, X: np.ndarray, y: np.ndarray, seed: int) -> Any:
        """Build and fit one base model on rows ``X, y`` (a validation split carved from them
        when the model asks for one)."""
        model = spec.build({}, self._base_context())
        if not spec.uses_validation:
            model.fit(X, y[:, None], valid=None)
            return model
        rng = np.random.default_rng([self.ctx.seed, seed])
        n_val = min(max(int(round(len(y) * float(self.o["valid_fraction"]))), 1), len(y) - 1)
        perm = rng.permutation(len(y))
        v, t = np.sort(perm[:n_val]), np.sort(perm[n_val:])
        model.fit(X[t], y[t, None], valid=(X[v], y[v, None]))
        return model

    def _predict_one(self, model: Any, X: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict(X), np.float64).reshape(len(X), -1)[:, 0]

    def fit(self, X: np.ndarray, Y: np.ndarray, valid: Any = None) -> Stack:
        y = np.asarray(Y, dtype=np.float64).reshape(len(X), -1)[:, 0]
        n, k = len(y), int(self.o["inner_folds"])
        if n < 2 * k:
            raise GpbenchError(f"stack: {n} training rows are too few for {k} inner folds")
        fold = np.empty(n, dtype=int)
        fold[np.random.default_rng(self.ctx.seed).permutation(n)] = np.arange(n) % k
        P = np.zeros((n, len(self.specs)))
        for f in range(k):
            held = fold == f
            for j, spec in enumerate(self.specs):
                model = self._fit_one(spec, X[~held], y[~held], seed=f + 1)
                P[held, j] = self._predict_one(model, X[held])
        self.weights, self.intercept = nnls_weights(P, y)
        self.models = [self._fit_one(spec, X, y, seed=0) if w > 0 else None
                       for spec, w in zip(self.specs, self.weights, strict=True)]
        names = [s.name for s in self.specs]
        oof_r2 = [1.0 - float(np.mean((y - P[:, j]) ** 2) / np.var(y)) for j in range(len(names))]
        stacked = self.intercept + P @ self.weights
        self.fit_info = {
            "base": names, "weights": dict(zip(names, map(float, self.weights), strict=True)),
            "intercept": self.intercept, "skipped": self.skipped, "inner_folds": k,
            "oof_r2": dict(zip(names, oof_r2, strict=True)),
            "oof_r2_stack_in_sample": 1.0 - float(np.mean((y - stacked) ** 2) / np.var(y)),
        }
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        out = np.full(len(X), self.intercept)
        for model, w in zip(self.models, self.weights, strict=True):
            if model is not None:
                out += w * self._predict_one(model, X)
        return out[:, None]
