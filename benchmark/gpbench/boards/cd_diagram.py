"""Critical-difference diagram (Demšar 2006) of a Friedman/Nemenyi result, as a PNG.

The axis carries mean ranks (1 = best, on the left); each model hangs from its mean rank by a
line to its name, the better half labelled on the left and the rest on the right; thick bars
join groups of models whose mean ranks differ by less than the critical difference (CD), drawn
as a scale bar above the axis.
"""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")  # headless: boards are written on servers and in CI

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from gpbench.boards.crossboard import Friedman  # noqa: E402

DPI = 130


def cd_diagram(fr: Friedman, title: str | None = None) -> Figure:
    """Draw the CD diagram of ``fr``; the caller saves and closes the figure."""
    ranks = fr.mean_ranks.sort_values()
    names = list(ranks.index)
    k = len(names)
    lo, hi = 1.0, float(max(k, math.ceil(ranks.max())))
    n_left = math.ceil(k / 2)
    n_rows = max(n_left, k - n_left)
    groups = fr.groups
    bar_step, row_step = 0.12, 0.28
    y_groups = 0.25  # first group bar, below the axis
    y_rows = y_groups + bar_step * max(len(groups), 1) + 0.15
    height = 1.0 + row_step * n_rows + bar_step * len(groups)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * k + 3.0), 0.9 + height), dpi=DPI)
    ax.set_axis_off()
    span = hi - lo
    x_left, x_right = lo - 0.12 * span - 0.3, hi + 0.12 * span + 0.3
    # the rank axis with integer ticks (labels above) and half ticks
    ax.plot([lo, hi], [0, 0], color="black", lw=1.2)
    for t in range(int(lo), int(hi) + 1):
        ax.plot([t, t], [0, -0.08], color="black", lw=1.2)
        ax.text(t, -0.12, str(t), ha="center", va="bottom", fontsize=10)
    for i in range(int(lo), int(hi)):
        ax.plot([i + 0.5, i + 0.5], [0, -0.04], color="black", lw=0.8)
    # the CD scale bar, above the axis at the left
    y_cd = -0.45
    ax.plot([lo, lo + fr.cd], [y_cd, y_cd], color="black", lw=1.6)
    for x in (lo, lo + fr.cd):
        ax.plot([x, x], [y_cd - 0.04, y_cd + 0.04], color="black", lw=1.6)
    ax.text(lo + fr.cd / 2, y_cd - 0.06, f"CD = {fr.cd:.2f}", ha="center", va="bottom",
            fontsize=9)
    # models: better half to the left, the rest to the right
    for i, (name, r) in enumerate(ranks.items()):
        left = i < n_left
        row = i if left else k - 1 - i
        y = y_rows + row * row_step
        x_end = x_left if left else x_right
        ax.plot([r, r, x_end], [0, y, y], color="0.25", lw=1.0)
        ax.plot([r], [0], marker="o", ms=4, color="black")
        ax.text(x_end + (-0.05 if left else 0.05), y, f"{name} ({r:.2f})",
                ha="right" if left else "left", va="center", fontsize=9)
    # bars joining models that are not separated
    for j, group in enumerate(groups):
        a, b = float(ranks[group[0]]), float(ranks[group[-1]])
        y = y_groups + j * bar_step
        ax.plot([a - 0.03, b + 0.03], [y, y], color="black", lw=4, solid_capstyle="round")
    ax.set_xlim(x_left, x_right)
    ax.set_ylim(y_rows + n_rows * row_step, y_cd - 0.35)  # y grows downwards
    verdict = (f"Friedman p = {fr.p_value:.3g}" + ("" if fr.rejects else
                                                    " (not significant: no pair separated)"))
    ax.set_title(title or f"Mean rank over {fr.n_tasks} {fr.blocks} (Nemenyi, α = {fr.alpha}); "
                 f"{verdict}", fontsize=9)
    return fig


def cd_diagram_png(fr: Friedman, title: str | None = None) -> bytes:
    """The CD diagram of ``fr`` as PNG bytes (the figure is closed)."""
    fig = cd_diagram(fr, title)
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    finally:
        plt.close(fig)
    return buf.getvalue()
