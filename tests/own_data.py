"""Helpers for the own-data tests: this checkout's plugins as entry points, and example files.

The CLI discovers plugins by entry point, and the installed distribution may predate
``gpbench_files`` (or come from another checkout); ``with_files_plugin`` makes the CLI see
exactly the entry points this checkout's pyproject.toml declares.
"""

from __future__ import annotations

import importlib.metadata as md
from pathlib import Path

import numpy as np
import pandas as pd

import gpbench.plugins
from gpbench_files.writers import write_matrix, write_phenotypes, write_plink, write_vcf
from gpbench_sim import simulate

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def declared_entry_points() -> list[md.EntryPoint]:
    """The ``gpbench`` entry points of this checkout's pyproject.toml."""
    import tomllib

    table = tomllib.loads(PYPROJECT.read_text())["project"]["entry-points"]["gpbench"]
    return [md.EntryPoint(name=k, value=v, group="gpbench") for k, v in table.items()]


def with_files_plugin(monkeypatch) -> None:
    """Make the CLI's plugin discovery find this checkout's plugins, gpbench_files included."""
    eps = declared_entry_points()
    assert "files" in [ep.name for ep in eps]
    monkeypatch.setattr(gpbench.plugins, "_entry_points", lambda: eps)


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
