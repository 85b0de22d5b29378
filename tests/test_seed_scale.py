"""`seed_scale`: one new tenant filled with exact row counts whose denormalised figures agree with the rows."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Max, Sum

from accounts.models import Account, Role, User
from agents.models import Agent, AgentExecution, AgentExecutionHourly, AgentStatus
from inbox.models import Channel, Contact, Conversation, Lead, Message, MessageDirection

SIZES = {
    "conversations": 50,
    "messages": 500,
    "contacts": 40,
    "leads": 20,
    "executions": 1_000,
    "agents": 3,
    "people": 5,
}

pytestmark = pytest.mark.django_db


def _seed(**options: object) -> str:
    out = StringIO()
    call_command("seed_scale", **{**SIZES, "seed": 3, "batch_size": 100, "days": 7, **options}, stdout=out)
    return out.getvalue()


def test_fills_one_new_tenant_with_exact_counts() -> None:
    # given a tenant that is not part of the seeding
    bystander = Account.objects.create(slug="bystander", name="Bystander")

    # when a tiny scale data set is seeded
    out = _seed(account_slug="scale-test")

    # then the new tenant holds exactly the asked rows
    account = Account.objects.get(slug="scale-test")
    assert Contact.objects.filter(account=account).count() == 40
    assert Conversation.objects.filter(account=account).count() == 50
    assert Message.objects.filter(account=account).count() == 500
    assert Lead.objects.filter(account=account).count() == 20
    assert AgentExecution.objects.filter(account=account).count() == 1_000
    assert User.objects.filter(account=account).count() == 5
    agents = Agent.objects.filter(account=account)
    assert agents.count() == agents.filter(status=AgentStatus.ACTIVE).exclude(skybot_workflow_id="").count() == 3
    # and every row is the tenant's, pointing only at the tenant's rows
    assert Contact.objects.count() == 40
    assert Message.objects.exclude(conversation__account=account).count() == 0
    assert Message.objects.exclude(channel__account=account).count() == 0
    assert Conversation.objects.exclude(contact__account=account).count() == 0
    assert Conversation.objects.exclude(channel__account=account).count() == 0
    assert Lead.objects.exclude(contact__account=account).count() == 0
    assert AgentExecution.objects.exclude(agent__account=account).count() == 0
    assert not Channel.objects.filter(account=bystander).exists()
    # and every conversation has a message, the biggest all it could get (5,000 at full size)
    per_conversation = list(Message.objects.values("conversation").annotate(n=Count("id")).order_by("-n"))
    assert len(per_conversation) == 50
    assert per_conversation[0]["n"] == 500 - 49
    # and the people have roles (an admin among them) and cannot sign in with a password
    people = User.objects.filter(account=account)
    assert people.filter(role=Role.CLIENT_ADMIN).exists()
    assert not any(person.has_usable_password() for person in people)
    # and the time per table was printed
    for table in ("contacts", "conversations", "messages", "leads", "executions"):
        assert table in out
    assert "rows/s" in out


def test_denormalised_figures_agree_with_the_rows() -> None:
    # when a tiny scale data set is seeded
    _seed()
    account = Account.objects.get(slug="scale")

    # then each conversation's last message time, last inbound time and unread count come from its messages
    for conversation in Conversation.objects.filter(account=account):
        messages = Message.objects.filter(conversation=conversation)
        newest = messages.aggregate(at=Max("created_at"))["at"]
        newest_in = messages.filter(direction=MessageDirection.INBOUND).aggregate(at=Max("created_at"))["at"]
        newest_out = messages.filter(direction=MessageDirection.OUTBOUND).aggregate(at=Max("created_at"))["at"]
        unread = messages.filter(direction=MessageDirection.INBOUND)
        if newest_out is not None:
            unread = unread.filter(created_at__gt=newest_out)
        assert conversation.last_message_at == newest
        assert conversation.created_at == messages.order_by("created_at").values_list("created_at", flat=True)[0]
        assert conversation.last_inbound_at == newest_in
        assert conversation.unread_count == unread.count()
    assert Conversation.objects.filter(account=account, last_message_at__isnull=False).count() == 50
    # and the agents' hourly roll-up sums to their executions, agent by agent
    by_agent = dict(
        AgentExecution.objects.filter(account=account)
        .values_list("agent")
        .annotate(n=Count("id"))
        .values_list("agent", "n")
    )
    hourly = AgentExecutionHourly.objects.filter(account=account)
    rolled: dict[int, int] = {}
    for row in hourly:
        rolled[row.agent_id] = rolled.get(row.agent_id, 0) + row.total
    assert rolled == by_agent
    assert sum(by_agent.values()) == 1_000
    assert hourly.aggregate(n=Sum("succeeded"))["n"] > 0


def test_rows_are_spread_over_the_days_asked_for() -> None:
    # when a tiny data set is seeded over the last 7 days
    _seed()
    account = Account.objects.get(slug="scale")

    # then contacts, leads, messages and conversations' activity span days, not the moment of the
    # insert (as the pages show them: added on, last activity, message times in order)
    for dates in (
        Contact.objects.filter(account=account).values_list("created_at", flat=True),
        Lead.objects.filter(account=account).values_list("created_at", flat=True),
        Message.objects.filter(account=account).values_list("created_at", flat=True),
        Conversation.objects.filter(account=account).values_list("last_message_at", flat=True),
    ):
        moments = [moment for moment in dates if moment is not None]
        spread = max(moments) - min(moments)
        assert timedelta(days=3) < spread <= timedelta(days=7), spread


def test_refuses_a_tenant_that_already_has_data_unless_forced() -> None:
    # given a tenant already seeded
    _seed(account_slug="taken")

    # when it is seeded again without --force, then it is refused and nothing is added
    with pytest.raises(CommandError, match="already has data"):
        _seed(account_slug="taken")
    assert Contact.objects.count() == 40

    # when --force is given, then the rows are added
    _seed(account_slug="taken", force=True)
    assert Contact.objects.count() == 80
    assert Message.objects.count() == 1_000


def test_refuses_production_unless_allowed(settings) -> None:
    settings.IS_PRODUCTION = True

    with pytest.raises(CommandError, match="production"):
        _seed()

    assert not Account.objects.filter(slug="scale").exists()


def test_help_names_every_option(capsys) -> None:
    # when the help is asked for
    with pytest.raises(SystemExit):
        call_command("seed_scale", "--help")

    # then every option is named and explained
    text = capsys.readouterr().out
    for option in (
        "--conversations",
        "--messages",
        "--contacts",
        "--leads",
        "--executions",
        "--agents",
        "--people",
        "--account-slug",
        "--days",
        "--batch-size",
        "--seed",
        "--force",
        "--allow-production",
    ):
        assert option in text
