"""RKHS regression: Gaussian kernels with kernel averaging, variance components by REML.

The model (de los Campos et al. 2010, Genet. Res. 92:295) is ``y = mu + g + e`` with
``g ~ N(0, s2_g K)`` and the Gaussian kernel ``K_h = exp(-d2 / (h * median d2))``, where ``d2``
are squared Euclidean distances between the training-centred marker rows (centring does not change
distances; it keeps the arithmetic well conditioned) and ``median d2`` is the median over distinct
training pairs. Large ``h`` gives a smooth, nearly linear kernel (GBLUP in the limit); small ``h``
a local one that captures epistasis.

**Kernel averaging.** de los Campos et al. fit several bandwidths at once, one variance component
per kernel (``g = g_1 + ... + g_k``), so that the data weight the kernels. Its REML analogue is
the kernel ``K(w) = sum_k w_k K_k`` with weights ``w`` on the simplex (``w_k`` = kernel k's share
of ``s2_g``): for each candidate ``w`` one REML fit of ``delta = s2_e / s2_g`` (the model and
likelihood of :func:`gpbench_linear.kernel.fit_kernel`, GBLUP's, computed from one tridiagonal
reduction of the kernel by :class:`gpbench_linear.tridiagonal.TridiagonalKernel`), and the
candidate with the highest REML log-likelihood wins. ``combine`` sets the candidates:

* ``"edge"`` (default since version 2): points of that grid visited by :func:`edge_search`:
  the single kernels, then from the best toward the second best one step of ``1/grid_steps``
  at a time while the likelihood rises (4-6 candidates for 3 kernels at step 1/4). It chooses
  the grid's weights whenever they lie on that edge past a single peak, as nearly all the
  grid's choices did; on development traits its test R² equalled the grid's at a third of
  the candidates (``docs/notes/rkhs-speed.md``, section 3);
* ``"grid"`` (version 1's default): the simplex grid with step ``1/grid_steps`` (15 candidates
  for 3 kernels at step 1/4) -- the profile REML over the variance-component ratios, the
  closest REML counterpart of the multi-kernel model;
* ``"best"``: the single kernels only (one REML per kernel, the best by REML likelihood), at a
  fifth of the cost;
* ``"mean"``: the equal-weight average of the kernels (one REML fit).

Defaults: ``bandwidths="0.2,1,5"`` (de los Campos et al. used a few bandwidths spanning local to
near-linear kernels on the median scale). Cost: one ``n x n`` distance matrix from the genotypes
(O(n^2 p)) plus one tridiagonal reduction (O(n^3), ~45% of an ``eigh``) per candidate: each
candidate is another ``n x n`` matrix whose REML needs its whole spectrum (a weighted sum of
kernels is not diagonalised by the kernels' own eigenvectors). Prediction:
``K(new, train) alpha``. Figures: ``docs/notes/rkhs-speed.md``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from gpbench import ModelContext
from gpbench_linear.kernel import KernelFit
from gpbench_linear.tridiagonal import TridiagonalKernel

from .kernels import CentredRows, gaussian, parse_floats

DEFAULTS: dict[str, Any] = {"bandwidths": "0.2,1,5", "combine": "edge", "grid_steps": 4}


def weight_candidates(k: int, combine: str, steps: int) -> list[np.ndarray]:
    """Kernel weight vectors (each sums to 1) tried for ``k`` kernels (``"edge"`` visits
    some of ``"grid"``'s, chosen as it goes: :func:`edge_search`)."""
    if combine == "best":
        return [np.eye(k)[i] for i in range(k)]
    if combine == "mean":
        return [np.full(k, 1.0 / k)]
    if combine == "grid":
        steps = max(int(steps), 1)
        grid = [np.array(c, float) / steps
                for c in itertools.product(range(steps + 1), repeat=k) if sum(c) == steps]
        return grid or [np.ones(1)]
    raise ValueError(f"rkhs option combine must be 'edge', 'grid', 'best' or 'mean', "
                     f"got {combine!r}")


def edge_search(k: int, steps: int, loglik: Callable[[np.ndarray], float]) -> np.ndarray:
    """The weights chosen by a walk along one edge of the simplex grid (step ``1/steps``).

    ``loglik(w)`` is the REML log-likelihood of weights ``w``. The ``k`` single kernels come
    first; then, from the best of them toward the second best, one grid step at a time while the
    likelihood rises. Every visited point is a point of ``combine="grid"``'s grid, so where the
    grid's choice lies on that edge and the likelihood along it has one peak, both choose the
    same weights, with ``k + 1`` to ``k + steps - 1`` fits instead of the whole grid's.
    """
    steps = max(int(steps), 1)
    eye = np.eye(k)
    scores = [loglik(eye[i]) for i in range(k)]
    order = np.argsort(-np.asarray(scores), kind="stable")  # ties: the first kernel, as grid
    if k < 2:
        return eye[0]
    a, b = int(order[0]), int(order[1])
    best_w, best = eye[a], scores[a]
    for j in range(1, steps):
        w = ((steps - j) * eye[a] + j * eye[b]) / steps
        score = loglik(w)
        if not score > best:
            break
        best_w, best = w, score
    return best_w


class RKHS:
    """Gaussian-kernel RKHS regression with REML kernel averaging; see the module docstring."""

    def __init__(self, options: dict[str, Any], context: ModelContext) -> None:
        self.o = {**DEFAULTS, **options}
        self.h = parse_floats(self.o["bandwidths"], "rkhs option bandwidths")
        self.fit_info: dict[str, Any] = {}

    def fit(self, X: np.ndarray, Y: np.ndarray, valid: Any = None) -> RKHS:
        y = np.asarray(Y, dtype=np.float64).reshape(len(X), -1)[:, 0]
        self.rows = CentredRows(X)
        D2, self.median = self.rows.train_sq_dist()
        kernels = [gaussian(D2, h, self.median) for h in self.h]
        del D2
        best: tuple[float, np.ndarray, KernelFit] | None = None
        n_fits = 0

        def loglik(w: np.ndarray) -> float:
            nonlocal best, n_fits
            K = sum(wk * Kk for wk, Kk in zip(w, kernels, strict=True) if wk > 0)
            kfit = TridiagonalKernel(K).fit(y)
            n_fits += 1
            if best is None or kfit.reml_loglik > best[0]:
                best = (kfit.reml_loglik, w, kfit)
            return kfit.reml_loglik

        if self.o["combine"] == "edge":
            edge_search(len(kernels), self.o["grid_steps"], loglik)
        else:
            for w in weight_candidates(len(kernels), self.o["combine"], self.o["grid_steps"]):
                loglik(w)
        _, self.w, self.kfit = best
        self.fit_info = {
            "bandwidths": list(self.h), "combine": self.o["combine"],
            "weights": [float(v) for v in self.w], "median_d2": self.median,
            "delta": self.kfit.delta, "h2_estimate": self.kfit.h2,
            "reml_loglik": self.kfit.reml_loglik, "n_candidates": n_fits,
        }
        return self

    def kernel(self, X: np.ndarray) -> np.ndarray:
        """``K(X, train)`` with the chosen kernel weights."""
        D2 = self.rows.sq_dist_to(X)
        return sum(wk * gaussian(D2, h, self.median)
                   for wk, h in zip(self.w, self.h, strict=True) if wk > 0)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.kfit.predict(self.kernel(X))[:, None]
