"""Write small example files of one's own data from gpbench's simulated cross.

    python examples/own-data/make_example.py DIR

writes into DIR (default ``example-data``):

* ``geno.bed`` / ``geno.bim`` / ``geno.fam``: PLINK genotypes of 205 inbred lines (dosage 0 or 2,
  about 1% missing calls) at 600 SNPs; 5 of them have no phenotype.
* ``pheno.csv``: two traits, ``yield`` and ``height``, for 200 genotyped lines plus 3 lines
  without genotypes, in shuffled order, a few values missing.
* ``new.vcf``: 30 new, unphenotyped lines to predict, as a VCF with GT calls.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from gpbench_files.writers import write_phenotypes, write_plink, write_vcf
from gpbench_sim import simulate


def make_example(out: Path, seed: int = 0) -> Path:
    """Write the example files into ``out``; returns ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    ds = simulate(n_strains=235, n_markers=600, n_traits=2, seed=seed)
    rng = np.random.default_rng(seed)
    dosage = 2.0 * ds.genotypes.astype(np.float32)  # inbred lines: homozygous 0 or 2
    dosage[rng.random(dosage.shape) < 0.01] = np.nan
    ids = [f"line{i:03d}" for i in range(len(dosage))]
    markers = ds.markers.copy()
    markers.index = [f"snp{j:04d}" for j in range(len(markers))]
    markers["chrom"] = [c.removeprefix("chr").lstrip("0") for c in markers["chrom"]]
    traits = ds.traits.copy()
    traits.columns = ["yield", "height"]
    traits.index = ids

    train, new = slice(0, 205), slice(205, 235)
    write_plink(out / "geno", ids[train], dosage[train], markers)
    phenotyped = traits.iloc[:200]
    extra = traits.iloc[:3].copy()
    extra.index = ["line900", "line901", "line902"]  # phenotyped but never genotyped
    pheno = pd.concat([phenotyped, extra])
    pheno = pheno.iloc[rng.permutation(len(pheno))]
    write_phenotypes(out / "pheno.csv", pheno)
    write_vcf(out / "new.vcf", ids[new], dosage[new], markers)
    return out


if __name__ == "__main__":
    target = make_example(Path(sys.argv[1] if len(sys.argv) > 1 else "example-data"))
    print(f"example files written to {target}/")
