"""Exceptions whose messages tell the user what went wrong and what to do."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class GpbenchError(Exception):
    """Base class: an error the CLI prints without a traceback."""


class PluginError(GpbenchError):
    """A plugin could not be loaded or registered something invalid."""


class UnknownNameError(GpbenchError, KeyError):
    """A dataset, model, metric or trait name that does not exist."""

    def __init__(self, kind: str, name: str, valid: Iterable[str]) -> None:
        valid = sorted(valid)
        close = difflib.get_close_matches(name, valid, n=3, cutoff=0.5)
        if not close:  # case-insensitive containment catches e.g. "lact" -> Lactate, Lactose
            close = [v for v in valid if name.lower() in v.lower()][:3]
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        shown = ", ".join(valid[:60]) + (" ..." if len(valid) > 60 else "")
        super().__init__(f"unknown {kind} {name!r}.{hint} Valid {kind}s: {shown}")
        self.kind, self.name, self.suggestions = kind, name, close

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


class DataError(GpbenchError):
    """Input data are missing, corrupt or inconsistent."""
