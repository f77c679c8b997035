"""The host's layout: subpackages by job, a layered import graph with no circle (type-only
imports included), plugins that import only what ``gpbench`` exports, and a host that names
no plugin."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "benchmark" / "gpbench"
MODULES = sorted(".".join(p.relative_to(PACKAGE).with_suffix("").parts)
                 for p in PACKAGE.rglob("*.py") if p.name != "__main__.py")


def _module_file(module: str) -> Path:
    path = PACKAGE / (module.replace(".", "/") + ".py")
    return path if path.exists() else PACKAGE / module.replace(".", "/") / "__init__.py"


def _imports(module: str) -> set[str]:
    """Modules of gpbench that ``module`` imports anywhere: top level, inside functions and
    under ``if TYPE_CHECKING:`` (a type-only import is an import too)."""
    tree = ast.parse(_module_file(module).read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level or not (base == "gpbench" or base.startswith("gpbench.")):
                assert not node.level, f"{module}: relative import of {base!r}"
                continue
            target = base.removeprefix("gpbench").lstrip(".")
            for alias in node.names:
                name = f"{target}.{alias.name}".lstrip(".")
                found.add(name if name in MODULES else target or "__init__")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("gpbench."):
                    found.add(alias.name.removeprefix("gpbench."))
    found.discard(module)
    return {m for m in found if m in MODULES}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := dfs(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := dfs(node)):
            return found
    return None


def test_no_import_circle_not_even_type_only():
    graph = {m: _imports(m) - {"__init__"} for m in MODULES if m != "__init__"}
    cycle = _cycle(graph)
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_the_plugin_api_imports_nothing_else_of_the_host():
    for module in (m for m in MODULES if m.startswith("api.")):
        assert {m for m in _imports(module) if not m.startswith("api.")} <= {"__init__"}, module


def test_units_tuning_and_fitting_are_below_the_runner():
    assert {"running.runner", "running.tuning"}.isdisjoint(_imports("running.fitting"))
    assert "running.runner" not in _imports("running.tuning")
    assert "running.runner" not in _imports("running.units")
    assert "boards.exports" not in _imports("boards.crossboard")


def test_cycle_detector_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_one_place_derives_the_model_seed():
    pattern = re.compile(r"seed \* 1000")
    hits = [str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py") if pattern.search(
        p.read_text())]
    assert hits == ["benchmark/gpbench/running/units.py"]


def test_plugins_import_only_what_gpbench_exports():
    import gpbench

    for path in (ROOT / "plugins").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gpbench"):
                if not (node.module or "").startswith("gpbench_"):
                    assert node.module == "gpbench", f"{path}: from {node.module} import"
                    for alias in node.names:
                        assert alias.name in gpbench.__all__, f"{path}: {alias.name}"


def test_the_host_names_no_plugin():
    """No import of a plugin package, and no string naming a built-in dataset or model's
    library in code (docstrings aside): the host finds them by declared roles and fields."""
    plugins = {p.name for p in (ROOT / "plugins").iterdir() if p.is_dir()}
    names = {"yeast", "files", "lightgbm", "xgboost", "gbm", "stack", "ridge"}
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        for name in plugins:
            assert f"import {name}" not in text and f"from {name}" not in text, (path, name)
        tree = ast.parse(text)
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef))
                      and n.body and isinstance(n.body[0], ast.Expr)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and id(node) not in docstrings:
                assert node.value not in names, (path, node.value, node.lineno)


@pytest.mark.parametrize("module", [m for m in MODULES if m != "__init__"])
def test_each_module_imports_in_a_fresh_interpreter(module):
    proc = subprocess.run([sys.executable, "-c", f"import gpbench.{module}"],
                          capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(PACKAGE.parent), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr


def test_importing_a_plugin_changes_no_environment_variable():
    # the libraries' own imports may set variables (torch's OpenMP does): imported first
    code = ("import os, importlib, torch, lightgbm, numba, sklearn, scipy; "
            "before = dict(os.environ); "
            "[importlib.import_module(m) for m in ('gpbench_gbm', 'gpbench_transformer', "
            "'gpbench_linear', 'gpbench_bayes', 'gpbench_zoo')]; "
            "print(sorted(set(os.environ.items()) ^ set(before.items())))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env={"PYTHONPATH": f"{PACKAGE.parent}:{ROOT / 'plugins'}",
                                            "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
