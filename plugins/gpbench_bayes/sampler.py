"""The compiled Gibbs sampler behind every model of the Bayesian alphabet (numba).

One kernel serves BRR, BayesA, BayesB, BayesC and the Bayesian LASSO; it follows BGLR's
single-site sampler (``sample_beta`` and ``sample_beta_BB_BCp`` in BGLR's ``util_sample.c``):
markers are visited in order, each effect is drawn from its full conditional with the residual
vector updated in place, using precomputed ``x_j'x_j``.

Genotypes are passed as stored (``int8`` when they are small integers, else ``float32``),
transposed so that one marker is one contiguous row, together with the training means: the
centred column ``x_j - m_j`` is formed on the fly. Because centred columns sum to zero, a marker
update leaves ``sum(e)`` unchanged, so ``(x_j - m_j)'e = x_j'e - m_j sum(e)`` costs one pass.

The random stream is numba's own generator, seeded inside the kernel: the same seed and inputs
give bit-identical chains.
"""

from __future__ import annotations

import numpy as np
from numba import njit

BRR, BAYES_A, BAYES_B, BAYES_C, BL = 0, 1, 2, 3, 4
MODEL_CODES = {"brr": BRR, "bayesa": BAYES_A, "bayesb": BAYES_B, "bayesc": BAYES_C, "bl": BL}

_FAST = {"reassoc", "contract"}  # vectorised reductions; keeps inf/nan semantics


@njit(cache=True, fastmath=_FAST)
def _dot(Xt, j, mj, e, sum_e):
    s = 0.0
    for i in range(e.shape[0]):
        s += Xt[j, i] * e[i]
    return s - mj * sum_e


@njit(cache=True, fastmath=_FAST)
def _axpy(Xt, j, mj, delta, e):
    # e <- e - delta * (x_j - m_j)
    for i in range(e.shape[0]):
        e[i] -= delta * (Xt[j, i] - mj)


@njit(cache=True)
def moments(Xt):
    """Per marker (row of ``Xt``): mean and centred sum of squares, in float64."""
    p, n = Xt.shape
    xm = np.zeros(p)
    x2 = np.zeros(p)
    for j in range(p):
        s = 0.0
        for i in range(n):
            s += Xt[j, i]
        m = s / n
        ss = 0.0
        for i in range(n):
            ss += (Xt[j, i] - m) ** 2
        xm[j] = m
        x2[j] = ss
    return xm, x2


@njit(cache=True)
def _inv_gauss(nu, lam):
    # Michael, Schucany & Haas (1976), as BGLR's rinvGauss: mean nu, shape lam
    z = np.random.standard_normal()
    y2 = z * z
    r1 = nu / (2.0 * lam) * (2.0 * lam + nu * y2 - np.sqrt(4.0 * lam * nu * y2 + nu * nu * y2 * y2))
    if np.random.random() < nu / (nu + r1):
        return r1
    return nu * nu / r1


@njit(cache=True, fastmath=_FAST)
def gibbs(Xt, xm, x2, y, model, n_iter, burn_in, thin, seed,
          df0_e, S0_e, var_e0, fix_var_e,
          df0, S0, var_b0, fix_var_b, shape0, rate0,
          prob_in0, counts_in, counts_out, fix_prob_in,
          lambda2_0, lambda_shape, lambda_rate, fix_lambda, min_abs,
          track, var_g_draws, g_draws):
    """Run the chain; return posterior means and averaged hyper-parameters, and fill the
    traces that ``convergence.py`` summarises.

    Args:
        Xt: ``(p, n)`` genotypes (rows = markers), any numeric dtype, not centred.
        xm, x2: per-marker training mean and ``sum((x - m)^2)``.
        y: ``(n,)`` phenotypes (float64).
        model: one of the model codes of this module.
        n_iter, burn_in, thin: samples ``i > burn_in`` with ``i % thin == 0`` are averaged
            (BGLR's convention, iterations counted from 1).
        df0_e, S0_e, var_e0, fix_var_e: residual variance prior (scaled inverse chi-square with
            ``df0_e`` degrees of freedom and scale ``S0_e``), start value, and whether to keep it
            fixed at the start value.
        df0, S0, var_b0, fix_var_b: prior of the marker-effect variance(s) and start value; BRR
            and BayesC keep ``var_b`` fixed when ``fix_var_b``.
        shape0, rate0: gamma prior of the scale ``S`` of BayesA / BayesB.
        prob_in0, counts_in, counts_out, fix_prob_in: BayesB/C inclusion probability, its beta
            prior ``Beta(counts_in + 1, counts_out + 1)``, whether it stays at its start value.
        lambda2_0, lambda_shape, lambda_rate, fix_lambda: Bayesian LASSO: start value of
            ``lambda^2`` and its gamma prior, or kept fixed.
        min_abs: BRR, BayesA and BL store an effect drawn smaller than this in absolute value
            as ``min_abs`` (BGLR's ``minAbsBeta``, which keeps BL's ``1 / |b_j|`` finite); the
            residuals keep the drawn value. The one step that does not scale with ``y``: the
            caller sets it on ``y``'s scale (``models.py``).
        track: indices of the training rows whose genetic values are kept per saved draw.
        var_g_draws, g_draws: ``(n_saved,)`` and ``(n_saved, len(track))`` outputs: per saved
            draw, the variance over all training rows of the genetic values ``y - mu - e``
            (the fitted marker part, read off the residuals: no random number is drawn, so
            the chain is the same with or without them) and those of the tracked rows.

    Returns:
        ``(post_b, post_mu, stats)`` with ``post_b`` the posterior mean of the marker effects
        (``b * d`` for BayesB/C), ``post_mu`` the intercept's, and ``stats`` the posterior means
        of ``[var_e, var_b (mean over markers), prob_in, lambda, var_e/var_b, S,
        number of samples]``.
    """
    np.random.seed(seed)
    p, n = Xt.shape
    e = y.copy()
    mu = 0.0
    for i in range(n):
        mu += y[i]
    mu /= n
    for i in range(n):
        e[i] -= mu

    b = np.zeros(p)
    d = np.ones(p, dtype=np.int8)
    var_b = np.full(p, var_b0)
    tau2 = np.full(p, var_b0)  # BL: per-marker tau^2 (var_b0 holds its start value)
    S = S0
    var_e = var_e0
    prob_in = prob_in0
    lambda2 = lambda2_0
    if model == BAYES_B or model == BAYES_C:
        if prob_in < 1.0:
            for j in range(p):
                d[j] = 1 if np.random.random() < prob_in else 0

    post_b = np.zeros(p)
    post_mu = 0.0
    stats = np.zeros(7)
    n_saved = 0

    for it in range(1, n_iter + 1):
        # intercept, flat prior
        sum_e = 0.0
        for i in range(n):
            sum_e += e[i]
        mu_new = mu + sum_e / n + np.sqrt(var_e / n) * np.random.standard_normal()
        delta_mu = mu_new - mu
        for i in range(n):
            e[i] -= delta_mu
        mu = mu_new
        sum_e = 0.0
        for i in range(n):
            sum_e += e[i]

        delta_ss = 0.0
        delta_df = 0.0
        if model == BAYES_B or model == BAYES_C:
            if prob_in >= 1.0:
                log_odds_prior = np.inf
            elif prob_in <= 0.0:
                log_odds_prior = -np.inf
            else:
                log_odds_prior = np.log(prob_in / (1.0 - prob_in))
            c1 = -0.5 / var_e
            for j in range(p):
                vb = var_b[j] if model == BAYES_B else var_b[0]
                xe = _dot(Xt, j, xm[j], e, sum_e)
                bj = b[j]
                if d[j] == 1:
                    d_rss = -bj * bj * x2[j] - 2.0 * bj * xe
                else:
                    d_rss = bj * bj * x2[j] - 2.0 * bj * xe
                if log_odds_prior == np.inf:
                    new_d = 1
                elif log_odds_prior == -np.inf:
                    new_d = 0
                else:
                    prob = 1.0 / (1.0 + np.exp(-(log_odds_prior + c1 * d_rss)))
                    new_d = 1 if np.random.random() < prob else 0
                if new_d != d[j]:
                    if new_d == 1:  # 0 -> 1: the effect enters the residual
                        _axpy(Xt, j, xm[j], bj, e)
                        xe -= bj * x2[j]
                    else:  # 1 -> 0: the effect leaves it
                        _axpy(Xt, j, xm[j], -bj, e)
                    d[j] = new_d
                if new_d == 0:
                    b[j] = np.sqrt(vb) * np.random.standard_normal()
                else:
                    rhs = (x2[j] * bj + xe) / var_e
                    c = x2[j] / var_e + 1.0 / vb
                    bn = rhs / c + np.sqrt(1.0 / c) * np.random.standard_normal()
                    _axpy(Xt, j, xm[j], bn - bj, e)
                    b[j] = bn
        else:
            for j in range(p):
                if model == BRR:
                    vb = var_b[0]
                elif model == BL:
                    vb = tau2[j] * var_e
                else:
                    vb = var_b[j]
                xe = _dot(Xt, j, xm[j], e, sum_e)
                bj = b[j]
                rhs = (xe + x2[j] * bj) / var_e
                c = x2[j] / var_e + 1.0 / vb
                bn = rhs / c + np.sqrt(1.0 / c) * np.random.standard_normal()
                _axpy(Xt, j, xm[j], bn - bj, e)
                if np.abs(bn) < min_abs:
                    bn = min_abs
                b[j] = bn

        # hyper-parameters of the marker effects
        if model == BRR or model == BAYES_C:
            if not fix_var_b:
                ss = S0
                for j in range(p):
                    ss += b[j] * b[j]
                var_b[0] = ss / np.random.chisquare(df0 + p)
        elif model == BAYES_A or model == BAYES_B:
            inv_sum = 0.0
            for j in range(p):
                var_b[j] = (S + b[j] * b[j]) / np.random.chisquare(df0 + 1.0)
                inv_sum += 1.0 / var_b[j]
            S = np.random.gamma(p * df0 / 2.0 + shape0, 1.0 / (inv_sum / 2.0 + rate0))
        else:  # BL
            lam = np.sqrt(lambda2)
            sd_e = np.sqrt(var_e)
            tau_sum = 0.0
            for j in range(p):
                draw = _inv_gauss(sd_e * lam / np.abs(b[j]), lambda2)
                if draw > 0.0 and np.isfinite(draw):
                    tau2[j] = 1.0 / draw
                tau_sum += tau2[j]
            if not fix_lambda:
                lambda2 = np.random.gamma(p + lambda_shape, 1.0 / (tau_sum / 2.0 + lambda_rate))
            for j in range(p):
                delta_ss += b[j] * b[j] / tau2[j]
            delta_df += p
        if (model == BAYES_B or model == BAYES_C) and not fix_prob_in:
            m_in = 0
            for j in range(p):
                m_in += d[j]
            prob_in = np.random.beta(m_in + counts_in + 1.0, p - m_in + counts_out + 1.0)

        # residual variance
        if not fix_var_e:
            ss = S0_e + delta_ss
            for i in range(n):
                ss += e[i] * e[i]
            var_e = ss / np.random.chisquare(n + df0_e + delta_df)

        if it > burn_in and it % thin == 0:
            n_saved += 1
            w = 1.0 / n_saved
            for j in range(p):
                eff = b[j] * d[j] if (model == BAYES_B or model == BAYES_C) else b[j]
                post_b[j] += (eff - post_b[j]) * w
            post_mu += (mu - post_mu) * w
            # genetic values of the training rows, y - mu - e (no random number drawn)
            g_sum = 0.0
            for i in range(n):
                g_sum += y[i] - mu - e[i]
            g_mean = g_sum / n
            g_ss = 0.0
            for i in range(n):
                g_dev = y[i] - mu - e[i] - g_mean
                g_ss += g_dev * g_dev
            var_g_draws[n_saved - 1] = g_ss / n
            for k in range(track.shape[0]):
                g_draws[n_saved - 1, k] = y[track[k]] - mu - e[track[k]]
            if model == BL:
                vb_mean = 0.0
                for j in range(p):
                    vb_mean += tau2[j] * var_e
                vb_mean /= p
            elif model == BAYES_A or model == BAYES_B:
                vb_mean = 0.0
                for j in range(p):
                    vb_mean += var_b[j]
                vb_mean /= p
            else:
                vb_mean = var_b[0]
            vals = (var_e, vb_mean, prob_in, np.sqrt(lambda2), var_e / vb_mean, S)
            for k in range(6):
                stats[k] += (vals[k] - stats[k]) * w
    stats[6] = n_saved
    return post_b, post_mu, stats
