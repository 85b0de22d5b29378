"""The progress line the agents' management commands print after each batch."""

from __future__ import annotations

import math


def progress_line(done: int, total: int, *, rate: str = "") -> str:
    """`  [#########.....................]      300/1,000 ( 30.0%)  <rate>`"""
    width = 30
    share = done / total if total else 1.0
    filled = math.floor(width * share)
    line = f"  [{'#' * filled}{'.' * (width - filled)}] {done:>12,}/{total:,} ({100 * share:5.1f}%)"
    return f"{line}  {rate}" if rate else line
