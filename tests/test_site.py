"""`gpbench site`: the static results website of run directories (no browser needed here; see
test_site_browser.py for the pages in Chromium)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from gpbench.site import build_site, build_site_from, load_runs
from gpbench.site.families import family
from gpbench.site.html import Cell, Column, Table, esc, slug
from tests.site_helpers import simulated_runs

EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> list[Path]:
    return simulated_runs(tmp_path_factory.mktemp("site-runs"))


class _Collect(HTMLParser):
    """Tags, attributes and text of a page (checks that it parses and what it references)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[dict[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self.scripts.append(dict(attrs))

    def handle_data(self, data):
        self.text.append(data)


def _rows(page: str, table_id: str) -> int:
    """Body rows of the table ``table_id`` in the HTML text ``page``."""
    start = page.index(f'<table id="{table_id}"')
    return page[start:page.index("</table>", start)].count("<tr data-")


def _parse(path: Path) -> _Collect:
    c = _Collect()
    c.feed(path.read_text())
    return c


def test_families():
    assert family("ridge") == "linear" and family("gblup") == "linear"
    assert family("mean") == "linear" and family("elasticnet") == "linear"
    assert family("rkhs") == "kernel" and family("svr") == "kernel"
    assert {family(m) for m in ("brr", "bayesa", "bayesb", "bayesc", "bl")} == {"bayesian"}
    assert {family(m) for m in ("gbm", "xgboost", "rf")} == {"trees"}
    assert family("transformer") == family("transformer-mt") == "neural"
    assert family("stack") == "ensemble"
    assert family("knn") == "other" and family(EVIL) == "other"
    assert family("ridge (fast)") == "linear"


def test_slug_is_safe_and_distinct():
    assert slug("ridge") == "ridge" and slug("transformer-mt") == "transformer-mt"
    s = slug(EVIL)
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", s)
    assert slug("a b") != slug("a-b") and slug("a/b") != slug("a-b")
    assert slug("..") != "" and "/" not in slug("../../etc/passwd")


def test_table_escapes_text_and_attributes():
    t = Table("t", [Column("trait"), Column("R²", "r2")])
    t.add([EVIL, 0.5], trait=EVIL, family='"><img src=x>')
    t.add([Cell("x", html="<b>trusted</b>"), float("nan")], trait="a")
    out = t.render()
    assert EVIL not in out and "<img" not in out
    assert esc(EVIL) in out
    assert "<b>trusted</b>" in out and 'data-sort="0.5"' in out
    assert "–" in out  # NaN shows as a dash and has no sort key


def test_site_of_two_runs(runs, tmp_path):
    site = build_site(runs, tmp_path / "site")
    out = tmp_path / "site"
    assert site.index == out / "index.html"
    assert set(site.datasets) == {"sim (sim-small)", "sim (sim-large)"}
    assert set(site.models) == {"ridge", "gblup", "lasso", "mean"}
    for f in ["index.html", "protocol.html", "assets/site.js", "assets/site.css",
              "cd_diagram.png", "data/cross/summary.csv", "data/cross/folds.csv",
              *[p.relative_to(out).as_posix() for p in site.datasets.values()],
              *[p.relative_to(out).as_posix() for p in site.models.values()]]:
        assert (out / f).is_file(), f
    assert (out / "cd_diagram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # every local link and image of every page points at a file of the site; nothing remote
    for page in [out / "index.html", out / "protocol.html", *site.datasets.values(),
                 *site.models.values()]:
        parsed = _parse(page)
        for tag, attrs in parsed.tags:
            ref = attrs.get("href") or attrs.get("src")
            if tag not in ("a", "img", "link", "script") or not ref:
                continue
            assert not ref.startswith(("http:", "https:", "//")), (page, ref)
            if ref.startswith(("data:", "#")):
                continue
            target = (page.parent / ref.split("#")[0]).resolve()
            assert target.is_file(), (page, ref)
        assert all(s.get("src") for s in parsed.scripts), page  # no inline script
    index = (out / "index.html").read_text()
    assert 'id="cross-summary"' in index and 'id="cross-r2"' in index
    assert _rows(index, "models") == 4 and _rows(index, "cross-summary") == 4
    assert _rows(index, "datasets") == 2 and _rows(index, "cross-r2") == 4  # 2 x 2 tasks
    # per dataset: the per-trait table with filters, figures per trait, CSV downloads
    small = site.datasets["sim (sim-small)"].read_text()
    for trait in ("trait1", "trait2"):
        assert f'<option value="{trait}">' in small
        assert '<figure data-filter-scope="board-' in small and f'data-trait="{trait}"' in small
    assert 'data-filter-key="family"' in small and 'data-metric-for="board-' in small
    assert small.count("<svg") == 4  # R² bars and observed vs predicted, per trait
    folds = pd.read_csv(out / "data" / slug("sim (sim-small)") / "folds.csv")
    assert len(folds) == 3 * 2 * 4  # folds x traits x models
    summary = pd.read_csv(out / "data" / slug("sim (sim-small)") / "summary.csv")
    assert set(summary["model"]) == {"ridge", "gblup", "lasso", "mean"}
    # protocol and versions of every result
    run = load_runs([runs[0]])[0].run
    protocol = (out / "protocol.html").read_text()
    assert run["dataset"]["checksum"] in protocol and run["fold_sha256"] in protocol
    assert "gpbench 0.1.0" in small or "gpbench" in small
    # model pages: options, versions, cost, ranks
    ridge = site.models["ridge"].read_text()
    assert "fit s per unit" in ridge and "model version" in ridge and "wins" in ridge
    assert "Across datasets: position" in ridge and " of 3 by mean rank" in ridge


def _row(page: str, table_id: str, model: str) -> str:
    """The body row of ``model`` in the table ``table_id`` of ``page``."""
    table = page[page.index(f'<table id="{table_id}"'):]
    start = table.index(f'data-model="{model}"')
    return table[start:table.index("</tr>", start)]


def test_site_leaves_the_null_model_out_of_ranks_and_tests(runs, tmp_path):
    """As on the markdown boards: the declared null model (mean) is shown beside the board
    across datasets but is not ranked, counted in wins or tested; the declared reference
    (gblup) is named and every model compared with it, per trait and over datasets."""
    site = build_site(runs, tmp_path / "site")
    index = site.index.read_text()
    null_row = _row(index, "cross-summary", "mean")
    assert 'data-role="null"' in null_row and "(null model)" in null_row
    # no mean rank and no wins: the third and fourth cells are dashes
    assert re.findall(r"<td[^>]*>([^<]*)</td>", null_row)[1:3] == ["–", "–"]
    assert 'data-role="null"' not in _row(index, "cross-summary", "ridge")
    # the Friedman test and the CD diagram are over the three ranked models only
    assert "the 3 models present in all tasks" in index
    pairs = index[index.index('<table id="pairs-tasks"'):]
    pairs = pairs[:pairs.index("</table>")]
    assert _rows(index, "pairs-tasks") == 3 and ">mean<" not in pairs
    assert "null models (mean) are shown but not ranked" in index
    # the reference: the Wilcoxon section over datasets names it
    assert "Each model against gblup" in index and 'id="vs-reference"' in index
    mean = site.models["mean"].read_text()
    assert "a null model, shown beside the board but outside its ranks" in mean
    assert "position" not in mean
    # per trait, every model is compared with the reference
    small = site.datasets["sim (sim-small)"].read_text()
    assert "ΔR² vs gblup" in small and "p vs gblup (Holm)" in small
    assert ">reference<" in _row(small, "board-" + slug("sim (sim-small)"), "gblup")


def test_site_of_one_run_has_no_cross_board(runs, tmp_path):
    site = build_site(runs[:1], tmp_path / "one")
    index = site.index.read_text()
    assert 'id="cross-summary"' not in index and not (tmp_path / "one" / "cd_diagram.png").exists()
    assert list(site.datasets) == ["sim"]


def test_names_from_users_files_are_escaped(runs, tmp_path):
    """A trait, model and dataset named like markup show as text on every page."""
    pages = load_runs([runs[0]])
    p = pages[0]
    for rec in p.records:
        rec["model"] = EVIL if rec["model"] == "ridge" else rec["model"]
        for key in ("metrics", "predictions"):
            if "trait1" in (rec.get(key) or {}):
                rec[key][EVIL] = rec[key].pop("trait1")
        rec["traits"] = [EVIL if t == "trait1" else t for t in rec["traits"]]
    p.run["dataset"]["name"] = EVIL
    p.run["git_commit"] = EVIL
    from gpbench.boards.exports import run_tables

    p.tables = run_tables(p.run, p.records, p.reference)
    site = build_site_from(pages, tmp_path / "evil")
    files = list((tmp_path / "evil").rglob("*.html"))
    assert len(files) >= 4
    for f in files:
        text = f.read_text()
        assert "<script>alert" not in text, f
        parsed = _parse(f)
        assert all(s.get("src", "").endswith("assets/site.js") for s in parsed.scripts), f
    page = site.datasets[EVIL].read_text()
    assert esc(EVIL) in page
    assert EVIL in "".join(_parse(site.datasets[EVIL]).text)  # shown as text
    assert site.models[EVIL].name == f"{slug(EVIL)}.html"


def test_rebuild_removes_stale_pages(runs, tmp_path):
    out = tmp_path / "site"
    build_site(runs, out)
    stale = out / "models" / "gone.html"
    stale.write_text("old")
    build_site(runs[:1], out)
    assert not stale.exists() and (out / "index.html").exists()
    # a directory the site did not write keeps its other files
    other = tmp_path / "mine"
    other.mkdir()
    (other / "models").mkdir()
    (other / "models" / "keep.html").write_text("mine")
    build_site(runs[:1], other)
    assert (other / "models" / "keep.html").exists()


def test_cli_site(runs, tmp_path, capsys):
    from gpbench.cli import main

    cross, tables = runs[0].parent / "cross", runs[0].parent / "tables"
    cross.mkdir(exist_ok=True)  # as a shell glob over a collection would pass them
    tables.mkdir(exist_ok=True)
    assert main(["site", *map(str, runs), str(cross), str(tables),
                 "-o", str(tmp_path / "s")]) == 0
    err = capsys.readouterr().err
    assert "skipped cross/, tables/" in err and "2 dataset page(s), 4 model page(s)" in err
    assert main(["leaderboard", *map(str, runs), str(cross), str(tables),
                 "-o", str(tmp_path / "c")]) == 0
    assert "skipped cross/, tables/" in capsys.readouterr().err
    assert (tmp_path / "c" / "leaderboard.md").is_file()
    assert (tmp_path / "s" / "index.html").is_file()
    assert main(["site", str(tmp_path), "-o", str(tmp_path / "t")]) == 2
    assert "holds no results" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["site", "--help"])
    assert exc.value.code == 0 and "RUN_DIR" in capsys.readouterr().out
