"""The shared loading path of file-backed datasets: declared files, verification, parsed cache.

A dataset plugin declares its raw files (pinned URL + sha256) and a ``parse`` function
(:class:`DatasetDeclaration`); :func:`load_declared` finds each file in ``--data-dir`` (directly
or in its ``<dataset>/`` subdirectory) or downloads it into the cache, verifies it, and caches
the parsed arrays as ``.npz`` (no pickle) keyed by the files' sha256 and the parser version, so
only the first load parses. Helpers for parsers (:func:`read_r`, :func:`join_by_id`,
:func:`aggregate_mean`) live here too. This module knows no particular dataset.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from gpbench.api.errors import DataError
from gpbench.api.types import DataConfig, Dataset, DatasetSpec
from gpbench.data.download import fetch, verify
from gpbench.storage.atomic import atomic_write_bytes

log = logging.getLogger(__name__)

REFERENCE_KEYS = ("trait", "source", "what", "metric", "value", "protocol", "citation")


@dataclass(frozen=True)
class RemoteFile:
    """One raw file of a dataset: its name, pinned download URL and sha256."""

    name: str
    url: str
    sha256: str


@dataclass
class Parsed:
    """What a dataset's ``parse`` returns.

    Attributes:
        genotypes: ``(n, p)`` dosages (any numeric dtype; NaN = missing call).
        traits: indexed by sample id (str), rows in genotype order, one numeric column per
            trait (already aggregated per individual).
        markers: indexed by marker id (str), columns ``chrom`` (str or None) and ``pos``.
        published_folds: folds published with the data (index = sample id, value 0..k-1).
        groups: design groupings of the samples for grouped CV (index = sample id, one text
            column per grouping, e.g. ``family``), or None.
        covariates: fixed effects recorded with the data, indexed by sample id (numeric or
            categorical columns), see :class:`~gpbench.api.types.Dataset`.
        trial_records: one row per record: ``sample``, ``trial``, ``trait``, ``value``
            (e.g. :func:`trial_records`), see :class:`~gpbench.api.types.Dataset`.
    """

    genotypes: np.ndarray
    traits: pd.DataFrame
    markers: pd.DataFrame
    published_folds: pd.Series | None = None
    groups: pd.DataFrame | None = None
    covariates: pd.DataFrame | None = None
    trial_records: pd.DataFrame | None = None


@dataclass(frozen=True)
class DatasetDeclaration:
    """A dataset backed by pinned public files and a parser (see module docstring)."""

    name: str
    description: str
    citation: str
    licence: str
    coding: str
    version: str
    files: tuple[RemoteFile, ...]
    parse: Callable[[dict[str, Path]], Parsed]
    parser_version: int = 1
    default_traits: tuple[str, ...] = ()
    references: tuple[dict[str, Any], ...] = ()
    # DatasetSpec.version: bump it when a parser change alters the data models see (it keys
    # results); parser_version only names the parsed cache
    results_version: str = "1"

    def __post_init__(self) -> None:
        for ref in self.references:
            missing = [k for k in REFERENCE_KEYS if k not in ref]
            if missing or ref["metric"] not in ("R2", "r"):
                raise ValueError(f"dataset {self.name!r}: reference row {ref} needs keys "
                                 f"{REFERENCE_KEYS} with metric 'R2' or 'r'")

    def spec(self) -> DatasetSpec:
        """The registry entry: loading goes through :func:`load_declared`."""
        return DatasetSpec(name=self.name, load=functools.partial(load_declared, self),
                           description=self.description, citation=self.citation,
                           references=self.references, default_traits=self.default_traits,
                           in_collection=True, version=self.results_version)

    @property
    def checksum(self) -> str:
        """Digest of the raw files' sha256 (sorted by file name): recorded with every result."""
        by_name = {f.name: f.sha256 for f in self.files}
        return hashlib.sha256("".join(by_name[n] for n in sorted(by_name)).encode()).hexdigest()


# --------------------------------------------------------------------------- finding files


def how_to_provide(decl: DatasetDeclaration, files: Sequence[RemoteFile],
                   cache: Path | None = None) -> str:
    """One sentence telling the user where to get ``files`` and how to point gpbench at them."""
    listed = ", ".join(f"{f.name} ({f.url})" for f in files)
    into = f" into {cache}" if cache else ""
    return (f"Download {listed}{into}, or point gpbench at a directory that holds them (directly "
            f"or in its {decl.name}/ subdirectory) with --data-dir DIR or the GPBENCH_DATA_DIR "
            "environment variable.")


def _local_candidates(decl: DatasetDeclaration, f: RemoteFile, data_dir: Path) -> list[Path]:
    return [data_dir / f.name, data_dir / decl.name / f.name]


def raw_files(decl: DatasetDeclaration, config: DataConfig) -> dict[str, Path]:
    """Verified local paths of every declared file: from the data directory or the cache.

    A file present in the data directory but with another sha256 is an error (it is never
    silently replaced by a download); a file absent there is downloaded into the cache.
    """
    cache = Path(config.cache_dir) / decl.name
    out: dict[str, Path] = {}
    missing: list[RemoteFile] = []
    for f in decl.files:
        found = None
        if config.data_dir is not None:
            found = next((p for p in _local_candidates(decl, f, Path(config.data_dir))
                          if p.is_file()), None)
        if found is not None:
            verify(found, f.sha256, "Replace it with the original file. "
                   + how_to_provide(decl, [f]))
            out[f.name] = found
        else:
            missing.append(f)
    where = (f"{', '.join(f.name for f in missing)} not found in data directory "
             f"{config.data_dir} nor in {Path(config.data_dir) / decl.name}, and "
             if config.data_dir is not None else "")
    for f in missing:
        try:
            out[f.name] = fetch(f.url, f.sha256, cache / f.name, "")
        except DataError as exc:
            reason = str(exc).strip().rstrip(".")
            raise DataError(f"dataset {decl.name!r}: {where}{reason}. "
                            + how_to_provide(decl, missing, cache)) from exc
    return out


# --------------------------------------------------------------------------- parsed cache


def as_dosages(genotypes: np.ndarray) -> np.ndarray:
    """int8 when every call is present and integral in int8's range, else float32 (NaN kept)."""
    g = np.asarray(genotypes)
    if g.ndim != 2:
        raise DataError(f"genotypes must be a 2-D matrix, got shape {g.shape}")
    if g.dtype == np.int8:
        return g
    if g.dtype.kind in "iub":
        if g.size == 0 or (g.min() >= -128 and g.max() <= 127):
            return g.astype(np.int8)
        return g.astype(np.float32)
    if g.dtype.kind != "f":
        raise DataError(f"genotypes must be numeric, got dtype {g.dtype}")
    g32 = g.astype(np.float32, copy=False)
    if np.isinf(g32).any():
        raise DataError("genotypes contain infinite values")
    if (not np.isnan(g32).any() and np.array_equal(g32, np.round(g32))
            and (g32.size == 0 or (g32.min() >= -128 and g32.max() <= 127))):
        return g32.astype(np.int8)
    return g32


def _check(decl: DatasetDeclaration, parsed: Parsed) -> Parsed:
    """Validate what ``parse`` returned and normalise its dtypes and ids."""
    g = as_dosages(parsed.genotypes)
    traits = parsed.traits.copy()
    traits.index = pd.Index([str(i) for i in traits.index], name="sample")
    traits.columns = [str(c) for c in traits.columns]
    bad = [c for c in traits.columns if not pd.api.types.is_numeric_dtype(traits[c])]
    if bad:
        raise DataError(f"dataset {decl.name!r}: non-numeric trait columns {bad[:5]}")
    if traits.index.has_duplicates:
        dup = traits.index[traits.index.duplicated()].unique()[:5].tolist()
        raise DataError(f"dataset {decl.name!r}: duplicate sample ids {dup}")
    if g.shape[0] != len(traits):
        raise DataError(f"dataset {decl.name!r}: {g.shape[0]} genotype rows but "
                        f"{len(traits)} phenotype rows")
    markers = parsed.markers.copy()
    markers.index = pd.Index([str(i) for i in markers.index], name="marker")
    if g.shape[1] != len(markers):
        raise DataError(f"dataset {decl.name!r}: {g.shape[1]} genotype columns but "
                        f"{len(markers)} markers")
    if markers.index.has_duplicates:
        dup = markers.index[markers.index.duplicated()].unique()[:5].tolist()
        raise DataError(f"dataset {decl.name!r}: duplicate marker ids {dup}")
    chrom = markers["chrom"] if "chrom" in markers else pd.Series(None, index=markers.index)
    pos = markers["pos"] if "pos" in markers else pd.Series(np.nan, index=markers.index)
    markers = pd.DataFrame({
        "chrom": pd.Series([None if c is None or pd.isna(c) else str(c) for c in chrom],
                           index=markers.index, dtype=object),
        "pos": pd.to_numeric(pos, errors="coerce").astype(float).to_numpy()},
        index=markers.index)
    folds = parsed.published_folds
    if folds is not None:
        folds = _by_sample(folds).astype(np.int64).rename("fold")
        unknown = folds.index.difference(traits.index)
        if len(unknown):
            raise DataError(f"dataset {decl.name!r}: published folds name unknown samples "
                            f"{unknown[:5].tolist()}")
    return Parsed(g, traits.astype(np.float64), markers, folds,
                  _check_groups(decl.name, parsed.groups, traits.index),
                  _check_covariates(decl.name, parsed.covariates, traits.index),
                  _check_records(decl.name, parsed.trial_records))


Table = TypeVar("Table", pd.DataFrame, pd.Series)


def _by_sample(table: Table) -> Table:
    """A copy of ``table`` (a frame or series of a parser) indexed by sample ids as text."""
    out = table.copy()
    out.index = pd.Index([str(i) for i in out.index], name="sample")
    return out


def _check_groups(name: str, groups: pd.DataFrame | None,
                  samples: pd.Index) -> pd.DataFrame | None:
    """``groups`` aligned to ``samples`` with text labels (missing labels stay NaN)."""
    if groups is None:
        return None
    groups = _by_sample(groups)
    unknown = groups.index.difference(samples)
    if len(unknown):
        raise DataError(f"dataset {name!r}: groups name unknown samples "
                        f"{unknown[:5].tolist()}")
    groups = groups.reindex(samples)
    return pd.DataFrame({str(c): groups[c].map(lambda v: v if pd.isna(v) else str(v))
                         .astype(object) for c in groups.columns}, index=samples)


RECORD_COLUMNS = ("sample", "trial", "trait", "value")


def _check_covariates(name: str, covariates: pd.DataFrame | None,
                      samples: pd.Index) -> pd.DataFrame | None:
    """Covariates aligned to the samples (str index and column names; categories as str)."""
    if covariates is None:
        return None
    cov = _by_sample(covariates)
    if cov.index.has_duplicates:
        raise DataError(f"dataset {name!r}: duplicate sample ids in the covariates")
    cov.columns = [str(c) for c in cov.columns]
    for c in cov.columns:
        if not pd.api.types.is_numeric_dtype(cov[c]) or pd.api.types.is_bool_dtype(cov[c]):
            cov[c] = cov[c].astype(object).where(cov[c].notna(), None).map(
                lambda v: None if v is None else str(v))
        else:
            cov[c] = cov[c].astype(np.float64)
    return cov.reindex(samples)


def _check_records(name: str, records: pd.DataFrame | None) -> pd.DataFrame | None:
    """Trial records with columns ``sample``, ``trial``, ``trait`` (str), ``value`` (float)."""
    if records is None:
        return None
    missing = [c for c in RECORD_COLUMNS if c not in records.columns]
    if missing:
        raise DataError(f"dataset {name!r}: trial records lack columns {missing}; they need "
                        f"{list(RECORD_COLUMNS)}")
    # through object arrays: iterating a pyarrow-backed column costs ~30x more per value
    out = pd.DataFrame({c: [str(v).strip() for v in records[c].to_numpy(dtype=object)]
                        for c in RECORD_COLUMNS[:3]})
    out["value"] = pd.to_numeric(records["value"], errors="coerce").to_numpy(dtype=np.float64)
    return out[np.isfinite(out["value"].to_numpy())].reset_index(drop=True)


def _to_arrays(parsed: Parsed) -> dict[str, np.ndarray]:
    chrom = parsed.markers["chrom"]
    arrays = {
        "genotypes": parsed.genotypes,
        "samples": np.asarray(parsed.traits.index, dtype=str),
        "trait_names": np.asarray(parsed.traits.columns, dtype=str),
        "phenotypes": parsed.traits.to_numpy(np.float64),
        "markers": np.asarray(parsed.markers.index, dtype=str),
        "chrom": np.asarray(["" if c is None else c for c in chrom], dtype=str),
        "chrom_known": np.asarray([c is not None for c in chrom], dtype=bool),
        "pos": parsed.markers["pos"].to_numpy(np.float64),
    }
    if parsed.published_folds is not None:
        arrays["fold_samples"] = np.asarray(parsed.published_folds.index, dtype=str)
        arrays["fold_values"] = parsed.published_folds.to_numpy(np.int64)
    if parsed.groups is not None:
        arrays["group_names"] = np.asarray(parsed.groups.columns, dtype=str)
        for i, column in enumerate(parsed.groups.columns):
            labels = parsed.groups[column]
            arrays[f"group{i}"] = np.asarray(labels.fillna("").to_numpy(), dtype=str)
            arrays[f"group{i}_known"] = labels.notna().to_numpy()
    if parsed.covariates is not None:
        arrays["cov_names"] = np.asarray(parsed.covariates.columns, dtype=str)
        for i, c in enumerate(parsed.covariates.columns):
            col = parsed.covariates[c]
            if pd.api.types.is_float_dtype(col):
                arrays[f"cov_num_{i}"] = col.to_numpy(np.float64)
            else:
                arrays[f"cov_str_{i}"] = np.asarray(["" if v is None else v for v in col],
                                                    dtype=str)
                arrays[f"cov_na_{i}"] = col.isna().to_numpy()
    if parsed.trial_records is not None:
        for c in RECORD_COLUMNS[:3]:
            arrays[f"rec_{c}"] = np.asarray(parsed.trial_records[c], dtype=str)
        arrays["rec_value"] = parsed.trial_records["value"].to_numpy(np.float64)
    return arrays


def _from_arrays(a: dict[str, np.ndarray]) -> Parsed:
    samples = pd.Index(a["samples"].tolist(), name="sample")
    traits = pd.DataFrame(a["phenotypes"], index=samples, columns=a["trait_names"].tolist())
    index = pd.Index(a["markers"].tolist(), name="marker")
    chrom = [c if k else None for c, k in zip(a["chrom"].tolist(), a["chrom_known"].tolist(),
                                              strict=True)]
    markers = pd.DataFrame({"chrom": pd.Series(chrom, index=index, dtype=object),
                            "pos": a["pos"]}, index=index)
    folds = None
    if "fold_samples" in a:
        folds = pd.Series(a["fold_values"], index=pd.Index(a["fold_samples"].tolist(),
                                                           name="sample"), name="fold")
    groups = None
    if "group_names" in a:
        groups = pd.DataFrame({name: pd.Series(np.where(a[f"group{i}_known"],
                                                        a[f"group{i}"].astype(object), None),
                                               index=samples, dtype=object)
                               for i, name in enumerate(a["group_names"].tolist())},
                              index=samples)
    covariates = None
    if "cov_names" in a:
        cols = {}
        for i, c in enumerate(a["cov_names"].tolist()):
            if f"cov_num_{i}" in a:
                cols[c] = a[f"cov_num_{i}"]
            else:
                cols[c] = pd.Series([None if na else v for v, na in
                                     zip(a[f"cov_str_{i}"].tolist(), a[f"cov_na_{i}"].tolist(),
                                         strict=True)], index=samples, dtype=object)
        covariates = pd.DataFrame(cols, index=samples)
    records = None
    if "rec_value" in a:
        records = pd.DataFrame({c: a[f"rec_{c}"].tolist() for c in RECORD_COLUMNS[:3]})
        records["value"] = a["rec_value"]
    return Parsed(a["genotypes"], traits, markers, folds, groups, covariates, records)


def cache_path(decl: DatasetDeclaration, config: DataConfig) -> Path:
    """Where the parsed arrays of ``decl`` are cached (depends on files and parser version)."""
    return (Path(config.cache_dir) / decl.name
            / f"parsed-{decl.checksum[:16]}-v{decl.parser_version}.npz")


def _read_cache(path: Path) -> Parsed | None:
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            return _from_arrays({k: z[k] for k in z.files})
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        log.warning("cache %s is unreadable (%s); rebuilding it", path, exc)
        return None  # truncated, disk full, older layout: rebuild it


def load_declared(decl: DatasetDeclaration, config: DataConfig) -> Dataset:
    """Load a declared dataset: verified files, parsed once, then served from the cache."""
    path = cache_path(decl, config)
    parsed = _read_cache(path)
    if parsed is None:
        files = raw_files(decl, config)
        try:
            raw = decl.parse(files)
        except DataError:
            raise
        except Exception as exc:  # parsers (rdata, pandas) raise many types on bad input
            raise DataError(f"dataset {decl.name!r}: could not parse {sorted(files)} "
                            f"({type(exc).__name__}: {exc}); delete the files and provide the "
                            "originals. " + how_to_provide(decl, decl.files)) from exc
        parsed = _check(decl, raw)
        buf = io.BytesIO()
        np.savez(buf, **_to_arrays(parsed))
        atomic_write_bytes(path, buf.getvalue())
    else:
        # a cache hit skips re-hashing the raw files; it is keyed by their declared sha256
        parsed = _check(decl, parsed)
    return Dataset(name=decl.name, genotypes=parsed.genotypes, traits=parsed.traits,
                   markers=parsed.markers, version=decl.version, checksum=decl.checksum,
                   citation=decl.citation, coding=decl.coding,
                   published_folds=parsed.published_folds, groups=parsed.groups,
                   covariates=parsed.covariates, trial_records=parsed.trial_records)


# --------------------------------------------------------------------------- parser helpers


def read_r(path: Path, **kwargs: Any) -> dict[str, Any]:
    """Objects of an R file (``.rda``/``.RData`` workspace, or ``.rds``) converted by rdata.

    An ``.rds`` holds one object, returned under the file's stem. ``kwargs`` go to rdata's
    ``read_rda`` / ``read_rds`` (e.g. ``default_encoding``).
    """
    import rdata

    path = Path(path)
    try:
        with warnings.catch_warnings():  # old workspaces declare no string encoding
            warnings.filterwarnings("ignore", "Unknown encoding", UserWarning)
            if path.suffix.lower() == ".rds":
                return {path.stem: rdata.read_rds(path, **kwargs)}
            return dict(rdata.read_rda(path, **kwargs))
    except Exception as exc:  # rdata raises many types on corrupt input
        raise DataError(f"could not read R file {path} ({type(exc).__name__}: {exc}); "
                        "replace it with the original file") from exc


def _clean_ids(values: Any) -> list[str]:
    return [str(v).strip() for v in values]


def join_by_id(geno_ids: Sequence[Any], pheno: pd.DataFrame, id_column: str,
               what: str) -> tuple[np.ndarray, pd.DataFrame]:
    """Match phenotype records to genotype rows by id.

    Returns ``(geno_rows, frame)``: the genotype row numbers of the individuals that are both
    genotyped and phenotyped (in genotype order), and ``pheno`` reindexed to those ids (index =
    id as str, ``id_column`` removed), row for row. ``pheno`` must hold one row per id
    (aggregate repeated records first). ``what`` names the dataset in messages.
    """
    if id_column not in pheno.columns:
        raise DataError(f"{what}: phenotype column {id_column!r} not found; columns are "
                        f"{list(pheno.columns)[:10]}")
    gids = pd.Index(_clean_ids(geno_ids))
    if gids.has_duplicates:
        raise DataError(f"{what}: duplicate genotype ids "
                        f"{gids[gids.duplicated()].unique()[:5].tolist()}")
    frame = pheno.drop(columns=[id_column])
    frame.index = pd.Index(_clean_ids(pheno[id_column]), name="sample")
    if frame.index.has_duplicates:
        raise DataError(f"{what}: several phenotype rows for ids "
                        f"{frame.index[frame.index.duplicated()].unique()[:5].tolist()}; "
                        "aggregate them per individual first")
    keep = gids.isin(frame.index)
    if not keep.any():
        raise DataError(f"{what}: no genotype id matches a phenotype {id_column!r} (genotype "
                        f"ids look like {gids[:3].tolist()}, phenotype ids like "
                        f"{frame.index[:3].tolist()})")
    n_geno_only = int((~keep).sum())
    n_pheno_only = int((~frame.index.isin(gids)).sum())
    if n_geno_only or n_pheno_only:
        log.info("%s: %d individuals genotyped and phenotyped; %d genotyped only and %d "
                 "phenotyped only are left out", what, int(keep.sum()), n_geno_only,
                 n_pheno_only)
    rows = np.flatnonzero(keep)
    return rows, frame.loc[gids[rows]]


def aggregate_mean(frame: pd.DataFrame, id_column: str,
                   trait_columns: Sequence[str]) -> pd.DataFrame:
    """Mean of repeated records per individual (NaN ignored), one row per id.

    Returns a frame with ``id_column`` and ``trait_columns``, ids in order of first appearance.
    A trait column that is not numeric is a DataError naming it.
    """
    missing = [c for c in [id_column, *trait_columns] if c not in frame.columns]
    if missing:
        raise DataError(f"columns {missing} not found; columns are {list(frame.columns)[:15]}")
    bad = [c for c in trait_columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        examples = {c: frame[c].dropna().astype(str).unique()[:3].tolist() for c in bad[:3]}
        raise DataError(f"trait columns {bad} are not numeric (values like {examples}); "
                        "convert or drop them before aggregating")
    sub = frame[[id_column, *trait_columns]].copy()
    sub[id_column] = _clean_ids(sub[id_column])
    out = sub.groupby(id_column, sort=False)[list(trait_columns)].mean()
    return out.reset_index()


def trial_records(frame: pd.DataFrame, id_column: str, trial_columns: Sequence[str],
                  trait_columns: Sequence[str]) -> pd.DataFrame:
    """Per-trial records of ``frame`` in the long form a Dataset's ``trial_records`` takes:
    one row per id, trial and measured trait (``sample``, ``trial``, ``trait``, ``value``). The
    trial is the ``trial_columns`` joined by "/" (e.g. environment and set), so the host can
    estimate its effect on each training fold (:mod:`gpbench.running.design`)."""
    missing = [c for c in [id_column, *trial_columns, *trait_columns] if c not in frame.columns]
    if missing:
        raise DataError(f"columns {missing} not found; columns are {list(frame.columns)[:15]}")
    trial = frame[list(trial_columns)].astype(str).agg("/".join, axis=1)
    parts = [pd.DataFrame({"sample": _clean_ids(frame[id_column]), "trial": trial.to_numpy(),
                           "trait": t, "value": pd.to_numeric(frame[t], errors="coerce")
                           .to_numpy(dtype=np.float64)}) for t in trait_columns]
    out = pd.concat(parts, ignore_index=True)
    return out[np.isfinite(out["value"].to_numpy())].reset_index(drop=True)
