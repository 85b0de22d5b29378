"""CSV cells a spreadsheet cannot run: the guard against CSV (formula) injection.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula by
Excel, LibreOffice and Google Sheets; prefixing it with an apostrophe makes it plain text. Every
CSV the platform writes (lead exports, agent reports) passes its text cells through `csv_safe`.
"""

from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(text: str) -> str:
    """`text`, with a leading apostrophe when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text
