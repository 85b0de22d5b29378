"""Sandbox numbers: simulated customers come in through the real signed webhook path, replies go to
the platform's stand-in for the Graph API (never to the network), and its status notifications,
failures included, come back through the webhook as Meta's do."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AuditLog
from accounts.principals import Principal
from core.exceptions import Conflict
from inbox.models import (
    Channel,
    Contact,
    Conversation,
    InboundWebhookEvent,
    Message,
    MessageDirection,
    MessageStatus,
    SandboxFailure,
    WebhookEventStatus,
)
from inbox.services.messages import message_send
from inbox.services.sandbox import (
    MAX_SANDBOX_NUMBERS,
    sandbox_channel_create,
    sandbox_customer_reads,
    sandbox_customer_writes,
    sandbox_failure_set,
    send_problem,
)
from inbox.tasks import send_message
from inbox.tests.conftest import sign
from inbox.tests.factories import ConversationFactory, MessageFactory
from integrations.models import EventDelivery
from integrations.tests.factories import WebhookEndpointFactory

pytestmark = pytest.mark.django_db

CUSTOMER = "15550100777"


@pytest.fixture
def sandbox(account) -> Channel:
    return sandbox_channel_create(account=account, actor=Principal.platform_key(), name="Try-out line")


@pytest.fixture
def meta(httpserver, settings):
    """A local server standing in for Meta's Graph API: whatever reaches it went over the network."""
    settings.GRAPH_API_BASE_URL = httpserver.url_for("/v21.0")
    return httpserver


@pytest.fixture
def writes(member, django_capture_on_commit_callbacks):
    """A simulated customer writes to a sandbox number (and what that sets off after commit runs)."""

    def write(channel: Channel, text: str, *, wa_id: str = CUSTOMER, name: str = "Nadia Newcomer") -> str:
        with django_capture_on_commit_callbacks(execute=True):
            return sandbox_customer_writes(
                channel=channel, wa_id=wa_id, name=name, text=text, actor=Principal.for_user(member)
            )

    return write


@pytest.fixture
def replies(member, django_capture_on_commit_callbacks):
    """A teammate replies in a conversation (the send task and the stand-in's statuses run after commit)."""

    def reply(conversation: Conversation, **kwargs: Any) -> Message:
        with django_capture_on_commit_callbacks(execute=True):
            message = message_send(conversation=conversation, actor=Principal.for_user(member), **kwargs)
        message.refresh_from_db()
        return message

    return reply


def _conversation(channel: Channel, wa_id: str = CUSTOMER) -> Conversation:
    return Conversation.objects.select_related("contact").get(channel=channel, contact__wa_id=wa_id)


# --- a sandbox number ---------------------------------------------------------------------------------


def test_a_sandbox_number_needs_no_meta_account_and_signs_with_a_secret_of_its_own(account, meta, sandbox):
    # then nothing asked Meta, the number has its own app secret and an id no real number can have
    assert meta.log == []
    assert sandbox.is_sandbox
    assert sandbox.access_token == ""
    assert len(sandbox.app_secret) >= 32
    assert sandbox.phone_number_id.startswith("0")
    assert sandbox.phone_number_id.isdigit()
    assert AuditLog.objects.get(action="channel.created", target_id=str(sandbox.pk)).metadata["sandbox"] is True


def test_a_workspace_has_at_most_a_few_sandbox_numbers(account, other_account):
    for _ in range(MAX_SANDBOX_NUMBERS):
        sandbox_channel_create(account=account, actor=Principal.platform_key())

    with pytest.raises(Conflict) as refused:
        sandbox_channel_create(account=account, actor=Principal.platform_key())

    assert refused.value.code == "sandbox_limit"
    assert Channel.objects.filter(account=account, is_sandbox=True).count() == MAX_SANDBOX_NUMBERS
    # another workspace still may
    assert sandbox_channel_create(account=other_account, actor=Principal.platform_key()).is_sandbox


# --- a simulated customer -----------------------------------------------------------------------------


def test_a_simulated_customer_message_comes_in_through_the_webhook_and_reaches_everything_downstream(
    account, sandbox, writes, httpserver, settings
):
    # given an n8n router and an outgoing webhook endpoint for received messages
    settings.N8N_MASTER_ROUTER_URL = httpserver.url_for("/n8n")
    httpserver.expect_request("/n8n", method="POST").respond_with_data("ok")
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    WebhookEndpointFactory(account=account, url=httpserver.url_for("/hook"), events=["message.received"])

    # when a simulated customer writes
    wamid = writes(sandbox, "Hello, are you open on Sunday?")

    # then the notification was stored as Meta's are, shaped like Meta's, and processed
    event = InboundWebhookEvent.objects.get()
    assert event.status == WebhookEventStatus.PROCESSED
    value = json.loads(event.body)["entry"][0]["changes"][0]["value"]
    assert value["metadata"]["phone_number_id"] == sandbox.phone_number_id
    assert value["contacts"] == [{"profile": {"name": "Nadia Newcomer"}, "wa_id": CUSTOMER}]
    assert value["messages"][0]["id"] == wamid
    # and the inbox has the customer, the conversation and the message
    message = Message.objects.get(external_id=wamid)
    assert (message.direction, message.text, message.channel_id) == ("in", "Hello, are you open on Sunday?", sandbox.pk)
    assert Contact.objects.get(account=account, wa_id=CUSTOMER).name == "Nadia Newcomer"
    # and the n8n router and the outgoing webhook got it, as they get Meta's messages
    paths = [request.path for request, _ in httpserver.log]
    assert "/n8n" in paths
    assert "/hook" in paths
    assert (
        EventDelivery.objects.filter(endpoint__url=httpserver.url_for("/hook"), event__type="message.received").count()
        == 1
    )
    # and who wrote as the customer is on record
    audit = AuditLog.objects.get(action="sandbox.customer_message")
    assert audit.metadata == {"wa_id": CUSTOMER, "wamid": wamid}


def test_the_notification_is_signed_with_the_numbers_app_secret_and_a_repeat_is_one_message(
    sandbox, writes, django_capture_on_commit_callbacks
):
    # given a message a simulated customer wrote
    writes(sandbox, "Is the lamp in stock?")
    body = InboundWebhookEvent.objects.get().body.encode()

    # when the same notification comes again, signed with the number's app secret, through the view
    with django_capture_on_commit_callbacks(execute=True):
        again = Client().post(
            "/webhooks/whatsapp",
            data=body,
            content_type="application/json",
            HTTP_X_HUB_SIGNATURE_256=sign(body, sandbox.app_secret),
        )
    # and once more with another secret
    forged = Client().post(
        "/webhooks/whatsapp", data=body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=sign(body, "guess")
    )

    # then the webhook took the genuine one, and the message exists once; the forged one is refused
    assert again.status_code == 200
    assert forged.status_code == 401
    assert Message.objects.filter(direction=MessageDirection.INBOUND).count() == 1


def test_a_deactivated_sandbox_number_takes_no_simulated_message(sandbox, member):
    Channel.objects.filter(pk=sandbox.pk).update(is_active=False)
    sandbox.refresh_from_db()

    with pytest.raises(Conflict):
        sandbox_customer_writes(channel=sandbox, wa_id=CUSTOMER, name="N", text="Hi", actor=Principal.for_user(member))

    assert not InboundWebhookEvent.objects.exists()


def test_a_real_number_has_no_simulated_customers(channel, member):
    with pytest.raises(Conflict):
        sandbox_customer_writes(channel=channel, wa_id=CUSTOMER, name="N", text="Hi", actor=Principal.for_user(member))
    assert not InboundWebhookEvent.objects.exists()


# --- replies: the Graph API stand-in ------------------------------------------------------------------


def test_a_reply_goes_to_the_stand_in_and_its_ticks_come_back_through_the_webhook(sandbox, writes, replies, meta):
    # given a customer who wrote
    writes(sandbox, "Do you deliver?")
    conversation = _conversation(sandbox)

    # when a teammate replies
    reply = replies(conversation, text="Yes, in 2 to 4 days.")

    # then the stand-in gave it a message id and reported it sent and delivered, as Meta does
    assert reply.external_id.startswith("wamid.")
    assert reply.status == MessageStatus.DELIVERED
    assert reply.sent_at is not None
    assert reply.delivered_at is not None
    statuses = [
        update["status"]
        for event in InboundWebhookEvent.objects.order_by("id")
        for update in json.loads(event.body)["entry"][0]["changes"][0]["value"].get("statuses", [])
    ]
    assert statuses == ["sent", "delivered"]
    assert set(InboundWebhookEvent.objects.values_list("status", flat=True)) == {WebhookEventStatus.PROCESSED}
    # and nothing went over the network
    assert meta.log == []

    # when the customer's phone shows it, then it is read
    assert sandbox_customer_reads(channel=sandbox, wa_id=CUSTOMER) == 1
    reply.refresh_from_db()
    assert reply.status == MessageStatus.READ
    assert sandbox_customer_reads(channel=sandbox, wa_id=CUSTOMER) == 0  # nothing left to read


def test_a_template_reply_is_accepted_by_the_stand_in(sandbox, writes, replies):
    writes(sandbox, "Hello")
    conversation = _conversation(sandbox)
    Conversation.objects.filter(pk=conversation.pk).update(last_inbound_at=timezone.now() - timedelta(days=2))
    conversation.refresh_from_db()

    reply = replies(conversation, template={"name": "order_update", "language": "en_US", "parameters": ["#1042"]})

    assert (reply.type, reply.status) == ("template", MessageStatus.DELIVERED)


MEDIA_AND_OTHER_REPLIES = {
    "image": {"type": "image", "image": {"link": "https://shop.example.com/lamp.png", "caption": "The lamp"}},
    "document": {"type": "document", "document": {"id": "1013859600285441", "filename": "invoice.pdf"}},
    "audio": {"type": "audio", "audio": {"id": "1013859600285442"}},
    "video": {"type": "video", "video": {"link": "https://shop.example.com/lamp.mp4"}},
    "sticker": {"type": "sticker", "sticker": {"id": "1013859600285443"}},
    "location": {"type": "location", "location": {"latitude": 38.71, "longitude": -9.14, "name": "Showroom"}},
    "contacts": {"type": "contacts", "contacts": [{"name": {"formatted_name": "Shop"}}]},
    "interactive": {"type": "interactive", "interactive": {"type": "button", "body": {"text": "Pick one"}}},
    "reaction": {"type": "reaction", "reaction": {"message_id": "wamid.IN1", "emoji": "👍"}},
}


@pytest.mark.parametrize("kind", sorted(MEDIA_AND_OTHER_REPLIES))
def test_every_kind_of_reply_is_accepted_by_the_stand_in(kind, sandbox, meta, django_capture_on_commit_callbacks):
    # given a reply of this kind waiting to go out on the sandbox number
    conversation = ConversationFactory(account=sandbox.account, channel=sandbox)
    message = MessageFactory(
        conversation=conversation,
        direction=MessageDirection.OUTBOUND,
        type=kind,
        status=MessageStatus.QUEUED,
        external_id=None,
        payload=MEDIA_AND_OTHER_REPLIES[kind],
    )

    # when the send task runs
    with django_capture_on_commit_callbacks(execute=True):
        send_message(message.pk)

    # then it was accepted and delivered, without the network
    message.refresh_from_db()
    assert (message.status, message.error) == (MessageStatus.DELIVERED, None)
    assert meta.log == []


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"type": "text", "text": {"body": " "}}, "text['body'] is required"),
        ({"type": "text", "text": {"body": "x" * 4097}}, "at most 4096"),
        ({"type": "template", "template": {"name": "hello"}}, "language"),
        ({"type": "image", "image": {"caption": "no picture"}}, "image['id'] or image['link']"),
        ({"type": "carousel", "carousel": {}}, "Param type must be one of"),
    ],
)
def test_the_stand_in_refuses_what_meta_refuses_and_it_is_not_retried(
    payload, problem, sandbox, django_capture_on_commit_callbacks
):
    conversation = ConversationFactory(account=sandbox.account, channel=sandbox)
    message = MessageFactory(
        conversation=conversation,
        direction=MessageDirection.OUTBOUND,
        status=MessageStatus.QUEUED,
        external_id=None,
        payload=payload,
    )
    assert problem in send_problem(to=conversation.contact.wa_id, message=payload)

    with django_capture_on_commit_callbacks(execute=True):
        send_message(message.pk)

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.error["code"] == 100
    assert message.error["http_status"] == 400
    assert problem in message.error["message"]
    assert not InboundWebhookEvent.objects.exists()  # nothing to report: the send never got an id


def test_a_sandbox_send_never_reaches_the_network_while_a_real_numbers_does(
    account, sandbox, channel, writes, replies, meta
):
    # given Meta's stand-in accepting the real number's sends
    meta.expect_request(f"/v21.0/{channel.phone_number_id}/messages", method="POST").respond_with_json(
        {"messaging_product": "whatsapp", "messages": [{"id": "wamid.REAL1"}]}
    )
    writes(sandbox, "Hi sandbox")
    real = ConversationFactory(account=account, channel=channel, last_inbound_at=timezone.now())

    # when a teammate replies on both numbers
    sandbox_reply = replies(_conversation(sandbox), text="From the sandbox")
    real_reply = replies(real, text="From the real number")

    # then only the real number's reply reached Meta
    sent = [json.loads(request.data) for request, _ in meta.log]
    assert [(body["to"], body["text"]["body"]) for body in sent] == [(real.contact.wa_id, "From the real number")]
    assert (real_reply.external_id, real_reply.status) == ("wamid.REAL1", MessageStatus.SENT)
    assert sandbox_reply.status == MessageStatus.DELIVERED


def test_inbound_media_on_a_sandbox_number_is_never_fetched_from_the_network(
    sandbox, meta, django_capture_on_commit_callbacks
):
    from inbox.tasks import download_media

    conversation = ConversationFactory(account=sandbox.account, channel=sandbox)
    message = MessageFactory(
        conversation=conversation, type="image", media={"id": "9988", "download_status": "pending"}
    )

    download_media(message.pk)

    message.refresh_from_db()
    assert message.media["download_status"] == "failed"
    assert meta.log == []


# --- failures switched on for testing -----------------------------------------------------------------


def test_the_next_reply_is_undeliverable_with_131026_as_meta_reports_it(sandbox, writes, replies, member, client):
    # given a customer who wrote, and the failure switched on
    writes(sandbox, "Where is my order?")
    conversation = _conversation(sandbox)
    sandbox_failure_set(channel=sandbox, failure=SandboxFailure.UNDELIVERABLE, actor=Principal.for_user(member))

    # when a teammate replies
    failed = replies(conversation, text="It left this morning.")

    # then it was accepted, then reported failed through the webhook with Meta's error
    assert failed.external_id.startswith("wamid.")
    assert failed.status == MessageStatus.FAILED
    assert failed.error["code"] == 131026
    assert failed.error["title"] == "Message undeliverable"
    # and the inbox shows it as it shows Meta's failures
    client.force_login(member)
    thread = client.get(f"/inbox/{conversation.pk}/messages").content.decode()
    assert "Not delivered: Message undeliverable" in thread
    assert 'aria-label="Failed: Message undeliverable"' in thread
    # and the failure was for one reply only
    assert replies(conversation, text="Sending it again.").status == MessageStatus.DELIVERED
    assert Channel.objects.get(pk=sandbox.pk).sandbox_failure == SandboxFailure.NONE


def test_the_next_reply_meets_http_500_on_every_attempt_until_the_platform_gives_up(
    sandbox, writes, replies, member, client
):
    # given a customer who wrote, and the failure switched on
    writes(sandbox, "Where is my order?")
    conversation = _conversation(sandbox)
    sandbox_failure_set(channel=sandbox, failure=SandboxFailure.SERVER_ERROR, actor=Principal.for_user(member))

    # when a teammate replies (each retry runs at once: the tasks are eager)
    failed = replies(conversation, text="It left this morning.")

    # then every attempt was answered 500, and the reply failed with Meta's error as the platform saw it
    assert failed.status == MessageStatus.FAILED
    assert failed.external_id is None
    assert failed.error["http_status"] == 500
    assert failed.error["code"] == 131000
    assert not InboundWebhookEvent.objects.filter(body__contains='"statuses"').exists()
    client.force_login(member)
    thread = client.get(f"/inbox/{conversation.pk}/messages").content.decode()
    assert "Not delivered: (#131000) Something went wrong" in thread
    # and the next reply goes out
    sandbox.refresh_from_db()
    assert (sandbox.sandbox_failure, sandbox.sandbox_failing_attempts) == ("", 0)
    assert replies(conversation, text="Sending it again.").status == MessageStatus.DELIVERED


def test_a_reply_failing_with_500_can_succeed_on_a_retry_once_the_failure_is_switched_off(
    sandbox, writes, member, django_capture_on_commit_callbacks
):
    # given the 500 switched on, and a reply whose first attempt met it
    writes(sandbox, "Hi")
    conversation = _conversation(sandbox)
    sandbox_failure_set(channel=sandbox, failure=SandboxFailure.SERVER_ERROR, actor=Principal.for_user(member))
    message = message_send(conversation=conversation, actor=Principal.for_user(member), text="Hello!")
    from inbox.services.messages import message_deliver
    from inbox.whatsapp import GraphApiError

    with pytest.raises(GraphApiError):
        message_deliver(message=Message.objects.get(pk=message.pk), final_attempt=False)

    # when the person switches the failure off, and the platform retries
    sandbox_failure_set(channel=sandbox, failure=SandboxFailure.NONE, actor=Principal.for_user(member))
    with django_capture_on_commit_callbacks(execute=True):
        message_deliver(message=Message.objects.get(pk=message.pk), final_attempt=False)

    # then it went out
    assert Message.objects.get(pk=message.pk).status == MessageStatus.DELIVERED
    assert AuditLog.objects.filter(action="sandbox.failure_set").count() == 2


def test_failures_are_for_sandbox_numbers_only(channel, member):
    with pytest.raises(Conflict):
        sandbox_failure_set(channel=channel, failure=SandboxFailure.UNDELIVERABLE, actor=Principal.for_user(member))
    assert Channel.objects.get(pk=channel.pk).sandbox_failure == SandboxFailure.NONE


def test_another_numbers_failure_does_not_touch_this_one(account, sandbox, writes, replies, member):
    other = sandbox_channel_create(account=account, actor=Principal.platform_key(), name="Other")
    sandbox_failure_set(channel=other, failure=SandboxFailure.UNDELIVERABLE, actor=Principal.for_user(member))
    writes(sandbox, "Hi")

    assert replies(_conversation(sandbox), text="Hello").status == MessageStatus.DELIVERED
    assert Channel.objects.get(pk=other.pk).sandbox_failure == SandboxFailure.UNDELIVERABLE


def test_a_process_that_remembers_no_numbers_own_secret_still_takes_the_sandboxs_notifications(
    account, writes, settings
):
    # given a process that checked, before the sandbox number existed, that no number had its own
    # secret (it remembers that for 30 seconds), with a platform secret set
    from inbox.services import webhooks

    settings.WHATSAPP_APP_SECRET = "platform-secret"
    webhooks.forget_app_secrets()
    assert not webhooks.channels_have_own_app_secrets()
    sandbox = Channel.objects.create(
        account=account,
        name="Made elsewhere",
        phone_number_id="012345678901234",
        display_phone_number="+1 555 0123 4567",
        is_sandbox=True,
        app_secret="made-in-another-process",
    )

    # when a simulated customer writes through this process
    writes(sandbox, "Hello?")

    # then the message came in all the same
    assert Message.objects.filter(channel=sandbox, direction=MessageDirection.INBOUND).count() == 1
