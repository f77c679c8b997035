"""Fetch files by URL with sha256 verification, for dataset plugins.

Downloads go to a temporary file next to the target and are renamed into place only after the
checksum matches, so an interrupted or corrupted download never leaves a file that looks valid.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from gpbench.api.errors import DataError


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify(path: Path, sha256: str, how_to_fix: str) -> None:
    """Raise DataError naming ``path`` when its sha256 is not ``sha256``."""
    got = sha256_file(path)
    if got != sha256:
        raise DataError(f"checksum mismatch for {path}: expected sha256 {sha256}, got {got}. "
                        f"The file is corrupt, truncated or a different version. {how_to_fix}")


def fetch(url: str, sha256: str, dest: Path, how_to_provide: str, timeout: float = 60) -> Path:
    """Return ``dest``, downloading ``url`` into it first if it is not there yet."""
    if dest.exists():
        verify(dest, sha256, f"Delete {dest} to download it again.")
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as resp:
                    for chunk in iter(lambda: resp.read(1 << 20), b""):
                        out.write(chunk)
            except (urllib.error.URLError, OSError, TimeoutError) as exc:
                raise DataError(f"could not download {url} ({exc}). {how_to_provide}") from exc
        got = sha256_file(Path(tmp))
        if got != sha256:
            raise DataError(f"downloaded {url} but its sha256 is {got}, expected {sha256} "
                            f"(interrupted or changed upstream). {how_to_provide}")
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return dest
