"""The ``yeast`` dataset: BYxRM segregants (1,008 strains x 11,623 markers, 46 traits).

Raw files come from ``--data-dir`` / ``GPBENCH_DATA_DIR`` when given (verified against the
manifest's sha256), otherwise they are downloaded once into the cache and verified. The parsed
matrices are cached as ``.npz`` keyed by the raw files' checksums, so later loads take well under
a second and never need R.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gpbench import DataConfig, Dataset, DatasetSpec, hookimpl
from gpbench.download import fetch, verify
from gpbench.errors import DataError
from gpbench.results import atomic_write_bytes
from gpbench.tables import match_ids, numeric_columns

MANIFEST: dict[str, Any] = json.loads(
    resources.files(__name__).joinpath("manifest.json").read_text())


def _how_to_provide(directory: Path | None = None) -> str:
    files = ", ".join(f"{name} ({spec['url']})" for name, spec in MANIFEST["files"].items())
    where = f" into {directory}" if directory else ""
    return (f"Download {files}{where}, or point gpbench at a directory that holds them with "
            "--data-dir DIR or the GPBENCH_DATA_DIR environment variable.")


def raw_files(config: DataConfig) -> dict[str, Path]:
    """Paths of verified raw files, from the data directory or the download cache."""
    out = {}
    for name, spec in MANIFEST["files"].items():
        if config.data_dir is not None:
            path = Path(config.data_dir) / name
            if not path.exists():
                raise DataError(f"{name} not found in data directory {config.data_dir}. "
                                + _how_to_provide())
            verify(path, spec["sha256"], "Replace it with the original file. "
                   + _how_to_provide())
        else:
            path = fetch(spec["url"], spec["sha256"], Path(config.cache_dir) / "yeast" / name,
                         _how_to_provide(Path(config.cache_dir) / "yeast"))
        out[name] = path
    return out


def parse_markers(names: list[str]) -> pd.DataFrame:
    """``27915_chr01_27915_T_C`` -> chrom ``chr01``, pos 27915 (NaN when unparseable)."""
    pat = re.compile(r"^\d+_(chr[0-9A-Za-z]+)_(\d+)_")
    chrom, pos = [], []
    for n in names:
        m = pat.match(n)
        chrom.append(m.group(1) if m else None)
        pos.append(int(m.group(2)) if m else np.nan)
    return pd.DataFrame({"chrom": chrom, "pos": pos}, index=pd.Index(names, name="marker"))


def _convert(files: dict[str, Path]) -> dict[str, np.ndarray]:
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
    traits = [c.removeprefix("pheno.") for c in pheno.columns]
    return {"genotypes": genotypes, "samples": samples, "markers": markers,
            "traits": np.asarray(traits), "phenotypes": pheno.to_numpy(np.float64)[order]}


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
                        f"{float(values[i, j]):g}; genotypes must be "
                        f"0/1 or missing ({int(bad.sum())} bad value(s))")
    if missing.any():
        return values.astype(np.float32)
    return values.astype(np.int8)


def read_phenotypes(path: Path) -> pd.DataFrame:
    """``pheno.csv``: ids in the first column, numeric traits (NA for missing)."""
    pheno = pd.read_csv(path, index_col=0, dtype={0: str})
    return numeric_columns(pheno, path)


def load(config: DataConfig) -> Dataset:
    files = raw_files(config)
    checksum = hashlib.sha256("".join(
        MANIFEST["files"][n]["sha256"] for n in sorted(files)).encode()).hexdigest()
    cache = Path(config.cache_dir) / "yeast" / f"converted-{checksum[:16]}.npz"
    arrays = None
    if cache.exists():
        try:
            with np.load(cache, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile):
            arrays = None  # unreadable cache (truncated, disk full): rebuild it
    if arrays is None:
        arrays = _convert(files)
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        atomic_write_bytes(cache, buf.getvalue())
    traits = pd.DataFrame(arrays["phenotypes"], columns=list(arrays["traits"]),
                          index=pd.Index(arrays["samples"].tolist(), name="sample"))
    return Dataset(name="yeast", genotypes=arrays["genotypes"], traits=traits,
                   markers=parse_markers(arrays["markers"].tolist()),
                   version=MANIFEST["version"], checksum=checksum,
                   citation=MANIFEST["citation"])


def references() -> tuple[dict[str, Any], ...]:
    """Published figures for these traits (reference rows, never results)."""
    text = resources.files(__name__).joinpath("references.csv").read_text()
    frame = pd.read_csv(io.StringIO(text))
    return tuple(frame.to_dict("records"))


@hookimpl
def register_datasets(register: Any) -> None:
    register(DatasetSpec("yeast", load, MANIFEST["description"], MANIFEST["citation"],
                         references=references()))

