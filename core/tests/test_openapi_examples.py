"""The documented examples are what the API really accepts and answers.

Each operation is called with its documented request example (only ids and secrets that must be
real are replaced); the answer must have the documented success status, fit the schema strictly,
and have the same keys as the documented response example.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Account, ApiKey, Role, User
from accounts.principals import Principal
from accounts.services.api_keys import api_key_create
from accounts.services.auth import auth_tokens_issue
from accounts.tests.factories import UserFactory
from agents.models import AgentStatus, AgentTemplate, Report, ReportKind, ReportStatus
from agents.services.reports import report_generate
from agents.tests.conftest import _catalogue  # noqa: F401  (the seeded template catalogue)
from agents.tests.factories import AgentExecutionFactory, AgentFactory
from agents.tests.fake_runner import FakeRunner
from core.openapi import ERROR_EXAMPLES
from core.tests.openapi import Operation, cached_schema, operation, operations, problems, shape_differences
from inbox.models import Conversation, Label
from inbox.services.crm import lead_create
from inbox.services.sandbox import MAX_SANDBOX_NUMBERS, sandbox_channel_create
from inbox.tests.factories import ChannelFactory, ContactFactory, ConversationFactory, LeadFactory, MessageFactory
from integrations.models import DeliveryStatus, DisabledReason, EventDelivery, WebhookEndpoint
from integrations.services.idempotency import HEADER as IDEMPOTENCY_HEADER
from integrations.services.webhooks import MAX_ENDPOINTS_PER_ACCOUNT, webhook_endpoint_create
from integrations.services.zapier import zapier_hook_subscribe
from integrations.tests.factories import WebhookEndpointFactory
from plugins.apis import examples as plugin_examples
from plugins.models import Plugin, PluginVersion
from plugins.services.installations import plugin_install
from plugins.services.packages import plugin_upload
from plugins.services.reviews import review_create
from plugins.services.versions import version_yank
from plugins.tests.conftest import build_package, manifest

pytestmark = pytest.mark.django_db

World = SimpleNamespace


@dataclass(frozen=True)
class Call:
    """How to call one operation for real: as whom, on which object, with which body changes."""

    operation_id: str
    caller: str = "admin"  # admin (CLIENT_ADMIN, JWT), staff (SUPER_ADMIN), key (admin API key), anonymous
    target: Callable[[World], int | str] | None = None  # the path's `{id}` (or `{plugin_id}`)
    body: Callable[[World], dict[str, Any]] = field(default=lambda world: {})  # replaces example values
    query: str = ""
    example: str | None = None  # which documented response example to compare with (default: the first)
    headers: dict[str, str] = field(default_factory=dict)  # sent as well, such as an Idempotency-Key
    files: Callable[[World], dict[str, Any]] | None = None  # the files of a multipart upload


CALLS = [
    # accounts
    Call("admin_accounts_list", caller="staff"),
    Call("admin_accounts_create", caller="staff"),
    Call("admin_accounts_retrieve", caller="staff", target=lambda w: w.account.pk),
    Call("admin_accounts_partial_update", caller="staff", target=lambda w: w.other_account.pk),
    Call("admin_accounts_destroy", caller="staff", target=lambda w: w.other_account.pk),
    Call("api_keys_list"),
    Call("api_keys_create", body=lambda w: {"expires_at": (timezone.now() + timedelta(days=365)).isoformat()}),
    Call("api_keys_retrieve", target=lambda w: w.api_key.pk),
    Call("api_keys_rotate", target=lambda w: w.api_key.pk),
    Call("api_keys_revoke", target=lambda w: w.api_key.pk),
    Call("audit_logs_list"),
    Call("auth_token_obtain", caller="anonymous", body=lambda w: {"email": w.admin.email, "password": w.password}),
    Call("auth_token_refresh", caller="anonymous", body=lambda w: {"refresh": auth_tokens_issue(user=w.admin).refresh}),
    Call("auth_logout", caller="anonymous", body=lambda w: {"refresh": auth_tokens_issue(user=w.admin).refresh}),
    Call("me_retrieve", caller="key", example="API key"),
    Call("me_retrieve", example="Person"),
    Call("users_list"),
    Call("users_create"),
    Call("users_retrieve", target=lambda w: w.member.pk),
    Call("users_partial_update", target=lambda w: w.member.pk),
    Call("users_destroy", target=lambda w: w.member.pk),
    Call("billing_sso_create"),
    # inbox
    Call("channels_list"),
    Call("channels_create"),
    Call("channels_sandbox_create"),
    Call("channels_retrieve", target=lambda w: w.channel.pk),
    Call("channels_update", target=lambda w: w.channel.pk),
    Call("contacts_list"),
    Call("contacts_create"),
    Call("contacts_retrieve", target=lambda w: w.contact.pk),
    Call("contacts_update", target=lambda w: w.contact.pk),
    Call("contacts_delete", target=lambda w: w.contact.pk),
    Call("conversations_list"),
    Call("conversations_retrieve", target=lambda w: w.conversation.pk),
    Call(
        "conversations_update",
        target=lambda w: w.conversation.pk,
        body=lambda w: {"assignee": w.member.pk},
    ),
    Call("conversations_handoff", target=lambda w: w.held_conversation.pk),
    Call("conversations_mark_read", target=lambda w: w.conversation.pk),
    Call("conversations_messages_list", target=lambda w: w.conversation.pk),
    Call("conversations_messages_send", target=lambda w: w.conversation.pk),
    Call("leads_list"),
    Call("leads_create", body=lambda w: {"contact": w.contact.pk}),
    Call("leads_retrieve", target=lambda w: w.lead.pk),
    Call("leads_update", target=lambda w: w.lead.pk),
    Call("leads_delete", target=lambda w: w.lead.pk),
    Call("leads_export_csv"),
    Call("router_retrieve"),
    Call("router_update"),
    Call("router_destroy"),
    # agents
    Call("agent_templates_list"),
    Call("agents_list"),
    Call("agents_create", body=lambda w: {"channels": [w.channel.pk]}),
    Call("agents_retrieve", target=lambda w: w.agent.pk),
    Call("agents_update", target=lambda w: w.agent.pk),
    Call("agents_delete", target=lambda w: w.agent.pk),
    Call("agents_deploy", target=lambda w: w.agent.pk),
    Call("agents_activate", target=lambda w: w.paused_agent.pk),
    Call("agents_deactivate", target=lambda w: w.agent.pk),
    Call("agents_executions_list", target=lambda w: w.agent.pk),
    Call("agents_analytics", target=lambda w: w.agent.pk),
    Call("agents_analytics_account"),
    Call("reports_create"),
    Call("reports_retrieve", target=lambda w: w.report.pk),
    Call("reports_download", target=lambda w: w.report.pk),
    # integrations: webhook endpoints point at the local stand-in receiver, never at the example's host
    Call("webhooks_list"),
    Call("webhooks_create", body=lambda w: {"url": w.receiver_url}),
    Call("webhooks_retrieve", target=lambda w: w.endpoint.pk),
    Call("webhooks_update", target=lambda w: w.endpoint.pk),
    Call("webhooks_delete", target=lambda w: w.endpoint.pk),
    Call("webhooks_rotate_secret", target=lambda w: w.endpoint.pk),
    Call("webhooks_deliveries_list", target=lambda w: w.endpoint.pk),
    Call("webhooks_test", target=lambda w: w.endpoint.pk),
    Call("webhooks_deliveries_redeliver", target=lambda w: w.delivery.pk),
    Call("webhooks_event_types"),
    # integrations: Zapier, with a tenant's API key
    Call("zapier_auth_test", caller="key"),
    Call("zapier_triggers_new_lead", caller="key"),
    Call("zapier_triggers_agent_executed", caller="key"),
    Call("zapier_hooks_subscribe", caller="key", body=lambda w: {"target_url": w.receiver_url}),
    Call("zapier_hooks_unsubscribe", caller="key", target=lambda w: w.zapier_hook.pk),
    Call("zapier_actions_create_lead", caller="key", headers={IDEMPOTENCY_HEADER: "zap-run-1"}),
    Call("zapier_actions_send_message", caller="key", headers={IDEMPOTENCY_HEADER: "zap-run-2"}),
    # plugins: `faq-answerer` is installed in the tenant, `clinic-faq` only published
    Call("admin_plugins_publish", caller="staff", files=lambda w: {"package": _faq_upload(version="1.1.0")}),
    Call("admin_plugins_update", caller="staff", target=lambda w: "faq-answerer"),
    Call("plugins_list"),
    Call("plugins_retrieve", target=lambda w: "faq-answerer"),
    Call("plugins_installed_list"),
    Call("plugins_installed_retrieve", target=lambda w: "faq-answerer"),
    Call("plugins_installed_update", target=lambda w: "faq-answerer"),
    Call("plugins_install", target=lambda w: "clinic-faq"),
    Call("plugins_uninstall", target=lambda w: "faq-answerer"),
    Call("plugins_execute", target=lambda w: "faq-answerer"),
    Call("plugins_upgrade", target=lambda w: _with_an_upgrade(w) and "faq-answerer"),
    Call("plugins_reviews_list", target=lambda w: _with_a_review(w) and "faq-answerer"),
    Call("plugins_reviews_create", target=lambda w: "faq-answerer"),
    Call("plugins_reviews_update", target=lambda w: _with_a_review(w) and "faq-answerer"),
    Call("plugins_reviews_destroy", target=lambda w: _with_a_review(w) and "faq-answerer"),
    Call("admin_plugins_versions_update", caller="staff", target=lambda w: ("faq-answerer", "1.0.0")),
]


def _faq_manifest(**overrides: Any) -> dict[str, Any]:
    """The documented `faq-answerer` manifest; the code is the plugin tests' echo plugin."""
    return manifest(
        **{
            "id": "faq-answerer",
            "name": "FAQ answerer",
            "author": "SkyBot Labs",
            "description": plugin_examples.DESCRIPTION,
            "homepage": plugin_examples.HOMEPAGE,
            "config_schema": plugin_examples.CONFIG_SCHEMA,
            "permissions": plugin_examples.PERMISSIONS,
            **overrides,
        }
    )


def _faq_upload(**overrides: Any) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        "faq-answerer.zip", build_package(_faq_manifest(**overrides)), content_type="application/zip"
    )


@pytest.fixture
def world(
    account: Account,
    other_account: Account,
    httpserver: Any,
    settings: Any,
    tmp_path: Any,
    django_capture_on_commit_callbacks: Any,
) -> World:
    """One tenant with a bit of everything, a stand-in SkyBot runner, a stand-in webhook receiver,
    and billing configured."""
    settings.MEDIA_ROOT = str(tmp_path)
    settings.OUTBOUND_ALLOW_LOOPBACK = True  # the stand-in receiver listens on loopback
    httpserver.expect_request("/receiver", method="POST").respond_with_data("ok")
    receiver_url = httpserver.url_for("/receiver")
    settings.SKYBOT_API_URL = httpserver.url_for("").rstrip("/")
    settings.SKYBOT_API_KEY = "runner-key"
    settings.BILLING_PORTAL_URL = "https://billing.example.com/sso"
    settings.BILLING_SSO_SECRET = "billing-secret-for-tests-32-bytes-long"
    # Meta's Graph API confirms the documented example's number, as connecting a number requires.
    settings.GRAPH_API_BASE_URL = httpserver.url_for("/v21.0")
    httpserver.expect_request("/v21.0/106540352242922", method="GET").respond_with_json(
        {"display_phone_number": "+351 21 123 4567", "verified_name": "Sorriso", "id": "106540352242922"}
    )
    runner = FakeRunner(httpserver)
    password = "correct horse battery staple"
    admin = UserFactory(account=account, role=Role.CLIENT_ADMIN, email="maria@acme.test", password=password)
    UserFactory(account=account, role=Role.CLIENT_ADMIN, email="second-admin@acme.test")
    member = UserFactory(account=account, role=Role.USER, email="joana@acme.test", full_name="Joana Costa")
    staff = UserFactory(super_admin=True, email="staff@skybot.test")
    channel = ChannelFactory(account=account)
    contact = ContactFactory(account=account, wa_id="351912345678", phone="+351912345678", name="João Silva")
    now = timezone.now()
    conversation = ConversationFactory(
        account=account, channel=channel, contact=contact, last_message_at=now, last_inbound_at=now, unread_count=1
    )
    conversation.labels.add(Label.objects.create(account=account, name="booking"))
    MessageFactory(conversation=conversation, text="Hi! Do you have a table for two tonight?")
    template = AgentTemplate.objects.get(key="sales-assistant")
    agent = AgentFactory(
        account=account,
        template=template,
        config={"greeting": "Hello!", "product_catalog_url": "https://shop.example.com/catalog.json"},
        status=AgentStatus.ACTIVE,
        skybot_workflow_id="wf-active",
        deployed_at=now,
    )
    agent.channels.add(channel)
    runner.add_workflow("wf-active", "active")
    paused_agent = AgentFactory(
        account=account,
        template=template,
        config=agent.config,
        status=AgentStatus.INACTIVE,
        skybot_workflow_id="wf-paused",
    )
    runner.add_workflow("wf-paused", "inactive")
    held_conversation = ConversationFactory(account=account, channel=channel, agent=agent, last_message_at=now)
    AgentExecutionFactory(agent=agent)
    report = report_generate(
        report=Report.objects.create(
            account=account,
            requested_by_id=admin.pk,
            kind=ReportKind.CONVERSATIONS,
            date_from=now - timedelta(days=30),
            date_to=now + timedelta(minutes=1),
        )
    )
    assert report.status == ReportStatus.READY, report.error
    api_key = api_key_create(
        account=account, name="Make", scopes=["read", "write"], expires_at=None, actor=Principal.platform_key()
    ).api_key
    endpoint = webhook_endpoint_create(
        account=account,
        actor=Principal.platform_key(),
        url=receiver_url,
        events=["lead.created", "message.received"],
        description="CRM sync",
    ).endpoint
    # a lead created for real: its event is delivered to the receiver and logged with its attempt
    with django_capture_on_commit_callbacks(execute=True):
        lead_create(account=account, actor=Principal.platform_key(), name="Ada Lovelace", email="ada@example.com")
    delivery = EventDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == DeliveryStatus.SUCCEEDED, list(delivery.attempts.values())
    zapier_hook = zapier_hook_subscribe(
        account=account, actor=Principal.platform_key(), target_url=receiver_url, event="new_lead"
    ).endpoint
    # two plugins published (their code runs in the real sandbox), one of them installed
    plugin_upload(data=build_package(_faq_manifest()), actor=None, publish=True)
    plugin_upload(data=build_package(_faq_manifest(id="clinic-faq", name="Clinic FAQ")), actor=None, publish=True)
    plugin_install(
        account=account,
        plugin_id="faq-answerer",
        config={**plugin_examples.CONFIG, "deepl_api_key": "0c9e4b1a-7f3d-4e8a-9b26-5d1f8a3c7e90:fx"},
        actor=Principal.platform_key(),
    )
    return World(
        account=account,
        other_account=other_account,
        admin=admin,
        password=password,
        member=member,
        staff=staff,
        channel=channel,
        contact=contact,
        conversation=conversation,
        held_conversation=held_conversation,
        lead=LeadFactory(account=account, contact=contact),
        agent=agent,
        paused_agent=paused_agent,
        report=report,
        api_key=api_key,
        receiver_url=receiver_url,
        endpoint=endpoint,
        delivery=delivery,
        zapier_hook=zapier_hook,
    )


def _client(world: World, caller: str) -> APIClient:
    client = APIClient()
    if caller == "key":
        issued = api_key_create(
            account=world.account,
            name="Make",
            scopes=["read", "write", "admin"],
            expires_at=None,
            actor=Principal.platform_key(),
        )
        client.credentials(HTTP_X_API_KEY=issued.key)
    elif caller != "anonymous":
        user: User = {"admin": world.admin, "staff": world.staff}[caller]
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {auth_tokens_issue(user=user).access}")
    return client


def _example(media: dict[str, Any], name: str | None = None) -> Any:
    examples = media.get("examples", {})
    assert examples, "no documented example"
    if name is None:
        return next(iter(examples.values()))["value"]
    chosen = [example["value"] for example in examples.values() if example.get("summary") == name]
    assert chosen, f"no example named {name!r}: {[e.get('summary') for e in examples.values()]}"
    return chosen[0]


def _path(op: Operation, target: Callable[[World], Any] | None, world: World) -> str:
    """The operation's path with its parameters (`{id}`, `{plugin_id}`...) filled in: a tuple fills
    them in order, one value fills each."""
    if target is None:
        return op.path
    value = target(world)
    values = iter(value if isinstance(value, tuple) else ())
    return re.sub(r"\{[^}]+\}", lambda _: str(next(values)) if isinstance(value, tuple) else str(value), op.path)


def _with_an_upgrade(world: World) -> bool:
    """faq-answerer 1.1.0 published, asking for `leads:write` as well (the upgrade example)."""
    upgraded = _faq_manifest(version="1.1.0", permissions=[*plugin_examples.PERMISSIONS, "leads:write"])
    plugin_upload(data=build_package(upgraded), actor=None, publish=True)
    return True


def _with_a_review(world: World) -> bool:
    """The tenant's review of faq-answerer, written by its admin."""
    review_create(
        account=world.account,
        plugin=Plugin.objects.get(plugin_id="faq-answerer"),
        rating=5,
        text=plugin_examples.REVIEW["text"],
        actor=Principal.for_user(world.admin),
    )
    return True


def _call(op: Operation, call: Call, world: World) -> Any:
    url = _path(op, call.target, world)
    if call.query:
        url = f"{url}?{call.query}"
    client = _client(world, call.caller)
    headers = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in call.headers.items()}
    content = op.spec.get("requestBody", {}).get("content", {})
    if set(content) == {"multipart/form-data"}:
        # an upload: the documented fields, with real files in place of the example's file names
        assert call.files is not None, f"{op}: a multipart upload needs `files`"
        data = {**_example(content["multipart/form-data"]), **call.body(world), **call.files(world)}
        return getattr(client, op.method)(url, data, format="multipart", **headers)
    body = None
    if content:
        body = {**_example(content["application/json"]), **call.body(world)}
    return client.generic(
        op.method.upper(), url, json.dumps(body) if body is not None else "", "application/json", **headers
    )


@pytest.mark.parametrize("call", CALLS, ids=lambda call: f"{call.operation_id}-{call.example or call.caller}")
def test_the_documented_example_is_what_the_api_answers(call: Call, world: World) -> None:
    # given
    schema = cached_schema()
    op = operation(schema, call.operation_id)
    status, answer = op.success()

    # when: called with the documented request example
    response = _call(op, call, world)

    # then
    assert str(response.status_code) == status, response.content[:2000]
    content = answer.get("content", {})
    if "application/json" in content:
        media = content["application/json"]
        body = response.json()
        assert problems(schema, media["schema"], body) == [], body
        assert shape_differences(schema, media["schema"], _example(media, call.example), body) == []
    elif "text/csv" in content:
        documented = list(csv.reader(io.StringIO(_example(content["text/csv"]))))
        real = b"".join(response.streaming_content) if response.streaming else response.content
        assert next(csv.reader(io.StringIO(real.decode()))) == documented[0]
        assert {len(row) for row in documented} == {len(documented[0])}
    else:
        assert not response.content


# Operations whose examples cannot be checked against a real answer here, each with the reason.
NOT_CALLED: dict[str, str] = {}


def test_every_operation_is_called_for_real() -> None:
    # given
    called = {call.operation_id for call in CALLS} | set(NOT_CALLED)

    # when
    documented = {op.id for op in operations(cached_schema())}

    # then: a new operation needs a line in CALLS (or a reason in NOT_CALLED)
    assert documented - called == set()
    assert called - documented == set(), "CALLS names operations the document no longer has"


@pytest.mark.parametrize(
    ("status", "caller", "method", "path"),
    [
        (400, "admin", "post", "/api/v1/leads"),
        (401, "anonymous", "get", "/api/v1/leads"),
        (403, "admin", "get", "/api/v1/admin/accounts"),
        (404, "admin", "get", "/api/v1/leads/999999"),
    ],
)
def test_the_generic_error_examples_are_what_the_api_answers(
    status: int, caller: str, method: str, path: str, world: World
) -> None:
    # given
    client = _client(world, caller)

    # when
    response = getattr(client, method)(path, {}, format="json")

    # then
    assert response.status_code == status
    assert response.json() == ERROR_EXAMPLES[status]


def test_the_throttled_example_is_what_the_api_answers(world: World, settings: Any) -> None:
    # given: one request a minute
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "burst": "100/s",
            "sustained": "1/m",
            "hourly": "100/h",
        },
    }
    client = _client(world, "admin")
    assert client.get("/api/v1/leads").status_code == 200

    # when
    response = client.get("/api/v1/leads")

    # then: the documented body, with this wait in place of the example's 12 seconds
    assert response.status_code == 429
    wait = int(response["Retry-After"])
    documented = ERROR_EXAMPLES[429]
    assert response.json() == {
        **documented,
        "message": documented["message"].replace("12 seconds", f"{wait} seconds" if wait != 1 else "1 second"),
        "details": {"retry_after": wait},
    }


def _too_long_range(world: World) -> dict[str, Any]:
    return {"kind": "conversations", "date_from": "2025-01-01T00:00:00Z", "date_to": "2026-05-01T00:00:00Z"}


def _with_a_second_number(world: World) -> dict[str, Any]:
    ChannelFactory(account=world.account)
    return {"to": "16505551234", "text": "Your order has shipped."}


BLOCKED_URL = "http://169.254.169.254/latest/meta-data/"


# A bad request per operation whose documented 400 names specific fields: (caller, target, query, body).
BAD_INPUT: dict[str, tuple[str, Callable[[World], Any] | None, str, Callable[[World], dict[str, Any]]]] = {
    "admin_accounts_list": ("staff", None, "plan=gold", lambda w: {}),
    "admin_accounts_create": ("staff", None, "", lambda w: {"name": "Acme again", "slug": "acme"}),
    "admin_accounts_partial_update": ("staff", lambda w: w.account.pk, "", lambda w: {"plan": "gold"}),
    "api_keys_list": ("admin", None, "cursor=nonsense", lambda w: {}),
    "api_keys_create": (
        "admin",
        None,
        "",
        lambda w: {"name": "Make", "scopes": ["read"], "expires_at": "2020-01-01T00:00:00Z"},
    ),
    "api_keys_rotate": ("admin", lambda w: w.api_key.pk, "", lambda w: {"grace_seconds": 604801}),
    "audit_logs_list": ("admin", None, "created_after=yesterday", lambda w: {}),
    "auth_token_obtain": ("anonymous", None, "", lambda w: {"email": "maria", "password": "x"}),
    "users_list": ("admin", None, "role=OWNER", lambda w: {}),
    "users_create": (
        "admin",
        None,
        "",
        lambda w: {"email": "new@acme.test", "password": "password123", "role": "USER"},
    ),
    "users_partial_update": ("admin", lambda w: w.member.pk, "", lambda w: {"role": "OWNER"}),
    "billing_sso_create": ("admin", None, "", lambda w: {"account": w.account.pk}),
    "channels_list": ("admin", None, "cursor=nonsense", lambda w: {}),
    "channels_create": (
        "admin",
        None,
        "",
        lambda w: {"phone_number_id": "12ab", "display_phone_number": "+351211234567", "access_token": "EAAG"},
    ),
    "channels_update": ("admin", lambda w: w.channel.pk, "", lambda w: {"is_active": "maybe"}),
    "channels_sandbox_create": ("admin", None, "", lambda w: {"name": "x" * 101}),
    "contacts_list": ("admin", None, "cursor=nonsense", lambda w: {}),
    "contacts_create": ("admin", None, "", lambda w: {"wa_id": "+351 91"}),
    "contacts_update": ("admin", lambda w: w.contact.pk, "", lambda w: {"wa_id": "+351 91"}),
    "conversations_list": ("admin", None, "status=closed", lambda w: {}),
    "conversations_update": ("admin", lambda w: w.conversation.pk, "", lambda w: {"assignee": 999999}),
    "conversations_handoff": ("admin", lambda w: w.held_conversation.pk, "", lambda w: {"reason": "x" * 501}),
    "conversations_messages_list": ("admin", lambda w: w.conversation.pk, "cursor=nonsense", lambda w: {}),
    "conversations_messages_send": ("admin", lambda w: w.conversation.pk, "", lambda w: {"text": " "}),
    "leads_list": ("admin", None, "created_after=yesterday", lambda w: {}),
    "leads_create": ("admin", None, "", lambda w: {"name": "João Silva", "score": 101}),
    "leads_update": ("admin", lambda w: w.lead.pk, "", lambda w: {"score": 101}),
    "leads_export_csv": ("admin", None, "status=open", lambda w: {}),
    "router_retrieve": ("admin", None, "account=1", lambda w: {}),
    "router_update": ("admin", None, "", lambda w: {"url": "ftp://n8n.example.com/hook"}),
    "router_destroy": ("admin", None, "account=1", lambda w: {}),
    "agents_list": ("admin", None, "status=running", lambda w: {}),
    "agents_create": (
        "admin",
        None,
        "",
        lambda w: {
            "name": "Booking assistant",
            "template": "support-agent",
            "config": {
                "greeting": "Olá!",
                "business_hours": {"timezone": "Europe/Lisbon", "days": ["mon"], "open": "9am", "close": "19:00"},
            },
        },
    ),
    "agents_analytics": (
        "admin",
        lambda w: w.agent.pk,
        "from=2026-05-14T00:00:00Z&to=2026-05-01T00:00:00Z",
        lambda w: {},
    ),
    "agents_executions_list": ("admin", lambda w: w.agent.pk, "status=lost", lambda w: {}),
    "agents_analytics_account": ("admin", None, "from=2026-05-14T00:00:00Z&to=2026-05-01T00:00:00Z", lambda w: {}),
    "reports_create": ("admin", None, "", _too_long_range),
    "webhooks_list": ("admin", None, "source=email", lambda w: {}),
    "webhooks_create": ("admin", None, "", lambda w: {"url": BLOCKED_URL, "events": ["lead.created"]}),
    "webhooks_update": ("admin", lambda w: w.endpoint.pk, "", lambda w: {"url": BLOCKED_URL}),
    "webhooks_rotate_secret": ("admin", lambda w: w.endpoint.pk, "", lambda w: {"overlap_seconds": 604801}),
    "webhooks_deliveries_list": ("admin", lambda w: w.endpoint.pk, "status=lost", lambda w: {}),
    "zapier_hooks_subscribe": ("key", None, "", lambda w: {"target_url": w.receiver_url, "event": "new_order"}),
    "zapier_actions_create_lead": ("key", None, "", lambda w: {"email": "ada@example.com"}),
    "zapier_actions_send_message": ("key", None, "", _with_a_second_number),
    "admin_plugins_update": ("staff", lambda w: "faq-answerer", "", lambda w: {"is_enabled": "maybe"}),
    "plugins_installed_update": (
        "admin",
        lambda w: "faq-answerer",
        "",
        lambda w: {"config": {**plugin_examples.CONFIG, "min_score": 2}},
    ),
    "plugins_install": (
        "admin",
        lambda w: "clinic-faq",
        "",
        lambda w: {"config": {**plugin_examples.CONFIG, "min_score": 2}},
    ),
    "plugins_execute": ("admin", lambda w: "faq-answerer", "", lambda w: {}),
    "plugins_list": ("admin", None, "sort=price", lambda w: {}),
    "plugins_upgrade": (
        "admin",
        lambda w: _with_an_upgrade(w) and "faq-answerer",
        "",
        lambda w: {"accept_permissions": ["leads:write"], "config": {"min_score": 2}},
    ),
    "plugins_reviews_create": ("admin", lambda w: "faq-answerer", "", lambda w: {"rating": 6}),
    "plugins_reviews_update": ("admin", lambda w: _with_a_review(w) and "faq-answerer", "", lambda w: {"rating": 0}),
    "admin_plugins_versions_update": (
        "staff",
        lambda w: ("faq-answerer", "1.0.0"),
        "",
        lambda w: {"status": "shipped"},
    ),
}


@pytest.mark.parametrize("operation_id", sorted(BAD_INPUT))
def test_the_documented_400_is_what_the_api_answers(operation_id: str, world: World) -> None:
    # given
    caller, target, query, body = BAD_INPUT[operation_id]
    op = operation(cached_schema(), operation_id)
    url = _path(op, target, world)
    client = _client(world, caller)

    # when
    response = client.generic(
        op.method.upper(), f"{url}?{query}" if query else url, json.dumps(body(world)), "application/json"
    )

    # then
    assert response.status_code == 400, response.content
    assert response.json() == _example(op.spec["responses"]["400"]["content"]["application/json"])


def _close_the_window(world: World) -> int:
    Conversation.objects.filter(pk=world.conversation.pk).update(last_inbound_at=timezone.now() - timedelta(days=2))
    return int(world.conversation.pk)


def _revoked_key(world: World) -> int:
    ApiKey.objects.filter(pk=world.api_key.pk).update(is_active=False, revoked_at=timezone.now())
    return int(world.api_key.pk)


def _turned_off(world: World) -> int:
    WebhookEndpoint.objects.filter(pk=world.endpoint.pk).update(is_active=False, disabled_reason=DisabledReason.MANUAL)
    return int(world.endpoint.pk)


def _turned_off_delivery(world: World) -> int:
    _turned_off(world)
    return int(world.delivery.pk)


def _fifty_endpoints(world: World) -> int:
    count = WebhookEndpoint.objects.filter(account=world.account).count()
    WebhookEndpointFactory.create_batch(MAX_ENDPOINTS_PER_ACCOUNT - count, account=world.account)
    return 0  # the path names no object


def _sandbox_numbers_full(world: World) -> int:
    for _ in range(MAX_SANDBOX_NUMBERS):
        sandbox_channel_create(account=world.account, actor=Principal.platform_key())
    return 0  # the path names no object


def _pending_report(world: World) -> int:
    now = timezone.now()
    report = Report.objects.create(
        account=world.account, kind=ReportKind.CONVERSATIONS, date_from=now - timedelta(days=1), date_to=now
    )
    return int(report.pk)


# A conflict per operation whose documented 409 names a specific code: how to cause it (answering
# the path's `{id}`), the body, and the caller.
CONFLICTS: dict[str, tuple[Callable[[World], Any], Callable[[World], dict[str, Any]], str]] = {
    "channels_sandbox_create": (_sandbox_numbers_full, lambda w: {"name": "One more"}, "admin"),
    "conversations_messages_send": (_close_the_window, lambda w: {"text": "Are you still there?"}, "admin"),
    "conversations_handoff": (lambda w: w.conversation.pk, lambda w: {}, "admin"),
    "api_keys_rotate": (_revoked_key, lambda w: {}, "admin"),
    "reports_download": (_pending_report, lambda w: {}, "admin"),
    "webhooks_create": (
        _fifty_endpoints,
        lambda w: {"url": w.receiver_url, "events": ["lead.created"]},
        "admin",
    ),
    "webhooks_test": (_turned_off, lambda w: {}, "admin"),
    "webhooks_deliveries_redeliver": (_turned_off_delivery, lambda w: {}, "admin"),
    "zapier_hooks_subscribe": (
        _fifty_endpoints,
        lambda w: {"target_url": w.receiver_url, "event": "new_lead"},
        "key",
    ),
    "zapier_actions_send_message": (
        _close_the_window,
        lambda w: {"conversation": w.conversation.pk, "text": "Are you still there?"},
        "key",
    ),
    "plugins_install": (lambda w: "faq-answerer", lambda w: {"config": plugin_examples.CONFIG}, "admin"),
    "plugins_upgrade": (lambda w: _with_an_upgrade(w) and "faq-answerer", lambda w: {}, "admin"),
    "plugins_reviews_create": (lambda w: _with_a_review(w) and "faq-answerer", lambda w: {"rating": 4}, "admin"),
    "admin_plugins_versions_update": (
        lambda w: _yanked(w) and ("faq-answerer", "1.0.0"),
        lambda w: {"status": "published"},
        "staff",
    ),
}


def _yanked(world: World) -> bool:
    version_yank(
        version=PluginVersion.objects.get(plugin__plugin_id="faq-answerer", version="1.0.0"),
        reason="Broken.",
        actor=None,
    )
    return True


@pytest.mark.parametrize("operation_id", sorted(CONFLICTS))
def test_the_documented_409_is_what_the_api_answers(operation_id: str, world: World) -> None:
    # given
    cause, body, caller = CONFLICTS[operation_id]
    op = operation(cached_schema(), operation_id)
    url = _path(op, cause, world)

    # when
    response = _client(world, caller).generic(op.method.upper(), url, json.dumps(body(world)), "application/json")

    # then: the same code and message (details may name the object's own state)
    assert response.status_code == 409, response.content
    documented = _example(op.spec["responses"]["409"]["content"]["application/json"])
    assert (response.json()["code"], response.json()["message"]) == (documented["code"], documented["message"])


# An Idempotency-Key already used, sent again with another (valid) body: the change to the example.
KEY_REUSED_WITH: dict[str, dict[str, Any]] = {
    "zapier_actions_create_lead": {"name": "Grace Hopper"},
    "zapier_actions_send_message": {"to": "16505559876"},
}


@pytest.mark.parametrize(
    "call",
    [call for call in CALLS if IDEMPOTENCY_HEADER in call.headers],
    ids=lambda call: call.operation_id,
)
def test_the_documented_422_is_what_the_api_answers(call: Call, world: World) -> None:
    # given: the documented example sent once with a key
    op = operation(cached_schema(), call.operation_id)
    first = _call(op, call, world)
    assert str(first.status_code) == op.success()[0], first.content

    # when: the same key comes with another body
    again = _call(op, replace(call, body=lambda w: {**call.body(w), **KEY_REUSED_WITH[call.operation_id]}), world)

    # then
    assert again.status_code == 422, again.content
    assert again.json() == _example(op.spec["responses"]["422"]["content"]["application/json"])
