"""Small simulated run directories for the website tests (ridge, gblup, lasso and the null
model mean on two simulated datasets, 3 folds), built once per test module: three ranked
models, so the board's Friedman test runs without the null model."""

from __future__ import annotations

from pathlib import Path

import pytest


def simulated_runs(base: Path) -> list[Path]:
    """Two run directories of the ``sim`` dataset (different sizes), written by the CLI."""
    from gpbench import plugins
    from gpbench.cli import main
    from gpbench.running.units import Environment

    env = Environment(extra_plugins=("gpbench_sim", "gpbench_linear", "gpbench_metrics"),
                      load_entrypoints=False)
    registry = env.get_registry()
    dirs = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plugins, "load_registry", lambda *a, **k: registry)
        for name, n in (("sim-small", 60), ("sim-large", 80)):
            out = base / name
            args = ["run", "--dataset", "sim", "--dataset-option", f"n_strains={n}",
                    "--dataset-option", "n_markers=100", "--dataset-option", "n_traits=2",
                    "--models", "ridge,gblup,lasso,mean", "--folds", "3", "--out", str(out),
                    "--cache-dir", str(base / "cache"), "--no-report",
                    "--executor", "inline"]  # no worker start per run: the fixture is fast
            assert main(args) == 0
            dirs.append(out)
    return dirs
