"""`execution_record`: one row per runner execution whatever the order of its events, durations,
and the after-commit effects (analytics cache version, live events, the executions counter)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from prometheus_client import REGISTRY

from agents.cache import analytics_version
from agents.models import AgentExecution, AgentStatus, ExecutionStatus
from agents.services.executions import ExecutionReport, execution_record
from agents.tests.factories import AgentFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def agent(account):
    return AgentFactory(account=account, status=AgentStatus.ACTIVE, skybot_workflow_id="wf_1")


@pytest.fixture
def record(django_capture_on_commit_callbacks):
    """Record one report in its own transaction and run its after-commit effects."""

    def run(agent, **report):
        with django_capture_on_commit_callbacks(execute=True):
            return execution_record(agent=agent, report=ExecutionReport(**{"external_id": "exe_1", **report}))

    return run


def finished_count(status: str) -> float:
    return REGISTRY.get_sample_value("skybot_agent_executions_total", {"status": status}) or 0.0


def test_started_then_succeeded_completes_one_row_with_computed_duration(agent, record):
    record(agent, status=ExecutionStatus.RUNNING, started_at=T0, input_summary="Hi")
    record(agent, status=ExecutionStatus.SUCCEEDED, finished_at=T0 + timedelta(seconds=3), output_summary="Hello")

    execution = AgentExecution.objects.get()
    assert (execution.status, execution.started_at, execution.duration_ms) == (ExecutionStatus.SUCCEEDED, T0, 3000)
    assert (execution.input_summary, execution.output_summary) == ("Hi", "Hello")


def test_late_started_does_not_move_a_finished_execution_back(agent, record):
    # given the outcome arrived first
    record(agent, status=ExecutionStatus.SUCCEEDED, started_at=T0, finished_at=T0 + timedelta(seconds=2))

    # when the "started" event arrives afterwards
    record(agent, status=ExecutionStatus.RUNNING, started_at=T0, input_summary="Where is my order?")

    # then it stays succeeded, keeps its times, and only fills what was unknown
    execution = AgentExecution.objects.get()
    assert (execution.status, execution.finished_at, execution.duration_ms) == (
        ExecutionStatus.SUCCEEDED,
        T0 + timedelta(seconds=2),
        2000,
    )
    assert execution.input_summary == "Where is my order?"


def test_late_started_supplies_the_start_an_outcome_lacked(agent, record):
    # given an outcome without start time or duration (its start is taken as its end meanwhile)
    record(agent, status=ExecutionStatus.SUCCEEDED, finished_at=T0 + timedelta(seconds=4))
    assert AgentExecution.objects.get().duration_ms == 0

    # when the "started" event arrives with the real start
    record(agent, status=ExecutionStatus.RUNNING, started_at=T0)

    # then start and duration are corrected, and it stays succeeded
    execution = AgentExecution.objects.get()
    assert (execution.status, execution.started_at, execution.duration_ms) == (ExecutionStatus.SUCCEEDED, T0, 4000)


def test_reported_duration_wins_and_a_missing_start_is_derived_from_it(agent, record):
    record(agent, status=ExecutionStatus.FAILED, finished_at=T0, duration_ms=1500, error="Timeout")

    execution = AgentExecution.objects.get()
    assert (execution.started_at, execution.duration_ms, execution.error) == (
        T0 - timedelta(milliseconds=1500),
        1500,
        "Timeout",
    )


def test_a_second_outcome_does_not_change_the_first(agent, record):
    record(agent, status=ExecutionStatus.SUCCEEDED, started_at=T0, finished_at=T0 + timedelta(seconds=1))
    record(agent, status=ExecutionStatus.FAILED, finished_at=T0 + timedelta(seconds=9), error="late failure")

    execution = AgentExecution.objects.get()
    assert (execution.status, execution.duration_ms, execution.error) == (ExecutionStatus.SUCCEEDED, 1000, "")


def test_same_external_id_of_two_agents_are_two_executions(agent, record):
    other = AgentFactory(account=agent.account, status=AgentStatus.ACTIVE)

    record(agent, status=ExecutionStatus.RUNNING, started_at=T0)
    record(other, status=ExecutionStatus.RUNNING, started_at=T0)

    assert AgentExecution.objects.count() == 2
    assert set(AgentExecution.objects.values_list("account_id", flat=True)) == {agent.account_id}


def test_finished_executions_are_counted_once_by_status(agent, record):
    succeeded, failed = finished_count("succeeded"), finished_count("failed")

    record(agent, status=ExecutionStatus.RUNNING, started_at=T0)
    assert finished_count("succeeded") == succeeded  # running is not counted

    record(agent, status=ExecutionStatus.SUCCEEDED, finished_at=T0 + timedelta(seconds=1))
    record(agent, status=ExecutionStatus.SUCCEEDED, finished_at=T0 + timedelta(seconds=1))  # repeated outcome
    record(agent, external_id="exe_2", status=ExecutionStatus.FAILED, finished_at=T0)

    assert finished_count("succeeded") == succeeded + 1
    assert finished_count("failed") == failed + 1


def test_new_executions_bump_the_tenants_analytics_version(agent, other_account, record):
    mine, theirs = analytics_version(agent.account_id), analytics_version(other_account.pk)

    record(agent, status=ExecutionStatus.SUCCEEDED, started_at=T0, finished_at=T0 + timedelta(seconds=1))

    assert analytics_version(agent.account_id) > mine
    assert analytics_version(other_account.pk) == theirs


def test_nothing_happens_when_the_transaction_rolls_back(agent, django_capture_on_commit_callbacks):
    version, succeeded = analytics_version(agent.account_id), finished_count("succeeded")

    def record_then_fail() -> None:
        with transaction.atomic():
            report = ExecutionReport(
                external_id="exe_rb", status=ExecutionStatus.SUCCEEDED, started_at=T0, finished_at=T0
            )
            execution_record(agent=agent, report=report)
            raise RuntimeError("rolled back")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        record_then_fail()

    assert not AgentExecution.objects.exists()
    assert analytics_version(agent.account_id) == version
    assert finished_count("succeeded") == succeeded
