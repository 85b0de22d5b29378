"""The hourly roll-up of agent executions (`AgentExecutionHourly`, and per tenant
`AccountExecutionHourly`, the sum of its agents' rows): kept in step by the execution writer,
rebuilt from the executions when needed.

An execution counts in exactly one roll-up row, its agent's hour of `started_at` (UTC): once in its
status and, when it has a duration, once in that duration's bin (`agents.histogram`). That is its
`HourlyShare`. When the writer changes an execution it moves the share from the old to the new
(`hourly_record`), in the same transaction, with one `INSERT ... ON CONFLICT DO UPDATE` per
roll-up row that adds the differences to the stored counts: the row lock of that statement orders
concurrent writers, none of them reads a count and writes it back, so none can lose another's.
The tenant's row of the hour gets the same differences, after the agents' rows (every writer locks
agent rows before tenant rows, each kind in key order, so two writers cannot deadlock).
A change that does not alter the share (a repeated outcome, a filled-in summary) writes nothing.

`hourly_rebuild` replaces a tenant's rows from its executions, a day at a time, while holding a
table lock that excludes the writers' increments, so a write is either already visible to the
rebuild or applied on top of its result; the tenant's rows of those hours are the sums of the
rebuilt agent rows.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Func, IntegerField, Max, Min
from django.db.models.expressions import Combinable
from django.db.models.functions import Trunc

from agents import histogram
from agents.models import AccountExecutionHourly, AgentExecution, AgentExecutionHourly, ExecutionStatus, HourlyCounts

HOUR = timedelta(hours=1)
STATUS_COLUMNS: dict[str, str] = {
    ExecutionStatus.SUCCEEDED: "succeeded",
    ExecutionStatus.FAILED: "failed",
    ExecutionStatus.RUNNING: "running",
}


def hour_of(moment: datetime) -> datetime:
    """The start of the UTC hour containing `moment`."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def next_hour_boundary(moment: datetime) -> datetime:
    """`moment` when it is on the hour, else the start of the following hour."""
    start = hour_of(moment)
    return start if start == moment else start + HOUR


# -- expressions the readers share ---------------------------------------------------------------


class ElementSums(Func):
    """An aggregate: the sums of some elements (0-based) of a `CountsField` over the grouped rows,
    as one list. PostgreSQL: `ARRAY[SUM(column[i + 1]), ...]`; SQLite:
    `json_array(SUM(json_extract(column, '$[i]')), ...)`. One expression instead of one `Sum` per
    element keeps the query cheap to build."""

    contains_aggregate = True
    output_field = IntegerField()  # of each element; `convert_value` gives the list

    def __init__(self, expression: str | Combinable, indexes: Iterable[int]) -> None:
        self.indexes = [int(index) for index in indexes]  # ints we checked: safe to inline
        if not self.indexes or not all(0 <= index < histogram.BINS for index in self.indexes):
            raise ValueError("indexes out of range")
        super().__init__(expression)

    def as_sql(
        self,
        compiler: Any,
        connection: Any,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        sums = ", ".join(f"SUM(json_extract({column}, '$[{index}]'))" for index in self.indexes)
        return f"json_array({sums})", list(params) * len(self.indexes)

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        sums = ", ".join(f"SUM(({column})[{index + 1}])" for index in self.indexes)
        return f"ARRAY[{sums}]::bigint[]", list(params) * len(self.indexes)

    def get_group_by_cols(self) -> list[Any]:
        return []  # an aggregate: its column is summed, not grouped by

    def get_db_converters(self, connection: Any) -> list[Any]:
        return [self.convert_value]

    @staticmethod
    def convert_value(value: Any, expression: Any, connection: Any) -> list[int]:
        if value is None:
            return []
        if isinstance(value, str):
            value = json.loads(value)
        return [int(total or 0) for total in value]


class DurationBin(Func):
    """PostgreSQL: the histogram bin of a duration, `width_bucket(duration, EDGES)` (NULL stays
    NULL). Other databases have no `width_bucket`: there it is the duration itself, and the caller
    bins it with `histogram.bin_of`."""

    output_field = IntegerField()

    def __init__(self, expression: str | Combinable) -> None:
        super().__init__(expression)

    def as_sql(
        self,
        compiler: Any,
        connection: Any,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> Any:
        return compiler.compile(self.source_expressions[0])

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        # The edges are constants of the code: inlined, they cost nothing per query to send.
        return f"WIDTH_BUCKET({sql}, {_EDGES_SQL})", params


_EDGES_SQL = "'{" + ",".join(str(edge) for edge in histogram.EDGES) + "}'::integer[]"


def bin_from_db(value: int | None) -> int | None:
    """The bin of a `DurationBin` value read back on this database."""
    if value is None:
        return None
    return value if connection.vendor == "postgresql" else histogram.bin_of(value)


# -- the writer's side ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HourlyShare:
    """What one execution adds to the roll-up: one count in its status, one in its duration's bin."""

    account_id: int
    agent_id: int
    hour: datetime
    status: str
    bin: int | None

    @classmethod
    def of(cls, execution: AgentExecution) -> HourlyShare:
        return cls(
            account_id=execution.account_id,
            agent_id=execution.agent_id,
            hour=hour_of(execution.started_at),
            status=str(execution.status),
            bin=None if execution.duration_ms is None else histogram.bin_of(execution.duration_ms),
        )


@dataclass
class _RowChange:
    account_id: int
    statuses: Counter[str] = field(default_factory=Counter)
    bins: Counter[int] = field(default_factory=Counter)

    def groups(self) -> Counter[int]:
        groups: Counter[int] = Counter()
        for bin_index, delta in self.bins.items():
            groups[histogram.group_of(bin_index)] += delta
        return groups


def hourly_record(*, before: HourlyShare | None, after: HourlyShare | None) -> None:
    """Move one execution's share of the roll-up from `before` (None: it is new) to `after`.

    Call it in the transaction that writes the execution, while holding the execution's row lock
    (so `before` is what the roll-up holds for it).
    """
    if before == after:
        return
    changes: dict[tuple[int, datetime], _RowChange] = {}
    tenant_changes: dict[tuple[int, datetime], _RowChange] = {}
    for share, sign in ((before, -1), (after, 1)):
        if share is None:
            continue
        for change in (
            changes.setdefault((share.agent_id, share.hour), _RowChange(account_id=share.account_id)),
            tenant_changes.setdefault((share.account_id, share.hour), _RowChange(account_id=share.account_id)),
        ):
            change.statuses[share.status] += sign
            if share.bin is not None:
                change.bins[share.bin] += sign
    # A fixed order of rows, so two writers moving executions between the same hours cannot deadlock.
    for (agent_id, hour), change in sorted(changes.items()):
        _upsert(
            AgentExecutionHourly,
            keys={"account_id": change.account_id, "agent_id": agent_id, "hour": hour},
            change=change,
        )
    for (account_id, hour), change in sorted(tenant_changes.items()):
        _upsert(AccountExecutionHourly, keys={"account_id": account_id, "hour": hour}, change=change)


def _upsert(model: type[HourlyCounts], *, keys: dict[str, Any], change: _RowChange) -> None:
    """Add `change` to the row of `model` with these key columns (the last two are its unique key)."""
    statuses = {STATUS_COLUMNS[status]: delta for status, delta in change.statuses.items() if delta}
    bins = {index: delta for index, delta in change.bins.items() if delta}
    groups = {index: delta for index, delta in change.groups().items() if delta}
    if not statuses and not bins:
        return
    # No count goes below zero. While the roll-up holds every execution it cannot (an execution's
    # share is in its row before it is taken out); it can only for an execution stored before the
    # roll-up existed (until the rebuild), whose outcome then counts without a negative "running"
    # (the tenant's row, clamped on its own, may then differ from its agents' sum until the rebuild).
    bin_values = histogram.empty_bins()
    for index, delta in bins.items():
        bin_values[index] = max(delta, 0)
    group_values = histogram.empty_groups()
    for index, delta in groups.items():
        group_values[index] = max(delta, 0)
    meta = model._meta
    quote = connection.ops.quote_name
    postgres = connection.vendor == "postgresql"
    at_least_zero = "GREATEST" if postgres else "MAX"
    columns = [*keys, "succeeded", "failed", "running", "duration_groups", "duration_bins"]
    values: list[Any] = [
        *keys.values(),
        max(statuses.get("succeeded", 0), 0),
        max(statuses.get("failed", 0), 0),
        max(statuses.get("running", 0), 0),
        group_values,
        bin_values,
    ]
    params = [
        meta.get_field(column.removesuffix("_id")).get_db_prep_save(value, connection)  # type: ignore[union-attr]
        for column, value in zip(columns, values, strict=True)
    ]
    assignments = []
    for name, delta in statuses.items():
        assignments.append(f"{quote(name)} = {at_least_zero}(t.{quote(name)} + %s, 0)")
        params.append(delta)
    # Only the changed elements, each named once (indexes are ints computed above: safe to inline).
    for name, deltas in (("duration_groups", groups), ("duration_bins", bins)):
        if not deltas:
            continue
        column = quote(name)
        if postgres:
            for i in sorted(deltas):
                assignments.append(f"{column}[{i + 1}] = GREATEST(t.{column}[{i + 1}] + %s, 0)")
                params.append(deltas[i])
        else:
            pairs = []
            for i in sorted(deltas):
                pairs.append(f"'$[{i}]', MAX(json_extract(t.{column}, '$[{i}]') + %s, 0)")
                params.append(deltas[i])
            assignments.append(f"{column} = json_set(t.{column}, {', '.join(pairs)})")
    conflict = ", ".join(quote(column) for column in list(keys)[-2:])
    sql = (
        f"INSERT INTO {quote(meta.db_table)} AS t ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {', '.join(assignments)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# -- rebuilding from the executions ------------------------------------------------------------------

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RebuildResult:
    rows: int  # roll-up rows the executions give
    changed: int  # of those and of the stored rows, how many differed (added, removed or changed)


def hourly_rebuild(
    *,
    account_id: int,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    chunk: timedelta = timedelta(days=1),
    progress: Progress | None = None,
    dry_run: bool = False,
) -> RebuildResult:
    """Replace a tenant's roll-up rows of the hours touching [date_from, date_to) (default: all of
    its history) with counts computed from its executions. With `dry_run`, only compare.

    Works a `chunk` of hours per transaction, calling `progress(done, total)` after each.
    """
    start, end = _span(account_id=account_id, date_from=date_from, date_to=date_to)
    chunks = []
    while start is not None and end is not None and start < end:
        chunks.append((start, min(start + chunk, end)))
        start += chunk
    rows = changed = 0
    if progress:
        progress(0, len(chunks))
    for done, (chunk_from, chunk_to) in enumerate(chunks, start=1):
        result = _rebuild_chunk(account_id=account_id, date_from=chunk_from, date_to=chunk_to, dry_run=dry_run)
        rows, changed = rows + result.rows, changed + result.changed
        if progress:
            progress(done, len(chunks))
    return RebuildResult(rows=rows, changed=changed)


def _span(
    *, account_id: int, date_from: datetime | None, date_to: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """Whole hours covering the range, or every hour holding the tenant's executions or rows."""
    if date_from is None or date_to is None:
        raw = AgentExecution.objects.filter(account_id=account_id).aggregate(
            first=Min("started_at"), last=Max("started_at")
        )
        spans = [raw] + [
            model.objects.filter(account_id=account_id).aggregate(first=Min("hour"), last=Max("hour"))
            for model in (AgentExecutionHourly, AccountExecutionHourly)
        ]
        firsts = [span["first"] for span in spans if span["first"] is not None]
        lasts = [span["last"] for span in spans if span["last"] is not None]
        if not firsts:
            return None, None
        date_from = date_from or min(firsts)
        date_to = date_to or max(lasts) + timedelta(microseconds=1)
    return hour_of(date_from), next_hour_boundary(date_to)


@transaction.atomic
def _rebuild_chunk(*, account_id: int, date_from: datetime, date_to: datetime, dry_run: bool) -> RebuildResult:
    if connection.vendor == "postgresql" and not dry_run:
        # Excludes the writers' increments (ROW EXCLUSIVE) and other rebuilds, not the readers. A
        # writer that already incremented has committed once we hold it, so the executions read
        # below include its change; one that has not yet waits, and adds its change to our counts.
        # Both tables, in the writers' order.
        with connection.cursor() as cursor:
            tables = ", ".join(
                connection.ops.quote_name(model._meta.db_table)
                for model in (AgentExecutionHourly, AccountExecutionHourly)
            )
            cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
    stored = AgentExecutionHourly.objects.filter(account_id=account_id, hour__gte=date_from, hour__lt=date_to)
    before = {key: _values(row) for key, row in _by_key(stored).items()}
    rows = _counted_rows(account_id=account_id, date_from=date_from, date_to=date_to)
    after = {key: _values(row) for key, row in rows.items()}
    changed = sum(1 for key in before.keys() | after.keys() if before.get(key) != after.get(key))
    stored_sums = AccountExecutionHourly.objects.filter(account_id=account_id, hour__gte=date_from, hour__lt=date_to)
    sums_before = {row.hour: _values(row) for row in stored_sums}
    sums = tenant_sums(rows.values())
    sums_changed = sum(
        1 for hour in sums_before.keys() | sums.keys() if sums_before.get(hour) != _values_or_none(sums.get(hour))
    )
    if not dry_run and changed:
        stored.delete()
        AgentExecutionHourly.objects.bulk_create(rows.values(), batch_size=500)
    if not dry_run and sums_changed:
        stored_sums.delete()
        AccountExecutionHourly.objects.bulk_create(sums.values(), batch_size=500)
    return RebuildResult(rows=len(rows) + len(sums), changed=changed + sums_changed)


def tenant_sums(rows: Iterable[AgentExecutionHourly]) -> dict[datetime, AccountExecutionHourly]:
    """The tenant rows of these agent rows (all of one tenant), by hour: their counts added up."""
    sums: dict[datetime, AccountExecutionHourly] = {}
    for row in rows:
        total = sums.get(row.hour)
        if total is None:
            total = sums[row.hour] = AccountExecutionHourly(account_id=row.account_id, hour=row.hour)
        total.succeeded += row.succeeded
        total.failed += row.failed
        total.running += row.running
        total.duration_groups = [a + b for a, b in zip(total.duration_groups, row.duration_groups, strict=True)]
        total.duration_bins = [a + b for a, b in zip(total.duration_bins, row.duration_bins, strict=True)]
    return sums


def _values_or_none(row: AccountExecutionHourly | None) -> tuple[int, int, int, list[int], list[int]] | None:
    return None if row is None else _values(row)


def _counted_rows(
    *, account_id: int, date_from: datetime, date_to: datetime
) -> dict[tuple[int, datetime], AgentExecutionHourly]:
    """The roll-up rows of the tenant's executions started in the range, counted in the database."""
    if connection.vendor == "postgresql":
        return _counted_rows_postgresql(account_id=account_id, date_from=date_from, date_to=date_to)
    rows: dict[tuple[int, datetime], AgentExecutionHourly] = {}
    counts = (
        AgentExecution.objects.filter(account_id=account_id, started_at__gte=date_from, started_at__lt=date_to)
        .annotate(hour=Trunc("started_at", "hour", tzinfo=UTC), bin=DurationBin(F("duration_ms")))
        .values("agent_id", "hour", "status", "bin")
        .annotate(n=Count("status"))
        .order_by()
    )
    for count in counts:
        key = (count["agent_id"], count["hour"])
        row = rows.get(key)
        if row is None:
            row = rows[key] = AgentExecutionHourly(account_id=account_id, agent_id=key[0], hour=key[1])
        column = STATUS_COLUMNS[count["status"]]
        setattr(row, column, getattr(row, column) + count["n"])
        bin_index = bin_from_db(count["bin"])
        if bin_index is not None:
            row.duration_bins[bin_index] += count["n"]
            row.duration_groups[histogram.group_of(bin_index)] += count["n"]
    return rows


# One row per agent and hour: counts by status, and the non-empty bins with their counts.
_COUNT_SQL = """
SELECT agent_id, hour, SUM(succeeded), SUM(failed), SUM(running),
       ARRAY_AGG(bin) FILTER (WHERE bin IS NOT NULL), ARRAY_AGG(timed) FILTER (WHERE bin IS NOT NULL)
FROM (
    SELECT agent_id, DATE_TRUNC('hour', started_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour,
           WIDTH_BUCKET(duration_ms, %(edges)s::integer[]) AS bin,
           COUNT(status) FILTER (WHERE status = %(succeeded)s) AS succeeded,
           COUNT(status) FILTER (WHERE status = %(failed)s) AS failed,
           COUNT(status) FILTER (WHERE status = %(running)s) AS running,
           COUNT(duration_ms) AS timed
    FROM agents_agentexecution
    WHERE account_id = %(account)s AND started_at >= %(date_from)s AND started_at < %(date_to)s
    GROUP BY 1, 2, 3
) AS binned
GROUP BY 1, 2
"""


def _counted_rows_postgresql(
    *, account_id: int, date_from: datetime, date_to: datetime
) -> dict[tuple[int, datetime], AgentExecutionHourly]:
    """The same in one statement that groups twice, so only one row per agent and hour comes back."""
    params: dict[str, Any] = {
        "edges": list(histogram.EDGES),
        "succeeded": ExecutionStatus.SUCCEEDED.value,
        "failed": ExecutionStatus.FAILED.value,
        "running": ExecutionStatus.RUNNING.value,
        "account": account_id,
        "date_from": date_from,
        "date_to": date_to,
    }
    rows: dict[tuple[int, datetime], AgentExecutionHourly] = {}
    with connection.cursor() as cursor:
        cursor.execute(_COUNT_SQL, params)
        for agent_id, hour, succeeded, failed, running, bins, counts in cursor.fetchall():
            row = rows[(agent_id, hour)] = AgentExecutionHourly(
                account_id=account_id, agent_id=agent_id, hour=hour, succeeded=succeeded, failed=failed, running=running
            )
            for bin_index, count in zip(bins or (), counts or (), strict=True):
                row.duration_bins[bin_index] += count
                row.duration_groups[histogram.group_of(bin_index)] += count
    return rows


def _by_key(rows: Iterable[AgentExecutionHourly]) -> dict[tuple[int, datetime], AgentExecutionHourly]:
    return {(row.agent_id, row.hour): row for row in rows}


def _values(row: HourlyCounts) -> tuple[int, int, int, list[int], list[int]]:
    return (row.succeeded, row.failed, row.running, list(row.duration_groups), list(row.duration_bins))


def hourly_accounts() -> list[int]:
    """Every tenant with executions or roll-up rows."""
    ids = set(AgentExecution.objects.values_list("account_id", flat=True).distinct().order_by())
    ids |= set(AgentExecutionHourly.objects.values_list("account_id", flat=True).distinct().order_by())
    ids |= set(AccountExecutionHourly.objects.values_list("account_id", flat=True).distinct().order_by())
    return sorted(ids)


def hourly_rows(**filters: Any) -> dict[tuple[int, datetime], tuple[int, int, int, list[int], list[int]]]:
    """The stored rows as comparable values, by (agent id, hour)."""
    return {key: _values(row) for key, row in _by_key(AgentExecutionHourly.objects.filter(**filters)).items()}


def tenant_hourly_rows(**filters: Any) -> dict[tuple[int, datetime], tuple[int, int, int, list[int], list[int]]]:
    """The stored tenant rows as comparable values, by (account id, hour)."""
    return {(row.account_id, row.hour): _values(row) for row in AccountExecutionHourly.objects.filter(**filters)}
