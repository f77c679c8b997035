"""The ``yeast`` dataset: BYxRM segregants (1,008 strains x 11,623 markers, 46 traits).

Loaded through the shared path of :mod:`gpbench.data.datasource`: raw files from ``--data-dir`` /
``GPBENCH_DATA_DIR`` (the directory itself or its ``yeast/`` subdirectory, verified against the
manifest's sha256), otherwise downloaded once into the cache and verified. The parsed matrices
are cached as ``.npz`` keyed by the raw files' checksums, so later loads take well under a
second and never need R.
"""

from __future__ import annotations

import io
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gpbench import (
    DataConfig,
    DataError,
    Dataset,
    DatasetDeclaration,
    DatasetSpec,
    Parsed,
    RemoteFile,
    hookimpl,
    load_declared,
    match_ids,
    numeric_columns,
)

MANIFEST: dict[str, Any] = json.loads(
    resources.files(__name__).joinpath("manifest.json").read_text())


def parse_markers(names: list[str]) -> pd.DataFrame:
    """``27915_chr01_27915_T_C`` -> chrom ``chr01``, pos 27915 (NaN when unparseable)."""
    pat = re.compile(r"^\d+_(chr[0-9A-Za-z]+)_(\d+)_")
    chrom, pos = [], []
    for n in names:
        m = pat.match(n)
        chrom.append(m.group(1) if m else None)
        pos.append(int(m.group(2)) if m else np.nan)
    return pd.DataFrame({"chrom": chrom, "pos": pos}, index=pd.Index(names, name="marker"))


def parse(files: dict[str, Path]) -> Parsed:
    """Genotypes from ``geno_1.RDS`` (0/1), the 46 traits of ``pheno.csv`` (same strain order,
    ``pheno.`` prefix removed)."""
    import rdata

    try:
        geno = rdata.read_rds(files["geno_1.RDS"])
    except Exception as exc:  # rdata raises many types on corrupt input
        raise DataError(f"could not parse {files['geno_1.RDS']} ({exc!r}); delete it and "
                        "provide the original file. " + _how_to_provide()) from exc
    values = np.asarray(geno.values)
    samples = np.asarray(geno.coords[geno.dims[0]].values).astype(str)
    markers = np.asarray(geno.coords[geno.dims[1]].values).astype(str)
    genotypes = check_genotypes(values, samples, markers, files["geno_1.RDS"])
    pheno = read_phenotypes(files["pheno.csv"])
    order = match_ids(samples.tolist(), pheno.index.tolist(), files["geno_1.RDS"],
                      files["pheno.csv"])
    traits = pd.DataFrame(pheno.to_numpy(np.float64)[order], index=samples.tolist(),
                          columns=[c.removeprefix("pheno.") for c in pheno.columns])
    return Parsed(genotypes, traits, parse_markers(markers.tolist()))


def check_genotypes(values: np.ndarray, samples: np.ndarray, markers: np.ndarray,
                    path: Path) -> np.ndarray:
    """0/1 calls as int8, or float32 with NaN when some calls are missing (imputed per fold by
    the host); any other value raises naming its strain and marker."""
    missing = np.isnan(values) if values.dtype.kind == "f" else np.zeros(values.shape, bool)
    bad = ~np.isin(values, (0, 1)) & ~missing
    if bad.any():
        i, j = (int(k[0]) for k in np.nonzero(bad))
        raise DataError(f"{path}: strain {str(samples[i])!r} (row {i + 1}), marker "
                        f"{str(markers[j])!r} (column {j + 1}) has genotype "
                        f"{float(values[i, j]):g}; genotypes must be 0/1 or missing "
                        f"({int(bad.sum())} bad value(s))")
    if missing.any():
        return values.astype(np.float32)
    return values.astype(np.int8)


def read_phenotypes(path: Path) -> pd.DataFrame:
    """``pheno.csv``: ids in the first column, numeric traits (NA for missing)."""
    pheno = pd.read_csv(path, index_col=0, dtype={0: str})
    return numeric_columns(pheno, path)


def _how_to_provide() -> str:
    files = ", ".join(f"{name} ({spec['url']})" for name, spec in MANIFEST["files"].items())
    return (f"Download {files}, or point gpbench at a directory that holds them with "
            "--data-dir DIR or the GPBENCH_DATA_DIR environment variable.")


def declaration() -> DatasetDeclaration:
    """The yeast dataset declared from ``manifest.json`` (read at call time)."""
    return DatasetDeclaration(
        name="yeast", description=MANIFEST["description"], citation=MANIFEST["citation"],
        licence=MANIFEST.get("licence", "unknown"), coding="0/1 haploid",
        version=MANIFEST["version"],
        files=tuple(RemoteFile(name, spec["url"], spec["sha256"])
                    for name, spec in MANIFEST["files"].items()),
        parse=parse, references=references(),
        # the headline traits: what `gpbench run` and `--dataset all` use without --envs
        default_traits=("Lactate", "Lactose"))


def load(config: DataConfig) -> Dataset:
    """Load yeast (see the module docstring)."""
    return load_declared(declaration(), config)


def references() -> tuple[dict[str, Any], ...]:
    """Published figures for these traits (reference rows, never results)."""
    text = resources.files(__name__).joinpath("references.csv").read_text()
    frame = pd.read_csv(io.StringIO(text))
    return tuple(frame.to_dict("records"))


@hookimpl
def register_datasets(register: Any) -> None:
    decl = declaration()
    register(DatasetSpec("yeast", load, decl.description, decl.citation,
                         references=decl.references, default_traits=decl.default_traits,
                         in_collection=True, role="default"))

