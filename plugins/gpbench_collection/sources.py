"""Pinned source repositories of the collection and the raw-file URLs built from them."""

from __future__ import annotations

from gpbench.datasource import RemoteFile

BGLR = ("gdlc/BGLR-R", "f66f9bc07a735803ddfb9625f6eea0fe46c3df57")
ASRDATA = ("asrtools/asrdata", "e752386c7ebbb2b6567b8d808dfb066120c483aa")
VTGWAS = ("malachycampbell/VTGWAS2019", "a4c6f59b88971da0e5bb54bb610ab048661f36d4")


def pinned(source: tuple[str, str], path: str, sha256: str) -> RemoteFile:
    """The file at ``path`` of repository ``source`` (``(owner/name, commit)``), named by its
    last path component."""
    repo, commit = source
    return RemoteFile(path.rsplit("/", 1)[-1],
                      f"https://raw.githubusercontent.com/{repo}/{commit}/{path}", sha256)


def version(source: tuple[str, str]) -> str:
    """``"name@commit7"``, the dataset version shown in reports."""
    return f"{source[0].split('/')[1]}@{source[1][:7]}"
