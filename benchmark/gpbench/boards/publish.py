"""Writing boards to disk: a run's leaderboard markdown with its CSV/LaTeX tables, and the
board across datasets with its critical-difference diagram.

The boards themselves are pure functions of stored records (:mod:`gpbench.boards.leaderboard`,
:mod:`gpbench.boards.crossboard`); this module only renders and writes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gpbench.boards.cd_diagram import cd_diagram_png
from gpbench.boards.crossboard import ALPHA, load_cross_board, render_cross
from gpbench.boards.exports import write_cross_tables, write_run_tables
from gpbench.boards.leaderboard import (
    declared_null_models,
    declared_reference,
    listed_records,
    load_run_files,
    render,
)
from gpbench.storage.atomic import atomic_write_bytes


def write_leaderboard(run_dir: Path, out: Path | None = None, show_params: bool = False,
                      reference: str | None = None) -> Path:
    """Render ``run_dir``'s stored results to markdown (default ``run_dir/leaderboard.md``),
    comparing every model with ``reference`` (default: :func:`declared_reference`)."""
    run, records, unreadable = load_run_files(run_dir)
    reference = reference or declared_reference()
    target = out or Path(run_dir) / "leaderboard.md"
    text = render(run, records, show_params=show_params, unreadable=unreadable,
                  reference=reference)
    atomic_write_bytes(target, text.encode())
    write_run_tables(run, listed_records(run, records)[0], target.parent / "tables",
                     reference)
    return target


def write_cross_board(run_dirs: Sequence[Path], out_dir: Path, alpha: float = ALPHA,
                      reference: str | None = None) -> Path:
    """Write ``leaderboard.md``, ``cd_diagram.png`` (and ``cd_diagram_datasets.png``, with
    datasets as blocks) and ``tables/`` for ``run_dirs`` into ``out_dir``; returns the
    markdown's path. Every model is compared with ``reference`` (default: the declared one);
    declared null models are shown but not ranked."""
    board = load_cross_board(run_dirs, alpha, reference or declared_reference(),
                             declared_null_models())
    out_dir = Path(out_dir)
    image = dataset_image = None
    if board.friedman is not None:
        atomic_write_bytes(out_dir / "cd_diagram.png", cd_diagram_png(board.friedman))
        image = "cd_diagram.png"
    if board.dataset_friedman is not None:
        dataset_image = "cd_diagram_datasets.png"
        atomic_write_bytes(out_dir / dataset_image, cd_diagram_png(board.dataset_friedman))
    write_cross_tables(board, out_dir / "tables")
    target = out_dir / "leaderboard.md"
    atomic_write_bytes(target, render_cross(board, image,
                                            dataset_cd_image=dataset_image).encode())
    return target
