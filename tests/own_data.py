"""Helpers for the own-data tests: this checkout's plugins as entry points, and example files.

The CLI discovers plugins by entry point, and the shared virtualenv's installed distribution
may predate ``gpbench_files`` (or come from another checkout). ``with_checkout_plugins``
writes a small distribution (a ``.dist-info`` with this checkout's entry points from
pyproject.toml) into a temporary directory on ``sys.path`` and loads only its plugins
(``GPBENCH_PLUGINS``), as ``pip install -e .`` would; spawned worker processes inherit both.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from gpbench_files.writers import write_matrix, write_phenotypes, write_plink, write_vcf
from gpbench_sim import simulate

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
DIST = "gpbench-checkout"


def with_checkout_plugins(monkeypatch, directory: Path) -> None:
    """Make plugin discovery (here and in worker processes) find exactly the entry points of
    this checkout's pyproject.toml, ``files`` included."""
    table = tomllib.loads(PYPROJECT.read_text())["project"]["entry-points"]["gpbench"]
    assert "files" in table
    info = Path(directory) / "gpbench_checkout-0.0.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {DIST}\nVersion: 0.0.0\n")
    (info / "entry_points.txt").write_text(
        "[gpbench]\n" + "".join(f"{k} = {v}\n" for k, v in table.items()))
    monkeypatch.syspath_prepend(str(directory))
    monkeypatch.setenv("GPBENCH_PLUGINS", DIST)


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
