"""The ``model.json`` of a saved model directory: what a plugin's ``save`` writes beside its
arrays, and the check its ``load`` makes before reading them (kind and format version)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_model_json(directory: Path, kind: str, fmt: Any, meta: dict[str, Any]) -> None:
    """Write ``directory/model.json`` holding ``kind``, ``format`` and ``meta``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.json").write_text(json.dumps(
        {"kind": kind, "format": fmt, **meta}, indent=1))


def read_model_json(directory: Path, kind: str, fmt: Any) -> dict[str, Any]:
    """``directory/model.json``; ValueError (naming the file) unless it is a JSON object
    holding a ``kind`` model in format ``fmt``."""
    directory = Path(directory)
    path = directory / "model.json"
    try:
        meta = json.loads(path.read_text())
    except ValueError as exc:  # invalid JSON or text
        raise ValueError(f"{path} is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{path} holds a JSON {type(meta).__name__}, not an object")
    if meta.get("kind") != kind or meta.get("format") != fmt:
        raise ValueError(f"{directory} holds a {meta.get('kind')!r} model in format "
                         f"{meta.get('format')}, expected {kind!r} format {fmt}")
    return meta
