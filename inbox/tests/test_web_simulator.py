"""The customer simulator page (/simulator/): a person writes to a sandbox number as a customer and
sees the replies; who may do what; another tenant's numbers and real numbers are 404; a disabled
workspace's session ends before anything is done."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, get_resolver

from accounts.models import AuditLog, User
from accounts.principals import Principal
from accounts.services.tenants import account_deactivate
from core.tests.html import assert_no_inline_code
from inbox.models import Channel, InboundWebhookEvent, Message, MessageDirection, MessageStatus, SandboxFailure
from inbox.services.messages import message_send
from inbox.services.sandbox import sandbox_channel_create, sandbox_customer_writes
from inbox.web import simulator_urls

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
CUSTOMER = "15550100123"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html(response: Any) -> str:
    return response.content.decode()


@pytest.fixture
def sandbox(account) -> Channel:
    return sandbox_channel_create(account=account, actor=Principal.platform_key(), name="Try-out line")


@pytest.fixture
def foreign_sandbox(other_account) -> Channel:
    return sandbox_channel_create(account=other_account, actor=Principal.platform_key(), name="Their line")


@pytest.fixture
def customer_wrote(sandbox, member, django_capture_on_commit_callbacks):
    """Nadia wrote to the sandbox number; answers her conversation's messages."""
    with django_capture_on_commit_callbacks(execute=True):
        sandbox_customer_writes(
            channel=sandbox,
            wa_id=CUSTOMER,
            name="Nadia",
            text="Do you ship to Porto?",
            actor=Principal.for_user(member),
        )
    return Message.objects.get(direction=MessageDirection.INBOUND)


def send(client: Client, channel: Channel, text: str, *, customer: str = CUSTOMER, name: str = "Nadia") -> Any:
    return client.post(f"/simulator/{channel.pk}/send", {"customer": customer, "name": name, "text": text}, **HTMX)


# --- pages --------------------------------------------------------------------------------------------


def test_the_simulator_opens_on_the_only_sandbox_number(member, sandbox):
    response = signed_in(member).get("/simulator/")
    assert response.status_code == 302
    assert response["Location"] == f"/simulator/{sandbox.pk}/"


def test_without_a_sandbox_number_the_simulator_says_who_adds_one(member, client_admin, channel):
    # a real number is not one
    user_page = html(signed_in(member).get("/simulator/"))
    admin_page = html(signed_in(client_admin).get("/simulator/"))

    assert "No sandbox number yet" in user_page
    assert "An admin of your workspace adds one" in user_page
    assert "/settings/whatsapp/sandbox/" not in user_page
    assert 'href="/settings/whatsapp/sandbox/"' in admin_page


def test_with_several_sandbox_numbers_the_simulator_lists_them(account, member, sandbox):
    second = sandbox_channel_create(account=account, actor=Principal.platform_key(), name="Second line")
    page = html(signed_in(member).get("/simulator/"))
    assert f'href="/simulator/{sandbox.pk}/"' in page
    assert f'href="/simulator/{second.pk}/"' in page


def test_a_person_writes_as_a_customer_and_the_message_reaches_the_inbox(account, member, sandbox):
    client = signed_in(member)

    # given a new customer the person adds (a name and a number)
    page = client.get(f"/simulator/{sandbox.pk}/", {"customer": CUSTOMER, "name": "Nadia"})
    assert page.status_code == 200
    assert_no_inline_code(page)
    assert "No messages yet: write the first one as Nadia." in html(page)

    # when they write as her
    response = send(client, sandbox, "Do you ship to Porto?")

    # then the phone shows the message, and the inbox has it from Nadia on the sandbox number
    assert response.status_code == 200
    assert "Do you ship to Porto?" in html(response)
    message = Message.objects.get(direction=MessageDirection.INBOUND)
    assert (message.text, message.channel_id) == ("Do you ship to Porto?", sandbox.pk)
    assert message.conversation.contact.name == "Nadia"
    inbox = html(client.get("/inbox/"))
    assert "Nadia" in inbox
    # and the phone follows that conversation on the live feed
    assert f'data-live-conversation="{message.conversation_id}"' in html(response)


def test_the_page_lists_the_numbers_customers_and_shows_the_replies_that_reached_the_phone(
    member, sandbox, customer_wrote, django_capture_on_commit_callbacks
):
    # given a delivered reply, and one that failed (it never reached the phone)
    conversation = customer_wrote.conversation
    with django_capture_on_commit_callbacks(execute=True):
        message_send(conversation=conversation, actor=Principal.for_user(member), text="Yes, in 2 days.")
    Channel.objects.filter(pk=sandbox.pk).update(sandbox_failure=SandboxFailure.UNDELIVERABLE)
    with django_capture_on_commit_callbacks(execute=True):
        message_send(conversation=conversation, actor=Principal.for_user(member), text="Tracking: ZX-1.")

    # when the person opens the simulator
    page = html(signed_in(member).get(f"/simulator/{sandbox.pk}/"))

    # then the customer is listed and opened, with her message and the delivered reply and its ticks
    assert re.search(r'aria-current="true" class="current"><span class="name">Nadia</span>', page)
    assert "Do you ship to Porto?" in page
    assert "Yes, in 2 days." in page
    assert 'aria-label="Delivered"' in page
    assert "Tracking: ZX-1." not in page


def test_a_user_reading_the_chat_sends_read_receipts_and_a_viewer_does_not(
    member, viewer, sandbox, customer_wrote, django_capture_on_commit_callbacks
):
    # given a delivered reply
    with django_capture_on_commit_callbacks(execute=True):
        reply = message_send(conversation=customer_wrote.conversation, actor=Principal.for_user(member), text="Yes!")
    chat_url = f"/simulator/{sandbox.pk}/chat?customer={CUSTOMER}&name=Nadia"

    # when a viewer looks at the chat, then it asks for no read receipt
    assert f"/simulator/{sandbox.pk}/read" not in html(signed_in(viewer).get(chat_url, **HTMX))
    assert signed_in(viewer).post(f"/simulator/{sandbox.pk}/read", {"customer": CUSTOMER}, **HTMX).status_code == 403

    # when a user looks at it, then the chat asks for one, and asking marks the reply read
    chat = html(signed_in(member).get(chat_url, **HTMX))
    assert f'hx-post="/simulator/{sandbox.pk}/read"' in chat
    with django_capture_on_commit_callbacks(execute=True):
        answer = signed_in(member).post(f"/simulator/{sandbox.pk}/read", {"customer": CUSTOMER}, **HTMX)
    assert answer.status_code == 204
    reply.refresh_from_db()
    assert reply.status == MessageStatus.READ
    assert f"/simulator/{sandbox.pk}/read" not in html(signed_in(member).get(chat_url, **HTMX))


def test_a_viewer_reads_the_simulator_but_may_not_write_or_switch_failures(viewer, sandbox, customer_wrote):
    client = signed_in(viewer)

    page = html(client.get(f"/simulator/{sandbox.pk}/"))
    assert "Do you ship to Porto?" in page
    assert 'name="text"' not in page
    assert "Make the next reply fail" not in page
    assert "need the User role" in page

    assert send(client, sandbox, "Hello").status_code == 403
    assert client.post(f"/simulator/{sandbox.pk}/failure", {"failure": "131026"}).status_code == 403
    assert Message.objects.filter(direction=MessageDirection.INBOUND).count() == 1
    assert Channel.objects.get(pk=sandbox.pk).sandbox_failure == SandboxFailure.NONE


def test_bad_input_is_a_400_and_nothing_is_sent(member, sandbox):
    client = signed_in(member)

    empty = send(client, sandbox, "   ")
    not_a_number = send(client, sandbox, "Hello", customer="+1 (555) 0100")
    too_long = send(client, sandbox, "x" * 4097)
    nameless = client.get(f"/simulator/{sandbox.pk}/", {"customer": CUSTOMER})
    bad_failure = client.post(f"/simulator/{sandbox.pk}/failure", {"failure": "404"})

    assert empty.status_code == not_a_number.status_code == too_long.status_code == 400
    assert "This field is required." in html(empty)
    assert nameless.status_code == 400
    assert "Give the new customer a name" in html(nameless)
    assert bad_failure.status_code == 400
    assert "Choose one of the failures offered." in html(bad_failure)
    assert not InboundWebhookEvent.objects.exists()
    assert Channel.objects.get(pk=sandbox.pk).sandbox_failure == SandboxFailure.NONE


def test_a_user_switches_a_failure_on_and_off(member, sandbox):
    client = signed_in(member)

    response = client.post(
        f"/simulator/{sandbox.pk}/failure", {"failure": "131026", "customer": CUSTOMER, "name": "Nadia"}, follow=True
    )

    page = html(response)
    assert f"The next reply from {sandbox} fails: Undeliverable (error 131026)." in page
    assert "The next reply from this number fails" in page
    assert response.redirect_chain[-1][0] == f"/simulator/{sandbox.pk}/?customer={CUSTOMER}&name=Nadia"
    assert Channel.objects.get(pk=sandbox.pk).sandbox_failure == SandboxFailure.UNDELIVERABLE

    client.post(f"/simulator/{sandbox.pk}/failure", {"failure": ""})
    assert Channel.objects.get(pk=sandbox.pk).sandbox_failure == SandboxFailure.NONE
    assert AuditLog.objects.filter(action="sandbox.failure_set").count() == 2


def test_a_deactivated_sandbox_number_offers_no_composer_and_takes_nothing(member, sandbox):
    Channel.objects.filter(pk=sandbox.pk).update(is_active=False)
    client = signed_in(member)

    page = html(client.get(f"/simulator/{sandbox.pk}/", {"customer": CUSTOMER, "name": "Nadia"}))
    response = send(client, sandbox, "Hello?")

    assert "This sandbox number is deactivated" in page
    assert 'name="text"' not in page
    assert response.status_code == 409
    assert not InboundWebhookEvent.objects.exists()


# --- tenancy and roles --------------------------------------------------------------------------------


def _simulator_requests(channel: Channel) -> list[tuple[str, str, dict[str, str]]]:
    base = f"/simulator/{channel.pk}"
    return [
        ("get", f"{base}/", {}),
        ("get", f"{base}/chat", {"customer": CUSTOMER, "name": "Nadia"}),
        ("post", f"{base}/send", {"customer": CUSTOMER, "name": "Nadia", "text": "Hi"}),
        ("post", f"{base}/read", {"customer": CUSTOMER}),
        ("post", f"{base}/failure", {"failure": "500"}),
    ]


def test_another_tenants_sandbox_number_is_404_like_a_missing_one(member, foreign_sandbox):
    client = signed_in(member)
    missing = Channel(pk=foreign_sandbox.pk + 1000)

    for (method, url, data), (_, missing_url, _) in zip(
        _simulator_requests(foreign_sandbox), _simulator_requests(missing), strict=True
    ):
        assert getattr(client, method)(url, data).status_code == 404, url
        assert getattr(client, method)(missing_url, data).status_code == 404, missing_url

    assert not InboundWebhookEvent.objects.exists()
    assert Channel.objects.get(pk=foreign_sandbox.pk).sandbox_failure == SandboxFailure.NONE


def test_a_real_number_has_no_simulator(member, channel):
    client = signed_in(member)
    for method, url, data in _simulator_requests(channel):
        assert getattr(client, method)(url, data).status_code == 404, url
    assert not InboundWebhookEvent.objects.exists()


def test_a_disabled_workspace_is_signed_out_and_nothing_is_simulated(account, member, sandbox, super_admin):
    client = signed_in(member)
    account_deactivate(account=account, actor=Principal.for_user(super_admin))

    for method, url, data in _simulator_requests(sandbox):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/")
        client = signed_in(member)

    assert not InboundWebhookEvent.objects.exists()
    assert Channel.objects.get(pk=sandbox.pk).sandbox_failure == SandboxFailure.NONE


def test_every_simulator_view_goes_through_page():
    names = {pattern.name for pattern in simulator_urls.urlpatterns if isinstance(pattern, URLPattern)}
    assert names == {"index", "number", "chat", "send", "read", "failure"}
    assert all(hasattr(pattern.callback, "page_role") for pattern in simulator_urls.urlpatterns)
    assert any(str(p.pattern) == "simulator/" for p in get_resolver().url_patterns)


def test_the_navigation_leads_to_the_simulator(viewer):
    assert '<a href="/simulator/"' in html(signed_in(viewer).get("/inbox/"))


def test_the_page_costs_the_same_for_few_or_many_customers(
    member, sandbox, django_assert_num_queries, django_capture_on_commit_callbacks
):
    client = signed_in(member)

    def customers_write(first: int, count: int) -> None:
        for index in range(first, first + count):
            with django_capture_on_commit_callbacks(execute=True):
                sandbox_customer_writes(
                    channel=sandbox,
                    wa_id=f"155501002{index:02d}",
                    name=f"Customer {index}",
                    text="Hello",
                    actor=Principal.for_user(member),
                )

    # given one customer, then twelve: session, person, tenant, the number, its customers, the open
    # chat's messages and the tenant's sandbox numbers, whatever the number of customers
    customers_write(0, 1)
    client.get(f"/simulator/{sandbox.pk}/")  # warm the caches
    with django_assert_num_queries(7):
        client.get(f"/simulator/{sandbox.pk}/")
    customers_write(1, 11)
    with django_assert_num_queries(7):
        page = html(client.get(f"/simulator/{sandbox.pk}/"))

    assert page.count('<span class="name">Customer') == 12
