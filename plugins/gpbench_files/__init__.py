"""The ``files`` dataset: your own genotype and phenotype files, no plugin to write.

Options (``--dataset files --dataset-option geno=FILE --dataset-option pheno=FILE``, or the
``gpbench run --geno FILE --pheno FILE`` shorthand):

* ``geno``: PLINK binary (``x.bed`` with ``x.bim`` and ``x.fam``), VCF / VCF.gz (GT calls,
  bi-allelic sites), or a CSV/TSV matrix (an id column, one numeric dosage column per marker).
* ``pheno``: CSV/TSV with an id column and one numeric column per trait; empty cells and NA,
  NaN, N/A, NULL, ``.``, ``-`` are missing; columns without any number (names, notes) are
  skipped with a note. Without ``pheno`` the dataset has genotypes only (``gpbench predict``
  reads new individuals this way).
* ``id_column``: the phenotype file's id column (default: its first column); a genotype matrix
  uses a column of that name too when it has one, else its first column. When no phenotype id
  is a genotype id, the error proposes the column that holds genotype ids.
* ``ignore_columns``: comma-separated phenotype columns that are not traits.

The phenotype file's columns that are not traits (text columns such as a family name, and the
``ignore_columns``) are the dataset's groupings: ``--cv group:family`` deals whole families
into folds.

Individuals are joined by id and sorted by id, so the folds do not depend on the order of the
rows in the files. The dataset checksum is a hash of the files' sha256, which the dataset
version lists file by file (so a run directory records them).
"""

from __future__ import annotations

import functools
import hashlib
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from gpbench import DataConfig, DataError, Dataset, DatasetSpec, hookimpl

from .genotypes import genotype_format, read_genotypes
from .phenotypes import read_groups, read_phenotypes
from .tables import id_columns_matching

log = logging.getLogger("gpbench.files")

OPTIONS = ("geno", "pheno", "id_column", "ignore_columns")
SHOWN = 5  # unmatched ids listed in the log line


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    """sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _few(ids: list[str]) -> str:
    more = f", ... ({len(ids)} in all)" if len(ids) > SHOWN else ""
    return ", ".join(ids[:SHOWN]) + more


def _no_common_id(geno_ids: list[str], traits: pd.DataFrame, geno_path: Path,
                  pheno_path: Path) -> DataError:
    """No phenotype id is a genotype id: propose the column that holds genotype ids."""
    used = traits.index.name
    others = [(c, n) for c, n in id_columns_matching(pheno_path, geno_ids) if c != used]
    if others:  # the column holding most genotype ids (the first of equals)
        col, n = max(others, key=lambda cn: cn[1])
        return DataError(f"{pheno_path}: no id in column {used!r} (like "
                         f"{list(traits.index[:2])}) is a genotype id of {geno_path.name} "
                         f"(like {geno_ids[:2]}), but column {col!r} holds {n}: add "
                         f"--id-column {col}")
    return DataError(f"no individual id is in both {geno_path.name} and {pheno_path.name} "
                     f"(genotype ids like {geno_ids[:3]}, phenotype ids like "
                     f"{list(traits.index[:3])} in column {used!r}); check the id columns "
                     "(--id-column)")


def join(geno_ids: list[str], traits: pd.DataFrame, geno_path: Path,
         pheno_path: Path) -> tuple[list[int], pd.DataFrame]:
    """Genotype rows and the trait frame of the individuals in both files, sorted by id."""
    gid = {s: i for i, s in enumerate(geno_ids)}
    both = sorted(set(gid) & set(traits.index))
    if not both:
        raise _no_common_id(geno_ids, traits, geno_path, pheno_path)
    only_g = sorted(s for s in geno_ids if s not in traits.index)
    only_p = sorted(s for s in traits.index if s not in gid)
    msg = (f"{len(both)} individuals in both {geno_path.name} ({len(geno_ids)}) and "
           f"{pheno_path.name} ({len(traits)})")
    if only_g:
        msg += f"; {len(only_g)} genotyped only: {_few(only_g)}"
    if only_p:
        msg += f"; {len(only_p)} phenotyped only: {_few(only_p)}"
    log.info(msg)
    return [gid[s] for s in both], traits.loc[both]


def _load(geno: Path, pheno: Path | None, id_column: str | None, stamp: tuple,
          ignore: tuple[str, ...] = ()) -> Dataset:
    traits = pd.DataFrame()
    select = None
    groups = None
    if pheno is not None:
        table = read_phenotypes(pheno, id_column, ignore)
        groups = read_groups(pheno, id_column, list(table.columns))

        def select(ids: list[str]) -> list[int]:
            nonlocal traits
            rows, traits = join(ids, table, geno, pheno)
            return rows

    g = read_genotypes(geno, id_column, select)
    files = list(g.files) + ([pheno] if pheno is not None else [])
    # keyed by file name; by path where two files share a name (geno/x.csv, pheno/x.csv), so
    # that every file's hash is in the checksum
    names = [f.name for f in files]
    keys = names if len(set(names)) == len(names) else [str(f) for f in files]
    hashes = {k: sha256_file(f) for k, f in zip(keys, files, strict=True)}
    checksum = hashlib.sha256("\n".join(f"{k} {v}" for k, v in hashes.items())
                              .encode()).hexdigest()
    version = "files: " + ", ".join(f"{k} sha256 {v}" for k, v in hashes.items())
    if pheno is None:
        traits = pd.DataFrame(index=pd.Index(g.ids, name="sample"))
    traits.index.name = "sample"
    if groups is not None:
        groups = groups.loc[traits.index]
        groups.index = traits.index
    return Dataset(name="files", genotypes=g.values, traits=traits, markers=g.markers,
                   version=version, checksum=checksum,
                   citation=f"user files ({', '.join(hashes)})", groups=groups)


@functools.lru_cache(maxsize=2)
def _cached(geno: Path, pheno: Path | None, id_column: str | None, stamp: tuple,
            ignore: tuple[str, ...] = ()) -> Dataset:
    return _load(geno, pheno, id_column, stamp, ignore)


def _stamp(paths: list[Path]) -> tuple:
    """Size and modification time of every file: a changed file is read again."""
    out = []
    for p in paths:
        try:
            st = p.stat()
            out.append((str(p), st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((str(p), None, None))
    return tuple(out)


def load(config: DataConfig) -> Dataset:
    """Load the dataset described by ``config.options`` (see the module docstring)."""
    opts = dict(config.options)
    unknown = sorted(set(opts) - set(OPTIONS))
    if unknown:
        raise DataError(f"dataset 'files' has no option(s) {unknown}; its options are "
                        f"{list(OPTIONS)}")
    if not opts.get("geno"):
        raise DataError("dataset 'files' needs a genotype file: --geno FILE (or "
                        "--dataset-option geno=FILE)")
    geno = Path(opts["geno"]).expanduser().resolve()
    pheno = Path(opts["pheno"]).expanduser().resolve() if opts.get("pheno") else None
    if pheno is not None and not pheno.exists():
        raise DataError(f"{pheno}: phenotype file not found")
    related = [geno]
    if genotype_format(geno) == "plink":
        prefix = geno.with_suffix("") if geno.suffix.lower() == ".bed" else geno
        related = [prefix.with_name(prefix.name + ext) for ext in (".bed", ".bim", ".fam")]
    stamp = _stamp(related + ([pheno] if pheno else []))
    ignore = tuple(c.strip() for c in str(opts.get("ignore_columns") or "").split(",")
                   if c.strip())
    return _cached(geno, pheno, opts.get("id_column") or None, stamp, ignore)


@hookimpl
def register_datasets(register: Any) -> None:
    register(DatasetSpec(
        "files", load, "your own files: geno=PLINK .bed / VCF / CSV matrix, pheno=CSV/TSV "
        "(options geno, pheno, id_column, ignore_columns)", options=dict.fromkeys(OPTIONS),
        role="own-files"))
