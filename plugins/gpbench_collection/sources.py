"""Pinned source repositories of the collection and the raw-file URLs built from them."""

from __future__ import annotations

from gpbench import RemoteFile

BGLR = ("gdlc/BGLR-R", "f66f9bc07a735803ddfb9625f6eea0fe46c3df57")
ASRDATA = ("asrtools/asrdata", "e752386c7ebbb2b6567b8d808dfb066120c483aa")
VTGWAS = ("malachycampbell/VTGWAS2019", "a4c6f59b88971da0e5bb54bb610ab048661f36d4")
PBR = ("neyhartj/pbr", "0019c243b4ce00363eb46f4dc132f2d2dc6cb7c2")
STATGENGWAS = ("cran/statgenGWAS", "5d6de86f3f8e9d6420ff48656d5d313f4a1422bf")
SOMMER = ("cran/sommer", "7780e6cb4b5d0b3148622a7c67e86d0355b292b0")  # 4.3.6
SOYNAM = ("cran/SoyNAM", "34b1c01912ba6b95b67b78d98667b50d0602904b")


def pinned(source: tuple[str, str], path: str, sha256: str) -> RemoteFile:
    """The file at ``path`` of repository ``source`` (``(owner/name, commit)``), named by its
    last path component."""
    repo, commit = source
    return RemoteFile(path.rsplit("/", 1)[-1],
                      f"https://raw.githubusercontent.com/{repo}/{commit}/{path}", sha256)


def version(source: tuple[str, str]) -> str:
    """``"name@commit7"``, the dataset version shown in reports."""
    return f"{source[0].split('/')[1]}@{source[1][:7]}"
