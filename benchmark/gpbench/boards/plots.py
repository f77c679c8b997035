"""Figures of stored results: observed vs predicted, learning curves and a per-trait R² chart.

Every function takes the records of a run directory (as ``ResultStore.records()`` returns them)
and returns a matplotlib ``Figure``; nothing is refit. Only units with status ``ok`` are used.
The caller saves and closes the figures (see ``report.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: reports are written on servers and in CI

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from gpbench.boards.leaderboard import records_frame  # noqa: E402

DPI = 110
_X_KEYS = ("epoch", "iteration", "iter", "round", "step")
_CORR = re.compile(r"pcc|corr|r2", re.IGNORECASE)
_VALID = re.compile(r"valid|val_|^val|test|eval", re.IGNORECASE)


def _ok(records: Iterable[dict[str, Any]], model: str | None = None,
        trait: str | None = None) -> list[dict[str, Any]]:
    """Successful records, optionally of one model and/or covering one trait."""
    out = []
    for rec in records:
        if rec.get("status") != "ok":
            continue
        if model is not None and rec.get("model") != model:
            continue
        if trait is not None and trait not in (rec.get("metrics") or {}):
            continue
        out.append(rec)
    return sorted(out, key=lambda r: (r.get("repeat", 0), r.get("fold", 0)))


def _fold_label(rec: dict[str, Any], many_repeats: bool) -> str:
    if many_repeats:
        return f"r{rec.get('repeat', 0)} f{rec.get('fold', 0)}"
    return f"fold {rec.get('fold', 0)}"


def _colors(n: int) -> list[Any]:
    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(n)]


def _floats(values: Sequence[Any]) -> np.ndarray:
    # stored histories use None for undefined values (JSON has no NaN)
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def _pooled_scores(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    if len(y) < 2:
        return float("nan"), float("nan")
    sst = float(np.sum((y - y.mean()) ** 2))
    r2 = 1 - float(np.sum((y - p) ** 2)) / sst if sst > 0 else float("nan")
    pcc = float(np.corrcoef(y, p)[0, 1]) if np.std(y) > 0 and np.std(p) > 0 else float("nan")
    return r2, pcc


def observed_vs_predicted(records: Iterable[dict[str, Any]], model: str, trait: str) -> Figure:
    """Observed vs predicted values of ``model`` on ``trait`` over all outer test folds.

    Points are coloured by fold; the least-squares fit and the identity line are drawn, and the
    title gives the pooled R² and PCC over all test predictions.
    """
    recs = [r for r in _ok(records, model, trait) if trait in (r.get("predictions") or {})]
    many_repeats = len({r.get("repeat", 0) for r in recs}) > 1
    fig, ax = plt.subplots(figsize=(5.2, 4.8), dpi=DPI, layout="constrained")
    ys, ps = [], []
    for rec, color in zip(recs, _colors(len(recs)), strict=True):
        pr = rec["predictions"][trait]
        y, p = _floats(pr["y_true"]), _floats(pr["y_pred"])
        ax.scatter(y, p, s=12, alpha=0.6, color=color, edgecolors="none",
                   label=_fold_label(rec, many_repeats))
        ys.append(y)
        ps.append(p)
    y = np.concatenate(ys) if ys else np.array([])
    p = np.concatenate(ps) if ps else np.array([])
    keep = np.isfinite(y) & np.isfinite(p)
    y, p = y[keep], p[keep]
    r2, pcc = _pooled_scores(y, p)
    if len(y) >= 2:
        lo = float(min(y.min(), p.min()))
        hi = float(max(y.max(), p.max()))
        pad = 0.03 * (hi - lo or 1.0)
        lims = np.array([lo - pad, hi + pad])
        ax.plot(lims, lims, color="0.4", lw=1, ls=":", label="identity")
        if np.std(y) > 0:
            slope, icept = np.polyfit(y, p, 1)
            ax.plot(lims, icept + slope * lims, color="black", lw=1.5,
                    label=f"least squares (slope {slope:.2f})")
        ax.set_xlim(*lims)
        ax.set_ylim(*lims)
        ax.set_aspect("equal")
    else:
        ax.text(0.5, 0.5, "no predictions stored", ha="center", va="center",
                transform=ax.transAxes)
    ax.set_xlabel(f"observed {trait}")
    ax.set_ylabel(f"predicted {trait}")
    ax.set_title(f"{model} · {trait}\npooled R² = {r2:.3f}, PCC = {pcc:.3f} (n = {len(y)})",
                 fontsize=10)
    ax.grid(alpha=0.3)
    if recs:
        ax.legend(fontsize=7, loc="upper left", framealpha=0.85,
                  ncol=2 if len(recs) > 6 else 1)
    return fig


def _split_history(history: dict[str, Any]) -> tuple[np.ndarray, str, dict[str, np.ndarray]]:
    """The x axis (first of epoch/iteration/..., else the index) and the numeric series."""
    x_key = next((k for k in _X_KEYS if k in history), None)
    series: dict[str, np.ndarray] = {}
    for key, values in history.items():
        if key == x_key or not isinstance(values, list) or not values:
            continue
        try:
            series[key] = _floats(values)
        except (TypeError, ValueError):
            continue  # non-numeric series (e.g. learning-rate labels) are not plotted
    n = max((len(v) for v in series.values()), default=0)
    if x_key is not None:
        x = _floats(history[x_key])
    else:
        x, x_key = np.arange(1, n + 1, dtype=float), "epoch"
    series = {k: v for k, v in series.items() if len(v) == len(x)}
    return x, x_key, series


def _metric_label(keys: Sequence[str]) -> str:
    """'PCC' for train_pcc/valid_pcc: the series names without their train/valid part."""
    bare = {re.sub(r"^(train|training|valid|validation|val|test|eval)_?", "", k) for k in keys}
    return bare.pop().upper() if len(bare) == 1 and "" not in bare else " / ".join(keys)


def learning_curves(records: Iterable[dict[str, Any]], model: str, trait: str) -> Figure | None:
    """Training/validation curves per fold from ``fit_info['history']``; None without history.

    Correlation-like series (PCC) go in the left panel, error-like ones (MSE, l2, loss) in the
    right; one colour per fold, validation dashed, the recorded ``best_epoch`` marked. Multi-trait
    records hold one history per fit (the mean over traits, as the model recorded it), so the
    figure is the same for every trait of such a model.
    """
    recs = [r for r in _ok(records, model, trait)
            if isinstance((r.get("fit_info") or {}).get("history"), dict)]
    parsed = [(r, *_split_history(r["fit_info"]["history"])) for r in recs]
    parsed = [item for item in parsed if item[3]]
    if not parsed:
        return None
    names = sorted({k for *_, s in parsed for k in s})
    left = [k for k in names if _CORR.search(k)]
    right = [k for k in names if not _CORR.search(k)]
    panels = [p for p in (left, right) if p]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.0 * len(panels), 4.0), dpi=DPI,
                             layout="constrained", squeeze=False)
    many_repeats = len({r.get("repeat", 0) for r, *_ in parsed}) > 1
    colors = _colors(len(parsed))
    x_label = parsed[0][2]
    for ax, keys in zip(axes[0], panels, strict=True):
        for (rec, x, _, series), color in zip(parsed, colors, strict=True):
            best = (rec.get("fit_info") or {}).get("best_epoch")
            for key in keys:
                if key not in series:
                    continue
                valid = bool(_VALID.search(key))
                ax.plot(x, series[key], color=color, lw=1.2, ls="--" if valid else "-",
                        alpha=0.95 if valid else 0.6)
                if valid and best is not None and best in x:
                    i = int(np.flatnonzero(x == best)[0])
                    ax.plot(x[i], series[key][i], marker="*", ms=10, color=color,
                            markeredgecolor="black", markeredgewidth=0.6, ls="none")
        ax.set_xlabel(x_label)
        ax.set_ylabel(_metric_label(keys))
        ax.grid(alpha=0.3)
    # one legend: fold colours, then line styles (a line per fold × series would be unreadable)
    handles = [Line2D([], [], color=c, lw=2, label=_fold_label(r, many_repeats))
               for (r, *_), c in zip(parsed, colors, strict=True)]
    styles = sorted({"valid" if _VALID.search(k) else "train" for k in names})
    handles += [Line2D([], [], color="0.3", ls="--" if s == "valid" else "-", label=s)
                for s in styles]
    if any((r.get("fit_info") or {}).get("best_epoch") is not None for r, *_ in parsed):
        handles.append(Line2D([], [], color="0.3", marker="*", ms=10, ls="none",
                              markeredgecolor="black", label=f"best {x_label}"))
    axes[0][-1].legend(handles=handles, fontsize=7, loc="best", framealpha=0.85,
                       ncol=2 if len(handles) > 8 else 1)
    traits = [str(t) for t in (parsed[0][0].get("traits") or [trait])]
    what = (f"multi-trait ({', '.join(traits)}), mean over traits" if len(traits) > 1
            else trait)
    fig.suptitle(f"{model} · {what}: learning curves", fontsize=10)
    return fig


def _heritability_symbol(what: str) -> str | None:
    """'H²' / 'h²' for heritability reference rows, None for other references."""
    if "H²" in what or "broad-sense" in what.lower():
        return "H²"
    if "h²" in what or "narrow-sense" in what.lower():
        return "h²"
    return "heritability" if "heritab" in what.lower() else None


def reference_r2(ref: dict[str, Any]) -> float | None:
    """A reference row's value when it is an R² (``metric`` "R2"; legacy rows: ``r2``)."""
    if str(ref.get("metric", "")).upper() in ("R2", "R²"):
        value = ref.get("value")
    else:
        value = ref.get("r2") if "metric" not in ref else None
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def leaderboard_chart(records: Iterable[dict[str, Any]], trait: str,
                      references: Sequence[dict[str, Any]] | None = None) -> Figure:
    """Mean R² per model on ``trait`` (bars, ± sd) with per-fold R² as points, best first.

    Published heritabilities among ``references`` (rows whose ``what`` mentions H², h² or
    heritability) are drawn as labelled horizontal lines: the ceiling any predictor faces.
    """
    df = records_frame(records)
    df = df[(df.trait == trait) & np.isfinite(df.r2)]
    stats = df.groupby("model")["r2"].agg(["mean", "std"]).sort_values("mean", ascending=False)
    models = list(stats.index)
    width = min(max(6.0, 0.7 * len(models) + 4.0), 14)  # ~2.3 in of it is the legend
    fig, ax = plt.subplots(figsize=(width, 4.4), dpi=DPI, layout="constrained")
    xs = np.arange(len(models))
    ax.bar(xs, stats["mean"], width=0.6, color="#9ecae1", edgecolor="#3182bd",
           yerr=stats["std"].fillna(0), capsize=3, error_kw={"lw": 1, "ecolor": "0.3"},
           label="mean R² ± sd")
    rng = np.random.default_rng(0)  # fixed jitter: the figure is reproducible byte for byte
    for i, model in enumerate(models):
        vals = df.loc[df.model == model, "r2"].to_numpy()
        ax.scatter(i + rng.uniform(-0.15, 0.15, len(vals)), vals, s=12, color="#08306b",
                   zorder=3, label="per fold" if i == 0 else None)
    styles = {"H²": ("#d62728", "--"), "h²": ("#ff7f0e", ":"), "heritability": ("#9467bd", "-.")}
    ceilings = []
    for ref in references or []:
        value = reference_r2(ref)
        if ref.get("trait") != trait or value is None:
            continue
        sym = _heritability_symbol(str(ref.get("what", "")))
        if sym is None:
            continue
        color, ls = styles[sym]
        ceilings.append(value)
        ax.axhline(ceilings[-1], color=color, ls=ls, lw=1.4, gid="reference",
                   label=f"{sym} = {ceilings[-1]:.3f} ({ref.get('source', '?')})")
    ax.axhline(0, color="0.5", lw=0.8)
    # tilt the names once they would collide (about 9 characters fit under one bar)
    tilt = len(models) > 1 and max(len(m) for m in models) > 8
    ax.set_xticks(xs, models, rotation=30 if tilt else 0, ha="right" if tilt else "center",
                  rotation_mode="anchor")
    ax.set_ylabel("R² on outer test folds")
    lo = min(0.0, float(df.r2.min()) if len(df) else 0.0)
    tops = (stats["mean"] + stats["std"].fillna(0)).tolist() + df.r2.tolist()
    hi = max([1e-3, *ceilings, *tops])
    # a diverging model (R² of -50) would flatten every other bar: clip the axis at -1
    bottom = max(lo - 0.05 * (hi - lo), -1.0) if lo < 0 else 0.0
    ax.set_ylim(bottom, hi + 0.08 * (hi - bottom))
    if lo < bottom:
        ax.text(0.01, 0.01, f"axis clipped at R² = {bottom:.0f} (lowest {lo:.2f})", fontsize=7,
                color="0.3", transform=ax.transAxes, va="bottom")
    ceiling = " (heritability ceiling drawn in)" if ceilings else ""
    ax.set_title(f"{trait}: R² per model{ceiling}", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    # legend outside the axes so it never hides bars or the reference lines
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: ("mean" not in labels[i],
                                                      "fold" not in labels[i]))
    ax.legend([handles[i] for i in order], [labels[i] for i in order], fontsize=7,
              loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    if not models:
        ax.text(0.5, 0.5, "no finished units", ha="center", va="center", transform=ax.transAxes)
    return fig


def reference_lines(fig: Figure) -> list[Line2D]:
    """The heritability reference lines drawn by ``leaderboard_chart`` (for checks and tests)."""
    return [line for ax in fig.axes for line in ax.get_lines() if line.get_gid() == "reference"]



def training_size_curve(records: Iterable[dict[str, Any]], trait: str,
                        metric: str = "r2") -> Figure:
    """Accuracy against training size on ``trait``: per model, mean ``metric`` over folds
    (``r2``, ``pcc``, or ``r_g`` against the true genetic values) at each share of the
    training fold of a ``--train-fraction`` run, against the mean number of training samples
    (log axis), with ± sd over folds as bars."""
    from matplotlib.ticker import NullLocator

    from gpbench.boards.curves import curve_frame

    df = curve_frame(records)
    df = df[(df.trait == trait) & np.isfinite(df[metric])]
    labels = {"r2": "R² (phenotype)", "pcc": "r (phenotype)", "r_g": "r (true genetic value)",
              "r2_g": "R² (true genetic value)"}
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=DPI, layout="constrained")
    full = df[df.fraction == df.fraction.max()].groupby("model")[metric].mean()
    models = list(full.sort_values(ascending=False).index)
    for model, color in zip(models, _colors(len(models)), strict=True):
        g = df[df.model == model].groupby("fraction")
        x, y, sd = g["n_train"].mean(), g[metric].mean(), g[metric].std(ddof=1).fillna(0)
        ax.errorbar(x, y, yerr=sd, marker="o", ms=4, lw=1.4, capsize=2, color=color,
                    label=model)
    if models:
        ax.set_xscale("log")
        sizes = sorted(df.groupby("fraction")["n_train"].mean())
        ax.set_xticks(sizes, [f"{n:.0f}" for n in sizes])  # the sizes run, not powers of 10
        ax.xaxis.set_minor_locator(NullLocator())
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    else:
        ax.text(0.5, 0.5, "no finished units", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("training samples (mean over folds)")
    ax.set_ylabel(f"{labels.get(metric, metric)} on outer test folds")
    ax.set_title(f"{trait}: accuracy against training size", fontsize=10)
    ax.grid(alpha=0.3)
    return fig
