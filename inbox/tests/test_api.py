"""The inbox API: tenant scoping, roles, validation, audit rows and flat query counts."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditLog
from agents.tests.factories import AgentFactory
from inbox.models import Channel, Contact, Conversation, Lead, Message
from inbox.tests.factories import ChannelFactory, ContactFactory, ConversationFactory, LeadFactory, MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(channel):
    return ConversationFactory(
        account=channel.account, channel=channel, last_message_at=timezone.now(), last_inbound_at=timezone.now()
    )


@pytest.fixture
def foreign_conversation(other_account):
    return ConversationFactory(account=other_account, last_message_at=timezone.now())


# --- channels ------------------------------------------------------------------------------------

CHANNEL_BODY = {
    "phone_number_id": "200000000000001",
    "display_phone_number": "+1 555 0100",
    "business_account_id": "300000000000001",
    "access_token": "EAAG-secret-token",
    "app_secret": "app-secret-value",
    "verify_token": "verify-me",
}


def test_admin_connects_a_channel_and_secrets_never_come_back(client_for, client_admin, graph_api):
    graph_api.owns("200000000000001", token="EAAG-secret-token")

    response = client_for(client_admin).post("/api/v1/channels", CHANNEL_BODY, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["phone_number_id"] == "200000000000001"
    assert body["has_app_secret"] is True
    assert body["webhook_url"].endswith("/webhooks/whatsapp")
    for secret in ("EAAG-secret-token", "app-secret-value", "verify-me"):
        assert secret not in response.content.decode()
    channel = Channel.objects.get()
    assert channel.access_token == "EAAG-secret-token"  # decrypted on read
    raw = Channel.objects.filter(pk=channel.pk).values_list("access_token", flat=True)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token, app_secret FROM inbox_channel")
        stored = cursor.fetchone()
    assert all("secret" not in value and value.startswith("enc:v2:") for value in stored)
    assert raw  # the ORM still reads it
    assert AuditLog.objects.filter(action="channel.created", target_id=str(channel.pk)).exists()
    listed = client_for(client_admin).get("/api/v1/channels").content.decode()
    assert "EAAG-secret-token" not in listed


def test_a_number_connected_elsewhere_is_refused(client_for, client_admin, other_account, graph_api):
    ChannelFactory(account=other_account, phone_number_id="200000000000001")
    graph_api.owns("200000000000001", token="EAAG-secret-token")
    response = client_for(client_admin).post("/api/v1/channels", CHANNEL_BODY, format="json")
    assert response.status_code == 400
    assert "phone_number_id" in response.json()["details"]
    assert Channel.objects.count() == 1


@pytest.mark.parametrize("user_fixture", ["member", "viewer"])
def test_only_admins_connect_channels(request, client_for, user_fixture):
    response = client_for(request.getfixturevalue(user_fixture)).post("/api/v1/channels", CHANNEL_BODY, format="json")
    assert response.status_code == 403
    assert not Channel.objects.exists()


def test_channel_of_another_tenant_is_404(client_for, client_admin, other_account):
    foreign = ChannelFactory(account=other_account)
    client = client_for(client_admin)
    assert client.get(f"/api/v1/channels/{foreign.pk}").status_code == 404
    assert client.patch(f"/api/v1/channels/{foreign.pk}", {"name": "mine"}, format="json").status_code == 404
    foreign.refresh_from_db()
    assert foreign.name != "mine"


def test_channel_bad_input_is_400_and_creates_nothing(client_for, client_admin):
    client = client_for(client_admin)
    assert client.post("/api/v1/channels", {**CHANNEL_BODY, "phone_number_id": "abc"}, format="json").status_code == 400
    assert client.post("/api/v1/channels", {**CHANNEL_BODY, "colour": "red"}, format="json").status_code == 400
    assert client.post("/api/v1/channels", b"{oops", content_type="application/json").status_code == 400
    assert not Channel.objects.exists()


# --- conversations -------------------------------------------------------------------------------


def test_conversation_list_has_the_fields_clients_rely_on(client_for, viewer, conversation):
    response = client_for(viewer).get("/api/v1/conversations")

    assert response.status_code == 200
    item = response.json()["results"][0]
    assert {"id", "status", "priority", "assignee", "labels", "last_message_at", "contact"} <= set(item)
    assert item["contact"] == {
        "id": conversation.contact.pk,
        "wa_id": conversation.contact.wa_id,
        "name": conversation.contact.name,
    }
    assert set(response.json()) == {"results", "next", "previous"}


def test_conversation_list_is_newest_activity_first_and_only_this_tenant(
    client_for, viewer, channel, foreign_conversation
):
    now = timezone.now()
    old = ConversationFactory(account=channel.account, channel=channel, last_message_at=now - timedelta(hours=2))
    new = ConversationFactory(account=channel.account, channel=channel, last_message_at=now)
    ids = [c["id"] for c in client_for(viewer).get("/api/v1/conversations").json()["results"]]
    assert ids == [new.pk, old.pk]


def test_conversation_filters(client_for, member, channel):
    now = timezone.now()
    mine = ConversationFactory(account=channel.account, channel=channel, assignee=member, last_message_at=now)
    resolved = ConversationFactory(account=channel.account, channel=channel, status="resolved", last_message_at=now)
    named = ConversationFactory(
        account=channel.account,
        channel=channel,
        last_message_at=now,
        contact=ContactFactory(account=channel.account, name="Zelda Zimmer"),
    )
    client = client_for(member)

    def ids(query):
        response = client.get(f"/api/v1/conversations?{query}")
        assert response.status_code == 200, response.json()
        return {c["id"] for c in response.json()["results"]}

    assert ids("assignee=me") == {mine.pk}
    assert ids("status=resolved") == {resolved.pk}
    assert ids("q=zimmer") == {named.pk}
    assert mine.pk not in ids("assignee=none")
    client.patch(f"/api/v1/conversations/{named.pk}", {"labels": ["vip"]}, format="json")
    assert ids("label=vip") == {named.pk}
    assert client.get("/api/v1/conversations?status=bogus").status_code == 400


def test_conversations_filter_by_the_ai_agent_holding_them(client_for, viewer, channel):
    # given one conversation held by an agent and one worked by people
    agent = AgentFactory(account=channel.account, status="active")
    held = ConversationFactory(account=channel.account, channel=channel, agent=agent, last_message_at=timezone.now())
    ConversationFactory(account=channel.account, channel=channel, last_message_at=timezone.now())

    # when the list is filtered by the agent
    response = client_for(viewer).get("/api/v1/conversations", {"agent": agent.pk})

    # then only the agent's conversation is listed
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["results"]] == [held.pk]
    assert client_for(viewer).get("/api/v1/conversations", {"agent": "x"}).status_code == 400


@pytest.mark.parametrize("value", ["99999999999999999999", "1e30", "1.5", "x"])
def test_channel_filter_that_is_no_id_is_400(client_for, member, conversation, value):
    # when the channel filter is not a whole number within the id range
    response = client_for(member).get("/api/v1/conversations", {"channel": value})

    # then it is a 400 naming the filter, not a database error
    assert response.status_code == 400
    assert set(response.json()["details"]) == {"channel"}


@pytest.mark.parametrize("value", ["99999999999999999999", "\u00b2"])
def test_assignee_filter_that_is_no_user_id_matches_nothing(client_for, member, channel, value):
    # given a conversation assigned to the member
    ConversationFactory(account=channel.account, channel=channel, assignee=member, last_message_at=timezone.now())

    # when the assignee filter is a number beyond any id, or a non-ASCII digit such as "²"
    response = client_for(member).get("/api/v1/conversations", {"assignee": value})

    # then nobody matches, instead of a database error
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_conversation_list_query_count_does_not_grow(client_for, viewer, channel, django_assert_num_queries):
    client = client_for(viewer)
    for _ in range(3):
        ConversationFactory(account=channel.account, channel=channel, last_message_at=timezone.now())
    with django_assert_num_queries(3) as small:
        client.get("/api/v1/conversations")
    for _ in range(20):
        conversation = ConversationFactory(account=channel.account, channel=channel, last_message_at=timezone.now())
        conversation.labels.create(account=channel.account, name=f"l{conversation.pk}")
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get("/api/v1/conversations")
    assert len(response.json()["results"]) == 23


def test_update_status_assignee_priority_labels_is_audited(client_for, member, conversation):
    response = client_for(member).patch(
        f"/api/v1/conversations/{conversation.pk}",
        {"status": "pending", "assignee": member.pk, "priority": "high", "labels": ["vip", "billing"]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["assignee"], body["priority"], body["labels"]) == (
        "pending",
        member.pk,
        "high",
        ["billing", "vip"],
    )
    audit = AuditLog.objects.get(action="conversation.updated")
    assert audit.actor_user == member
    assert audit.metadata["changes"]["status"] == "pending"


def test_snooze_needs_a_future_time(client_for, member, conversation):
    client = client_for(member)
    response = client.patch(f"/api/v1/conversations/{conversation.pk}", {"status": "snoozed"}, format="json")
    assert response.status_code == 400
    conversation.refresh_from_db()
    assert conversation.status == "open"
    until = (timezone.now() + timedelta(hours=3)).isoformat()
    response = client.patch(
        f"/api/v1/conversations/{conversation.pk}", {"status": "snoozed", "snoozed_until": until}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["snoozed_until"] is not None


def test_assignee_from_another_tenant_is_refused(client_for, member, conversation, other_admin):
    response = client_for(member).patch(
        f"/api/v1/conversations/{conversation.pk}", {"assignee": other_admin.pk}, format="json"
    )
    assert response.status_code == 400
    conversation.refresh_from_db()
    assert conversation.assignee is None


def test_viewer_cannot_change_a_conversation(client_for, viewer, conversation):
    client = client_for(viewer)
    assert (
        client.patch(f"/api/v1/conversations/{conversation.pk}", {"status": "resolved"}, format="json").status_code
        == 403
    )
    assert (
        client.post(f"/api/v1/conversations/{conversation.pk}/messages", {"text": "hi"}, format="json").status_code
        == 403
    )
    conversation.refresh_from_db()
    assert conversation.status == "open"
    assert not Message.objects.exists()


def test_another_tenants_conversation_is_404_everywhere(client_for, client_admin, foreign_conversation):
    client = client_for(client_admin)
    pk = foreign_conversation.pk
    assert client.get(f"/api/v1/conversations/{pk}").status_code == 404
    assert client.patch(f"/api/v1/conversations/{pk}", {"status": "resolved"}, format="json").status_code == 404
    assert client.post(f"/api/v1/conversations/{pk}/read").status_code == 404
    assert client.get(f"/api/v1/conversations/{pk}/messages").status_code == 404
    assert client.post(f"/api/v1/conversations/{pk}/messages", {"text": "hi"}, format="json").status_code == 404
    foreign_conversation.refresh_from_db()
    assert foreign_conversation.status == "open"


def test_mark_read_resets_unread(client_for, member, conversation):
    Conversation.objects.filter(pk=conversation.pk).update(unread_count=4)
    response = client_for(member).post(f"/api/v1/conversations/{conversation.pk}/read")
    assert response.status_code == 200
    assert response.json()["unread_count"] == 0


# --- messages ------------------------------------------------------------------------------------


def test_messages_list_newest_first_with_flat_query_count(client_for, viewer, conversation, django_assert_num_queries):
    first = MessageFactory(conversation=conversation)
    second = MessageFactory(conversation=conversation)
    client = client_for(viewer)
    with django_assert_num_queries(3) as small:
        response = client.get(f"/api/v1/conversations/{conversation.pk}/messages")
    assert [m["id"] for m in response.json()["results"]] == [second.pk, first.pk]
    item = response.json()["results"][0]
    assert {"id", "direction", "type", "text", "external_id", "status", "error", "created_at"} <= set(item)
    for _ in range(20):
        MessageFactory(conversation=conversation)
    with django_assert_num_queries(len(small.captured_queries)):
        client.get(f"/api/v1/conversations/{conversation.pk}/messages")


def test_send_answers_202_with_the_queued_message(client_for, member, conversation, httpserver, settings):
    settings.GRAPH_API_BASE_URL = httpserver.url_for("/v21.0")
    httpserver.expect_request(f"/v21.0/{conversation.channel.phone_number_id}/messages").respond_with_json(
        {"messages": [{"id": "wamid.API1"}]}
    )
    response = client_for(member).post(
        f"/api/v1/conversations/{conversation.pk}/messages", {"text": "On its way!"}, format="json"
    )

    assert response.status_code == 202, response.json()
    assert (response.json()["status"], response.json()["direction"], response.json()["text"]) == (
        "queued",
        "out",
        "On its way!",
    )
    assert AuditLog.objects.filter(action="message.sent").exists()


def test_send_outside_the_window_is_409_asking_for_a_template(client_for, member, conversation):
    Conversation.objects.filter(pk=conversation.pk).update(last_inbound_at=timezone.now() - timedelta(days=2))
    response = client_for(member).post(
        f"/api/v1/conversations/{conversation.pk}/messages", {"text": "hello?"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "customer_window_closed"
    assert "template" in response.json()["message"]
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"text": "   "},
        {"text": "a", "template": {"name": "x", "language": "en"}},
        {"template": {"name": "Bad Name!", "language": "en"}},
        {"text": 5},
        {"text": "x", "extra": 1},
    ],
)
def test_send_bad_input_is_400(client_for, member, conversation, body):
    response = client_for(member).post(f"/api/v1/conversations/{conversation.pk}/messages", body, format="json")
    assert response.status_code == 400
    assert not Message.objects.exists()


def test_api_key_with_write_scope_can_reply(key_client_for, account, conversation, httpserver, settings):
    settings.GRAPH_API_BASE_URL = httpserver.url_for("/v21.0")
    httpserver.expect_request(f"/v21.0/{conversation.channel.phone_number_id}/messages").respond_with_json(
        {"messages": [{"id": "wamid.K1"}]}
    )
    assert (
        key_client_for(account, ["read"])
        .post(f"/api/v1/conversations/{conversation.pk}/messages", {"text": "x"}, format="json")
        .status_code
        == 403
    )
    assert (
        key_client_for(account, ["write"])
        .post(f"/api/v1/conversations/{conversation.pk}/messages", {"text": "x"}, format="json")
        .status_code
        == 202
    )


# --- contacts ------------------------------------------------------------------------------------


def test_contacts_crud_search_and_audit(client_for, member, viewer):
    client = client_for(member)
    created = client.post(
        "/api/v1/contacts",
        {"wa_id": "4915112345678", "name": "Greta Gruber", "email": "greta@example.com"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert (
        client.post("/api/v1/contacts", {"wa_id": "4915112345678"}, format="json").status_code == 400
    )  # unique per tenant
    assert [c["id"] for c in client_for(viewer).get("/api/v1/contacts?q=gruber").json()["results"]] == [pk]
    assert client.patch(f"/api/v1/contacts/{pk}", {"name": "Greta G."}, format="json").json()["name"] == "Greta G."
    assert client_for(viewer).delete(f"/api/v1/contacts/{pk}").status_code == 403
    assert client.delete(f"/api/v1/contacts/{pk}").status_code == 204
    assert not Contact.objects.exists()
    assert list(
        AuditLog.objects.filter(action__startswith="contact.").order_by("created_at").values_list("action", flat=True)
    ) == [
        "contact.created",
        "contact.updated",
        "contact.deleted",
    ]


def test_the_same_number_may_be_a_contact_of_two_tenants(client_for, member, other_account):
    ContactFactory(account=other_account, wa_id="4915112345678")
    assert client_for(member).post("/api/v1/contacts", {"wa_id": "4915112345678"}, format="json").status_code == 201


def test_another_tenants_contact_is_404(client_for, client_admin, other_account):
    foreign = ContactFactory(account=other_account)
    client = client_for(client_admin)
    assert client.get(f"/api/v1/contacts/{foreign.pk}").status_code == 404
    assert client.patch(f"/api/v1/contacts/{foreign.pk}", {"name": "x"}, format="json").status_code == 404
    assert client.delete(f"/api/v1/contacts/{foreign.pk}").status_code == 404
    assert Contact.objects.filter(pk=foreign.pk).exists()


# --- leads ---------------------------------------------------------------------------------------


def test_leads_crud_with_the_fields_clients_rely_on(client_for, member):
    client = client_for(member)
    created = client.post(
        "/api/v1/leads",
        {"name": "Ana Lima", "email": "ana@example.com", "company": "Lima Ltd", "source": "whatsapp", "score": 70},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert {"id", "name", "email", "phone", "company", "source", "status", "score", "created_at"} <= set(body)
    assert body["status"] == "new"
    updated = client.patch(f"/api/v1/leads/{body['id']}", {"status": "qualified"}, format="json")
    assert updated.json()["status"] == "qualified"
    assert client.delete(f"/api/v1/leads/{body['id']}").status_code == 204
    assert not Lead.objects.exists()
    assert AuditLog.objects.filter(action="lead.created").exists()


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "score": 101},
        {"name": "x", "status": "hot"},
        {"score": 5},
        {"name": "x", "email": "nope"},
        {"name": "x", "contact": 999999},
    ],
)
def test_lead_bad_input_is_400(client_for, member, body):
    assert client_for(member).post("/api/v1/leads", body, format="json").status_code == 400
    assert not Lead.objects.exists()


def test_lead_cannot_link_another_tenants_contact(client_for, member, other_account):
    foreign = ContactFactory(account=other_account)
    assert (
        client_for(member).post("/api/v1/leads", {"name": "x", "contact": foreign.pk}, format="json").status_code == 400
    )
    assert not Lead.objects.exists()


def test_lead_filters_and_tenant_scope(client_for, viewer, account, other_account):
    won = LeadFactory(account=account, status="won", source="web")
    LeadFactory(account=account, status="new", source="whatsapp")
    LeadFactory(account=other_account, status="won")
    client = client_for(viewer)
    assert [lead["id"] for lead in client.get("/api/v1/leads?status=won").json()["results"]] == [won.pk]
    assert [lead["id"] for lead in client.get("/api/v1/leads?source=web").json()["results"]] == [won.pk]
    future = (timezone.now() + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert client.get("/api/v1/leads", {"created_after": future}).json()["results"] == []
    assert client.get("/api/v1/leads?created_after=yesterday").status_code == 400


@pytest.mark.parametrize(
    "params",
    [{"created_after": "9999-12-31T23:59:59-23:59"}, {"created_before": "0001-01-01T00:00:00+23:59"}],
)
def test_lead_date_filter_outside_the_utc_range_is_400(client_for, viewer, account, params):
    # given a lead
    LeadFactory(account=account)

    # when a date filter is valid ISO 8601 but its UTC time falls outside years 1 to 9999
    response = client_for(viewer).get("/api/v1/leads", params)

    # then it is a 400 naming the filter, not a database error
    assert response.status_code == 400
    assert set(response.json()["details"]) == set(params)


def test_another_tenants_lead_is_404(client_for, client_admin, other_account):
    foreign = LeadFactory(account=other_account)
    client = client_for(client_admin)
    assert client.get(f"/api/v1/leads/{foreign.pk}").status_code == 404
    assert client.patch(f"/api/v1/leads/{foreign.pk}", {"status": "won"}, format="json").status_code == 404
    assert client.delete(f"/api/v1/leads/{foreign.pk}").status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == "new"


def test_viewer_cannot_write_leads(client_for, viewer, account):
    lead = LeadFactory(account=account)
    client = client_for(viewer)
    assert client.post("/api/v1/leads", {"name": "x"}, format="json").status_code == 403
    assert client.patch(f"/api/v1/leads/{lead.pk}", {"status": "won"}, format="json").status_code == 403
    assert Lead.objects.count() == 1


def test_leads_list_query_count_is_flat(client_for, viewer, account, django_assert_num_queries):
    LeadFactory.create_batch(2, account=account)
    client = client_for(viewer)
    with django_assert_num_queries(2) as small:
        client.get("/api/v1/leads")
    LeadFactory.create_batch(30, account=account)
    with django_assert_num_queries(len(small.captured_queries)):
        assert len(client.get("/api/v1/leads").json()["results"]) == 32


def test_leads_export_csv(client_for, viewer, account, other_account):
    LeadFactory(account=account, name="Ana", status="won", company="=HYPERLINK(evil)")
    LeadFactory(account=account, name="Bo", status="new")
    LeadFactory(account=other_account, name="Foreign")
    response = client_for(viewer).get("/api/v1/leads/export?status=won")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["id", "name", "email"]
    assert [row[1] for row in rows[1:]] == ["Ana"]
    assert rows[1][4] == "'=HYPERLINK(evil)"  # no formula reaches a spreadsheet


def test_leads_export_keeps_phone_numbers_and_neutralises_formulas(client_for, viewer, account):
    # given leads whose phone is a number as people write it, and one whose phone is a formula
    LeadFactory(account=account, name="Ana", phone="+15550100101")
    LeadFactory(account=account, name="Bo", phone="+1 (555) 010-0102")
    LeadFactory(account=account, name="Cy", phone="+1+cmd|' /C calc'!A0")

    # when they are exported
    response = client_for(viewer).get("/api/v1/leads/export")

    # then the numbers are written as they are, and only the formula is made text
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {row["name"]: row["phone"] for row in rows} == {
        "Ana": "+15550100101",
        "Bo": "+1 (555) 010-0102",
        "Cy": "'+1+cmd|' /C calc'!A0",
    }
