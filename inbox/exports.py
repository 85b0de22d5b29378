"""Lead exports as CSV, one code path for the API and the web UI's download button."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from core.csv_safety import csv_safe
from inbox.models import Lead

CSV_COLUMNS = ["id", "name", "email", "phone", "company", "source", "status", "score", "contact_id", "created_at"]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_safe(value: Any) -> str:
    return csv_safe("" if value is None else str(value))


def leads_csv_rows(leads: QuerySet[Lead]) -> Iterator[str]:
    """The header, then one CSV line per lead (newest first), read from the database in chunks."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for values in leads.order_by("-created_at", "-id").values_list(*CSV_COLUMNS).iterator(chunk_size=2000):
        yield writer.writerow([v.isoformat() if hasattr(v, "isoformat") else _csv_safe(v) for v in values])


def leads_csv_response(leads: QuerySet[Lead]) -> StreamingHttpResponse:
    """Every lead of `leads` as a streamed `leads-<time>.csv` attachment."""
    response = StreamingHttpResponse(leads_csv_rows(leads), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="leads-{stamp}.csv"'
    return response
