"""Stacked ensemble: base models combined by non-negative least squares on out-of-fold
predictions (stacked regression, Breiman 1996).

``fit`` sees only the rows the host passes to it (the outer training fold; the stack does not
ask for the host's validation split, so it gets all of them) and never the outer test fold.
Two schemes make the out-of-fold (OOF) predictions and the final members
(docs/notes/stack-oof.md):

``scheme="refit"`` (the default; version 1 of the stack): the rows are dealt (seeded) into
``inner_folds`` folds; every base model is fitted on all but one fold and predicts the
held-out one, once per fold; each one with a non-zero weight is then refitted on all rows,
and that refit alone predicts new rows.

``scheme="crossfit"`` (an option, measured on development traits and not adopted: 2.6-3.5x
its members' cost on apple and potato, mean test R² 0.011 below version 1): cross-fitting
without refit.

1. A base model that has ``fit_oof`` (:class:`gpbench.OutOfFoldModel`: GBLUP and ridge exactly
   from one eigen-decomposition, lasso from its own inner CV) is fitted once on all rows and
   gives OOF predictions for the ``inner_folds`` folds (the folds lasso's inner CV deals too,
   so its final model is its plain fit); that fit is its final model.
2. Any other base model (the costly ones: gbm, bayesb) is cross-fitted: the rows are dealt
   (seeded) into ``cross_folds`` folds; one fold model per fold is fitted on the other folds
   and predicts the held-out fold. Its prediction for new rows is the mean of its fold
   models; it is never refitted on all rows.

Either way, weights ``w >= 0`` minimise ``||yc - Pc w||^2`` (``scipy.optimize.nnls``) on the
OOF columns ``P``, where ``yc`` and the columns of ``Pc`` are centred; the intercept is
``mean(y) - mean(P) @ w`` (centring leaves the weights free of the intercept without a sign
constraint on it). Members with weight 0 are dropped; ``predict`` is the weighted sum of the
members' predictions plus the intercept.

Base models are built through ``context.get_model(name)`` with their default options and the
stack's context (seed, threads, device; no tuning reports). A base model that uses validation
(early stopping) gets ``valid_fraction`` of the rows it is fitted on as its validation split,
carved (seeded) from those rows. Names in ``base`` that are not registered are skipped with a
note in ``fit_info["skipped"]``; at least one must be left. ``fit_info`` holds the weights, how
each member's OOF predictions were made (``oof_by``) and the seconds spent on each member
(``member_seconds``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.optimize import nnls

from gpbench import GpbenchError, ModelContext, ModelSpec, OutOfFoldModel

DEFAULTS: dict[str, Any] = {"base": "gblup,lasso,gbm,bayesb", "scheme": "refit",
                            "inner_folds": 5, "cross_folds": 3, "valid_fraction": 0.2}
SCHEMES = ("refit", "crossfit")
# options version 1 did not have; under scheme=refit they change nothing
_CROSSFIT_ONLY = ("scheme", "cross_folds")


def base_names(options: Mapping[str, Any]) -> list[str]:
    """The base model names of ``options["base"]`` (a comma-separated string or a list),
    in order, without repeats."""
    names = options.get("base", DEFAULTS["base"])
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    return list(dict.fromkeys(names))


def key_options(options: dict[str, Any], context: ModelContext) -> dict[str, Any]:
    """The options that key a stack's results (``ModelSpec.resolve_options``): under
    ``scheme="refit"`` the cross-fitting options are dropped, since they change nothing there,
    so version-1 results keep the keys they had before those options existed."""
    if options.get("scheme", DEFAULTS["scheme"]) != "refit":
        return options
    return {k: v for k, v in options.items() if k not in _CROSSFIT_ONLY}


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
        if self.o["scheme"] not in SCHEMES:
            raise GpbenchError(f"stack: unknown scheme {self.o['scheme']!r}; set stack.scheme "
                               f"to one of {', '.join(SCHEMES)}")
        for key in ("inner_folds", "cross_folds"):
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
        """``(n,)`` fold labels ``0..k-1`` dealt by the seed (as lasso deals its inner folds)."""
        if n < 2 * k:
            raise GpbenchError(f"stack: {n} training rows are too few for {k} inner folds; "
                               "lower stack.inner_folds / stack.cross_folds")
        fold = np.empty(n, dtype=int)
        fold[np.random.default_rng(self.ctx.seed).permutation(n)] = np.arange(n) % k
        return fold

    def _refit_oof(self, X: np.ndarray, y: np.ndarray, fold: np.ndarray,
                   seconds: dict[str, float]) -> np.ndarray:
        """Version 1's OOF columns: every member fitted once per fold without that fold."""
        P = np.zeros((len(y), len(self.specs)))
        for f in range(int(fold.max()) + 1):
            held = fold == f
            for j, spec in enumerate(self.specs):
                start = time.perf_counter()
                model = self._fit_one(spec, X[~held], y[~held], seed=f + 1)
                P[held, j] = self._predict_one(model, X[held])
                seconds[spec.name] += time.perf_counter() - start
        return P

    def _crossfit_oof(self, X: np.ndarray, y: np.ndarray, fold: np.ndarray,
                      seconds: dict[str, float], how: dict[str, str]) -> np.ndarray:
        """Cross-fitting's OOF columns; fills ``self.members`` with each member's final models
        (its ``fit_oof`` fit, or its fold models)."""
        n = len(y)
        P = np.zeros((n, len(self.specs)))
        cross = None
        for j, spec in enumerate(self.specs):
            start = time.perf_counter()
            model = spec.build({}, self._base_context())
            if isinstance(model, OutOfFoldModel) and not spec.uses_validation:
                P[:, j] = np.asarray(model.fit_oof(X, y[:, None], fold),
                                     np.float64).reshape(n, -1)[:, 0]
                self.members[j] = [model]
                how[spec.name] = f"fit_oof x {int(fold.max()) + 1}"
            else:
                if cross is None:
                    cross = self._deal(n, int(self.o["cross_folds"]))
                self.members[j] = []
                for f in range(int(cross.max()) + 1):
                    held = cross == f
                    fold_model = self._fit_one(spec, X[~held], y[~held], seed=f + 1)
                    P[held, j] = self._predict_one(fold_model, X[held])
                    self.members[j].append(fold_model)
                how[spec.name] = f"cross-fit x {len(self.members[j])}"
            seconds[spec.name] += time.perf_counter() - start
        return P

    def fit(self, X: np.ndarray, Y: np.ndarray, valid: Any = None) -> Stack:
        y = np.asarray(Y, dtype=np.float64).reshape(len(X), -1)[:, 0]
        n, k = len(y), int(self.o["inner_folds"])
        fold = self._deal(n, k)
        names = [s.name for s in self.specs]
        seconds = dict.fromkeys(names, 0.0)
        # members[j]: the models whose mean prediction is member j's (None: weight 0)
        self.members: list[list[Any] | None] = [None] * len(self.specs)
        how = dict.fromkeys(names, f"refit x {k}")
        refit = self.o["scheme"] == "refit"
        if refit:
            P = self._refit_oof(X, y, fold, seconds)
        else:
            P = self._crossfit_oof(X, y, fold, seconds, how)
        self.weights, self.intercept = nnls_weights(P, y)
        for j, (spec, w) in enumerate(zip(self.specs, self.weights, strict=True)):
            if w <= 0:
                self.members[j] = None  # fold models of a zero-weight member are dropped
            elif refit:
                start = time.perf_counter()
                self.members[j] = [self._fit_one(spec, X, y, seed=0)]
                seconds[spec.name] += time.perf_counter() - start
        oof_r2 = [1.0 - float(np.mean((y - P[:, j]) ** 2) / np.var(y)) for j in range(len(names))]
        stacked = self.intercept + P @ self.weights
        self.fit_info = {
            "base": names, "weights": dict(zip(names, map(float, self.weights), strict=True)),
            "intercept": self.intercept, "skipped": self.skipped, "scheme": self.o["scheme"],
            "inner_folds": k, "oof_by": how,
            "member_seconds": {m: round(t, 3) for m, t in seconds.items()},
            "oof_r2": dict(zip(names, oof_r2, strict=True)),
            "oof_r2_stack_in_sample": 1.0 - float(np.mean((y - stacked) ** 2) / np.var(y)),
        }
        return self

    def _member_predict(self, models: list[Any], X: np.ndarray) -> np.ndarray:
        """A member's prediction: its one model's, or the mean of its fold models'."""
        if len(models) == 1:
            return self._predict_one(models[0], X)
        return np.mean([self._predict_one(m, X) for m in models], axis=0)

    def predict(self, X: np.ndarray) -> np.ndarray:
        out = np.full(len(X), self.intercept)
        for models, w in zip(self.members, self.weights, strict=True):
            if models is not None:
                out += w * self._member_predict(models, X)
        return out[:, None]
