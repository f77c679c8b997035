"""The ``sim`` dataset: a simulated haploid segregant cross, built by gpbench's own code.

Markers lie along chromosomes; each segregant inherits runs of one parent's alleles with
crossovers placed by a genetic map, so neighbouring markers are in linkage (as in BYxRM).
Traits share additive QTL (so they correlate) and have pairwise epistatic QTL; a few values are
missing. The true genetic values (before noise) are the dataset's ``truth``, which boards
score predictions against. Everything is deterministic from ``seed``; the default size builds
in well under a second. Options (``--dataset-option key=value``): ``n_strains``,
``n_markers``, ``n_chrom``, ``n_traits``, ``n_qtl``, ``h2``, ``missing`` (share of missing
phenotypes), ``missing_geno`` (share of missing genotype calls: genotypes become float32 with
NaN), ``seed``.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd

from gpbench import DataConfig, DataError, Dataset, DatasetSpec, hookimpl

DEFAULTS: dict[str, float] = {"n_strains": 300, "n_markers": 1200, "n_chrom": 8, "n_traits": 4,
                              "n_qtl": 15, "h2": 0.7, "missing": 0.03, "seed": 0,
                              "epistasis": 0.2, "morgans_per_chrom": 1.5,
                              "missing_geno": 0.0}


class SimOptionError(DataError, ValueError):
    """A sim option that is unknown, not a number or out of range."""


# (lowest, highest, whole number) for every option
RANGES: dict[str, tuple[float, float, bool]] = {
    "n_strains": (4, 10_000_000, True), "n_markers": (2, 100_000_000, True),
    "n_chrom": (1, 1000, True), "n_traits": (1, 1000, True), "n_qtl": (1, 100_000, True),
    "h2": (0.001, 1.0, False), "missing": (0.0, 0.9, False), "seed": (0, 2**32 - 1, True),
    "epistasis": (0.0, 1.0, False), "morgans_per_chrom": (0.0, 100.0, False),
    "missing_geno": (0.0, 0.9, False)}


def _options(overrides: dict[str, Any]) -> dict[str, float]:
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise SimOptionError(f"unknown sim option(s) {sorted(unknown)}; options: "
                             f"{sorted(DEFAULTS)}")
    o = dict(DEFAULTS)
    for key, value in overrides.items():
        lo, hi, whole = RANGES[key]
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise SimOptionError(f"sim option {key}={value!r} is not a number") from None
        if not lo <= number <= hi or (whole and number != int(number)):
            kind = "a whole number" if whole else "a number"
            raise SimOptionError(f"sim option {key}={value} is out of range: {key} must be "
                                 f"{kind} from {lo:g} to {hi:g}")
        o[key] = number
    if o["n_qtl"] > o["n_markers"] or o["n_chrom"] > o["n_markers"]:
        raise SimOptionError(f"sim needs n_markers >= n_qtl and >= n_chrom (got n_markers="
                             f"{o['n_markers']:g}, n_qtl={o['n_qtl']:g}, n_chrom="
                             f"{o['n_chrom']:g})")
    return o


def simulate(**overrides: Any) -> Dataset:
    """Build the simulated cross; see the module docstring for the options."""
    o = _options(overrides)
    n, p, c, t = (int(o[k]) for k in ("n_strains", "n_markers", "n_chrom", "n_traits"))
    rng = np.random.default_rng(int(o["seed"]))

    chrom = np.sort(rng.integers(0, c, size=p))
    pos = np.zeros(p, dtype=np.int64)
    G = np.empty((n, p), dtype=np.int8)
    for ch in range(c):
        idx = np.flatnonzero(chrom == ch)
        m = len(idx)
        if m == 0:
            continue
        pos[idx] = np.sort(rng.choice(1_000_000, size=m, replace=False))
        # recombination probability between neighbours from map distance (Haldane)
        d = np.diff(pos[idx]) / 1_000_000 * o["morgans_per_chrom"]
        r = 0.5 * (1 - np.exp(-2 * d))
        start = rng.integers(0, 2, size=n)
        flips = rng.random((n, m - 1)) < r
        G[:, idx] = (start[:, None] + np.concatenate(
            [np.zeros((n, 1), int), np.cumsum(flips, axis=1)], axis=1)) % 2

    Xs = (G - G.mean(0)) / (G.std(0) + 1e-9)
    n_qtl = int(o["n_qtl"])
    shared = rng.choice(p, size=n_qtl, replace=False)
    base = rng.normal(size=n_qtl)
    traits, truth = {}, {}
    for j in range(t):
        eff = base * rng.uniform(0.3, 1.0) + rng.normal(scale=0.6, size=n_qtl)
        private = rng.choice(p, size=max(1, n_qtl // 3), replace=False)
        g = Xs[:, shared] @ eff + Xs[:, private] @ rng.normal(size=len(private))
        pairs = rng.choice(p, size=(max(1, n_qtl // 5), 2), replace=False)
        epi = sum(Xs[:, a] * Xs[:, b] for a, b in pairs)
        g = (1 - o["epistasis"]) * g / g.std() + o["epistasis"] * epi / (np.std(epi) + 1e-9)
        g = g / g.std()
        truth[f"trait{j + 1}"] = g
        e = rng.normal(scale=np.sqrt((1 - o["h2"]) / o["h2"]), size=n)
        y = g + e
        y[rng.random(n) < o["missing"]] = np.nan
        traits[f"trait{j + 1}"] = y

    genotypes: np.ndarray = G
    if o["missing_geno"] > 0:  # calls lost after the phenotypes were made, as in real data
        genotypes = G.astype(np.float32)
        genotypes[rng.random(G.shape) < o["missing_geno"]] = np.nan
    ids = [f"S{i:04d}" for i in range(n)]
    markers = pd.DataFrame({"chrom": [f"chr{ch + 1:02d}" for ch in chrom], "pos": pos},
                           index=pd.Index([f"m{i:05d}" for i in range(p)], name="marker"))
    frame = pd.DataFrame(traits, index=pd.Index(ids, name="sample"))
    digest = hashlib.sha256(genotypes.tobytes() + frame.to_numpy().tobytes()).hexdigest()
    version = "sim-1:" + ",".join(f"{k}={o[k]:g}" for k in sorted(o)
                                  if k != "missing_geno" or o[k])
    return Dataset("sim", genotypes, frame, markers, version, digest,
                   "simulated by gpbench_sim (no citation needed)",
                   truth=pd.DataFrame(truth, index=frame.index))


def _load(config: DataConfig) -> Dataset:
    return simulate(**dict(config.options))


@hookimpl
def register_datasets(register: Any) -> None:
    register(DatasetSpec("sim", _load, "simulated segregant cross (linked markers, additive and "
                         "epistatic QTL, correlated traits, missing values)",
                         options=dict(DEFAULTS)))
