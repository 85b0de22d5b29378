"""CSV cells a spreadsheet cannot run: the guard against CSV (formula) injection.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula by
Excel, LibreOffice and Google Sheets; prefixing it with an apostrophe makes it plain text. Every
CSV the platform writes (lead exports, agent reports) passes its text cells through `csv_safe`.

A cell that is only a number or a phone number (`+15550100101`, `-12.50`, `+1 (555) 010-0101`) is
written as it is: digits, spaces, brackets, dots, commas and dashes after one sign cannot name a
function, a cell or another program, so a spreadsheet computes nothing from it, and the apostrophe
would only corrupt the value for every program that reads the file.
"""

from __future__ import annotations

import re

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# One sign, then a digit or "(", then only digits, spaces, brackets, dots, commas and dashes.
_NUMBER = re.compile(r"[+-]?[0-9(][0-9 ().,-]*\Z")


def is_plain_number(text: str) -> bool:
    """Whether `text` is only a number or a phone number, as a person would write one."""
    return bool(_NUMBER.match(text)) and any(char.isdigit() for char in text)


def csv_safe(text: str) -> str:
    """`text`, with a leading apostrophe when a spreadsheet would read it as a formula."""
    if text.startswith(FORMULA_PREFIXES) and not is_plain_number(text):
        return "'" + text
    return text
