"""The ``rice`` dataset: 374 accessions of the rice diversity panel x 36,901 SNPs of the 44K
array, 27 traits (VTGWAS2019's ``Rice44k.zip``: PLINK bed + ``44kPhenos.csv``, Zhao et al.
2011)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from gpbench import DataError, DatasetDeclaration, Parsed, join_by_id

from .sources import VTGWAS, pinned, version

CITATION = ("Zhao K, Tung CW, Eizenga GC, Wright MH, Ali ML, Price AH, et al. Genome-wide "
            "association mapping reveals a rich genetic architecture of complex traits in "
            "Oryza sativa. Nature Communications 2, 467 (2011). Data: Rice44k.zip from "
            "malachycampbell/VTGWAS2019.")
ZIP = "Rice44k.zip"
PREFIX = "Rice44k/"
# PLINK .bed 2-bit codes -> count of the .bim A1 allele (0b01 = missing)
_CODE = np.array([2.0, np.nan, 1.0, 0.0], dtype=np.float32)
_EASYGESE = ("EasyGeSe benchmark, rice (352 x 27,232 version)", "5x5-fold CV (EasyGeSe)")


def _refs() -> tuple[dict, ...]:
    figures = {"Flowering.time.at.Arkansas": (.472, .477),
               "Flowering.time.at.Faridpur": (.384, .386),
               "Flowering.time.at.Aberdeen": (.271, .291), "Plant.height": (.626, .643),
               "Panicle.number.per.plant": (.756, .758), "Panicle.fertility": (.372, .375)}
    return tuple({"trait": t, "source": "EasyGeSe", "what": what, "metric": "r",
                  "value": vals[i], "protocol": _EASYGESE[1], "citation": _EASYGESE[0]}
                 for t, vals in figures.items() for i, what in enumerate(("GBLUP", "BayesB")))


def read_bed(data: bytes, n_samples: int, n_markers: int) -> np.ndarray:
    """Decode a SNP-major PLINK .bed into ``(n_samples, n_markers)`` A1-allele counts (float32,
    NaN missing)."""
    if data[:3] != b"\x6c\x1b\x01":
        raise DataError("not a SNP-major PLINK .bed file (bad magic bytes)")
    per_snp = (n_samples + 3) // 4
    if len(data) != 3 + per_snp * n_markers:
        raise DataError(f".bed has {len(data) - 3} data bytes, expected {per_snp * n_markers} "
                        f"for {n_samples} samples x {n_markers} markers")
    raw = np.frombuffer(data, dtype=np.uint8, offset=3).reshape(n_markers, per_snp)
    codes = np.stack([(raw >> s) & 0b11 for s in (0, 2, 4, 6)], axis=2)  # sample order in byte
    codes = codes.reshape(n_markers, per_snp * 4)[:, :n_samples]
    return np.ascontiguousarray(_CODE[codes].T)


def parse(files: dict[str, Path]) -> Parsed:
    """The PLINK set ``UNL.bed/.bim/.fam`` and ``44kPhenos.csv`` inside the zip; the .fam IID
    is joined to the CSV's ``PlinkIDs`` (the orders differ); ``NSFTV.ID`` is dropped."""
    with zipfile.ZipFile(files[ZIP]) as z:
        def read(name: str) -> bytes:
            return z.read(PREFIX + name)

        fam = pd.read_csv(io.BytesIO(read("UNL.fam")), sep=r"\s+", header=None, dtype=str)
        bim = pd.read_csv(io.BytesIO(read("UNL.bim")), sep=r"\s+", header=None,
                          dtype={0: str, 1: str, 3: float})
        pheno = pd.read_csv(io.BytesIO(read("44kPhenos.csv")))
        g = read_bed(read("UNL.bed"), len(fam), len(bim))
    frame = pheno.drop(columns=["NSFTV.ID"]).astype({"PlinkIDs": str})
    rows, traits = join_by_id(fam[1].to_numpy(), frame, "PlinkIDs", "rice")
    markers = pd.DataFrame({"chrom": bim[0].to_numpy(), "pos": bim[3].to_numpy()},
                           index=bim[1].to_numpy())
    return Parsed(g[rows], traits.astype(float), markers)


DECLARATION = DatasetDeclaration(
    name="rice",
    description="rice diversity panel: 374 accessions x 36,901 SNPs (44K array, 4.3% missing), "
                "flowering time at 3 sites, plant height, panicle traits and 21 salinity traits",
    citation=CITATION,
    licence="no licence file in the source repository (public data of Zhao et al. 2011)",
    coding="0/1/2 (count of the .bim A1 allele; inbred, mostly 0/2)",
    version=version(VTGWAS),
    files=(pinned(VTGWAS, "Exercises/Day3/Rice44k.zip",
                  "95950ec8d108f3acd441550c0c169c1b415b22ed17b9afbc44c894779b179f2a"),),
    parse=parse,
    default_traits=("Flowering.time.at.Arkansas", "Plant.height", "Panicle.number.per.plant",
                    "Panicle.fertility"),
    references=_refs(),
)
