"""Report of a run directory: the leaderboard markdown followed by figures, per trait.

Built purely from stored records and run.json (nothing is refit), so a report can be
regenerated at any time, also while a run is still adding results.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from gpbench.boards import plots
from gpbench.boards.curves import at_full_size, curve_frame
from gpbench.boards.leaderboard import (
    declared_reference,
    listed_records,
    load_run_files,
    records_frame,
    render,
)
from gpbench.storage.atomic import atomic_write_bytes

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _alt(text: str) -> str:
    # brackets in a model name would end the markdown image's alt text early
    return text.replace("[", "(").replace("]", ")")


def safe_name(*parts: str) -> str:
    """A file name made of ``parts`` joined by '_', keeping only letters, digits, '-', '_', '.'."""
    name = "_".join(_UNSAFE.sub("_", str(p)).strip("._") or "x" for p in parts)
    return name[:150]


class _Writer:
    """Saves figures under unique sanitized names in ``out_dir`` and closes them."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.used: set[str] = set()

    def save(self, fig: Any, *parts: str) -> str:
        stem = safe_name(*parts)
        name, i = f"{stem}.png", 1
        while name in self.used:  # two labels may sanitize to the same name
            i += 1
            name = f"{stem}-{i}.png"
        self.used.add(name)
        buf = io.BytesIO()
        try:
            fig.savefig(buf, format="png", dpi=plots.DPI)
        finally:
            plots.plt.close(fig)
        atomic_write_bytes(self.out_dir / name, buf.getvalue())
        return name


def write_report(run_dir: Path, out_dir: Path | None = None) -> Path:
    """Write ``report.md`` and its PNG figures for ``run_dir``; returns the markdown's path.

    ``out_dir`` defaults to ``run_dir/report``. Per trait the report shows the R² chart with the
    heritability ceiling, observed-vs-predicted scatter plots per model (best first) and the
    learning curves of models that recorded a training history.
    """
    run_dir = Path(run_dir)
    out_dir = Path(out_dir) if out_dir is not None else run_dir / "report"
    run, records, unreadable = load_run_files(run_dir)
    listed, _ = listed_records(run, records)
    everything = [r for r in listed if r.get("status") == "ok"]  # failed: the table only
    ok = at_full_size(everything)  # a learning-curve run's other shares: their own figure
    sizes = curve_frame(everything)
    writer = _Writer(out_dir)
    md = [render(run, records, unreadable=unreadable,
                 reference=declared_reference()).rstrip(), "", "# Plots", ""]
    df = records_frame(ok)
    if df.empty:
        md += ["No finished units to plot.", ""]
    multi_trait_curves: dict[str, str | None] = {}  # one figure per multi-trait model
    for trait in sorted(df["trait"].unique()) if not df.empty else []:
        md += [f"## {trait}", ""]
        fig = plots.leaderboard_chart(ok, trait, run.get("references") or [])
        name = writer.save(fig, "r2", trait)
        md += [f"![R² per model on {_alt(trait)}]({name})", ""]
        order = (df[df.trait == trait].groupby("model")["r2"].mean()
                 .sort_values(ascending=False).index)
        md += ["### Observed vs predicted", ""]
        for model in order:
            if not any(trait in (r.get("predictions") or {}) for r in ok
                       if r.get("model") == model):
                continue
            name = writer.save(plots.observed_vs_predicted(ok, model, trait),
                               "scatter", trait, model)
            md += [f"![{_alt(model)} on {_alt(trait)}: observed vs predicted]({name})", ""]
        curves = []
        for model in order:
            multi = any(len(r.get("traits") or []) > 1 for r in ok if r.get("model") == model)
            if multi and model in multi_trait_curves:
                name = multi_trait_curves[model]
            else:
                fig = plots.learning_curves(ok, model, trait)
                name = None if fig is None else writer.save(
                    fig, "curves", model if multi else f"{trait}_{model}")
                if multi:
                    multi_trait_curves[model] = name
            if name is not None:
                note = " (multi-trait model: one figure for all its traits)" if multi else ""
                curves += [f"![{_alt(model)} learning curves{note}]({name})", ""]
        if curves:
            md += ["### Learning curves", "", *curves]
        if sizes[sizes.trait == trait]["fraction"].nunique() > 1:
            md += ["### Accuracy against training size", ""]
            for metric in ("r2", "r_g"):
                if sizes.loc[sizes.trait == trait, metric].notna().any():
                    name = writer.save(plots.training_size_curve(everything, trait, metric),
                                       "training_size", trait, metric)
                    md += [f"![{_alt(trait)}: {metric} against training size]({name})", ""]
    md += ["Figures are drawn from the stored predictions and training histories of this run; "
           "nothing was refit. Heritability lines are published figures (reference rows above), "
           "not results of this run.", ""]
    target = out_dir / "report.md"
    atomic_write_bytes(target, "\n".join(md).encode())
    return target
