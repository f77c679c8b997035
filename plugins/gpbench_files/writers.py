"""Writers for the formats the readers take: PLINK binary, VCF, CSV/TSV matrix, phenotypes.

For examples, tests and exporting a dataset; dosages are counts of one allele (0, 1, 2; NaN =
missing). In the VCF that allele is ALT; in PLINK it is A1 (the .bim's first allele column).
The alleles come from the marker table's ``counted``/``other`` columns when it has them, else
ALT ``G`` / REF ``A``.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd


def _positions(markers: pd.DataFrame) -> tuple[list[str], list[int]]:
    chrom = [str(c) if c is not None and c == c else "0" for c in markers["chrom"]]
    pos = [int(p) if p == p else 0 for p in markers["pos"]]
    return chrom, pos


def _alleles(markers: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(counted, other) per marker: the table's own columns, else ALT ``G`` and REF ``A``."""
    if "counted" in markers.columns and "other" in markers.columns:
        return [str(a) for a in markers["counted"]], [str(a) for a in markers["other"]]
    return ["G"] * len(markers), ["A"] * len(markers)


def write_plink(prefix: Path, ids: Sequence[str], dosages: np.ndarray,
                markers: pd.DataFrame) -> Path:
    """Write ``prefix.bed/.bim/.fam`` (A1 = the counted allele); returns the .bed path."""
    from bed_reader import to_bed

    prefix = Path(prefix)
    bed = prefix.with_name(prefix.name + ".bed")
    chrom, pos = _positions(markers)
    counted, other = _alleles(markers)
    to_bed(bed, np.asarray(dosages, dtype=np.float32), properties={
        "iid": list(ids), "sid": [str(m) for m in markers.index], "chromosome": chrom,
        "bp_position": pos, "allele_1": counted, "allele_2": other})
    return bed


def _gt(value: float, ploidy: int) -> str:
    if value != value:
        return "/".join(["."] * ploidy)
    k = int(round(value))
    return "/".join(["1"] * k + ["0"] * (ploidy - k)) if ploidy > 1 else str(k)


def write_vcf(path: Path, ids: Sequence[str], dosages: np.ndarray, markers: pd.DataFrame,
              ploidy: int = 2, extra_sites: int = 0) -> Path:
    """Write a VCF 4.2 with GT calls (gzip-compressed when ``path`` ends in .gz).

    ``extra_sites`` multi-allelic sites are added after the first marker (readers skip them).
    """
    path = Path(path)
    chrom, pos = _positions(markers)
    counted, other = _alleles(markers)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt") as fh:  # type: ignore[operator]
        fh.write("##fileformat=VCFv4.2\n")
        fh.write('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n')
        fh.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t"
                 + "\t".join(ids) + "\n")
        codes = {}
        for j, name in enumerate(markers.index):
            col = dosages[:, j]
            calls = []
            for v in col:
                key = -1.0 if v != v else float(v)
                if key not in codes:
                    codes[key] = _gt(v, ploidy)
                calls.append(codes[key])
            fh.write(f"{chrom[j]}\t{pos[j]}\t{name}\t{other[j]}\t{counted[j]}\t.\tPASS\t.\tGT\t"
                     + "\t".join(calls) + "\n")
            if j == 0:
                for e in range(extra_sites):
                    fh.write(f"{chrom[j]}\t{pos[j] + 1 + e}\tmulti{e}\tA\tG,T\t.\tPASS\t.\tGT\t"
                             + "\t".join(["1/2"] * len(ids)) + "\n")
    return path


def write_matrix(path: Path, ids: Sequence[str], dosages: np.ndarray,
                 markers: pd.DataFrame, sep: str = ",", id_name: str = "id") -> Path:
    """Write a CSV/TSV matrix: an id column, one dosage column per marker, NA = missing."""
    frame = pd.DataFrame(np.asarray(dosages), columns=[str(m) for m in markers.index])
    frame.insert(0, id_name, list(ids))
    frame.to_csv(path, sep=sep, index=False, na_rep="NA", float_format="%g")
    return Path(path)


def write_phenotypes(path: Path, traits: pd.DataFrame, sep: str = ",",
                     id_name: str = "id") -> Path:
    """Write a phenotype table: an id column, one column per trait, NA = not measured."""
    frame = traits.copy()
    frame.index.name = id_name
    frame.to_csv(path, sep=sep, na_rep="NA", float_format="%.10g")
    return Path(path)
