"""Per-individual means of multi-environment records, adjusted for environment effects.

When individuals are tested in different, overlapping sets of trials (environments, years,
experiments), a plain mean per individual mixes the genetic value with the mean of the trials
it happened to be in. :func:`env_adjusted_means` fits the additive fixed model
``y_ij = g_i + e_j + error`` by least squares (each trait separately, on its measured records)
and returns ``g_i``: the individual's mean after removing the trial effects, on the scale of
the raw data (trial effects are centred so that their record-weighted mean is 0). When every
individual is measured in every trial, ``g_i`` is exactly the plain mean.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from gpbench.errors import DataError


def _fit_one(ids: np.ndarray, envs: np.ndarray, y: np.ndarray, n_ids: int,
             n_envs: int) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares ``g`` (per id, NaN where unmeasured) and ``e`` (per environment)."""
    counts = np.zeros((n_ids, n_envs))
    np.add.at(counts, (ids, envs), 1.0)
    n_id = counts.sum(axis=1)
    n_env = counts.sum(axis=0)
    sum_id = np.bincount(ids, weights=y, minlength=n_ids)
    sum_env = np.bincount(envs, weights=y, minlength=n_envs)
    seen = n_id > 0
    inv = np.zeros(n_ids)
    inv[seen] = 1.0 / n_id[seen]
    # environment equations with the individual effects absorbed:
    # (diag(n_env) - N' D^-1 N) e = sum_env - N' D^-1 sum_id
    lhs = np.diag(n_env) - counts.T @ (counts * inv[:, None])
    rhs = sum_env - counts.T @ (sum_id * inv)
    used = n_env > 0
    sub = lhs[np.ix_(used, used)]
    e = np.zeros(n_envs)
    e[used] = np.linalg.pinv(sub) @ rhs[used]
    # connected design: the only unidentified direction is a common shift of all e
    if np.linalg.matrix_rank(sub) < used.sum() - 1:
        raise DataError("the trials are not connected by shared individuals, so their effects "
                        "cannot be separated from the individuals' values; aggregate with a "
                        "plain mean instead")
    e[used] -= np.average(e[used], weights=n_env[used])
    g = np.full(n_ids, np.nan)
    g[seen] = (sum_id[seen] - counts[seen] @ e) / n_id[seen]
    return g, e


def env_adjusted_means(frame: pd.DataFrame, id_column: str, env_column: str,
                       trait_columns: Sequence[str]) -> pd.DataFrame:
    """Environment-adjusted mean of each trait per individual (see module docstring).

    Returns a frame with ``id_column`` and ``trait_columns``, one row per id in order of first
    appearance; an id without any measurement of a trait gets NaN for it.
    """
    missing = [c for c in [id_column, env_column, *trait_columns] if c not in frame.columns]
    if missing:
        raise DataError(f"columns {missing} not found; columns are {list(frame.columns)[:15]}")
    id_codes, id_values = pd.factorize(frame[id_column].astype(str).str.strip())
    env_codes, env_values = pd.factorize(frame[env_column].astype(str))
    out = pd.DataFrame({id_column: np.asarray(id_values, dtype=object)})
    for t in trait_columns:
        y = pd.to_numeric(frame[t], errors="raise").to_numpy(dtype=float)
        ok = ~np.isnan(y)
        g, _ = _fit_one(id_codes[ok], env_codes[ok], y[ok], len(id_values), len(env_values))
        out[t] = g
    return out
