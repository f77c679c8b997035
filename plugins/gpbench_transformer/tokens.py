"""Marker tokenisation: which genotype columns make up each transformer token.

A tokenisation is an integer array ``index`` of shape ``(n_tokens, width)``: row ``k`` lists the
genotype columns of token ``k``; ``-1`` pads windows shorter than ``width``. The paper profile uses
one token per SNP (``width == 1``); the fast profile uses windows of ``width`` adjacent markers
that never straddle a chromosome boundary.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd


def _natural_key(name: str) -> tuple:
    """``chr2`` before ``chr10``: split digits out so they sort numerically."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name))


def chromosome_groups(n_markers: int, markers: pd.DataFrame | None) -> list[np.ndarray]:
    """Genotype column indices per chromosome, each ordered by position.

    ``markers`` rows are aligned with the genotype columns. Without a marker table (or without a
    ``chrom`` column) all columns form one group in column order. Markers with unknown chromosome
    form their own group; unknown positions keep their column order (stable sort).
    """
    if markers is None or "chrom" not in markers.columns:
        return [np.arange(n_markers)]
    if len(markers) != n_markers:
        raise ValueError(f"marker table has {len(markers)} rows but genotypes have "
                         f"{n_markers} columns")
    chrom = markers["chrom"].astype(object).where(markers["chrom"].notna(), "~unknown")
    chrom = chrom.astype(str).to_numpy()
    if "pos" in markers.columns:
        pos = pd.to_numeric(markers["pos"], errors="coerce").to_numpy(dtype=float)
    else:
        pos = np.full(n_markers, np.nan)
    pos = np.where(np.isnan(pos), np.inf, pos)  # unknown positions go last, in column order
    groups = []
    for c in sorted(set(chrom), key=_natural_key):
        cols = np.flatnonzero(chrom == c)
        groups.append(cols[np.argsort(pos[cols], kind="stable")])
    return groups


def window_index(n_markers: int, markers: pd.DataFrame | None, window: int) -> np.ndarray:
    """Windows of ``window`` adjacent markers within each chromosome, ``-1``-padded.

    Every chromosome is cut into ``ceil(n_c / window)`` windows of near-equal size (sizes differ
    by at most one), so no token is a tiny remnant; ``window == 1`` gives one token per marker.
    """
    window = int(window)
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    rows: list[np.ndarray] = []
    for cols in chromosome_groups(n_markers, markers):
        n_win = -(-len(cols) // window)
        rows.extend(np.array_split(cols, n_win))
    width = max(len(r) for r in rows)
    index = np.full((len(rows), width), -1, dtype=np.int64)
    for k, r in enumerate(rows):
        index[k, : len(r)] = r
    return index


def snp_index(n_markers: int) -> np.ndarray:
    """One token per SNP, in column order (the paper's tokenisation)."""
    return np.arange(n_markers, dtype=np.int64)[:, None]
