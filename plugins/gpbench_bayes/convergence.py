"""Convergence diagnostics of one Gibbs chain from its kept draws: effective sample size and
Geweke's z-score.

The sampler (``sampler.py``) keeps, for each saved draw, the variance of the training genetic
values and the genetic values of up to ``MAX_TRACKED`` training individuals (``y - mu - e``:
read off the residuals it already holds, so recording them draws no random number and leaves
the chain unchanged). This module summarises those traces; it is pure numpy.

- **ESS** (effective sample size) of a trace of ``N`` draws is ``N / (1 + 2 sum_t rho_t)``, with
  the autocorrelations ``rho_t`` summed over Geyer's initial positive sequence (pairs
  ``rho_{2m} + rho_{2m+1}`` while positive, made monotone), as Stan and ArviZ do for one chain;
  capped at ``N log10 N`` like Stan's (antithetic chains can exceed ``N``).
- **Geweke's z** compares the mean of the first 10% of the draws with that of the last 50%:
  ``z = (mean_a - mean_b) / sqrt(var_a / ess_a + var_b / ess_b)``, the spectral density at zero
  of each segment estimated through its ESS. ``|z| > 3`` says the chain was still drifting.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MAX_TRACKED = 1000
"""Training individuals whose genetic values are kept per draw (evenly spaced; all if fewer)."""

MIN_ESS = 100.0
"""Below this effective sample size (median over the tracked individuals' genetic values) a
record carries a warning."""

MAX_GEWEKE_Z = 3.0
"""Above this ``|z|`` (Geweke, genetic variance) a record carries a warning."""


def tracked_rows(n: int, limit: int = MAX_TRACKED) -> np.ndarray:
    """Indices of the training rows whose genetic values the sampler keeps: all of them up to
    ``limit``, else ``limit`` evenly spaced ones (no random numbers)."""
    if n <= limit:
        return np.arange(n, dtype=np.int64)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(np.int64))


def effective_sample_size(draws: np.ndarray) -> np.ndarray:
    """ESS of each column of ``draws`` (``(N,)`` or ``(N, k)``, draws in rows); a constant
    column gets ``N`` (nothing varies, nothing to mix)."""
    x = np.asarray(draws, dtype=np.float64)
    one = x.ndim == 1
    x = x[:, None] if one else x
    n = x.shape[0]
    if n < 4:
        out = np.full(x.shape[1], float(n))
        return out[0] if one else out
    centred = x - x.mean(axis=0)
    size = 1 << (2 * n - 1).bit_length()  # zero-padded FFT: linear, not circular, lags
    f = np.fft.rfft(centred, n=size, axis=0)
    acov = np.fft.irfft(f * np.conj(f), n=size, axis=0)[:n] / n
    var0 = acov[0]
    flat = var0 <= 1e-300
    rho = acov / np.where(flat, 1.0, var0)
    m = n // 2
    pairs = rho[0:2 * m:2] + rho[1:2 * m:2]  # Geyer: Gamma_m = rho_2m + rho_2m+1, m >= 0
    positive = np.cumprod(pairs > 0, axis=0).astype(bool)  # the initial positive sequence
    pairs = np.where(positive, pairs, 0.0)
    pairs = np.minimum.accumulate(np.where(positive, pairs, np.inf), axis=0)  # monotone
    pairs = np.where(positive, pairs, 0.0)
    tau = -1.0 + 2.0 * pairs.sum(axis=0)  # 1 + 2 sum_{t>=1} rho_t
    ess = n / np.maximum(tau, 1.0 / np.log10(n))  # Stan's cap: ESS <= N log10 N
    ess = np.where(flat, float(n), ess)
    return ess[0] if one else ess


def geweke_z(draws: np.ndarray, first: float = 0.1, last: float = 0.5) -> float:
    """Geweke's z-score of one trace: the first ``first`` share of the draws against the last
    ``last`` share; 0 when both segments are constant and equal."""
    x = np.asarray(draws, dtype=np.float64)
    n = len(x)
    a, b = x[:max(2, int(round(first * n)))], x[n - max(2, int(round(last * n))):]
    se2 = 0.0
    for seg in (a, b):
        var = float(np.var(seg, ddof=1)) if len(seg) > 1 else 0.0
        if var > 0:
            se2 += var / float(effective_sample_size(seg))
    diff = float(a.mean() - b.mean())
    if se2 == 0.0:
        return 0.0 if diff == 0.0 else float(np.copysign(np.inf, diff))
    return diff / float(np.sqrt(se2))


def summarise(var_g: np.ndarray, g: np.ndarray) -> dict[str, Any]:
    """The convergence fields of a record, from the kept draws of the training genetic
    variance ``var_g`` (``(N,)``) and of tracked genetic values ``g`` (``(N, k)``), with a
    one-line warning per problem under ``"warnings"`` (absent when there is none)."""
    ess_var = float(effective_sample_size(var_g))
    ess_ind = effective_sample_size(g) if g.size else np.array([float(len(var_g))])
    z = geweke_z(var_g)
    info: dict[str, Any] = {
        "ess_var_g": round(ess_var, 1),
        "ess_g_min": round(float(ess_ind.min()), 1),
        "ess_g_median": round(float(np.median(ess_ind)), 1),
        "geweke_z_var_g": round(z, 3),
        "n_tracked": int(g.shape[1]) if g.ndim == 2 else 0,
    }
    warnings = []
    # the predictions average the genetic values, so their ESS decides; the genetic
    # variance mixes more slowly (a hyper-parameter) and is reported, not warned on
    low = float(np.median(ess_ind))
    if low < MIN_ESS:
        warnings.append(f"low effective sample size of the genetic values (median {low:.0f} "
                        f"of {len(var_g)} kept draws, below {MIN_ESS:.0f}): the chain mixes "
                        "slowly; raise n_iter (and burn_in) or thin")
    if abs(z) > MAX_GEWEKE_Z:
        warnings.append(f"Geweke z = {z:.1f} for the genetic variance (first 10% vs last 50% "
                        f"of kept draws, |z| > {MAX_GEWEKE_Z:g}): the chain had not settled; "
                        "raise burn_in")
    if warnings:
        info["warnings"] = warnings
    return info
