"""Inline SVG figures for the site: a per-trait R² bar chart and an observed-vs-predicted
scatter. Text from users' files is escaped; no image files, no scripts."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from gpbench.site.families import color
from gpbench.site.html import esc


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [round(first + i * step, 10) for i in range(int((hi - first) / step + 1e-9) + 1)]


def r2_bars(trait: str, models: Sequence[str], means: Sequence[float],
            sds: Sequence[float]) -> str:
    """Horizontal bars of mean R² per model (best first) with ±1 sd whiskers over folds."""
    means = [float(m) for m in means]
    sds = [float(s) if math.isfinite(float(s)) else 0.0 for s in sds]
    finite = [(m, s) for m, s in zip(means, sds, strict=True) if math.isfinite(m)]
    lo = min([0.0] + [m - s for m, s in finite])
    hi = max([0.05] + [m + s for m, s in finite])
    label_w, plot_w, row_h, top = 150, 330, 18, 26
    width = label_w + plot_w + 20
    height = top + row_h * len(models) + 28

    def x(v: float) -> float:
        return label_w + (v - lo) / (hi - lo) * plot_w

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{esc(f"Mean R² per model on {trait}")}">',
             f'<text x="{label_w}" y="14" font-weight="600">{esc(f"R² on {trait}")}</text>']
    axis_y = top + row_h * len(models) + 4
    for t in _ticks(lo, hi):
        parts.append(f'<line x1="{x(t):.1f}" y1="{top - 4}" x2="{x(t):.1f}" y2="{axis_y}" '
                     'stroke="#e3e6eb"/>')
        parts.append(f'<text x="{x(t):.1f}" y="{axis_y + 14}" text-anchor="middle">{t:g}</text>')
    parts.append(f'<line x1="{x(0):.1f}" y1="{top - 4}" x2="{x(0):.1f}" y2="{axis_y}" '
                 'stroke="#555"/>')
    for i, (model, m, s) in enumerate(zip(models, means, sds, strict=True)):
        y = top + i * row_h
        parts.append(f'<text x="{label_w - 6}" y="{y + 12}" text-anchor="end">{esc(model)}</text>')
        if not math.isfinite(m):
            continue
        x0, x1 = sorted((x(0), x(m)))
        parts.append(f'<rect x="{x0:.1f}" y="{y + 3}" width="{max(x1 - x0, 0.5):.1f}" '
                     f'height="{row_h - 6}" fill="{color(model)}"><title>'
                     f'{esc(f"{model}: R² {m:.3f} ± {s:.3f}")}</title></rect>')
        if s > 0:
            parts.append(f'<line x1="{x(m - s):.1f}" y1="{y + row_h / 2}" x2="{x(m + s):.1f}" '
                         f'y2="{y + row_h / 2}" stroke="#222"/>')
    parts.append("</svg>")
    return "".join(parts)


def scatter(trait: str, model: str, y_true: np.ndarray, y_pred: np.ndarray,
            max_points: int = 1500) -> str:
    """Observed (x) vs predicted (y) on the outer test folds, with the line y = x; at most
    ``max_points`` points (an even subsample of larger sets)."""
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    keep = np.isfinite(y_true) & np.isfinite(y_pred)
    y_true, y_pred = y_true[keep], y_pred[keep]
    n = len(y_true)
    if n > max_points:
        idx = np.linspace(0, n - 1, max_points).astype(int)
        y_true, y_pred = y_true[idx], y_pred[idx]
    size, pad = 260, 36
    width, height = size + pad + 14, size + pad + 24
    if len(y_true):
        lo = float(min(y_true.min(), y_pred.min()))
        hi = float(max(y_true.max(), y_pred.max()))
    else:
        lo, hi = 0.0, 1.0
    if hi <= lo:
        lo, hi = lo - 1, hi + 1
    span = hi - lo
    lo, hi = lo - 0.03 * span, hi + 0.03 * span

    def sx(v: float) -> float:
        return pad + (v - lo) / (hi - lo) * size

    def sy(v: float) -> float:
        return 20 + size - (v - lo) / (hi - lo) * size

    title = f"{model} on {trait}: observed vs predicted ({n} test predictions)"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{esc(title)}">',
             f'<text x="{pad}" y="13" font-weight="600">{esc(f"{model} on {trait}")}</text>',
             f'<rect x="{pad}" y="20" width="{size}" height="{size}" fill="none" '
             'stroke="#999"/>',
             f'<line x1="{sx(lo):.1f}" y1="{sy(lo):.1f}" x2="{sx(hi):.1f}" y2="{sy(hi):.1f}" '
             'stroke="#999" stroke-dasharray="4 3"/>']
    for t in _ticks(lo, hi, 4):
        parts.append(f'<text x="{sx(t):.1f}" y="{20 + size + 13}" text-anchor="middle">'
                     f'{t:g}</text>')
        parts.append(f'<text x="{pad - 4}" y="{sy(t) + 4:.1f}" text-anchor="end">{t:g}</text>')
    parts.append(f'<text x="{pad + size / 2}" y="{20 + size + 27}" text-anchor="middle">'
                 'observed</text>')
    parts.append(f'<text x="10" y="{20 + size / 2}" text-anchor="middle" '
                 f'transform="rotate(-90 10 {20 + size / 2})">predicted</text>')
    fill = color(model)
    parts += [f'<circle cx="{sx(a):.1f}" cy="{sy(b):.1f}" r="2" fill="{fill}" '
              'fill-opacity="0.45"/>' for a, b in zip(y_true, y_pred, strict=True)]
    parts.append("</svg>")
    return "".join(parts)
