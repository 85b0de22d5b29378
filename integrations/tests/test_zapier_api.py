"""`/api/v1/integrations/zapier/...` with a tenant's API key: the connection test, the polling
triggers (order, limit, tenant, stable ids, same fields as the hooks), REST hooks (subscribe →
event → delivery, unsubscribe, 410), and the idempotent actions."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from werkzeug import Response

from accounts.models import AuditLog
from accounts.principals import Principal
from accounts.services.api_keys import api_key_create
from agents.models import ExecutionStatus
from agents.tests.factories import AgentExecutionFactory, AgentFactory
from conftest import USING_POSTGRES, USING_REDIS
from core.outbound import DESTINATION_NOT_ALLOWED
from inbox.models import Contact, Conversation, Lead, Message
from inbox.services.crm import lead_create
from inbox.tests.factories import ChannelFactory, ConversationFactory, LeadFactory
from integrations.events import EXECUTION_FIELDS, LEAD_FIELDS, MESSAGE_FIELDS
from integrations.models import EndpointSource, IdempotencyKey, WebhookEndpoint
from integrations.tests.factories import WebhookEndpointFactory

pytestmark = pytest.mark.django_db

ZAPIER = "/api/v1/integrations/zapier"


@pytest.fixture
def zapier(key_client_for, account):
    """Zapier's calls, with a read+write key of the tenant."""
    return key_client_for(account, ["read", "write"])


@pytest.fixture
def zapier_admin(key_client_for, account):
    """Zapier's calls with the key its app is connected with: `admin` as well, to subscribe hooks."""
    return key_client_for(account, ["read", "write", "admin"])


@pytest.fixture
def read_only(key_client_for, account):
    return key_client_for(account, ["read"])


# --- auth test ------------------------------------------------------------------------------------


def test_auth_test_names_the_account_and_the_key(api_client, account):
    issued = api_key_create(
        account=account, name="Zapier", scopes=["read"], expires_at=None, actor=Principal.platform_key()
    )
    api_client.credentials(HTTP_X_API_KEY=issued.key)

    response = api_client.get(f"{ZAPIER}/auth/test")

    assert response.status_code == 200
    assert response.json() == {"id": account.pk, "name": "Acme", "slug": "acme", "label": "Acme (Zapier)"}


@pytest.mark.parametrize("key", ["sk_live_nope", "sk_live_AAAAAAAAAAAA_" + "b" * 40, None])
def test_auth_test_refuses_a_bad_or_missing_key_with_401(api_client, key):
    if key is not None:
        api_client.credentials(HTTP_X_API_KEY=key)

    response = api_client.get(f"{ZAPIER}/auth/test")

    assert response.status_code == 401
    assert set(response.json()) == {"code", "message", "details"}


def test_a_platform_wide_key_is_refused(api_client, settings):
    settings.LEGACY_API_KEY = "platform-key-for-tests-0123456789"
    api_client.credentials(HTTP_X_API_KEY=settings.LEGACY_API_KEY)

    response = api_client.get(f"{ZAPIER}/triggers/new-lead")

    assert response.status_code == 403
    assert response.json()["code"] == "tenant_required"


# --- polling: new leads -----------------------------------------------------------------------------


def _leads_at(account, count, *, start=None):
    """`count` leads created one minute apart, oldest first."""
    start = start or timezone.now() - timedelta(days=1)
    leads = LeadFactory.create_batch(count, account=account)
    for index, lead in enumerate(leads):
        Lead.objects.filter(pk=lead.pk).update(created_at=start + timedelta(minutes=index))
    return leads


def test_new_leads_newest_first_at_most_100_of_this_tenant_only(zapier, account, other_account):
    # given 105 leads here and some elsewhere
    leads = _leads_at(account, 105)
    _leads_at(other_account, 3, start=timezone.now())

    # when
    response = zapier.get(f"{ZAPIER}/triggers/new-lead")

    # then
    assert response.status_code == 200
    items = response.json()
    assert [item["id"] for item in items] == [lead.pk for lead in reversed(leads)][:100]
    assert all(sorted(item) == sorted(LEAD_FIELDS) for item in items)


def test_new_lead_ids_are_stable_and_unique_between_polls(zapier, account, committed):
    # given
    _leads_at(account, 5)
    first = [item["id"] for item in zapier.get(f"{ZAPIER}/triggers/new-lead").json()]

    # when a lead is created and Zapier polls again
    lead = committed(lambda: lead_create(account=account, actor=Principal.platform_key(), name="Fresh"))
    second = [item["id"] for item in zapier.get(f"{ZAPIER}/triggers/new-lead").json()]

    # then only the new id is new, and on top
    assert len(set(second)) == len(second)
    assert second == [lead.pk, *first]


def test_polling_costs_the_same_queries_for_few_or_many_leads(zapier, account, django_assert_max_num_queries):
    _leads_at(account, 2)
    with django_assert_max_num_queries(4) as few:
        zapier.get(f"{ZAPIER}/triggers/new-lead")
    _leads_at(account, 60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(zapier.get(f"{ZAPIER}/triggers/new-lead").json()) == 62


# --- polling: finished agent runs ---------------------------------------------------------------------


def test_agent_executed_lists_finished_runs_newest_first_of_this_tenant(zapier, account, other_account):
    # given runs at known times, one still going, and another tenant's
    agent = AgentFactory(account=account)
    now = timezone.now()
    old = AgentExecutionFactory(agent=agent, started_at=now - timedelta(hours=2), status=ExecutionStatus.SUCCEEDED)
    failed = AgentExecutionFactory(
        agent=agent, started_at=now - timedelta(hours=1), status=ExecutionStatus.FAILED, error="Runner said no"
    )
    AgentExecutionFactory(agent=agent, started_at=now, status=ExecutionStatus.RUNNING, finished_at=None)
    AgentExecutionFactory(agent=AgentFactory(account=other_account), started_at=now)

    # when
    items = zapier.get(f"{ZAPIER}/triggers/agent-executed").json()

    # then
    assert [item["id"] for item in items] == [failed.pk, old.pk]
    assert (items[0]["status"], items[0]["error"], items[0]["agent"]) == ("failed", "Runner said no", agent.pk)
    assert all(sorted(item) == sorted(EXECUTION_FIELDS) for item in items)


def test_agent_executed_stops_at_100(zapier, account, django_assert_num_queries):
    agent = AgentFactory(account=account)
    AgentExecutionFactory.create_batch(103, agent=agent)

    # the key's lookup and the page; without Redis also the key's usage upsert and its first last_used_at
    with django_assert_num_queries(2 if USING_REDIS else 4):
        items = zapier.get(f"{ZAPIER}/triggers/agent-executed").json()

    assert len(items) == 100
    assert len({item["id"] for item in items}) == 100


@pytest.mark.postgres
@pytest.mark.skipif(not USING_POSTGRES, reason="the plan is PostgreSQL's")
def test_polling_queries_use_the_tenant_time_indexes(account, other_account):
    # given enough rows that a scan would cost more than the index
    from agents.models import AgentExecution
    from integrations.selectors import executions_finished_newest, leads_newest

    for tenant in (account, other_account):
        Lead.objects.bulk_create(Lead(account=tenant, name=f"lead {n}") for n in range(3000))
        agent = AgentFactory.create(account=tenant)
        now = timezone.now()
        AgentExecution.objects.bulk_create(
            AgentExecution(
                account=tenant,
                agent=agent,
                external_id=f"e{n}",
                status=ExecutionStatus.SUCCEEDED,
                started_at=now - timedelta(minutes=n),
                finished_at=now,
                duration_ms=10,
            )
            for n in range(3000)
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inbox_lead; ANALYZE agents_agentexecution")

    # when / then
    from django.db.models import QuerySet

    def plan(queryset: QuerySet) -> str:
        return queryset.explain()

    leads = Lead.objects.filter(account=account).order_by("-created_at", "-id")[:100]
    executions = AgentExecution.objects.filter(
        account=account, status__in=[ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED]
    ).order_by("-started_at", "-id")[:100]
    assert "lead_account_created_idx" in plan(leads)
    assert "execution_account_time_idx" in plan(executions)
    assert len(leads_newest(account=account)) == len(executions_finished_newest(account=account)) == 100


# --- REST hooks ---------------------------------------------------------------------------------------


def test_subscribe_then_an_event_reaches_the_hook_with_the_polling_fields(zapier_admin, account, receiver, committed):
    # given a Zap subscribed to new leads
    response = zapier_admin.post(
        f"{ZAPIER}/hooks", {"target_url": receiver.url_for("/zap"), "event": "new_lead"}, format="json"
    )
    assert response.status_code == 201, response.json()
    hook = response.json()
    assert (hook["event"], hook["target_url"]) == ("new_lead", receiver.url_for("/zap"))
    endpoint = WebhookEndpoint.objects.get(pk=hook["id"])
    assert (endpoint.source, endpoint.events) == (EndpointSource.ZAPIER, ["lead.created"])
    receiver.expect_request("/zap", method="POST").respond_with_data("ok")

    # when a lead is created
    committed(lambda: lead_create(account=account, actor=Principal.platform_key(), name="Hooked"))

    # then the hook's data is exactly the item the polling trigger shows
    payload = json.loads(receiver.log[0][0].get_data())
    assert payload["type"] == "lead.created"
    polled = zapier_admin.get(f"{ZAPIER}/triggers/new-lead").json()[0]
    assert payload["data"] == polled


def test_message_received_hooks_get_inbound_messages(zapier_admin, receiver, channel, sample, post_webhook):
    zapier_admin.post(
        f"{ZAPIER}/hooks", {"target_url": receiver.url_for("/zap"), "event": "message_received"}, format="json"
    )
    receiver.expect_request("/zap").respond_with_data("ok")

    post_webhook(sample("text"))

    payload = json.loads(receiver.log[0][0].get_data())
    assert payload["type"] == "message.received"
    assert sorted(payload["data"]) == sorted(MESSAGE_FIELDS)


def test_agent_executed_hooks_get_the_polling_fields(zapier_admin, account, receiver, committed):
    from agents.services.executions import ExecutionReport, execution_record

    zapier_admin.post(
        f"{ZAPIER}/hooks", {"target_url": receiver.url_for("/zap"), "event": "agent_executed"}, format="json"
    )
    receiver.expect_request("/zap").respond_with_data("ok")
    agent = AgentFactory(account=account)

    committed(lambda: execution_record(agent=agent, report=ExecutionReport(external_id="run-1", status="running")))
    committed(lambda: execution_record(agent=agent, report=ExecutionReport(external_id="run-1", status="succeeded")))

    assert len(receiver.log) == 1
    payload = json.loads(receiver.log[0][0].get_data())
    assert payload["type"] == "agent.execution.finished"
    assert payload["data"] == zapier_admin.get(f"{ZAPIER}/triggers/agent-executed").json()[0]


def test_a_410_from_the_hook_unsubscribes_it(zapier_admin, account, receiver, committed):
    hook = zapier_admin.post(
        f"{ZAPIER}/hooks", {"target_url": receiver.url_for("/zap"), "event": "new_lead"}, format="json"
    ).json()
    receiver.expect_request("/zap").respond_with_response(Response("", status=410))

    committed(lambda: lead_create(account=account, actor=Principal.platform_key(), name="Too late"))

    assert not WebhookEndpoint.objects.filter(pk=hook["id"]).exists()


def test_unsubscribe_removes_only_zapier_hooks_of_the_tenant(zapier_admin, account, other_account):
    mine = WebhookEndpointFactory(account=account, source=EndpointSource.ZAPIER)
    api_endpoint = WebhookEndpointFactory(account=account, source=EndpointSource.API)
    theirs = WebhookEndpointFactory(account=other_account, source=EndpointSource.ZAPIER)

    assert zapier_admin.delete(f"{ZAPIER}/hooks/{api_endpoint.pk}").status_code == 404
    assert zapier_admin.delete(f"{ZAPIER}/hooks/{theirs.pk}").status_code == 404
    assert zapier_admin.delete(f"{ZAPIER}/hooks/{mine.pk}").status_code == 204

    assert set(WebhookEndpoint.objects.values_list("pk", flat=True)) == {api_endpoint.pk, theirs.pk}
    assert AuditLog.objects.filter(action="webhook.deleted", target_id=str(mine.pk)).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"target_url": "https://hooks.zapier.com/x", "event": "lead_exploded"}, "event"),
        ({"target_url": "http://169.254.169.254/", "event": "new_lead"}, "target_url"),
        ({"target_url": "ftp://hooks.zapier.com/x", "event": "new_lead"}, "target_url"),
        ({"event": "new_lead"}, "target_url"),
    ],
)
def test_subscribe_with_bad_input_is_400(zapier_admin, body, field):
    response = zapier_admin.post(f"{ZAPIER}/hooks", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["details"]
    assert not WebhookEndpoint.objects.exists()


def test_subscribing_a_localhost_hook_is_refused_without_naming_its_address(zapier_admin, settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = False

    response = zapier_admin.post(
        f"{ZAPIER}/hooks", {"target_url": "http://localhost:9000/zap", "event": "new_lead"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["details"]["target_url"] == [DESTINATION_NOT_ALLOWED]
    assert "127.0.0.1" not in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_a_read_only_key_polls_but_cannot_subscribe_or_act(read_only, account):
    hook = WebhookEndpointFactory(account=account, source=EndpointSource.ZAPIER)

    assert read_only.get(f"{ZAPIER}/triggers/new-lead").status_code == 200
    subscribe = {"target_url": "https://z.example/x", "event": "new_lead"}
    assert read_only.post(f"{ZAPIER}/hooks", subscribe, format="json").status_code == 403
    assert read_only.delete(f"{ZAPIER}/hooks/{hook.pk}").status_code == 403
    assert read_only.post(f"{ZAPIER}/actions/create-lead", {"name": "X"}, format="json").status_code == 403
    assert WebhookEndpoint.objects.count() == 1
    assert not Lead.objects.exists()


@pytest.mark.parametrize("caller", ["user_jwt", "write_key"])
def test_a_user_or_a_write_key_cannot_subscribe_or_unsubscribe_a_hook(
    caller, client_for, key_client_for, member, account
):
    # given a USER of the tenant (signed in) or a key with read and write, and a Zap's existing hook
    browser = client_for(member) if caller == "user_jwt" else key_client_for(account, ["read", "write"])
    hook = WebhookEndpointFactory(account=account, source=EndpointSource.ZAPIER)
    audit_rows = AuditLog.objects.count()

    # when they subscribe their own URL to the customers' messages, or remove the hook
    subscribed = browser.post(
        f"{ZAPIER}/hooks", {"target_url": "https://collector.example/x", "event": "message_received"}, format="json"
    )
    removed = browser.delete(f"{ZAPIER}/hooks/{hook.pk}")

    # then both are refused with the API's error shape, and nothing was made, removed or audited
    for response in (subscribed, removed):
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    assert list(WebhookEndpoint.objects.values_list("pk", flat=True)) == [hook.pk]
    assert AuditLog.objects.count() == audit_rows


@pytest.mark.parametrize("caller", ["client_admin_jwt", "admin_key"])
def test_a_client_admin_or_an_admin_key_subscribes_and_unsubscribes(
    caller, client_for, key_client_for, client_admin, account
):
    # given the tenant's CLIENT_ADMIN (signed in) or a key with the `admin` scope
    api = client_for(client_admin) if caller == "client_admin_jwt" else key_client_for(account, ["admin"])

    # when it subscribes a hook
    response = api.post(
        f"{ZAPIER}/hooks",
        {"target_url": "https://hooks.zapier.com/hooks/standard/1/a/", "event": "new_lead"},
        format="json",
    )

    # then the hook exists, audited; and it can remove it again
    assert response.status_code == 201, response.json()
    hook = WebhookEndpoint.objects.get(pk=response.json()["id"])
    assert (hook.account, hook.source) == (account, EndpointSource.ZAPIER)
    assert AuditLog.objects.filter(action="webhook.created", target_id=str(hook.pk)).exists()
    assert api.delete(f"{ZAPIER}/hooks/{hook.pk}").status_code == 204
    assert not WebhookEndpoint.objects.exists()


# --- create-lead, idempotent ------------------------------------------------------------------------------


def test_create_lead_answers_the_trigger_shape(zapier, account):
    response = zapier.post(
        f"{ZAPIER}/actions/create-lead", {"name": "Ada", "email": "ada@example.com", "score": 30}, format="json"
    )

    assert response.status_code == 201, response.json()
    lead = Lead.objects.get()
    assert (lead.account, lead.source, lead.score) == (account, "zapier", 30)
    assert response.json() == zapier.get(f"{ZAPIER}/triggers/new-lead").json()[0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "ada@example.com"}, "name"),
        ({"name": "Ada", "email": "not-an-email"}, "email"),
        ({"name": "Ada", "score": 101}, "score"),
        ({"name": "Ada", "status": "hot"}, "status"),
        ({"name": "Ada", "owner": "me"}, "owner"),
    ],
)
def test_create_lead_validation_errors_zapier_can_show(zapier, body, field):
    response = zapier.post(f"{ZAPIER}/actions/create-lead", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert response.json()["message"]
    assert field in response.json()["details"]
    assert not Lead.objects.exists()
    assert not IdempotencyKey.objects.exists()


def test_a_retried_action_with_the_same_key_creates_nothing_new(zapier):
    # given a lead created with a key
    body = {"name": "Ada", "email": "ada@example.com"}
    first = zapier.post(f"{ZAPIER}/actions/create-lead", body, format="json", HTTP_IDEMPOTENCY_KEY="zap-42")

    # when Zapier retries with the same key and body
    again = zapier.post(f"{ZAPIER}/actions/create-lead", body, format="json", HTTP_IDEMPOTENCY_KEY="zap-42")

    # then the first answer comes back and there is still one lead
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Lead.objects.count() == 1
    assert AuditLog.objects.filter(action="lead.created").count() == 1


def test_the_same_key_with_another_body_is_422(zapier):
    zapier.post(f"{ZAPIER}/actions/create-lead", {"name": "Ada"}, format="json", HTTP_IDEMPOTENCY_KEY="zap-42")

    response = zapier.post(
        f"{ZAPIER}/actions/create-lead", {"name": "Bob"}, format="json", HTTP_IDEMPOTENCY_KEY="zap-42"
    )

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert list(Lead.objects.values_list("name", flat=True)) == ["Ada"]


def test_keys_are_per_tenant_and_expire(zapier, key_client_for, other_account):
    body = {"name": "Ada"}
    zapier.post(f"{ZAPIER}/actions/create-lead", body, format="json", HTTP_IDEMPOTENCY_KEY="shared")

    # another tenant may use the same key
    theirs = key_client_for(other_account, ["write"]).post(
        f"{ZAPIER}/actions/create-lead", body, format="json", HTTP_IDEMPOTENCY_KEY="shared"
    )
    assert theirs.status_code == 201
    assert Lead.objects.filter(account=other_account).count() == 1

    # after 24 hours the key is forgotten
    IdempotencyKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    again = zapier.post(f"{ZAPIER}/actions/create-lead", body, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert "Idempotent-Replayed" not in again
    assert Lead.objects.count() == 3


def test_without_a_key_every_call_creates(zapier):
    zapier.post(f"{ZAPIER}/actions/create-lead", {"name": "Ada"}, format="json")
    zapier.post(f"{ZAPIER}/actions/create-lead", {"name": "Ada"}, format="json")

    assert Lead.objects.count() == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "spaces are not allowed", "émoji"])
def test_a_malformed_key_is_400(zapier, key):
    response = zapier.post(f"{ZAPIER}/actions/create-lead", {"name": "Ada"}, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["details"]
    assert not Lead.objects.exists()


# --- send-message ---------------------------------------------------------------------------------------


TEMPLATE = {"name": "order_update", "language": "en_US", "parameters": ["#1042"]}


def test_send_a_template_to_a_new_number_starts_contact_and_conversation(zapier, channel):
    body = {"to": "4915112345678", "template": TEMPLATE}
    response = zapier.post(f"{ZAPIER}/actions/send-message", body, format="json")

    assert response.status_code == 202, response.json()
    body = response.json()
    contact = Contact.objects.get(wa_id="4915112345678")
    conversation = Conversation.objects.get(contact=contact)
    assert conversation.channel == channel
    assert (body["conversation"], body["channel"], body["contact"]["wa_id"]) == (
        conversation.pk,
        channel.pk,
        "4915112345678",
    )
    assert (body["direction"], body["type"], body["status"]) == ("out", "template", "queued")
    assert sorted(body) == sorted(MESSAGE_FIELDS)
    assert AuditLog.objects.filter(action="conversation.created").exists()


def test_free_text_to_a_number_that_never_wrote_is_refused_and_nothing_kept(zapier, channel):
    response = zapier.post(f"{ZAPIER}/actions/send-message", {"to": "4915112345678", "text": "Hi!"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "customer_window_closed"
    assert not Contact.objects.exists()
    assert not Message.objects.exists()


def test_send_text_into_an_open_conversation(zapier, channel):
    conversation = ConversationFactory(account=channel.account, channel=channel, last_inbound_at=timezone.now())

    response = zapier.post(
        f"{ZAPIER}/actions/send-message", {"conversation": conversation.pk, "text": "Thanks!"}, format="json"
    )

    assert response.status_code == 202, response.json()
    assert Message.objects.get().text == "Thanks!"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "Hi"}, "non_field_errors"),
        ({"to": "4915112345678", "conversation": 1, "text": "Hi"}, "non_field_errors"),
        ({"to": "4915112345678"}, "non_field_errors"),
        ({"to": "4915112345678", "text": "Hi", "template": TEMPLATE}, "non_field_errors"),
        ({"to": "+49 151", "text": "Hi"}, "to"),
        ({"conversation": 1, "channel": 1, "text": "Hi"}, "channel"),
    ],
)
def test_send_message_bad_input_is_400(zapier, channel, body, field):
    response = zapier.post(f"{ZAPIER}/actions/send-message", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["details"]
    assert not Message.objects.exists()


def test_another_tenants_conversation_or_channel_is_unknown(zapier, channel, other_account):
    theirs = ConversationFactory(account=other_account, last_inbound_at=timezone.now())

    by_conversation = zapier.post(
        f"{ZAPIER}/actions/send-message", {"conversation": theirs.pk, "text": "Hi"}, format="json"
    )
    by_channel = zapier.post(
        f"{ZAPIER}/actions/send-message",
        {"to": "4915112345678", "channel": theirs.channel_id, "template": TEMPLATE},
        format="json",
    )

    assert (by_conversation.status_code, by_channel.status_code) == (400, 400)
    assert by_conversation.json()["details"] == {"conversation": ["No such conversation."]}
    assert by_channel.json()["details"] == {"channel": ["No such WhatsApp number."]}
    assert not Message.objects.exists()


def test_with_several_numbers_the_channel_must_be_named(zapier, channel):
    second = ChannelFactory(account=channel.account)

    body = {"to": "4915112345678", "template": TEMPLATE}
    unnamed = zapier.post(f"{ZAPIER}/actions/send-message", body, format="json")
    named = zapier.post(
        f"{ZAPIER}/actions/send-message",
        {"to": "4915112345678", "template": TEMPLATE, "channel": second.pk},
        format="json",
    )

    assert unnamed.status_code == 400
    assert "channel" in unnamed.json()["details"]
    assert named.status_code == 202
    assert Conversation.objects.get().channel == second


def test_a_retried_send_with_the_same_key_sends_once(zapier, channel):
    body = {"to": "4915112345678", "template": TEMPLATE}

    first = zapier.post(f"{ZAPIER}/actions/send-message", body, format="json", HTTP_IDEMPOTENCY_KEY="send-1")
    again = zapier.post(f"{ZAPIER}/actions/send-message", body, format="json", HTTP_IDEMPOTENCY_KEY="send-1")

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert Message.objects.count() == 1
