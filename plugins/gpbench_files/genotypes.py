"""Genotype file readers: PLINK binary (.bed/.bim/.fam), VCF / VCF.gz, and CSV/TSV matrices.

Every reader returns a :class:`Genotypes`: one row per individual, one column per marker, the
dosage of one allele as float32 with NaN for a missing call (PLINK: the A1 allele, the first
allele column of the .bim, which plink 2 writes as ALT; VCF: the ALT allele; a matrix: the
numbers as written). The format is chosen by the file name: ``.bed`` (or a PLINK prefix whose
``.bed`` exists), ``.vcf`` / ``.vcf.gz``, anything else is read as a delimited matrix.

PLINK and VCF marker tables also carry ``counted`` (the allele whose dosage is given) and
``other`` (the other allele), so that files coding a marker by different alleles can be
reconciled (``gpbench predict`` flips such markers).
"""

from __future__ import annotations

import gzip
import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gpbench import DataError, unique_ids

from .tables import read_numeric_table, repeated

log = logging.getLogger("gpbench.files")

Select = Callable[[list[str]], list[int]]
"""``select(ids) -> rows``: which rows of a file to keep, in which order."""


@dataclass(frozen=True)
class Genotypes:
    """Dosages of one genotype file.

    Attributes:
        ids: individual ids, one per row.
        values: ``(n_individuals, n_markers)`` float32 dosages, NaN = missing call, in
            column-major (Fortran) order whatever the format, so that every format gives
            bit-identical arithmetic downstream.
        markers: frame indexed by marker id with ``chrom`` and ``pos`` (NaN when unknown).
        files: the files read (for checksums), the main file first.
        fmt: ``"plink"``, ``"vcf"`` or ``"matrix"``.
    """

    ids: list[str]
    values: np.ndarray
    markers: pd.DataFrame
    files: tuple[Path, ...]
    fmt: str


def genotype_format(path: Path) -> str:
    """``plink``, ``vcf`` or ``matrix``, from the file name."""
    name = path.name.lower()
    if name.endswith(".bed") or (not path.exists() and path.with_name(path.name + ".bed")
                                 .exists()):
        return "plink"
    if name.endswith((".vcf", ".vcf.gz", ".vcf.bgz")):
        return "vcf"
    return "matrix"


def plink_files(path: Path) -> tuple[Path, Path, Path]:
    """The .bed, .bim and .fam of a PLINK fileset given as ``x.bed`` or the prefix ``x``."""
    prefix = path.with_suffix("") if path.suffix.lower() == ".bed" else path
    files = tuple(prefix.with_name(prefix.name + ext) for ext in (".bed", ".bim", ".fam"))
    missing = [f.name for f in files if not f.exists()]
    if missing:
        raise DataError(f"PLINK fileset {prefix}: {', '.join(missing)} not found; a PLINK "
                        "binary fileset is three files with one prefix (.bed, .bim, .fam)")
    return files  # type: ignore[return-value]


def _check_unique(kind: str, names: list[str], where: Path) -> None:
    dup = repeated(names)
    if dup:
        raise DataError(f"{where}: duplicate {kind} ids {dup[:5]}; every {kind} needs a "
                        "unique id")


def _count_lines(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.strip())


def _take(ids: list[str], values: np.ndarray, select: Select | None
          ) -> tuple[list[str], np.ndarray]:
    if select is None:
        return ids, np.asfortranarray(values)
    rows = select(ids)
    if rows == list(range(len(ids))):
        return ids, np.asfortranarray(values)
    return [ids[i] for i in rows], np.asfortranarray(values[rows])


def read_plink(path: Path, select: Select | None = None,
               num_threads: int | None = None) -> Genotypes:
    """Read a PLINK 1 binary fileset with bed-reader (only the rows ``select`` picks)."""
    from bed_reader import open_bed

    bed, bim, fam = plink_files(Path(path))
    with open(bed, "rb") as fh:
        magic = fh.read(3)
    if magic[:2] != b"\x6c\x1b":
        raise DataError(f"{bed} is not a PLINK .bed file (wrong magic bytes); convert it with "
                        "plink --make-bed")
    if magic[2:3] != b"\x01":
        raise DataError(f"{bed} is individual-major (old PLINK format); rewrite it with "
                        "plink --make-bed")
    n, p = _count_lines(fam), _count_lines(bim)
    expected = 3 + p * math.ceil(n / 4)
    size = os.path.getsize(bed)
    if size != expected:
        raise DataError(f"{bed} has {size} bytes but {fam.name} ({n} individuals) and "
                        f"{bim.name} ({p} markers) imply {expected}; the three files do not "
                        "belong together: regenerate them with plink --make-bed")
    try:
        with open_bed(bed, iid_count=None, sid_count=None, num_threads=num_threads) as reader:
            ids = [str(s) for s in reader.iid]
            sids = [str(s) for s in reader.sid]
            chrom = [str(c) for c in reader.chromosome]
            pos = np.asarray(reader.bp_position, dtype=np.float64)
            counted = [str(a) for a in reader.allele_1]
            other = [str(a) for a in reader.allele_2]
            if len(set(ids)) < len(ids):
                unique_ids(ids, fam, "individual id (column 2)", first_line=1)
            rows = None if select is None else select(ids)
            if rows is not None:
                ids = [ids[i] for i in rows]
            # column-major is the .bed's own layout: ~2x faster than row-major here
            values = reader.read(index=(rows, None) if rows is not None else None,
                                 dtype="float32", order="F", num_threads=num_threads)
    except DataError:
        raise
    except Exception as exc:  # bed-reader raises several types on malformed .bim/.fam
        raise DataError(f"{bed}: could not read the PLINK fileset ({exc})") from None
    sids = [s if s not in ("", ".") else f"{c}:{int(q)}" for s, c, q in zip(sids, chrom, pos,
                                                                           strict=True)]
    _check_unique("marker", sids, bim)
    pos = np.where(pos > 0, pos, np.nan)  # PLINK writes 0 for an unknown position
    markers = pd.DataFrame({"chrom": chrom, "pos": pos, "counted": counted, "other": other},
                           index=pd.Index(sids, name="marker"))
    return Genotypes(ids, values, markers, (bed, bim, fam), "plink")


def _gt_dosage(gt: str, path: Path, line_no: int) -> float:
    """Dosage of allele 1 in a GT value (``0/1``, ``1|1``, haploid ``1``; ``.`` = missing)."""
    alleles = gt.replace("|", "/").split("/")
    if any(a in (".", "") for a in alleles):
        return math.nan
    try:
        codes = [int(a) for a in alleles]
    except ValueError:
        raise DataError(f"{path}: line {line_no}: GT value {gt!r} is not a genotype call "
                        "like 0/1") from None
    if any(c > 1 or c < 0 for c in codes):
        raise DataError(f"{path}: line {line_no}: GT value {gt!r} names allele > 1 at a "
                        "bi-allelic site")
    return float(sum(codes))


def read_vcf(path: Path, select: Select | None = None) -> Genotypes:
    """Read GT calls of bi-allelic sites from a VCF (plain or gzip/bgzip-compressed)."""
    path = Path(path)
    opener = gzip.open if path.name.lower().endswith(("gz", "bgz")) else open
    rows: list[np.ndarray] = []
    ids: list[str] = []
    names: list[str] = []
    chroms: list[str] = []
    positions: list[float] = []
    alts: list[str] = []
    refs: list[str] = []
    samples: list[str] | None = None
    n_multi = 0
    cache: dict[str, float] = {}
    try:
        with opener(path, "rt") as fh:  # type: ignore[operator]
            for line_no, line in enumerate(fh, start=1):
                if line.startswith("##"):
                    continue
                if line.startswith("#"):
                    header = line.rstrip("\r\n").split("\t")
                    if len(header) < 10 or header[8] != "FORMAT":
                        raise DataError(f"{path}: line {line_no}: the #CHROM header has no "
                                        "FORMAT and sample columns; a VCF with genotype calls "
                                        "is needed")
                    samples = [s.strip() for s in header[9:]]
                    continue
                if samples is None:
                    raise DataError(f"{path}: line {line_no}: data before the #CHROM header "
                                    "line; is this a VCF file?")
                fields = line.rstrip("\r\n").split("\t")
                if len(fields) != 9 + len(samples):
                    raise DataError(f"{path}: line {line_no} has {len(fields)} tab-separated "
                                    f"fields, the header {9 + len(samples)}")
                if "," in fields[4]:
                    n_multi += 1
                    continue
                keys = fields[8].split(":")
                if keys[0] != "GT":
                    raise DataError(f"{path}: line {line_no}: no GT field in FORMAT "
                                    f"({fields[8]!r}); gpbench reads genotype calls from GT: "
                                    "export the VCF with GT")
                calls = fields[9:]
                if len(keys) > 1:
                    calls = [c.split(":", 1)[0] for c in calls]
                dos = np.empty(len(calls), dtype=np.float32)
                for i, gt in enumerate(calls):
                    v = cache.get(gt)
                    if v is None:
                        v = cache[gt] = _gt_dosage(gt, path, line_no)
                    dos[i] = v
                rows.append(dos)
                chroms.append(fields[0])
                positions.append(float(fields[1]))
                alts.append(fields[4])
                refs.append(fields[3])
                ident = fields[2]
                names.append(ident if ident not in ("", ".")
                             else f"{fields[0]}:{fields[1]}:{fields[3]}:{fields[4]}")
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise DataError(f"{path}: cannot read it as a VCF ({exc})") from None
    if samples is None:
        raise DataError(f"{path}: no #CHROM header line; is this a VCF file?")
    if n_multi:
        log.info("%s: skipped %d multi-allelic site(s); kept %d bi-allelic", path.name,
                 n_multi, len(rows))
    if not rows:
        raise DataError(f"{path}: no bi-allelic sites with genotype calls")
    _check_unique("individual", samples, path)
    _check_unique("marker", names, path)
    ids, values = _take(samples, np.vstack(rows).T, select)
    markers = pd.DataFrame({"chrom": chroms, "pos": positions, "counted": alts,
                            "other": refs}, index=pd.Index(names, name="marker"))
    return Genotypes(ids, values, markers, (path,), "vcf")


def read_matrix(path: Path, id_column: str | None = None,
                select: Select | None = None) -> Genotypes:
    """Read a CSV/TSV matrix: an id column and one numeric dosage column per marker.

    The id column is ``id_column`` when the file has it, else the first column.
    """
    from .tables import header_line, sniff_delimiter

    path = Path(path)
    header = header_line(path)
    columns = [c.strip().strip('"') for c in header.split(sniff_delimiter(path, header))]
    use = id_column if id_column in columns else None
    _, frame = read_numeric_table(path, use, what="dosage", dtype="float32")
    markers = pd.DataFrame({"chrom": pd.Series([None] * frame.shape[1], dtype=object),
                            "pos": np.full(frame.shape[1], np.nan)},
                           index=pd.Index(list(frame.columns), name="marker"))
    # repeated marker names were refused by read_numeric_table with the header
    ids, values = _take([str(i) for i in frame.index], frame.to_numpy(dtype=np.float32),
                        select)
    return Genotypes(ids, values, markers, (path,), "matrix")


def read_genotypes(path: Path, id_column: str | None = None,
                   select: Select | None = None) -> Genotypes:
    """Read any supported genotype file (see the module docstring).

    ``select(ids)`` (optional) gets the file's individual ids and returns the rows to keep, in
    the order wanted; PLINK files then read only those rows.
    """
    path = Path(path)
    fmt = genotype_format(path)
    if fmt == "plink":
        return read_plink(path, select)
    if not path.exists():
        raise DataError(f"{path}: genotype file not found")
    if fmt == "vcf":
        return read_vcf(path, select)
    return read_matrix(path, id_column, select)
