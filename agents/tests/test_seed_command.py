"""`seed_agent_executions`: a demo tenant, its agents and a realistic execution mix."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.utils import timezone

from accounts.models import Account
from agents.cache import analytics_version
from agents.models import Agent, AgentExecution, AgentExecutionHourly, AgentStatus, ExecutionStatus


@pytest.mark.django_db
def test_seeds_the_tenant_agents_and_executions() -> None:
    # when 500 executions are seeded for a new tenant, in batches of 200
    out = StringIO()
    call_command(
        "seed_agent_executions",
        executions=500,
        account="demo-bench",
        days=3,
        agents=3,
        batch_size=200,
        seed=7,
        stdout=out,
    )

    # then the tenant has 3 active agents and 500 executions within the last 3 days
    account = Account.objects.get(slug="demo-bench")
    assert Agent.objects.filter(account=account, status=AgentStatus.ACTIVE).count() == 3
    executions = AgentExecution.objects.filter(account=account)
    assert executions.count() == 500
    assert executions.filter(started_at__lt=timezone.now() - timedelta(days=3, minutes=1)).count() == 0
    # stored oldest first, as a live table holds them (so a time range is a few pages, not one per row)
    starts = list(executions.order_by("id").values_list("started_at", flat=True))
    assert starts == sorted(starts)
    # and the mix is mostly succeeded, some failed, with durations on every finished one
    by_status = dict(executions.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    assert by_status[ExecutionStatus.SUCCEEDED] > 400
    assert 10 < by_status[ExecutionStatus.FAILED] < 100
    assert executions.exclude(status=ExecutionStatus.RUNNING).filter(duration_ms__isnull=True).count() == 0
    # and progress was printed per batch, ending at 100 %
    lines = out.getvalue().splitlines()
    assert sum("rows/s" in line for line in lines) == 3
    assert "500/500 (100.0%)" in out.getvalue()
    # and the hourly roll-up was back-filled to exactly what the executions give, a day per step
    hourly = AgentExecutionHourly.objects.filter(account=account)
    assert sum(row.total for row in hourly) == 500
    assert sum(sum(row.duration_bins) for row in hourly) == executions.filter(duration_ms__isnull=False).count()
    call_command("rebuild_execution_rollup", "--check", stdout=StringIO())
    assert sum("days/s" in line for line in lines) == 4  # 3 days and the hour in progress
    assert "(100.0%)" in [line for line in lines if "days/s" in line][-1]
    # and the tenant's cached analytics were invalidated
    assert analytics_version(account.pk) > 1


@pytest.mark.django_db
def test_runs_again_adding_executions_to_the_same_agents() -> None:
    # given a seeded tenant
    call_command("seed_agent_executions", executions=50, account="demo", agents=2, stdout=StringIO())

    # when the command runs again
    call_command("seed_agent_executions", executions=50, account="demo", agents=2, stdout=StringIO())

    # then the agents are reused and the executions add up, in the roll-up too
    assert Agent.objects.filter(account__slug="demo").count() == 2
    assert AgentExecution.objects.filter(account__slug="demo").count() == 100
    assert sum(row.total for row in AgentExecutionHourly.objects.filter(account__slug="demo")) == 100


@pytest.mark.django_db
def test_refuses_nonsense() -> None:
    # when the numbers make no sense, then the command refuses before writing
    with pytest.raises(CommandError):
        call_command("seed_agent_executions", executions=10, days=0, stdout=StringIO())
    assert not AgentExecution.objects.exists()
