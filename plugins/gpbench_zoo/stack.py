"""Stacked ensemble: base models combined by non-negative least squares on out-of-fold
predictions (stacked regression, Breiman 1996).

``fit`` sees only the rows the host passes to it (the outer training fold; the stack does not
ask for the host's validation split, so it gets all of them) and never the outer test fold:

1. Out-of-fold predictions of every base model for every row. A base model that has
   ``fit_oof`` (:class:`gpbench.OutOfFoldModel`: GBLUP and ridge exactly from one
   eigen-decomposition, lasso from its own inner CV) is fitted once on all rows and gives them
   for the rows dealt (seeded) into ``inner_folds`` folds, the folds lasso's inner CV deals too;
   that fit is its final model. Any other base model is fitted on all but one of
   ``refit_folds`` folds (seeded) and predicts the held-out one, once per fold (fewer folds than
   ``inner_folds`` because these are the costly members). ``member_oof=False`` refits every
   base model on ``inner_folds`` folds (version 1 of the stack).
2. Weights ``w >= 0`` minimise ``||yc - Pc w||^2`` (``scipy.optimize.nnls``), where ``yc`` and
   the columns of ``Pc`` are centred; the intercept is ``mean(y) - mean(P) @ w``. Centring leaves
   the weights free of the intercept without a sign constraint on it.
3. Every refitted base model with a non-zero weight is fitted once more on all rows;
   ``predict`` is the weighted sum plus the intercept.

Base models are built through ``context.get_model(name)`` with their default options and the
stack's context (seed, threads, device; no tuning reports). A base model that uses validation
(early stopping) gets ``valid_fraction`` of the rows it is fitted on as its validation split,
carved (seeded) from those rows. Names in ``base`` that are not registered are skipped with a
note in ``fit_info["skipped"]``; at least one must be left. Weights go to ``fit_info``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.optimize import nnls

from gpbench import GpbenchError, ModelContext, ModelSpec, OutOfFoldModel

DEFAULTS: dict[str, Any] = {"base": "gblup,lasso,gbm,bayesb", "inner_folds": 5,
                            "refit_folds": 2, "member_oof": True, "valid_fraction": 0.2}
# version 2 (docs/notes/stack-oof.md): out-of-fold predictions from fit_oof where a member has
# it, 2 inner folds for the others; version 1 refitted every member on 5 inner folds


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
        for key in ("inner_folds", "refit_folds"):
            if int(self.o[key]) < 2:
                raise GpbenchError(f"stack: {key} must be at least 2, not {self.o[key]}")

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

    def _deal(self, n: int, k: int) -> np.ndarray:
        """``(n,)`` inner fold labels ``0..k-1``, dealt by the seed (as lasso deals its own)."""
        if n < 2 * k:
            raise GpbenchError(f"stack: {n} training rows are too few for {k} inner folds; "
                               "lower stack.inner_folds / stack.refit_folds")
        fold = np.empty(n, dtype=int)
        fold[np.random.default_rng(self.ctx.seed).permutation(n)] = np.arange(n) % k
        return fold

    def _refit_oof(self, spec: ModelSpec, X: np.ndarray, y: np.ndarray,
                   fold: np.ndarray) -> np.ndarray:
        """Out-of-fold predictions by fitting ``spec`` once per fold without that fold's rows."""
        oof = np.empty(len(y))
        for f in range(int(fold.max()) + 1):
            held = fold == f
            model = self._fit_one(spec, X[~held], y[~held], seed=f + 1)
            oof[held] = self._predict_one(model, X[held])
        return oof

    def fit(self, X: np.ndarray, Y: np.ndarray, valid: Any = None) -> Stack:
        y = np.asarray(Y, dtype=np.float64).reshape(len(X), -1)[:, 0]
        n, k = len(y), int(self.o["inner_folds"])
        fast = bool(self.o["member_oof"])
        fold = self._deal(n, k)
        refit_fold = self._deal(n, int(self.o["refit_folds"])) if fast else fold
        P = np.zeros((n, len(self.specs)))
        self.models = [None] * len(self.specs)
        how, seconds = {}, {}
        for j, spec in enumerate(self.specs):
            start = time.perf_counter()
            model = spec.build({}, self._base_context()) if fast else None
            if isinstance(model, OutOfFoldModel) and not spec.uses_validation:
                P[:, j] = np.asarray(model.fit_oof(X, y[:, None], fold),
                                     np.float64).reshape(n, -1)[:, 0]
                self.models[j], how[spec.name] = model, "fit_oof"
            else:
                P[:, j] = self._refit_oof(spec, X, y, refit_fold)
                how[spec.name] = f"refit x {int(refit_fold.max()) + 1}"
            seconds[spec.name] = time.perf_counter() - start
        self.weights, self.intercept = nnls_weights(P, y)
        for j, (spec, w) in enumerate(zip(self.specs, self.weights, strict=True)):
            if w <= 0:
                self.models[j] = None
            elif self.models[j] is None:
                start = time.perf_counter()
                self.models[j] = self._fit_one(spec, X, y, seed=0)
                seconds[spec.name] += time.perf_counter() - start
        names = [s.name for s in self.specs]
        oof_r2 = [1.0 - float(np.mean((y - P[:, j]) ** 2) / np.var(y)) for j in range(len(names))]
        stacked = self.intercept + P @ self.weights
        self.fit_info = {
            "base": names, "weights": dict(zip(names, map(float, self.weights), strict=True)),
            "intercept": self.intercept, "skipped": self.skipped, "inner_folds": k,
            "oof_by": how, "member_seconds": {m: round(t, 3) for m, t in seconds.items()},
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
