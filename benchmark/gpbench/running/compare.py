"""Compare a new model with a committed board: run only the new model on each of the board's
run directories, under each one's own folds, traits and protocol, beside the board's stored
results, then write the board across datasets including it.

The board is copied first (run.json, folds, results), so the committed directories are never
written; every other model's units are read from the copy, nothing of theirs is rerun.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gpbench.api.errors import GpbenchError
from gpbench.plugins import Registry
from gpbench.running.plan import execute, plan_run
from gpbench.running.runconfig import read_run
from gpbench.running.verify import run_config_from
from gpbench.storage.records import PACK_NAME, holds_results


def board_run_dirs(board: Path) -> list[Path]:
    """The run directories of a board: ``board`` itself, or its subdirectories that hold
    results (e.g. leaderboard/collection without its cross/)."""
    board = Path(board)
    if (board / "run.json").exists():
        return [board]
    found = sorted(p for p in board.iterdir() if (p / "run.json").exists() and holds_results(p))
    if not found:
        raise GpbenchError(f"{board} holds no run directory; pass a board such as "
                           "leaderboard/collection or one run directory")
    return found


def copy_run_dir(src: Path, dst: Path) -> None:
    """Copy what a run directory's results need (run.json, folds, packed records)."""
    if dst.exists() and any(dst.iterdir()):
        raise GpbenchError(f"{dst} is not empty; choose a new -o directory")
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src / "run.json", dst / "run.json")
    shutil.copytree(src / "folds", dst / "folds")
    if (src / PACK_NAME).exists():
        shutil.copy2(src / PACK_NAME, dst / PACK_NAME)
    if (src / "results").is_dir():
        shutil.copytree(src / "results", dst / "results")


def compare(board: Path, models: Sequence[str], out: Path, registry: Registry,
            data_dir: Path | None, cache_dir: Path, executor: Any = None, env: Any = None,
            stream: Any = None) -> tuple[list[Path], Path | None]:
    """Run ``models`` on every run directory of ``board`` (copied into ``out``), then write
    the board across datasets into ``out/cross`` when there are several; returns the run
    directories and the cross board's markdown (None for one directory)."""
    from gpbench.boards.publish import write_cross_board

    for name in models:
        registry.model(name)  # an unknown model fails before anything is copied
    sources = board_run_dirs(board)
    out = Path(out)
    runs = []
    for src in sources:
        dst = out / src.name
        run = read_run(src) or {}
        config = run_config_from(run, models, dst, data_dir, cache_dir)
        config.n_threads = 1
        copy_run_dir(src, dst)
        execute(plan_run(config, registry), executor=executor, env=env, stream=stream)
        runs.append(dst)
    cross = write_cross_board(runs, out / "cross") if len(runs) > 1 else None
    return runs, cross
