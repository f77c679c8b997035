"""The worked example of docs/own-data.md runs as written (commands parsed from the page)."""

from __future__ import annotations

import re
import runpy
import shlex
import sys

import pandas as pd

from gpbench.cli import main
from tests.conftest import REPO
from tests.own_data import with_checkout_plugins

PAGE = REPO / "docs" / "own-data.md"


def page_commands(section: str = "## A worked example") -> list[str]:
    """The commands of the first ```bash block of ``section`` (continuations joined)."""
    text = PAGE.read_text()
    start = text.index(section + "\n")
    end = text.find("\n## ", start + len(section))
    block = re.search(r"```bash\n(.*?)```", text[start:end if end > 0 else None], re.S)
    assert block, f"no ```bash block in the section {section!r} of {PAGE}"
    joined = block.group(1).replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_own_data_example_runs_as_written(tmp_path, monkeypatch, capsys):
    with_checkout_plugins(monkeypatch, tmp_path / "dist")
    monkeypatch.chdir(tmp_path)
    commands = page_commands()
    assert [c.split()[0] for c in commands] == ["python", "gpbench", "gpbench", "gpbench"]
    for command in commands:
        argv = shlex.split(command)
        if argv[0] == "python":
            monkeypatch.setattr(sys, "argv", argv[1:])
            runpy.run_path(str(REPO / argv[1]), run_name="__main__")
        else:
            assert argv[0] == "gpbench"
            assert main(argv[1:]) == 0, f"{PAGE.name} command failed: {command}"
    err = capsys.readouterr().err
    assert "200 individuals in both geno.bed (205) and pheno.csv (203)" in err
    board = (tmp_path / "runs" / "my-lines" / "leaderboard.md").read_text()
    assert "## yield" in board and "## height" in board and "gblup" in board
    first = pd.read_csv(tmp_path / "predictions.csv", index_col=0)
    again = pd.read_csv(tmp_path / "predictions-again.csv", index_col=0)
    assert first.shape == (30, 2) and list(first.columns) == ["yield", "height"]
    pd.testing.assert_frame_equal(first, again, check_exact=True)
