"""MkDocs hook: links from a docs page to repository files outside docs/ (the committed boards,
the examples, the README) are checked and kept working in the built site.

On GitHub those relative links (``../leaderboard/yeast/leaderboard.md``) already work, and
MkDocs alone would report them as "not found among documentation files". This hook resolves
each one against the checkout: a target that does not exist is a warning (so ``mkdocs build
--strict`` fails), an existing one is rewritten to ``extra.repo_files`` + its path when that
URL is set in mkdocs.yml (e.g. a source browser's ``.../blob/main``), else the file is copied
into the site under ``repo/`` and linked there, so the site works offline as a folder. It also
adds every page of docs/notes/ to the nav's "Lab notes" section.
"""

from __future__ import annotations

import html
import logging
import os
import posixpath
import re
import shutil
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.hooks.repo_links")

LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")
COPY_DIR = "repo"
_copies: set[str] = set()


def _outside_target(target: str) -> bool:
    return not (target.startswith(("#", "/", "mailto:")) or "://" in target)


def on_pre_build(config: Any) -> None:
    _copies.clear()


def on_config(config: Any) -> Any:
    """Every note in docs/notes/ not named in the nav joins the "Lab notes" section, so a new
    note needs only its line in notes/index.md (tests/test_docs.py checks that line)."""
    notes = sorted(Path(config["docs_dir"], "notes").glob("*.md"))
    for entry in config["nav"] or []:
        if isinstance(entry, dict) and "Lab notes" in entry:
            listed = {item if isinstance(item, str) else next(iter(item.values()))
                      for item in entry["Lab notes"]}
            entry["Lab notes"] += [f"notes/{p.name}" for p in notes
                                   if f"notes/{p.name}" not in listed]
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    docs = Path(config["docs_dir"]).resolve()
    repo = docs.parent
    here = Path(page.file.abs_src_path).parent
    base = (config["extra"] or {}).get("repo_files")

    def rewrite(match: re.Match[str]) -> str:
        image, text, target = match.groups()
        if not _outside_target(target):
            return match.group(0)
        path, hash_, anchor = target.partition("#")
        resolved = (here / path).resolve()
        if not path or resolved.is_relative_to(docs):
            return match.group(0)  # MkDocs validates links inside docs/ itself
        if not resolved.is_relative_to(repo) or not resolved.exists():
            log.warning("%s links to %r, which is not a file of the repository",
                        page.file.src_uri, target)
            return match.group(0)
        if resolved.is_dir() and (resolved / "README.md").exists():
            resolved = resolved / "README.md"
        rel = resolved.relative_to(repo).as_posix()
        if base:
            url = f"{base.rstrip('/')}/{rel}"
        else:
            _copies.add(rel)
            page_dir = posixpath.dirname(page.url.rstrip("/")) if not page.url.endswith("/") \
                else page.url.rstrip("/")
            url = posixpath.relpath(f"{COPY_DIR}/{rel}", page_dir or ".")
        # raw HTML: MkDocs validates markdown links as docs files, which these are not
        href = html.escape(f"{url}{hash_}{anchor}", quote=True)
        if image:
            return f'<img src="{href}" alt="{html.escape(text, quote=True)}">'
        return f'<a href="{href}">{text}</a>'

    return LINK.sub(rewrite, markdown)


def on_post_build(config: Any) -> None:
    repo = Path(config["docs_dir"]).resolve().parent
    site = Path(config["site_dir"])
    for rel in sorted(_copies):
        source = repo / rel
        dest = site / COPY_DIR / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, dest, dirs_exist_ok=True)
        else:
            shutil.copyfile(source, dest)
    if _copies:
        log.debug("copied %d repository files into %s", len(_copies),
                  os.path.join(site, COPY_DIR))
