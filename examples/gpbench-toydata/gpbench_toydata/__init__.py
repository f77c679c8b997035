"""An example gpbench dataset plugin: 80 inbred lines x 50 markers shipped as two CSV files.

A dataset plugin only declares the data and reads it into a :class:`gpbench.Dataset`; the host
does the rest (folds, marker QC, imputation, every model). Real datasets would download pinned
files instead (``gpbench.DatasetDeclaration``, see plugins/gpbench_collection/salmon.py).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gpbench import DataConfig, DataError, Dataset, DatasetSpec, hookimpl

FILES = Path(__file__).parent / "data"


def load(config: DataConfig) -> Dataset:
    """Genotypes (id column + one 0/1/2 column per marker, ``NA`` = missing call) joined by id
    to the phenotypes (id column + one column per trait, empty = not measured)."""
    geno = pd.read_csv(FILES / "geno.csv", index_col="id")
    pheno = pd.read_csv(FILES / "pheno.csv", index_col="id")
    missing = pheno.index.difference(geno.index)
    if len(missing):
        raise DataError(f"pheno.csv: {len(missing)} ids have no genotypes (first: "
                        f"{missing[0]!r}); add their rows to geno.csv or drop them")
    traits = pheno.reindex(geno.index).astype(float)
    # chromosome and position from marker names like "c1_120"
    chrom_pos = [name.split("_") for name in geno.columns]
    markers = pd.DataFrame({"chrom": [c for c, _ in chrom_pos],
                            "pos": [float(p) for _, p in chrom_pos]}, index=geno.columns)
    digest = hashlib.sha256()
    for name in ("geno.csv", "pheno.csv"):
        digest.update((FILES / name).read_bytes())
    return Dataset(name="toy-lines", genotypes=geno.to_numpy(dtype=np.float32), traits=traits,
                   markers=markers, version="1", checksum=digest.hexdigest(),
                   citation="simulated for the gpbench docs (no citation needed)",
                   coding="0/1/2")


@hookimpl
def register_datasets(register: Any) -> None:
    register(DatasetSpec(name="toy-lines", load=load,
                         description="80 simulated inbred lines x 50 markers, two traits",
                         default_traits=("height",), version="1"))
