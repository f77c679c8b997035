"""Helpers for the own-data tests: the files plugin as an entry point, and example files.

The installed distribution may predate ``gpbench_files``; ``with_files_plugin`` adds its entry
point (exactly as pyproject.toml declares it) for the CLI, which discovers plugins by entry
point.
"""

from __future__ import annotations

import importlib.metadata as md
from pathlib import Path

import numpy as np
import pandas as pd

import gpbench.plugins
from gpbench_files.writers import write_matrix, write_phenotypes, write_plink, write_vcf
from gpbench_sim import simulate

FILES_EP = md.EntryPoint(name="files", value="gpbench_files", group="gpbench")


def with_files_plugin(monkeypatch) -> None:
    """Make the CLI's plugin discovery find gpbench_files (once) beside the installed ones."""
    installed = gpbench.plugins._entry_points

    def entry_points():
        eps = [ep for ep in installed() if ep.name != "files"]
        return [*eps, FILES_EP]

    monkeypatch.setattr(gpbench.plugins, "_entry_points", entry_points)


def cross(n: int = 90, p: int = 150, seed: int = 3, missing: float = 0.03):
    """A simulated cross as 0/1/2 dosages with missing calls: (ids, dosages, markers, traits).

    Inbred lines (0 or 2, the simulated cross's alleles) with 10% heterozygous calls (1), so
    all three genotype classes occur.
    """
    a = simulate(n_strains=n, n_markers=p, n_traits=2, seed=seed)
    dos = 2 * a.genotypes.astype(np.float32)
    rng = np.random.default_rng(seed)
    dos[rng.random(dos.shape) < 0.1] = 1.0
    dos[rng.random(dos.shape) < missing] = np.nan
    ids = [f"ind{i:03d}" for i in range(n)]
    traits = a.traits.copy()
    traits.index = ids
    return ids, dos, a.markers, traits


def write_all_formats(directory: Path, n: int = 90, p: int = 150, seed: int = 3,
                      n_unmatched: int = 3) -> dict[str, Path]:
    """The same cross as PLINK, VCF.gz and TSV matrix, each with its own shuffled row order,
    plus a phenotype CSV (shuffled) with ``n_unmatched`` ids on each side that do not match."""
    directory.mkdir(parents=True, exist_ok=True)
    ids, dos, markers, traits = cross(n, p, seed)
    rng = np.random.default_rng(seed + 1)
    geno_rows = np.arange(n - n_unmatched)  # the last ids have no genotypes
    out = {}
    for fmt in ("plink", "vcf", "matrix"):
        order = rng.permutation(geno_rows)
        gids = [ids[i] for i in order] + [f"geno_only{k}" for k in range(n_unmatched)]
        extra = np.full((n_unmatched, p), 1.0, dtype=np.float32)
        gdos = np.vstack([dos[order], extra])
        if fmt == "plink":
            out[fmt] = write_plink(directory / "geno", gids, gdos, markers)
        elif fmt == "vcf":
            out[fmt] = write_vcf(directory / "geno.vcf.gz", gids, gdos, markers, extra_sites=2)
        else:
            out[fmt] = write_matrix(directory / "geno.tsv", gids, gdos, markers, sep="\t")
    pheno = traits.iloc[rng.permutation(n)]
    out["pheno"] = write_phenotypes(directory / "pheno.csv", pheno)
    return out


def table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, index_col=0)
