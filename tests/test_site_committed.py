"""CI builds the website of the committed collection board (`gpbench site` over every run
directory under leaderboard/collection, as a shell glob passes them, cross/ included)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
COLLECTION = ROOT / "leaderboard" / "collection"


def _run_dirs() -> list[Path]:
    return sorted(d for d in COLLECTION.iterdir() if (d / "run.json").is_file())


@pytest.mark.slow
def test_site_of_the_committed_collection(tmp_path, capsys):
    from gpbench.cli import main

    runs = _run_dirs()
    if not runs:
        pytest.skip("no committed run directories under leaderboard/collection")
    args = [str(d) for d in sorted(COLLECTION.iterdir()) if d.is_dir()]  # like collection/*/
    out = tmp_path / "site"
    assert main(["site", *args, "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"{len(runs)} dataset page(s)" in err
    index = (out / "index.html").read_text()
    models = set()
    for d in runs:
        run = json.loads((d / "run.json").read_text())
        models |= set(run.get("units_by_model") or {})
        name = run["dataset"]["name"]
        page = out / "datasets" / f"{name}.html"
        assert page.is_file(), name
        assert f'href="datasets/{name}.html"' in index
    assert f"{len(models)} model(s)" in index
    start = index.index('<table id="models"')
    table = index[start:index.index("</table>", start)]
    assert set(re.findall(r'<tr data-family="[^"]*" data-model="([^"]*)"', table)) == models
    for m in models:
        assert (out / "models" / f"{m}.html").is_file(), m
    # the board across datasets with both CD diagrams, and the CSV downloads
    assert 'id="cross-summary"' in index
    for png in ("cd_diagram.png", "cd_diagram_datasets.png"):
        assert f'src="{png}"' in index and (out / png).read_bytes()[:4] == b"\x89PNG"
    assert (out / "data" / "cross" / "summary.csv").is_file()
    yeast = (out / "datasets" / "yeast.html").read_text()
    run = json.loads((COLLECTION / "yeast" / "run.json").read_text())
    assert run["dataset"]["checksum"] in yeast and run["fold_sha256"] in yeast
    assert run["git_commit"] in yeast
    assert (out / "data" / "yeast" / "folds.csv").is_file()
