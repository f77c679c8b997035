"""Test plugin: small simulated datasets standing in for several species, one with documented
default traits, and one that cannot be loaded."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from gpbench import DataConfig, Dataset, DatasetSpec, hookimpl
from gpbench.api.errors import DataError
from gpbench_sim import simulate


def _maker(name: str, seed: int, n_strains: int, h2: float):
    def load(config: DataConfig) -> Dataset:
        opts = {"seed": seed, "n_strains": n_strains, "n_markers": 150, "n_traits": 3,
                "h2": h2, **dict(config.options)}
        return replace(simulate(**opts), name=name)
    return load


def _with_published_folds(config: DataConfig) -> Dataset:
    ds = _maker("sim-pub", 4, 60, 0.8)(config)
    # labels 1..4 as R packages ship them (wheat.sets); gpbench renumbers them 0..3
    folds = pd.Series([i % 4 + 1 for i in range(len(ds.sample_ids))], index=ds.sample_ids)
    return replace(ds, published_folds=folds)


def _with_families(config: DataConfig) -> Dataset:
    ds = _maker("sim-fam", 5, 96, 0.8)(config)
    # 12 families of unequal size (4..12 samples), interleaved over the sample order
    sizes = [4, 5, 6, 6, 7, 8, 8, 8, 9, 10, 12, 13]
    labels = [f"F{i}" for i, n in enumerate(sizes) for _ in range(n)]
    order = [labels[(7 * i) % len(labels)] for i in range(len(labels))]
    return replace(ds, groups=pd.DataFrame({"family": order}, index=ds.sample_ids))


def _broken(config: DataConfig) -> Dataset:
    raise DataError("sim-broken: the files are missing; put them in --data-dir")


@hookimpl
def register_datasets(register: Any) -> None:
    register(DatasetSpec("sim-a", _maker("sim-a", 1, 90, 0.8), "small cross A"))
    register(DatasetSpec("sim-b", _maker("sim-b", 2, 80, 0.5), "small cross B",
                   default_traits=("trait2",)))
    register(DatasetSpec("sim-c", _maker("sim-c", 3, 100, 0.3), "small cross C"))
    register(DatasetSpec("sim-pub", _with_published_folds, "a cross with published folds",
                         in_collection=True))
    register(DatasetSpec("sim-fam", _with_families, "a cross of 12 families (groups)"))
    register(DatasetSpec("sim-broken", _broken, "a dataset that cannot be loaded"))
