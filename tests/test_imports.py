"""The host's modules form a layered graph: no import cycles, each module imports alone."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "benchmark" / "gpbench"
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__main__")


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(module: str) -> set[str]:
    """Modules of gpbench that ``module`` imports at run time, at top level or inside a
    function (imports under ``if TYPE_CHECKING:`` only serve annotations)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level == 1 or base.startswith("gpbench"):
                target = base.removeprefix("gpbench").lstrip(".")
                if target:
                    found.add(target.split(".")[0])
                else:  # from . import x  /  from gpbench import x
                    found.update(a.name for a in node.names if a.name in MODULES)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    found.discard(module)
    return found & set(MODULES)


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
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


def test_no_import_cycles():
    cycle = _cycle({m: _imports(m) for m in MODULES})
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_fitting_sits_below_runner_and_tuning():
    assert {"runner", "tuning"}.isdisjoint(_imports("fitting"))
    assert "runner" not in _imports("tuning")
    assert {"fitting", "tuning"} <= _imports("runner")


def test_cycle_detector_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_in_a_fresh_interpreter(module):
    proc = subprocess.run([sys.executable, "-c", f"import gpbench.{module}"],
                          capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(PACKAGE.parent), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
