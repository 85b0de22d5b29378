"""The hourly roll-up: kept in step by the execution writer (status changes, late start times,
repeated, redelivered and concurrent events), and rebuilt from the executions to the same rows."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from agents import histogram
from agents.models import (
    AccountExecutionHourly,
    Agent,
    AgentExecution,
    AgentExecutionHourly,
    AgentStatus,
    ExecutionStatus,
)
from agents.services.executions import ExecutionReport, execution_record
from agents.services.rollup import ElementSums, hourly_rows, tenant_hourly_rows
from agents.tests.factories import AgentExecutionFactory, AgentFactory
from agents.tests.runner_events import SECRET, execution_event, post

pytestmark = pytest.mark.django_db

S, F, R = ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.RUNNING
H9 = datetime(2026, 3, 1, 9, tzinfo=UTC)
H10 = H9 + timedelta(hours=1)


@pytest.fixture
def agent(account):
    return AgentFactory(account=account, status=AgentStatus.ACTIVE, skybot_workflow_id="wf_rollup")


def record(agent: Agent, external_id: str = "exe_1", **report: Any) -> AgentExecution:
    return execution_record(agent=agent, report=ExecutionReport(external_id=external_id, **report))


def rows(**filters: Any) -> dict[datetime, tuple[int, int, int, dict[int, int]]]:
    """Each stored hour: (succeeded, failed, running, {bin: count}), checking the group sums."""
    summary = {}
    for (_agent, hour), (succeeded, failed, running, groups, bins) in hourly_rows(**filters).items():
        assert groups == [sum(bins[b] for b in histogram.bins_of_group(g)) for g in range(histogram.GROUPS)]
        summary[hour] = (succeeded, failed, running, {b: n for b, n in enumerate(bins) if n})
    assert_tenant_rows_add_up()
    return summary


def assert_tenant_rows_add_up() -> None:
    """Each tenant's row of an hour holds the sums of its agents' rows of that hour, and no other exists."""
    expected: dict[tuple[int, datetime], tuple[int, int, int, list[int], list[int]]] = {}
    for row in AgentExecutionHourly.objects.all():
        succeeded, failed, running, groups, bins = expected.get(
            (row.account_id, row.hour), (0, 0, 0, histogram.empty_groups(), histogram.empty_bins())
        )
        expected[(row.account_id, row.hour)] = (
            succeeded + row.succeeded,
            failed + row.failed,
            running + row.running,
            [a + b for a, b in zip(groups, row.duration_groups, strict=True)],
            [a + b for a, b in zip(bins, row.duration_bins, strict=True)],
        )
    assert tenant_hourly_rows() == expected


# -- the writer ---------------------------------------------------------------------------------


def test_started_counts_as_running_and_the_outcome_moves_it(agent):
    # when an execution starts
    record(agent, status=R, started_at=H9 + timedelta(minutes=10))

    # then its hour counts one running execution and no duration
    assert rows(agent=agent) == {H9: (0, 0, 1, {})}

    # when it succeeds 3 s later
    record(agent, status=S, finished_at=H9 + timedelta(minutes=10, seconds=3))

    # then it moved from running to succeeded and its duration is in its bin
    assert rows(agent=agent) == {H9: (1, 0, 0, {histogram.bin_of(3000): 1})}


def test_repeated_and_contradicting_outcomes_count_once(agent):
    # given a failed execution
    record(agent, status=R, started_at=H9)
    record(agent, status=F, finished_at=H9 + timedelta(seconds=2), error="boom")

    # when the runner reports the same outcome again, then a contradicting one
    record(agent, status=F, finished_at=H9 + timedelta(seconds=2), error="boom")
    record(agent, status=S, finished_at=H9 + timedelta(seconds=9))

    # then it is still counted once, as failed, with its first duration
    assert rows(agent=agent) == {H9: (0, 1, 0, {histogram.bin_of(2000): 1})}


def test_a_late_start_moves_the_execution_to_the_hour_it_started_in(agent):
    # given an outcome that came first without start or duration (counted at its end, 0 ms)
    record(agent, status=S, finished_at=H10 + timedelta(seconds=2))
    assert rows(agent=agent) == {H10: (1, 0, 0, {0: 1})}

    # when the "started" event arrives with the real start, in the previous hour
    record(agent, status=R, started_at=H10 - timedelta(seconds=2))

    # then the execution left 10:00 for 09:00 with its real duration
    assert rows(agent=agent) == {H9: (1, 0, 0, {histogram.bin_of(4000): 1}), H10: (0, 0, 0, {})}


def test_executions_of_one_hour_add_up_by_agent(agent, account):
    # given two agents of the tenant with executions in the same hours
    other = AgentFactory(account=account, status=AgentStatus.ACTIVE)
    record(agent, "a", status=S, started_at=H9, duration_ms=100, finished_at=H9)
    record(agent, "b", status=S, started_at=H9 + timedelta(minutes=59), duration_ms=100, finished_at=H10)
    record(agent, "c", status=R, started_at=H10)
    record(other, "a", status=F, started_at=H9, duration_ms=30_000, finished_at=H9)

    # then each agent has its own row per hour
    assert rows(agent=agent) == {H9: (2, 0, 0, {histogram.bin_of(100): 2}), H10: (0, 0, 1, {})}
    assert rows(agent=other) == {H9: (0, 1, 0, {histogram.bin_of(30_000): 1})}


def test_an_execution_stored_before_the_rollup_counts_its_outcome_without_a_negative(agent):
    # given an execution that started before the roll-up existed (so it is not in it)
    AgentExecutionFactory(
        agent=agent, external_id="exe_1", status=R, started_at=H9, finished_at=None, duration_ms=None, hourly=False
    )

    # when its outcome arrives
    record(agent, status=S, finished_at=H9 + timedelta(seconds=2))

    # then it counts as succeeded and "running" stays at zero
    assert rows(agent=agent) == {H9: (1, 0, 0, {histogram.bin_of(2000): 1})}


def test_a_rolled_back_write_leaves_the_rollup_unchanged(agent):
    # given a running execution
    record(agent, status=R, started_at=H9)

    def record_then_fail() -> None:
        with transaction.atomic():
            record(agent, status=S, finished_at=H9 + timedelta(seconds=1))
            raise RuntimeError("rolled back")

    # when its outcome is recorded in a transaction that then fails
    with pytest.raises(RuntimeError):
        record_then_fail()

    # then it is still counted as running
    assert rows(agent=agent) == {H9: (0, 0, 1, {})}


def test_a_redelivered_runner_event_counts_once(agent, settings):
    # given the runner's "succeeded" event, applied
    settings.SKYBOT_WEBHOOK_SECRET = SECRET
    event = execution_event(
        agent,
        "execution.succeeded",
        event_id="evt_again",
        started_at="2026-03-01T09:00:00Z",
        finished_at="2026-03-01T09:00:01Z",
    )
    assert post(event).json()["status"] == "processed"

    # when it is delivered again
    assert post(event).json()["status"] == "duplicate"

    # then the execution is counted once
    assert rows(agent=agent) == {H9: (1, 0, 0, {histogram.bin_of(1000): 1})}


def test_element_sums_add_up_rows_like_an_aggregate(agent):
    # given an agent with rows in two hours
    record(agent, "a", status=S, started_at=H9, finished_at=H9 + timedelta(milliseconds=100))
    record(agent, "b", status=S, started_at=H10, finished_at=H10 + timedelta(milliseconds=100))
    record(agent, "c", status=F, started_at=H10, finished_at=H10 + timedelta(milliseconds=5000))

    # when the bin counts are summed per agent
    totals = list(
        AgentExecutionHourly.objects.filter(agent=agent)
        .values("agent_id")
        .annotate(bins=ElementSums("duration_bins", [histogram.bin_of(100), histogram.bin_of(5000)]))
        .order_by()
    )

    # then the two hours make one row (the arrays are summed, not grouped by)
    assert totals == [{"agent_id": agent.pk, "bins": [2, 1]}]


# -- concurrent writers (PostgreSQL: SQLite serialises whole transactions) -----------------------


def run_together(*calls: Any) -> None:
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Any) -> None:
        try:
            barrier.wait(timeout=10)
            call()
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_one_hour_lose_no_count(account):
    # given one agent whose executions all start in the same hour
    agent = AgentFactory(account=account, status=AgentStatus.ACTIVE, skybot_workflow_id="wf_busy")

    def execution(number: int) -> Any:
        def run() -> None:
            started_at = H9 + timedelta(seconds=number)
            record(agent, f"exe_{number}", status=R, started_at=started_at)
            status = F if number % 4 == 0 else S
            record(agent, f"exe_{number}", status=status, finished_at=started_at + timedelta(milliseconds=1500))

        return run

    # when eight writers report their executions at the same moment
    run_together(*(execution(number) for number in range(8)))

    # then every execution is counted, once, with its duration
    assert rows(agent=agent) == {H9: (6, 2, 0, {histogram.bin_of(1500): 8})}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_started_and_finished_together_and_a_concurrent_redelivery_count_once(account, settings):
    # given the "started" and "succeeded" events of one execution, the second sent twice
    settings.SKYBOT_WEBHOOK_SECRET = SECRET
    agent = AgentFactory(account=account, status=AgentStatus.ACTIVE, skybot_workflow_id="wf_race_rollup")
    started = execution_event(agent, "execution.started", started_at="2026-03-01T09:00:00Z")
    succeeded = execution_event(agent, "execution.succeeded", finished_at="2026-03-01T09:00:04Z")
    post(b"{}", headers={})  # create the HTTP middleware's metrics before the threads race to

    # when all three arrive at the same moment
    run_together(lambda: post(started), lambda: post(succeeded), lambda: post(succeeded))

    # then the execution is counted once, succeeded, with its 4 s
    assert rows(agent=agent) == {H9: (1, 0, 0, {histogram.bin_of(4000): 1})}


# -- rebuilding ----------------------------------------------------------------------------------


@pytest.fixture
def history(agent, account, other_account):
    """Executions of two tenants written through the writer, including the awkward transitions."""
    other = AgentFactory(account=account, status=AgentStatus.ACTIVE)
    stranger = AgentFactory(account=other_account, status=AgentStatus.ACTIVE)
    for number in range(30):
        owner = (agent, other, stranger)[number % 3]
        started_at = H9 + timedelta(minutes=17 * number)
        record(owner, f"exe_{number}", status=R, started_at=started_at)
        if number % 5:
            outcome = F if number % 7 == 0 else S
            record(owner, f"exe_{number}", status=outcome, finished_at=started_at + timedelta(seconds=number))
    record(agent, "late", status=S, finished_at=H10 + timedelta(seconds=1))
    record(agent, "late", status=R, started_at=H10 - timedelta(minutes=5))
    return hourly_rows()


def test_rebuilding_gives_the_rows_the_writer_kept(history):
    # when the roll-up is rebuilt from the executions
    out = StringIO()
    call_command("rebuild_execution_rollup", stdout=out)

    # then no row had to change, and the rows are the same
    assert "0 were rewritten" in out.getvalue()
    assert "rows; 0 were rewritten" in out.getvalue().splitlines()[-2]
    assert hourly_rows() == history
    assert len(history) > 10
    assert_tenant_rows_add_up()


def test_a_damaged_tenant_row_is_reported_and_rebuilt(history, account):
    # given a tenant row that lost a count, and one of an hour without executions
    tenants_before = tenant_hourly_rows()
    damaged = AccountExecutionHourly.objects.filter(account=account).order_by("hour").first()
    damaged.succeeded -= 1
    damaged.save(update_fields=["succeeded"])
    AccountExecutionHourly.objects.create(account=account, hour=H9 - timedelta(days=3), failed=4)

    # when checked, then both differences are named
    err = StringIO()
    with pytest.raises(SystemExit):
        call_command("rebuild_execution_rollup", "--check", stdout=StringIO(), stderr=err)
    assert "2 hourly rows differ" in err.getvalue()

    # when rebuilt, then the tenant rows are the sums of the agents' rows again
    call_command("rebuild_execution_rollup", stdout=StringIO())
    assert tenant_hourly_rows() == tenants_before
    assert_tenant_rows_add_up()
    assert hourly_rows() == history


def test_check_reports_a_damaged_rollup_and_rebuilding_repairs_it(history, agent):
    # given a lost row and a wrong count
    AgentExecutionHourly.objects.filter(agent=agent).order_by("hour").first().delete()
    damaged = AgentExecutionHourly.objects.exclude(agent=agent).order_by("hour").first()
    damaged.running += 5
    damaged.save(update_fields=["running"])

    # when checked, then the command exits with status 1 naming the difference
    err = StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("rebuild_execution_rollup", "--check", stdout=StringIO(), stderr=err)
    assert exited.value.code == 1
    assert "2 hourly rows differ" in err.getvalue()

    # when rebuilt, then the rows are the writer's again and the check passes
    call_command("rebuild_execution_rollup", stdout=StringIO())
    assert hourly_rows() == history
    call_command("rebuild_execution_rollup", "--check", stdout=StringIO())


def test_rebuilding_one_tenant_leaves_the_others(history, account, other_account):
    # given both tenants' rows wiped
    AgentExecutionHourly.objects.all().delete()
    AccountExecutionHourly.objects.all().delete()

    # when only one tenant is rebuilt
    call_command("rebuild_execution_rollup", "--account", account.slug, stdout=StringIO())

    # then its rows are back and the other tenant's are not
    assert hourly_rows() == {key: value for key, value in history.items() if key[0] in agent_ids(account)}
    assert not AgentExecutionHourly.objects.filter(account=other_account).exists()
    assert not AccountExecutionHourly.objects.filter(account=other_account).exists()
    assert {account_id for account_id, _hour in tenant_hourly_rows()} == {account.pk}


def agent_ids(account: Any) -> set[int]:
    return set(Agent.objects.filter(account=account).values_list("id", flat=True))


def test_rebuild_refuses_an_unknown_tenant_or_days(history):
    with pytest.raises(CommandError):
        call_command("rebuild_execution_rollup", "--account", "nobody", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("rebuild_execution_rollup", "--days", "0", stdout=StringIO())
    assert hourly_rows() == history


@pytest.mark.postgres
def test_the_database_bins_durations_like_the_writer():
    # given durations at and around every bin edge
    durations = sorted({0, histogram.MAX_DURATION_MS} | {e + d for e in histogram.EDGES for d in (-1, 0, 1)})

    # when PostgreSQL bins them (as the rebuild and the partial hours do)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT d, width_bucket(d, %s::integer[]) FROM unnest(%s::integer[]) AS d",
            [list(histogram.EDGES), durations],
        )
        in_database = dict(cursor.fetchall())

    # then every one lands in the bin the writer computes
    assert in_database == {d: histogram.bin_of(d) for d in durations}
