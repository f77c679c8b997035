"""The public dataset collection: one module per dataset, each a ``DECLARATION`` and its parser.

Every dataset here is loaded through :mod:`gpbench.data.datasource` (pinned URLs, sha256, parsed
cache); ``docs/notes/datasets.md`` documents each one. To add a dataset, write its module and append
its name to ``MODULES``.
"""

from __future__ import annotations

import importlib
from typing import Any

from gpbench import DatasetDeclaration, hookimpl

MODULES: list[str] = [
    "wheat",
    "mice",
    "rice",
    "apple",
    "salmon",
    "pine",
    "apricot",
    "barley",
    "maize_drops",
    "potato",
    "maize_hybrids",
    "soynam",
]


def declarations() -> list[DatasetDeclaration]:
    """The DECLARATION of every module in ``MODULES``, in that order."""
    return [importlib.import_module(f"{__name__}.{m}").DECLARATION for m in MODULES]


@hookimpl
def register_datasets(register: Any) -> None:
    for decl in declarations():
        register(decl.spec())
