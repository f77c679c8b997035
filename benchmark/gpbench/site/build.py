"""Build the static results website of one or more run directories.

``build_site(run_dirs, out_dir)`` writes ``index.html`` (the datasets, the models and, with
several run directories, the board across datasets with its critical-difference diagrams),
``protocol.html`` (protocol and versions of every run), one page per dataset
(``datasets/<name>.html``: sortable, filterable per-trait tables, R² bars and observed vs
predicted per trait, versions of every result), one page per model (``models/<name>.html``:
options, versions, fit seconds, ranks and wins), CSV downloads (``data/``) and the stylesheet
and script (``assets/``). Every figure is computed from the stored records, as on the markdown
boards; the pages open from files and load nothing from the network. As on the markdown
boards, declared null models (``board_role="null"``, e.g. ``mean``) are shown on the board across
datasets but left out of its ranks and tests, and every model is compared with the declared
reference model (``board_role="reference"``, GBLUP) per trait and over datasets.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gpbench.boards.cd_diagram import cd_diagram_png
from gpbench.boards.crossboard import (
    ALPHA,
    CrossBoard,
    Friedman,
    cross_board,
    separation_statement,
    wilcoxon_statement,
)
from gpbench.boards.exports import cross_tables, run_tables
from gpbench.boards.leaderboard import (
    declared_null_models,
    declared_reference,
    listed_records,
    load_run_files,
)
from gpbench.running.protocol import describe_scheme
from gpbench.running.runconfig import run_command
from gpbench.site import svg
from gpbench.site.families import ORDER, family
from gpbench.site.html import (
    DASH,
    Cell,
    Column,
    Table,
    cell,
    code,
    definition_list,
    esc,
    fmt,
    link,
    metric_filter,
    page,
    select_filter,
    slug,
)
from gpbench.storage.atomic import atomic_write_bytes

MARKER = ".gpbench-site"  # marks an output directory this module wrote (safe to refresh)
GENERATED = ("datasets", "models", "data", "assets")
NAV = (("index.html", "Overview"), ("protocol.html", "Protocol and versions"))
METRICS = (("r2", "R²"), ("pcc", "PCC"), ("mse", "MSE"), ("cost", "fit seconds"))


@dataclass(frozen=True)
class Roles:
    """The models the boards treat apart: the reference every model is compared with, and the
    null models shown outside ranks and tests."""

    reference: str | None = None
    null_models: tuple[str, ...] = ()

    @classmethod
    def declared(cls, reference: str | None = None,
                 null_models: Sequence[str] | None = None) -> Roles:
        """The given roles, or those the installed plugins declare (as the markdown boards)."""
        return cls(reference or declared_reference(),
                   tuple(declared_null_models() if null_models is None else null_models))


@dataclass
class RunPage:
    """One run directory as the site shows it."""

    label: str
    run_dir: Path
    run: dict[str, Any]
    records: list[dict[str, Any]]  # the units run.json lists
    unreadable: list[tuple[str, str]]
    tables: dict[str, pd.DataFrame]
    slug: str = ""
    reference: str | None = None  # the model the per-trait tables compare every model with

    @property
    def href(self) -> str:
        return f"datasets/{self.slug}.html"

    @property
    def ok(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("status") == "ok"]


@dataclass
class Site:
    """What ``build_site`` wrote."""

    out_dir: Path
    index: Path
    datasets: dict[str, Path] = field(default_factory=dict)  # label -> page
    models: dict[str, Path] = field(default_factory=dict)  # model -> page
    images: list[Path] = field(default_factory=list)


# ------------------------------------------------------------------ small pieces


def _write(path: Path, text: str) -> Path:
    atomic_write_bytes(path, text.encode())
    return path


def _csv(path: Path, df: pd.DataFrame) -> Path:
    atomic_write_bytes(path, df.to_csv(index=False).encode())
    return path


def _p(x: Any) -> str:
    return "<0.001" if isinstance(x, float) and np.isfinite(x) and x < 0.001 else fmt(x)


def _fit_s(rec: dict[str, Any]) -> float:
    t = rec.get("timing") or {}
    fit = t.get("fit_s")
    return float("nan") if fit is None else float(fit) + float(t.get("tune_s") or 0.0)


def _options(rec: dict[str, Any]) -> str:
    opts = rec.get("used_options")
    if opts is None:
        opts = rec.get("options") or {}
    return json.dumps(opts, sort_keys=True, default=str)


def _plugin(rec: dict[str, Any]) -> str:
    p = (rec.get("versions") or {}).get("plugin") or rec.get("plugin") or {}
    return f"{p.get('name', '?')} {p.get('version') or ''}".strip() if p else "?"


def _lib_versions(rec: dict[str, Any]) -> str:
    v = rec.get("versions") or {}
    return (f"gpbench {v.get('gpbench', '?')}, python {v.get('python', '?')}, "
            f"numpy {v.get('numpy', '?')}, scikit-learn {v.get('sklearn', '?')}")


def _joined(values: Sequence[Any]) -> str:
    return ", ".join(sorted({str(v) for v in values})) or DASH


def _downloads(items: Sequence[tuple[str, str]]) -> str:
    lis = "".join(f'<li><a href="{esc(h)}" download>{esc(t)}</a></li>' for h, t in items)
    return f'<ul class="downloads">{lis}</ul>'


def _model_link(model: str, root: str) -> Cell:
    return Cell(model, model, html=link(f"{root}models/{slug(model)}.html", model))


# ------------------------------------------------------------------ loading


def load_runs(run_dirs: Sequence[Path], reference: str | None = None) -> list[RunPage]:
    """Read every run directory once (run.json and the records of the units it lists); the
    per-trait tables compare every model with ``reference`` too (default: the declared one)."""
    reference = reference or declared_reference()
    out = []
    for d in run_dirs:
        run, records, unreadable = load_run_files(Path(d))
        listed = listed_records(run, records)[0]
        out.append(RunPage("", Path(d), run, listed, unreadable,
                           run_tables(run, listed, reference), reference=reference))
    return out


def _label(pages: list[RunPage], board: CrossBoard) -> None:
    used: set[str] = set()
    for p, src in zip(pages, board.sources, strict=True):
        p.label = src.label
        s = slug(src.label)
        while s in used:
            s += "-x"
        used.add(s)
        p.slug = s


# ------------------------------------------------------------------ protocol


def protocol_facts(p: RunPage) -> list[tuple[str, str]]:
    """(term, html) pairs: the protocol and versions that every result of the run shares, and
    each set of library versions its records were computed with."""
    run = p.run
    ds = run.get("dataset") or {}
    cfg = run.get("run_config") or run.get("config") or {}
    opts = cfg.get("dataset_options") or {}
    tune = cfg.get("tune")
    dplug = ds.get("plugin") or {}
    ok = p.ok
    dates = sorted(str(r["finished_at"]) for r in p.records if r.get("finished_at"))
    lib_sets: dict[str, int] = {}
    for r in ok:
        lib_sets[_lib_versions(r)] = lib_sets.get(_lib_versions(r), 0) + 1
    libs = "<br>".join(f"{esc(k)} ({n} records)" for k, n in sorted(lib_sets.items())) or DASH
    if cfg.get("published_folds"):
        protocol = f"{cfg.get('k', '?')}-fold CV on the folds published with the dataset"
    else:
        protocol = (f"{cfg.get('k', '?')}-fold CV {describe_scheme(cfg.get('cv'))}, seed "
                    f"{cfg.get('seed', '?')}, {cfg.get('repeats', '?')} repeat(s)")
    facts = [
        ("dataset", esc(ds.get("name", p.label))),
        ("dataset version", code(ds.get("version", "?"))),
        ("dataset options", esc(", ".join(f"{k}={v}" for k, v in sorted(opts.items()))
                                or "none")),
        ("dataset checksum", code(ds.get("checksum", cfg.get("dataset_checksum", "?")))),
        ("dataset plugin", esc(f"{dplug.get('name', '?')} {dplug.get('version') or ''}"
                               .strip() if dplug else "?")),
        ("traits", esc(", ".join(map(str, cfg.get("traits") or [])) or "?")),
        ("protocol", esc(protocol)),
        ("fold file", code(run.get("fold_file", "?"))),
        ("fold file sha256", code(run.get("fold_sha256", "?"))),
        ("inner validation", esc(f"{cfg.get('inner_fraction', '?')} of each training fold")),
        ("tuning", esc(f"{tune['n_trials']} Optuna trials per outer training fold, objective "
                       f"{tune.get('metric', '?')}" if isinstance(tune, dict) else "none")),
        ("device", esc(f"{cfg.get('device', '?')}"
                       + (f" ({cfg['device_kind']})" if cfg.get("device_kind") else ""))),
        ("library versions", libs),
        ("git commit", code(run["git_commit"]) if run.get("git_commit") else DASH),
        ("machine", esc(run.get("machine") or DASH)),
        ("finished", esc(f"{dates[0]} to {dates[-1]}" if dates else DASH)),
        ("run directory", code(p.run_dir)),
    ]
    command = run_command(run)
    if command:
        facts.append(("reproduce with", f"<pre>{esc(command)}</pre>"))
    return facts


def versions_table(p: RunPage, root: str) -> Table:
    """Per model of the run: model versions, plugin, library versions and options."""
    t = Table(f"versions-{p.slug}", [Column("model"), Column("family"),
                                      Column("model version"), Column("plugin"),
                                      Column("library versions"), Column("options"),
                                      Column("units ok"), Column("units failed")],
              caption="Versions of every result (from the records)")
    by_model: dict[str, list[dict[str, Any]]] = {}
    for r in p.records:
        by_model.setdefault(str(r.get("model")), []).append(r)
    for model, recs in sorted(by_model.items()):
        ok = [r for r in recs if r.get("status") == "ok"]
        t.add([_model_link(model, root), family(model),
               _joined([r.get("model_version", "?") for r in ok]),
               _joined([_plugin(r) for r in ok]),
               _joined([_lib_versions(r) for r in ok]),
               _joined([_options(r) for r in ok]),
               len(ok), len(recs) - len(ok)], family=family(model), model=model)
    return t


# ------------------------------------------------------------------ dataset page


def _best_predictions(p: RunPage, model: str, trait: str) -> tuple[np.ndarray, np.ndarray]:
    yt: list[float] = []
    yp: list[float] = []
    for r in p.ok:
        if r.get("model") != model:
            continue
        pred = (r.get("predictions") or {}).get(trait)
        if pred:
            yt += [np.nan if v is None else float(v) for v in pred.get("y_true", [])]
            yp += [np.nan if v is None else float(v) for v in pred.get("y_pred", [])]
    return np.asarray(yt, float), np.asarray(yp, float)


def _vs_reference(r: pd.Series, model: str, reference: str) -> list[Cell]:
    """The cells of a per-trait row against the reference: ΔR² with its interval, Holm p."""
    if model == reference:
        return [Cell("reference", 0.0), Cell(DASH)]
    diff = r.get("ref_diff", np.nan)
    if not np.isfinite(diff):
        return [Cell(f"{reference} not ranked" if bool(r.get("complete", True)) else DASH),
                Cell(DASH)]
    ci = (f" [{r['ref_ci_low']:+.3f}, {r['ref_ci_high']:+.3f}]"
          if np.isfinite(r.get("ref_ci_low", np.nan)) else "")
    p = r.get("p_ref_holm", np.nan)
    return [Cell(f"{diff:+.3f}{ci}", float(diff), cls="num"),
            Cell(_p(p), p if np.isfinite(p) else None, cls="num")]


def dataset_page(p: RunPage, data_dir: Path) -> str:
    root = "../"
    traits = p.tables["traits"]
    # compared with the reference only where it ran (else every row would say "not ranked")
    reference = p.reference if p.reference in set(traits.get("model", [])) else None
    csv_dir = data_dir / p.slug
    _csv(csv_dir / "summary.csv", traits)
    _csv(csv_dir / "overall.csv", p.tables["overall"])
    _csv(csv_dir / "folds.csv", p.tables["folds"])
    board_id = f"board-{p.slug}"
    table = Table(board_id, [
        Column("trait"), Column("rank"), Column("model"), Column("family"),
        Column("R² mean", "r2"), Column("R² sd", "r2"),
        Column("ΔR² vs best", "r2", "mean per-fold difference to the rank-1 model"),
        Column("95% CI", "r2", "corrected resampled t interval (Nadeau & Bengio 2003), "
               "Bonferroni-adjusted over the table's models (simultaneous)"),
        Column("p (Holm)", "r2", "corrected t-test against the best, Holm-adjusted"),
        Column("PCC mean", "pcc"), Column("PCC sd", "pcc"), Column("MSE", "mse"),
        Column("folds"), Column("n test"), Column("n fit"),
        Column("fit s", "cost", "mean seconds per fit (tuning included)"),
        *([Column(f"ΔR² vs {reference}", "r2", "mean per-fold difference to the reference "
                  "model, declared before the results, with its simultaneous 95% interval"),
           Column(f"p vs {reference} (Holm)", "r2", "corrected t-test against the reference, "
                  "Holm-adjusted")] if reference else [])],
        caption="Per trait: models that finished every fold are ranked by mean R² over the "
                "outer test folds"
                + (f"; each is compared with the best and with the reference model {reference}."
                   if reference else "."))
    trait_names: list[str] = []
    for _, r in traits.iterrows():
        trait, model = str(r["trait"]), str(r["model"])
        if trait not in trait_names:
            trait_names.append(trait)
        complete = bool(r.get("complete", True))
        rank = r.get("rank")
        if complete and np.isfinite(rank):
            rank_cell = cell(int(rank), "d")
        else:
            rank_cell = Cell("not ranked", None)
        label = str(r.get("label") or model)
        model_cell = Cell(label, label, html=link(f"{root}models/{slug(model)}.html", label)
                          + ("" if complete else
                             f' <span class="muted">(incomplete: {int(r["n_folds"])} of '
                             f'{int(r["n_expected"])} folds)</span>'))
        ci = (f"[{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]"
              if np.isfinite(r.get("ci_low", np.nan)) else DASH)
        r2c = cell(r["r2_mean"])
        if complete and rank == 1:
            r2c.cls += " best"
        table.add([cell(trait), rank_cell, model_cell, family(model), r2c, cell(r["r2_sd"]),
                   cell(r["diff"], "+.3f"), Cell(ci, r.get("ci_low")),
                   Cell(_p(r["p_holm"]), r["p_holm"] if np.isfinite(r["p_holm"]) else None,
                        cls="num"),
                   cell(r["pcc_mean"]), cell(r["pcc_sd"]), cell(r["mse_mean"], ".4g"),
                   cell(int(r["n_folds"]), "d"), cell(r["n_test"], ".0f"),
                   cell(r["n_fit"], ".0f"), cell(r["fit_s"], ".2f"),
                   *(_vs_reference(r, model, reference) if reference else [])],
                  trait=trait, family=family(model), model=model)
    families = [f for f in ORDER if f in {family(str(m)) for m in traits.get("model", [])}]
    filters = ('<div class="filters">'
               + select_filter(board_id, "trait", "trait", trait_names)
               + select_filter(board_id, "family", "model family", families)
               + metric_filter(board_id, METRICS)
               + f'<span class="muted" data-count-for="{esc(board_id)}"></span></div>')
    figures = []
    for trait in trait_names:
        sub = traits[traits["trait"].astype(str) == trait].sort_values(
            ["complete", "r2_mean"], ascending=[False, False])
        labels = [str(x) for x in sub["label"].fillna(sub["model"])]
        bars = svg.r2_bars(trait, labels, sub["r2_mean"].tolist(), sub["r2_sd"].tolist())
        ranked = sub[sub["complete"].astype(bool)]
        scat = ""
        if len(ranked):
            best = str(ranked.iloc[0]["model"])
            yt, yp = _best_predictions(p, best, trait)
            scat = svg.scatter(trait, str(ranked.iloc[0]["label"] or best), yt, yp)
        figures.append(
            f'<figure data-filter-scope="{esc(board_id)}" data-trait="{esc(trait)}">'
            f'<div class="figures">{bars}{scat}</div><figcaption>{esc(trait)}: mean R² per '
            "model (bars; whiskers ±1 sd over folds) and the best-ranked model's predictions "
            "on the outer test folds against the observed values (dashed: y = x)."
            "</figcaption></figure>")
    overall = Table(f"overall-{p.slug}", [Column("model"), Column("family"),
                                           Column("mean R²", "r2"), Column("mean rank"),
                                           Column("traits ranked")],
                    caption="Over the traits where the model is ranked")
    for _, r in p.tables["overall"].iterrows():
        overall.add([_model_link(str(r["model"]), root), family(str(r["model"])),
                     cell(r["r2_mean"]), cell(r["mean_rank"], ".2f"),
                     cell(int(r["traits"]), "d")], family=family(str(r["model"])))
    body = [f'<p>Run directory {code(p.run_dir)}: {len(p.ok)} finished units of '
            f'{len(p.records)} listed in run.json; {len(trait_names)} trait(s), '
            f'{traits["model"].nunique() if len(traits) else 0} model(s).</p>',
            "<h2>Per trait</h2>", filters, table.render(),
            "<h2>Figures per trait</h2>", "".join(figures) or "<p>No finished units.</p>",
            "<h2>Overall</h2>", overall.render(),
            "<h2>Downloads</h2>",
            _downloads([(f"{root}data/{p.slug}/summary.csv", "per-trait summary (CSV)"),
                        (f"{root}data/{p.slug}/overall.csv", "overall per model (CSV)"),
                        (f"{root}data/{p.slug}/folds.csv", "per-fold scores (CSV)")]),
            "<h2>Protocol and versions</h2>", definition_list(protocol_facts(p)),
            versions_table(p, root).render()]
    failed = [r for r in p.records if r.get("status") != "ok"]
    if failed:
        body += ["<h2>Failed units</h2><ul>"] + [
            f"<li>{code(r.get('unit_id', '?'))}: "
            f"{esc(str(r.get('error') or '?').splitlines()[0] if r.get('error') else '?')}</li>"
            for r in failed] + ["</ul>"]
    if p.unreadable:
        body += ["<h2>Records not shown</h2><ul>"] + [
            f"<li>{code(n)}: {esc(w)}</li>" for n, w in p.unreadable] + ["</ul>"]
    return page(f"Dataset {p.label}", "\n".join(body), root, NAV)


# ------------------------------------------------------------------ model pages


def model_page(model: str, pages: list[RunPage], board: CrossBoard | None) -> str:
    root = "../"
    fam = family(model)
    body = [f"<p>Family: <strong>{esc(fam)}</strong>.</p>"]
    if board is not None and model in board.null_models and model in board.summary.index:
        s = board.summary.loc[model]
        body.append(f"<p>Across datasets: a null model, shown beside the board but outside its "
                    f"ranks and tests; mean R² {fmt(s['r2_mean'])} over {int(s['tasks_ran'])} "
                    f"of {int(s['tasks'])} tasks (<a href=\"{root}index.html#cross\">board "
                    "across datasets</a>).</p>")
    elif board is not None and not board.summary.empty and model in board.summary.index:
        s = board.summary.loc[model]
        ranked = [m for m in board.summary.index if m not in board.null_models]
        pos = ranked.index(model) + 1
        body.append(f"<p>Across datasets: position {pos} of {len(ranked)} by mean rank "
                    f"({fmt(s['mean_rank'], '.2f')}), {int(s['wins'])} win(s) over "
                    f"{int(s['tasks_ran'])} of {int(s['tasks'])} tasks, mean R² "
                    f"{fmt(s['r2_mean'])} (<a href=\"{root}index.html#cross\">board across "
                    "datasets</a>).</p>")
    runs = Table("model-runs", [Column("dataset"), Column("model version"), Column("plugin"),
                                Column("library versions"), Column("options"),
                                Column("units ok"), Column("units failed"),
                                Column("fit s per unit", "cost"), Column("fit s total", "cost"),
                                Column("traits ranked"), Column("wins"), Column("mean rank"),
                                Column("mean R²", "r2")],
                 caption="Per dataset: versions, options, cost (fit seconds from the records, "
                         "tuning included) and ranks")
    tasks = Table("model-tasks", [Column("dataset"), Column("trait"), Column("rank"),
                                  Column("models ranked"), Column("R² mean", "r2"),
                                  Column("ΔR² vs best", "r2"), Column("PCC mean", "pcc"),
                                  Column("fit s", "cost")],
                  caption="Per trait (rank 1 = highest mean R² among the models that finished "
                          "every fold)")
    datasets = []
    for p in pages:
        recs = [r for r in p.records if r.get("model") == model]
        if not recs:
            continue
        datasets.append(p.label)
        ok = [r for r in recs if r.get("status") == "ok"]
        fit = np.array([_fit_s(r) for r in ok], float)
        fit = fit[np.isfinite(fit)]
        tr = p.tables["traits"]
        mine = tr[tr["model"].astype(str) == model] if len(tr) else tr
        ranked = mine[mine["complete"].astype(bool)] if len(mine) else mine
        wins = int((ranked["rank"] == 1).sum()) if len(ranked) else 0
        ds_link = Cell(p.label, p.label, html=link(f"{root}{p.href}", p.label))
        runs.add([ds_link, _joined([r.get("model_version", "?") for r in ok]),
                  _joined([_plugin(r) for r in ok]), _joined([_lib_versions(r) for r in ok]),
                  _joined([_options(r) for r in ok]), len(ok), len(recs) - len(ok),
                  cell(float(fit.mean()) if len(fit) else float("nan"), ".2f"),
                  cell(float(fit.sum()) if len(fit) else float("nan"), ".1f"),
                  len(ranked), wins,
                  cell(float(ranked["rank"].mean()) if len(ranked) else float("nan"), ".2f"),
                  cell(float(ranked["r2_mean"].mean()) if len(ranked) else float("nan"))],
                 dataset=p.label)
        for _, r in mine.iterrows():
            n_ranked = int(tr[(tr["trait"] == r["trait"]) & tr["complete"].astype(bool)].shape[0])
            rank = (cell(int(r["rank"]), "d") if bool(r["complete"]) and np.isfinite(r["rank"])
                    else Cell("not ranked"))
            tasks.add([ds_link, cell(str(r["trait"])), rank, n_ranked, cell(r["r2_mean"]),
                       cell(r["diff"], "+.3f"), cell(r["pcc_mean"]), cell(r["fit_s"], ".2f")],
                      dataset=p.label, trait=str(r["trait"]))
    body += [f"<p>Ran on {len(datasets)} dataset(s).</p>", "<h2>Per dataset</h2>",
             '<div class="filters">' + metric_filter("model-runs", METRICS) + "</div>",
             runs.render(), "<h2>Per trait</h2>",
             '<div class="filters">' + select_filter("model-tasks", "dataset", "dataset",
                                                     datasets)
             + '<span class="muted" data-count-for="model-tasks"></span></div>', tasks.render()]
    return page(f"Model {model}", "\n".join(body), root, NAV)


# ------------------------------------------------------------------ index and protocol


def _friedman_html(fr: Friedman, image: str | None, caption: str, table_id: str) -> str:
    """The test's verdict, the CD diagram, and every pair in a collapsed sortable table (the
    markdown board lists them in sentences, too long for a page with many models)."""
    lines = [line for line in separation_statement(fr) if line]
    sep = int(fr.pairs["separated"].sum()) if len(fr.pairs) else 0
    if fr.rejects:
        verdict = (f"It separates {sep} of {len(fr.pairs)} pairs (mean-rank difference > CD) "
                   f"and cannot separate {len(fr.pairs) - sep}.")
    else:
        verdict = lines[1] if len(lines) > 1 else ""
    pairs = Table(table_id, [Column("model a"), Column("model b"), Column("mean rank a"),
                             Column("mean rank b"), Column("difference"),
                             Column("separated")])
    for _, r in fr.pairs.iterrows():
        pairs.add([cell(str(r["model_a"])), cell(str(r["model_b"])), cell(r["rank_a"], ".2f"),
                   cell(r["rank_b"], ".2f"), cell(r["difference"], ".2f"),
                   "yes" if bool(r["separated"]) else "no"],
                  separated="yes" if bool(r["separated"]) else "no")
    img = (f'<figure><img class="cd" src="{esc(image)}" alt="{esc(caption)}">'
           f"<figcaption>{esc(caption)}</figcaption></figure>" if image else "")
    choose = select_filter(table_id, "separated", "separated", ["yes", "no"])
    return (f"<p>{esc(lines[0])}</p><p>{esc(verdict)}</p>{img}"
            f"<details><summary>All {len(fr.pairs)} pairs</summary>"
            f'<div class="filters">{choose}'
            f'<span class="muted" data-count-for="{esc(table_id)}"></span></div>'
            f"{pairs.render()}</details>")


def _wilcoxon_html(board: CrossBoard) -> list[str]:
    """Each model against the declared reference: the Wilcoxon signed-rank tests over datasets
    (as on the markdown board), or why they did not run; nothing without a reference."""
    ref = board.reference
    if not ref:
        return []
    parts = [f'<h3 id="vs-reference">Each model against {esc(ref)}</h3>',
             "<p>Mean-rank tests let the other models on the board decide whether two models "
             "differ (Benavoli, Corani &amp; Mangili 2016); the paired test recommended there "
             f"compares each model with one fixed model, the declared reference {esc(ref)}: a "
             "two-sided Wilcoxon signed-rank test over datasets (a model's score on a dataset "
             "is its mean R² over the dataset's traits), Holm-adjusted over the models.</p>"]
    if board.wilcoxon_note:
        return parts + [f"<p>{esc(board.wilcoxon_note)}</p>"]
    alpha = board.friedman.alpha if board.friedman is not None else ALPHA
    parts += [f"<p>{esc(line)}</p>" for line in wilcoxon_statement(board.wilcoxon, ref, alpha)]
    t = Table("cross-wilcoxon", [Column("model"), Column("datasets"),
                                 Column(f"mean ΔR² vs {ref}", "r2"),
                                 Column(f"median ΔR² vs {ref}", "r2"),
                                 Column("better / worse"), Column("W"), Column("p"),
                                 Column("p (Holm)")])
    for _, r in board.wilcoxon.iterrows():
        t.add([_model_link(str(r["model"]), ""), int(r["n_datasets"]),
               cell(r["mean_diff"], "+.3f"), cell(r["median_diff"], "+.3f"),
               Cell(f"{int(r['better'])}/{int(r['worse'])}", int(r["better"])),
               cell(r["statistic"], ".1f"), Cell(_p(r["p_value"]), r["p_value"], cls="num"),
               Cell(_p(r["p_holm"]), r["p_holm"], cls="num")], model=str(r["model"]))
    return parts + [t.render()]


def cross_section(board: CrossBoard, out_dir: Path, site: Site) -> str:
    """The board across datasets: summary, Friedman/Nemenyi with CD diagrams, R² per task."""
    data = out_dir / "data" / "cross"
    tables = cross_tables(board)
    for name in ("summary", "r2", "pcc", "tasks", "pairs", "wilcoxon", "folds"):
        if not tables[name].empty:
            _csv(data / f"{name}.csv", tables[name])
    parts = ['<h2 id="cross">Across datasets</h2>']
    if board.summary.empty:
        return "".join(parts) + "<p>No finished units yet.</p>"
    summary = Table("cross-summary", [
        Column("model"), Column("family"), Column("mean rank"), Column("wins"),
        Column("mean R²", "r2"), Column("mean PCC", "pcc"), Column("R² / best", "r2"),
        Column("R² − best", "r2"), Column("tasks")],
        caption=f"{len(board.r2)} tasks (dataset × trait); rank 1 = highest mean R² on a task"
                + (f"; null models ({', '.join(board.null_models)}) are shown but not ranked: "
                   "ranks, wins, the best of a task and every test are among the other models"
                   if board.null_models else ""))
    for model, r in board.summary.iterrows():
        null = model in board.null_models
        name = _model_link(str(model), "")
        if null:
            name = Cell(str(model), str(model), html=f'{name.html} <span class="muted">(null '
                        "model)</span>")
        summary.add([name, family(str(model)),
                     cell(r["mean_rank"], ".2f"),
                     cell(float(r["wins"]) if null else int(r["wins"]), "d"),
                     cell(r["r2_mean"]),
                     cell(r["pcc_mean"]), cell(r["r2_rel_best"]), cell(r["r2_minus_best"]),
                     Cell(f"{int(r['tasks_ran'])}/{int(r['tasks'])}", int(r["tasks_ran"]))],
                    family=family(str(model)), model=str(model),
                    **({"role": "null"} if null else {}))
    fams = [f for f in ORDER if f in {family(str(m)) for m in board.summary.index}]
    parts += ['<div class="filters">', select_filter("cross-summary", "family", "model family",
                                                     fams),
              metric_filter("cross-summary", METRICS[:2]), "</div>", summary.render()]
    parts.append("<h3>Which models the benchmark separates</h3>")
    if board.friedman is None:
        parts.append(f"<p>{esc(board.friedman_note)}</p>")
    else:
        image = None
        png = cd_diagram_png(board.friedman)
        atomic_write_bytes(out_dir / "cd_diagram.png", png)
        site.images.append(out_dir / "cd_diagram.png")
        image = "cd_diagram.png"
        parts.append(_friedman_html(board.friedman, image, (
            "Critical-difference diagram, tasks as blocks: models on the axis of mean ranks "
            "(1 = best, left); a thick bar joins models the Nemenyi test cannot tell apart at "
            f"α = {board.friedman.alpha}."), "pairs-tasks"))
        parts.append("<h3>Datasets as blocks</h3><p>The traits of one dataset share its "
                     "individuals and folds, so tasks are not independent; the conservative "
                     "check ranks the models within each dataset and tests over datasets.</p>")
        if board.dataset_friedman is None:
            parts.append(f"<p>{esc(board.dataset_friedman_note)}</p>")
        else:
            atomic_write_bytes(out_dir / "cd_diagram_datasets.png",
                               cd_diagram_png(board.dataset_friedman))
            site.images.append(out_dir / "cd_diagram_datasets.png")
            parts.append(_friedman_html(board.dataset_friedman, "cd_diagram_datasets.png",
                                        "Critical-difference diagram, datasets as blocks.",
                                        "pairs-datasets"))
    parts += _wilcoxon_html(board)
    ranked = [m for m in board.r2.columns if m not in board.null_models]
    wide = Table("cross-r2", [Column("dataset"), Column("trait"),
                              *[Column(f"{m} (null)" if m in board.null_models else str(m))
                                for m in board.r2.columns]],
                 caption="Mean R² over outer test folds per task; bold = best of the task "
                         "(among the ranked models); – = not run")
    for (dataset, trait), row in board.r2.iterrows():
        best = row[ranked].max()
        cells = []
        for v in row.to_numpy(dtype=float):
            c = cell(float(v))
            if np.isfinite(v) and v == best:
                c.cls += " best"
            cells.append(c)
        wide.add([cell(str(dataset)), cell(str(trait)), *cells], dataset=str(dataset))
    labels = list(dict.fromkeys(str(d) for d, _ in board.r2.index))
    parts += ["<h3>R² per task</h3>", '<div class="filters">',
              select_filter("cross-r2", "dataset", "dataset", labels),
              '<span class="muted" data-count-for="cross-r2"></span></div>', wide.render()]
    if board.notes:
        parts += ["<h3>Notes</h3><ul>", *[f"<li>{esc(n)}</li>" for n in board.notes], "</ul>"]
    if board.failed:
        parts += ["<h3>Failed units</h3><ul>", *[f"<li>{code(f)}</li>" for f in board.failed],
                  "</ul>"]
    downloads = [(f"data/cross/{n}.csv", t) for n, t in (
        ("summary", "models over all tasks (CSV)"), ("r2", "R² per task, wide (CSV)"),
        ("tasks", "per task and model, long (CSV)"), ("pairs", "Nemenyi pairs (CSV)"),
        ("wilcoxon", f"Wilcoxon tests against {board.reference} (CSV)"),
        ("folds", "per-fold scores of every run (CSV)")) if (data / f"{n}.csv").exists()]
    parts += ["<h3>Downloads</h3>", _downloads(downloads)]
    return "\n".join(parts)


def index_page(pages: list[RunPage], models: list[str], board: CrossBoard | None,
               out_dir: Path, site: Site) -> str:
    ds = Table("datasets", [Column("dataset"), Column("traits"), Column("models"),
                            Column("units ok"), Column("protocol"), Column("best overall"),
                            Column("mean R² of the best", "r2")])
    for p in pages:
        cfg = p.run.get("run_config") or p.run.get("config") or {}
        ov = p.tables["overall"]
        best = str(ov.iloc[0]["model"]) if len(ov) else DASH
        tr = p.tables["traits"]
        ds.add([Cell(p.label, p.label, html=link(p.href, p.label)),
                int(tr["trait"].nunique()) if len(tr) else 0,
                int(tr["model"].nunique()) if len(tr) else 0, len(p.ok),
                f"{cfg.get('k', '?')}-fold, seed {cfg.get('seed', '?')}, "
                f"{cfg.get('repeats', '?')} repeat(s)",
                _model_link(best, "") if len(ov) else Cell(DASH),
                cell(float(ov.iloc[0]["r2_mean"])) if len(ov) else cell(float("nan"))],
               dataset=p.label)
    mt = Table("models", [Column("model"), Column("family"), Column("datasets"),
                          Column("units ok"), Column("fit s total", "cost")])
    for m in models:
        recs = [r for p in pages for r in p.ok if r.get("model") == m]
        fit = np.array([_fit_s(r) for r in recs], float)
        mt.add([_model_link(m, ""), family(m),
                sum(1 for p in pages if any(r.get("model") == m for r in p.records)),
                len(recs), cell(float(np.nansum(fit)), ".1f")], family=family(m), model=m)
    fams = [f for f in ORDER if f in {family(m) for m in models}]
    body = [f"<p>{len(pages)} run director{'y' if len(pages) == 1 else 'ies'}, "
            f"{len(models)} model(s). Protocol, dataset checksums, fold hashes and versions: "
            '<a href="protocol.html">protocol and versions</a>.</p>',
            cross_section(board, out_dir, site) if board is not None else "",
            "<h2>Datasets</h2>", ds.render(), "<h2>Models</h2>",
            '<div class="filters">' + select_filter("models", "family", "model family", fams)
            + '<span class="muted" data-count-for="models"></span></div>', mt.render()]
    return page("gpbench results", "\n".join(body), "", NAV)


def protocol_page(pages: list[RunPage]) -> str:
    t = Table("protocols", [Column("dataset"), Column("version"), Column("checksum"),
                            Column("fold file"), Column("fold sha256"), Column("protocol"),
                            Column("gpbench"), Column("git commit"), Column("model versions")])
    parts = []
    for p in pages:
        ds = p.run.get("dataset") or {}
        cfg = p.run.get("run_config") or p.run.get("config") or {}
        mv = sorted({f"{r.get('model')} {r.get('model_version', '?')}" for r in p.ok})
        t.add([Cell(p.label, p.label, html=link(p.href, p.label)), ds.get("version", "?"),
               Cell(str(ds.get("checksum", "?"))[:16], html=code(str(ds.get("checksum",
                                                                            "?"))[:16])),
               p.run.get("fold_file", "?"),
               Cell(str(p.run.get("fold_sha256", "?"))[:16],
                    html=code(str(p.run.get("fold_sha256", "?"))[:16])),
               f"{cfg.get('k', '?')}-fold, seed {cfg.get('seed', '?')}, "
               f"{cfg.get('repeats', '?')} repeat(s)",
               _joined([(r.get("versions") or {}).get("gpbench", "?") for r in p.ok]),
               p.run.get("git_commit") or DASH, ", ".join(mv) or DASH], dataset=p.label)
        parts += [f'<h2 id="{esc(p.slug)}">{esc(p.label)}</h2>',
                  definition_list(protocol_facts(p))]
    body = ["<p>Every result on this site comes from the run directories below; checksums "
            "and hashes are shortened in the table and given in full per run.</p>",
            t.render(), *parts]
    return page("Protocol and versions", "\n".join(body), "", NAV)


# ------------------------------------------------------------------ the site


def _copy_assets(out_dir: Path) -> None:
    target = out_dir / "assets"
    target.mkdir(parents=True, exist_ok=True)
    for name in ("site.js", "site.css"):
        data = resources.files("gpbench.site").joinpath("assets", name).read_bytes()
        atomic_write_bytes(target / name, data)


def _prepare(out_dir: Path) -> None:
    """Create ``out_dir``; remove the pages of an earlier build there (only a directory this
    module wrote, marked by ``MARKER``), so no stale page survives."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if (out_dir / MARKER).exists():
        for name in GENERATED:
            if (out_dir / name).is_dir():
                shutil.rmtree(out_dir / name)
        for f in ("cd_diagram.png", "cd_diagram_datasets.png"):
            (out_dir / f).unlink(missing_ok=True)
    (out_dir / MARKER).write_text("written by gpbench site; rebuilt on the next run\n")


def build_site_from(pages: list[RunPage], out_dir: Path, alpha: float = ALPHA,
                    roles: Roles | None = None) -> Site:
    """Write the site of already loaded runs (see ``load_runs``) into ``out_dir``; ``roles``
    (default: the declared ones) name the reference and the null models."""
    out_dir = Path(out_dir)
    roles = roles or Roles.declared()
    _prepare(out_dir)
    board = cross_board([(p.run_dir, p.run, p.records) for p in pages], alpha,
                        roles.reference, roles.null_models)
    _label(pages, board)
    site = Site(out_dir, out_dir / "index.html")
    _copy_assets(out_dir)
    for p in pages:
        site.datasets[p.label] = _write(out_dir / p.href, dataset_page(p, out_dir / "data"))
    models = sorted({str(r.get("model")) for p in pages for r in p.records})
    for m in models:
        site.models[m] = _write(out_dir / "models" / f"{slug(m)}.html",
                                model_page(m, pages, board if len(pages) > 1 else None))
    _write(out_dir / "protocol.html", protocol_page(pages))
    _write(site.index, index_page(pages, models, board if len(pages) > 1 else None, out_dir,
                                  site))
    return site


def build_site(run_dirs: Sequence[Path], out_dir: Path, alpha: float = ALPHA,
               roles: Roles | None = None) -> Site:
    """Read ``run_dirs`` and write their website into ``out_dir``; with several run
    directories the index carries the board across datasets. ``roles`` (default: the models
    the installed plugins declare) name the reference model and the null models."""
    roles = roles or Roles.declared()
    return build_site_from(load_runs(run_dirs, roles.reference), out_dir, alpha, roles)


__all__ = ["Roles", "RunPage", "Site", "build_site", "build_site_from", "load_runs"]
