"""Small HTML builders for the results website: every text from users' files goes through
``esc`` (``html.escape`` with quotes), so a trait named ``<script>`` shows as text.

Pages are plain HTML with one stylesheet and one vanilla script (``assets/``); nothing is
loaded from the network, so the site opens from files and works offline.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

DASH = "–"


def esc(value: Any) -> str:
    """``value`` as HTML text (also safe inside a quoted attribute)."""
    return html.escape("" if value is None else str(value), quote=True)


def slug(name: Any) -> str:
    """A file-name-safe, URL-safe name for ``name``; names that had to be changed get a short
    hash of the original, so two names never share a page."""
    text = str(name)
    s = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.")[:48]
    if s != text or not s:
        s = f"{s or 'x'}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"
    return s


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not (
        isinstance(value, float) and not math.isfinite(value))


def fmt(value: Any, spec: str = ".3f") -> str:
    """A number formatted with ``spec``, a dash for NaN/None, anything else as text."""
    if value is None:
        return DASH
    try:
        import numpy as np

        if isinstance(value, np.generic):
            value = value.item()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return format(value, spec) if math.isfinite(value) else DASH
    return str(value)


@dataclass
class Cell:
    """A table cell: shown ``text`` (escaped) and the ``sort`` key the script sorts on
    (numbers sort numerically; missing values last). ``html`` is trusted markup built here
    (links), used instead of ``text``."""

    text: Any = ""
    sort: Any = None
    html: str | None = None
    cls: str = ""


def cell(value: Any, spec: str = ".3f") -> Cell:
    """A cell for a raw value: numbers formatted with ``spec`` and sorted by value."""
    try:
        import numpy as np

        if isinstance(value, np.generic):
            value = value.item()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, int) and not isinstance(value, bool):
        return Cell(str(value), value, cls="num")  # counts
    if is_number(value):
        return Cell(fmt(value, spec), value, cls="num")
    if isinstance(value, float):  # NaN
        return Cell(DASH, None, cls="num")
    return Cell("" if value is None else value)


def link(href: str, text: Any) -> str:
    """An ``<a>`` to ``href`` (built here from slugs) showing ``text`` (escaped)."""
    return f'<a href="{esc(href)}">{esc(text)}</a>'


@dataclass
class Column:
    """A table column: its header, and the metric it shows (for the metric filter; "" when
    the column is always shown)."""

    title: str
    metric: str = ""
    tip: str = ""


@dataclass
class Table:
    """A sortable table; each row has ``attrs`` (e.g. ``trait``, ``family``) that the filters
    match against (``data-<name>`` attributes)."""

    id: str
    columns: list[Column]
    rows: list[tuple[dict[str, Any], list[Cell]]] = field(default_factory=list)
    caption: str = ""

    def add(self, cells: Sequence[Cell | Any], **attrs: Any) -> None:
        self.rows.append((attrs, [c if isinstance(c, Cell) else cell(c) for c in cells]))

    def render(self) -> str:
        head = []
        for i, col in enumerate(self.columns):
            metric = f' data-metric="{esc(col.metric)}"' if col.metric else ""
            tip = f' title="{esc(col.tip)}"' if col.tip else ""
            head.append(f'<th scope="col" class="sortable" data-col="{i}"{metric}{tip}>'
                        f'<button type="button">{esc(col.title)}</button></th>')
        body = []
        for attrs, cells in self.rows:
            data = "".join(f' data-{esc(k)}="{esc(v)}"' for k, v in attrs.items())
            tds = []
            for c, col in zip(cells, self.columns, strict=True):
                sort = "" if c.sort is None else f' data-sort="{esc(c.sort)}"'
                metric = f' data-metric="{esc(col.metric)}"' if col.metric else ""
                cls = f' class="{esc(c.cls)}"' if c.cls else ""
                content = c.html if c.html is not None else esc(c.text)
                tds.append(f"<td{cls}{sort}{metric}>{content}</td>")
            body.append(f"<tr{data}>{''.join(tds)}</tr>")
        caption = f"<caption>{esc(self.caption)}</caption>" if self.caption else ""
        return (f'<div class="table-wrap"><table id="{esc(self.id)}" class="board">{caption}'
                f"<thead><tr>{''.join(head)}</tr></thead>"
                f"<tbody>\n{chr(10).join(body)}\n</tbody></table></div>")


def select_filter(table_id: str, key: str, label: str, values: Iterable[Any],
                  all_label: str = "all") -> str:
    """A ``<select>`` that shows only the rows of ``table_id`` whose ``data-<key>`` equals the
    chosen value (and the figures marked with the same ``data-<key>``)."""
    options = [f'<option value="">{esc(all_label)}</option>']
    options += [f'<option value="{esc(v)}">{esc(v)}</option>' for v in values]
    return (f'<label class="filter">{esc(label)} <select data-filter-for="{esc(table_id)}" '
            f'data-filter-key="{esc(key)}">{"".join(options)}</select></label>')


def metric_filter(table_id: str, metrics: Sequence[tuple[str, str]]) -> str:
    """A ``<select>`` that shows only the columns of one metric (value, label)."""
    options = ['<option value="">all metrics</option>']
    options += [f'<option value="{esc(v)}">{esc(t)}</option>' for v, t in metrics]
    return (f'<label class="filter">metric <select data-metric-for="{esc(table_id)}">'
            f'{"".join(options)}</select></label>')


def definition_list(items: Iterable[tuple[str, str]]) -> str:
    """``<dl>`` of (term, trusted html) pairs; escape the values before passing them."""
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in items)
    return f'<dl class="facts">{rows}</dl>'


def code(value: Any) -> str:
    return f"<code>{esc(value)}</code>"


def page(title: str, body: str, root: str = "", nav: Sequence[tuple[str, str]] = ()) -> str:
    """A whole HTML document; ``root`` is the relative path to the site's root ("" or "../")
    and ``nav`` (href relative to the root, label) the links of the top bar."""
    links = "".join(f'<a href="{esc(root + href)}">{esc(label)}</a>' for href, label in nav)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{esc(root)}assets/site.css">
<script src="{esc(root)}assets/site.js" defer></script>
</head>
<body>
<header class="top"><nav>{links}</nav></header>
<main>
<h1>{esc(title)}</h1>
{body}
</main>
<footer>Built by <code>gpbench site</code> from stored results; every figure is computed from
the stored predictions. Static files: no server, nothing loaded from the network.</footer>
</body>
</html>
"""
