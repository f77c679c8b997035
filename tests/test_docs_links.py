"""Every relative link of README.md and docs/ resolves (file and anchor), the README stays a
front door, and every lab note is in the notes index.

Standard library and pytest only: `tox -e docs` runs this module without installing gpbench
(`--noconftest`); the full suite runs it too. External links are not checked (the build
machines reach no network).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
# pages whose relative links must resolve: the front door, the docs and the pages they send
# readers to (boards and examples)
PAGES = sorted([ROOT / "README.md", *DOCS.rglob("*.md"), ROOT / "leaderboard" / "README.md",
                *(ROOT / "examples").glob("*/README.md")])
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)


def _slug(heading: str) -> str:
    """A heading's anchor as MkDocs' toc and GitHub write it (for these ASCII headings)."""
    text = re.sub(r"[`*]|<[^>]+>", "", heading).strip().lower()
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", text))


def _anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text())
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*$", text, re.M)}


def _relative_links(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text())
    text = re.sub(r"`[^`\n]*`", "", text)  # inline code is not a link
    return [t for t in LINK.findall(text)
            if "://" not in t and not t.startswith(("mailto:", "/"))]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    broken = []
    for target in _relative_links(page):
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{target} (no heading with anchor #{anchor})")
    assert not broken, f"{page.relative_to(ROOT)}: broken links: {broken}"


def test_readme_is_a_front_door():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines; move detail into docs/"


def test_every_note_is_in_the_notes_index():
    index = (DOCS / "notes" / "index.md").read_text()
    linked = {Path(t.partition("#")[0]).name for t in LINK.findall(index)}
    missing = sorted(p.name for p in (DOCS / "notes").glob("*.md")
                     if p.name != "index.md" and p.name not in linked)
    assert not missing, f"add a line for {missing} to docs/notes/index.md"
