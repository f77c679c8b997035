"""An example gpbench model plugin: k-nearest neighbours on genotype (Hamming) distance.

The prediction for a strain is the distance-weighted mean phenotype of the k training strains
whose genotypes are closest. Nothing here knows about folds, files or metrics: gpbench hands
``fit`` the training strains and ``predict`` the test strains.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpbench import ModelContext, ModelSpec, hookimpl


class GenotypeKNN:
    def __init__(self, options: dict[str, Any], context: ModelContext) -> None:
        self.k = int(options["k"])
        self.weighted = bool(options["weighted"])

    def fit(self, X: np.ndarray, Y: np.ndarray, valid: Any = None) -> GenotypeKNN:
        self.X = np.asarray(X, dtype=np.float32)
        self.Y = np.asarray(Y, dtype=np.float64)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        # Hamming distance between 0/1 genotype vectors, via one matrix product
        dist = X @ (1 - self.X).T + (1 - X) @ self.X.T
        k = min(self.k, len(self.X))
        nearest = np.argpartition(dist, k - 1, axis=1)[:, :k]
        d = np.take_along_axis(dist, nearest, axis=1)
        w = 1.0 / (d + 1.0) if self.weighted else np.ones_like(d)
        return np.einsum("nk,nkt->nt", w, self.Y[nearest]) / w.sum(1, keepdims=True)


def search_space(trial: Any) -> dict[str, Any]:
    return {"k": trial.suggest_int("k", 1, 100, log=True),
            "weighted": trial.suggest_categorical("weighted", [True, False])}


@hookimpl
def register_models(register: Any) -> None:
    register(ModelSpec(name="knn", factory=GenotypeKNN, options={"k": 20, "weighted": True},
                       search_space=search_space,
                       description="k nearest neighbours on genotype Hamming distance"))
