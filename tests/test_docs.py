"""The docs' generated and example code: docs/cli.md equals the parser, the code shown on the
plugin pages is the tested code, and the MkDocs site builds with warnings as errors (links are
checked in tests/test_docs_links.py)."""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from gpbench.cli import build_parser, main
from gpbench.storage.records import ResultStore

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"


def _script(name: str) -> ModuleType:
    path = DOCS / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"docs_scripts_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_the_parser():
    want = _script("cli_reference").render(build_parser())
    assert (DOCS / "cli.md").read_text() == want, (
        "docs/cli.md differs from the parser: run "
        "`PYTHONPATH=benchmark:plugins python docs/scripts/cli_reference.py`")


def _python_blocks(page: Path) -> list[str]:
    """The ```python blocks of ``page``, dedented (a block may sit inside a list item)."""
    blocks = re.findall(r"^([ \t]*)```python\n(.*?)^\1```", page.read_text(), re.S | re.M)
    return [textwrap.dedent(body) for _, body in blocks]


@pytest.mark.parametrize(("page", "source"), [
    ("plugins/dataset.md", "examples/gpbench-toydata/gpbench_toydata/__init__.py"),
    ("plugins/metric.md", "examples/gpbench-spearman/gpbench_spearman.py")])
def test_plugin_pages_show_the_tested_example(page, source):
    assert (ROOT / source).read_text() in _python_blocks(DOCS / page), (
        f"docs/{page} must show {source} verbatim (tests/test_example_plugins.py runs it)")


def test_model_page_snippet_runs_as_a_plugin(tmp_path, monkeypatch):
    """Steps 1-4 of docs/plugins/model.md: the module of step 1, registered through an entry
    point as its pyproject.toml of step 2 declares, runs beside a built-in model."""
    page = DOCS / "plugins" / "model.md"
    (tmp_path / "my_model.py").write_text(_python_blocks(page)[0])
    toml = re.search(r"^\s*nearest = \"my_model\"$", page.read_text(), re.M)
    assert toml, "the pyproject.toml of step 2 no longer declares nearest = \"my_model\""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "my_model", raising=False)
    eps = [*md.entry_points(group="gpbench"), md.EntryPoint("nearest", "my_model", "gpbench")]
    monkeypatch.setattr("gpbench.plugins._entry_points", lambda: eps)
    out = tmp_path / "run"
    assert main(["run", "--models", "nearest,ridge", "--dataset", "sim", "--envs", "trait1",
                 "--dataset-option", "n_strains=80", "--dataset-option", "n_markers=100",
                 "--folds", "2", "--out", str(out), "--cache-dir", str(tmp_path / "cache"),
                 "--executor", "inline", "--no-report"]) == 0
    records = [r for r in ResultStore(out).records() if r["model"] == "nearest"]
    assert len(records) == 2 and all(r["status"] == "ok" for r in records)


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None,
                    reason="mkdocs is not installed (pip install -e '.[docs]')")
def test_docs_site_builds_without_warnings(tmp_path):
    """`mkdocs build --strict`: a broken link or anchor, a page outside the nav or a link to a
    missing repository file is an error (tox -e docs runs the same)."""
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(site), "--config-file", str(ROOT / "mkdocs.yml")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (site / "index.html").exists() and (site / "cli" / "index.html").exists()
    assert (site / "repo" / "leaderboard" / "collection" / "cross" / "cd_diagram.png").exists()
    shutil.rmtree(site)
