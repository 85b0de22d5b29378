"""The Inbox pages: who sees and does what, tenant isolation, bad input, the 24-hour window, the
regions that reload live, media, and query counts that do not grow with the data."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from accounts.models import AuditLog
from agents.tests.factories import AgentFactory
from core.tests.html import assert_no_inline_code
from inbox.models import Contact, Conversation, Label, Lead, Message
from inbox.tests.factories import ContactFactory, ConversationFactory, LeadFactory, MessageFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def htmx(target: str = "") -> dict[str, str]:
    return {**HTMX, "HTTP_HX_TARGET": target} if target else HTMX


@pytest.fixture
def conversation(channel):
    now = timezone.now()
    conversation = ConversationFactory(
        account=channel.account,
        channel=channel,
        contact=ContactFactory(account=channel.account, name="Sheena Nelson", wa_id="16505551234"),
        last_message_at=now,
        last_inbound_at=now - timedelta(minutes=5),
        unread_count=2,
    )
    MessageFactory(conversation=conversation, text="Does it come in another color?")
    return conversation


@pytest.fixture
def foreign_conversation(other_account):
    conversation = ConversationFactory(account=other_account, last_message_at=timezone.now())
    MessageFactory(conversation=conversation, text="A secret of another tenant")
    return conversation


@pytest.fixture
def media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }


# --- pages by role --------------------------------------------------------------------------------


@pytest.mark.parametrize("user_fixture", ["viewer", "member", "client_admin"])
def test_every_role_sees_the_list_and_the_open_thread(request, user_fixture, conversation):
    # given a person of the tenant
    client = signed_in(request.getfixturevalue(user_fixture))

    # when they open the inbox and then the conversation
    listing = client.get("/inbox/")
    thread = client.get(f"/inbox/{conversation.pk}/")

    # then both pages show the conversation, with no inline code
    for response in (listing, thread):
        assert response.status_code == 200
        assert "Sheena Nelson" in response.content.decode()
        assert_no_inline_code(response)
    assert "Does it come in another color?" in thread.content.decode()
    assert 'data-feeds="inbox"' in thread.content.decode()


def test_a_viewer_gets_no_reply_box_and_no_write_controls(viewer, conversation):
    # when a VIEWER opens a conversation
    html = signed_in(viewer).get(f"/inbox/{conversation.pk}/").content.decode()

    # then nothing on the page writes
    assert 'method="post" action="/inbox/' not in html
    assert "Write a reply" not in html
    assert "Replying and changing it needs the User role" in html
    assert f"/inbox/{conversation.pk}/read" not in html  # opening it does not mark it read either


def test_a_user_gets_the_reply_box_and_the_controls(member, conversation):
    html = signed_in(member).get(f"/inbox/{conversation.pk}/").content.decode()

    for action in ("reply", "status", "assign", "labels", "contact", "lead", "read"):
        assert f"/inbox/{conversation.pk}/{action}" in html


def test_signed_out_visitors_are_sent_to_sign_in(conversation):
    response = Client().get(f"/inbox/{conversation.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_inbox_says_what_to_do_when_it_is_empty(client_admin):
    html = signed_in(client_admin).get("/inbox/").content.decode()
    assert "No conversations yet" in html
    assert "/settings/" in html  # an admin is pointed at connecting a number


# --- another tenant -------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "messages", "composer", "controls"])
def test_another_tenants_conversation_is_not_found(member, foreign_conversation, suffix):
    response = signed_in(member).get(f"/inbox/{foreign_conversation.pk}/{suffix}")
    assert response.status_code == 404
    assert "A secret of another tenant" not in response.content.decode()


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("reply", {"text": "hello"}),
        ("status", {"status": "resolved"}),
        ("assign", {"assign-to": ""}),
        ("labels", {"labels-add": "vip"}),
        ("read", {}),
        ("contact", {"contact-name": "Renamed"}),
        ("lead", {"lead-name": "Lead", "lead-status": "new", "lead-score": "1"}),
        ("handoff", {}),
    ],
)
def test_actions_on_another_tenants_conversation_are_not_found_and_change_nothing(
    member, foreign_conversation, action, data
):
    # when a person of one tenant posts to another tenant's conversation
    response = signed_in(member).post(f"/inbox/{foreign_conversation.pk}/{action}", data, **HTMX)

    # then it does not exist for them, and nothing changed
    assert response.status_code == 404
    foreign_conversation.refresh_from_db()
    assert foreign_conversation.status == "open"
    assert foreign_conversation.contact.name != "Renamed"
    assert Message.objects.filter(conversation=foreign_conversation).count() == 1
    assert not Label.objects.exists()
    assert not Lead.objects.exists()


def test_another_tenants_filter_values_are_refused(member, conversation, other_account):
    # given a label and a channel of another tenant
    other = ConversationFactory(account=other_account)
    other.labels.add(Label.objects.create(account=other_account, name="theirs"))

    # when they are used as filters
    response = signed_in(member).get("/inbox/", {"label": "theirs", "channel": other.channel_id})

    # then they are no valid choice
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


# --- the role refuses what the page hides ---------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("reply", {"text": "hello"}),
        ("status", {"status": "resolved"}),
        ("priority", {"priority": "high"}),
        ("assign", {"assign-to": ""}),
        ("labels", {"labels-add": "vip"}),
        ("read", {}),
        ("contact", {"contact-name": "Renamed"}),
        ("lead", {"lead-name": "Lead", "lead-status": "new", "lead-score": "1"}),
        ("handoff", {}),
    ],
)
def test_a_viewer_cannot_act_even_by_posting(viewer, conversation, action, data):
    # when a VIEWER posts what the page does not offer them
    response = signed_in(viewer).post(f"/inbox/{conversation.pk}/{action}", data)

    # then it is refused, and nothing changed
    assert response.status_code == 403
    conversation.refresh_from_db()
    assert (conversation.status, conversation.priority, conversation.unread_count) == ("open", "normal", 2)
    assert conversation.contact.name == "Sheena Nelson"
    assert Message.objects.filter(conversation=conversation).count() == 1
    assert not Label.objects.exists()
    assert not Lead.objects.exists()


# --- the list: filters and search -----------------------------------------------------------------


def _listed(response) -> list[str]:
    return re.findall(r'class="conv-name">([^<]+)<', response.content.decode())


def test_filters_and_search_narrow_the_list(member, channel):
    # given conversations in different states
    account = channel.account
    now = timezone.now()

    def make(name, **kwargs):
        contact = ContactFactory(account=account, name=name)
        return ConversationFactory(account=account, channel=channel, contact=contact, last_message_at=now, **kwargs)

    mine = make("Mine Mendez", assignee=member)
    make("Resolved Rita", status="resolved")
    agent = AgentFactory(account=account, name="Sales bot", status="active")
    make("Botty Barnes", agent=agent, status="pending")
    labelled = make("Labelled Lou")
    labelled.labels.add(Label.objects.create(account=account, name="vip"))
    client = signed_in(member)

    # when / then
    assert _listed(client.get("/inbox/", {"assignee": "me"})) == ["Mine Mendez"]
    assert _listed(client.get("/inbox/", {"status": "resolved"})) == ["Resolved Rita"]
    assert _listed(client.get("/inbox/", {"assignee": f"agent:{agent.pk}"})) == ["Botty Barnes"]
    assert _listed(client.get("/inbox/", {"assignee": f"user:{member.pk}"})) == ["Mine Mendez"]
    assert _listed(client.get("/inbox/", {"label": "vip"})) == ["Labelled Lou"]
    assert _listed(client.get("/inbox/", {"q": "rita"})) == ["Resolved Rita"]
    assert _listed(client.get("/inbox/", {"q": mine.contact.wa_id})) == ["Mine Mendez"]
    unassigned = set(_listed(client.get("/inbox/", {"assignee": "none"})))
    assert unassigned == {"Resolved Rita", "Botty Barnes", "Labelled Lou"}
    nothing = client.get("/inbox/", {"q": "nobody by this name"})
    assert "No conversation matches" in nothing.content.decode()


def test_the_list_region_answers_alone_for_htmx_keeping_its_filters(member, conversation):
    # when the list reloads itself (a live event) with a filter
    response = signed_in(member).get("/inbox/", {"status": "open"}, **htmx("conversation-list"))

    # then only the list's content comes back, with the length it shows for the next reload
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1" not in html
    assert "Sheena Nelson" in html
    assert 'id="list-pages" name="pages" value="1"' in html


def test_bad_filters_are_a_400_that_names_them(member, conversation):
    response = signed_in(member).get("/inbox/", {"status": "bogus", "assignee": "user:999999"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "These filters cannot be used" in html
    assert "Sheena Nelson" not in re.sub(r"<h2.*?</h2>", "", html)  # no list under broken filters


def test_newest_activity_comes_first_and_more_can_be_shown(member, channel):
    # given more conversations than one page holds
    now = timezone.now()
    for minutes in range(30):
        ConversationFactory(
            account=channel.account,
            channel=channel,
            contact=ContactFactory(account=channel.account, name=f"Customer {minutes:02d}"),
            last_message_at=now - timedelta(minutes=minutes),
        )
    client = signed_in(member)

    # when the list opens, then after "Show more"
    first = client.get("/inbox/")
    more = client.get("/inbox/", {"pages": 2}, **htmx("conversation-list"))

    # then the newest come first, and the second page adds the rest
    assert _listed(first)[:3] == ["Customer 00", "Customer 01", "Customer 02"]
    assert len(_listed(first)) == 25
    assert "Show more conversations" in first.content.decode()
    assert len(_listed(more)) == 30
    assert "Show more conversations" not in more.content.decode()


def test_a_list_that_stops_growing_says_so(member, channel):
    # given more conversations than the list shows at most (20 pages of 25)
    now = timezone.now()
    contacts = Contact.objects.bulk_create(
        Contact(account=channel.account, name=f"Customer {n:03d}", wa_id=f"1555077{n:04d}") for n in range(501)
    )
    Conversation.objects.bulk_create(
        Conversation(
            account=channel.account, channel=channel, contact=contact, last_message_at=now - timedelta(minutes=n)
        )
        for n, contact in enumerate(contacts)
    )

    # when the last page the list offers is shown
    page = signed_in(member).get("/inbox/", {"pages": 20}, **htmx("conversation-list")).content.decode()

    # then no "Show more" is offered, and the page says the list stops here and how to go further
    assert len(re.findall(r'class="conv-name">', page)) == 500
    assert "Show more conversations" not in page
    assert "These are the 500 conversations with the newest activity. Search or filter to find older ones." in page


def test_the_list_query_count_does_not_grow_with_conversations(member, channel, django_assert_num_queries):
    def add(count):
        for _ in range(count):
            conversation = ConversationFactory(
                account=channel.account, channel=channel, assignee=member, last_message_at=timezone.now()
            )
            conversation.labels.add(Label.objects.get_or_create(account=channel.account, name="vip")[0])
            MessageFactory(conversation=conversation)

    add(2)
    client = signed_in(member)
    with django_assert_num_queries(10) as few:
        client.get("/inbox/")
    add(20)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(_listed(client.get("/inbox/"))) == 22


# --- the thread -----------------------------------------------------------------------------------


def test_messages_render_by_type_with_ticks_that_say_their_status(member, conversation, media):
    # given messages of many types, and replies in every delivery state
    def say(**kwargs):
        return MessageFactory(conversation=conversation, **kwargs)

    stored = default_storage.save(
        f"whatsapp/{conversation.account_id}/{conversation.channel_id}/m1.jpg", ContentFile(b"jpeg")
    )
    say(type="image", text="This one", media={"download_status": "stored", "file": stored, "mime_type": "image/jpeg"})
    say(type="audio", text="", media={"download_status": "failed", "download_error": "Media expired"})
    say(type="location", text="Showroom, Rua Augusta", payload={"location": {"latitude": 38.71, "longitude": -9.13}})
    say(type="reaction", text="👍")
    say(type="interactive", text="Weekend delivery", payload={"interactive": {"type": "list_reply"}})
    say(type="button", text="Track order")
    say(type="unsupported", text="", payload={"type": "ephemeral"})
    for status in ("sent", "delivered", "read"):
        say(direction="out", text=f"reply {status}", status=status)
    say(direction="out", text="reply failed", status="failed", error={"code": 131026, "message": "Phone unreachable"})
    say(
        direction="out",
        type="template",
        text="[template order_update]",
        status="queued",
        payload={"template": {"name": "order_update", "components": [{"parameters": [{"text": "#1042"}]}]}},
    )

    # when the thread opens
    html = signed_in(member).get(f"/inbox/{conversation.pk}/").content.decode()

    # then each reads as what it is
    assert f'src="/inbox/{conversation.pk}/messages/' in html
    assert "This one" in html
    assert "Audio that could not be downloaded (Media expired)" in html
    assert "openstreetmap.org/?mlat=38.710000&amp;mlon=-9.130000" in html
    assert 'Reacted</span> <span class="emoji">👍' in html
    assert "Chose from the list:" in html
    assert "Tapped the template button:" in html
    assert "A “ephemeral” message the inbox cannot show" in html
    assert "order_update" in html
    assert "#1042" in html
    for label in ("Sent", "Delivered", "Read", "Queued", "Failed: Phone unreachable"):
        assert f'aria-label="{label}"' in html
    assert "Not delivered: Phone unreachable" in html


def test_the_thread_query_count_does_not_grow_with_messages(member, conversation, django_assert_num_queries):
    client = signed_in(member)
    with django_assert_num_queries(14) as few:
        client.get(f"/inbox/{conversation.pk}/")
    for n in range(30):
        MessageFactory(conversation=conversation, direction="out", status="read", sender_user=member, text=f"n{n}")
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(f"/inbox/{conversation.pk}/")


def test_earlier_messages_load_on_demand(member, conversation):
    for n in range(45):
        MessageFactory(conversation=conversation, text=f"message number {n}")
    client = signed_in(member)

    first = client.get(f"/inbox/{conversation.pk}/messages", **HTMX).content.decode()
    everything = client.get(f"/inbox/{conversation.pk}/messages", {"shown": 80}, **HTMX).content.decode()

    assert "message number 44" in first
    assert "message number 4<" not in first
    assert "Show earlier messages" in first
    assert "message number 4<" in everything
    assert "Show earlier messages" not in everything


def test_a_thread_longer_than_shown_at_most_says_so(member, conversation):
    # given more messages than the thread shows at most
    Message.objects.bulk_create(
        Message(
            account=conversation.account,
            conversation=conversation,
            channel=conversation.channel,
            direction="in",
            text=f"message number {n}",
        )
        for n in range(1001)
    )

    # when the most it shows are asked for
    page = signed_in(member).get(f"/inbox/{conversation.pk}/messages", {"shown": 1000}, **HTMX).content.decode()

    # then there is no button for more, and the thread says older messages are not shown
    assert page.count('<li class="bubble') == 1000
    assert "Show earlier messages" not in page
    assert "These are the newest 1000 messages of this conversation; older ones are not shown here." in page


def test_opening_an_unread_thread_offers_to_mark_it_read(member, conversation):
    client = signed_in(member)
    html = client.get(f"/inbox/{conversation.pk}/").content.decode()
    assert f'hx-post="/inbox/{conversation.pk}/read" hx-trigger="load"' in html

    response = client.post(f"/inbox/{conversation.pk}/read", **HTMX)

    assert response.status_code == 204
    conversation.refresh_from_db()
    assert conversation.unread_count == 0


# --- replying -------------------------------------------------------------------------------------


def test_a_reply_is_queued_and_the_box_comes_back_empty(member, conversation):
    # when a USER sends a reply from the box
    response = signed_in(member).post(f"/inbox/{conversation.pk}/reply", {"text": "Yes, in blue too."}, **HTMX)

    # then it is queued as theirs, and the reply box comes back empty
    assert response.status_code == 200
    assert response["HX-Trigger"] == "inbox:sent"
    message = Message.objects.get(conversation=conversation, direction="out")
    assert (message.text, message.status, message.sender_user) == ("Yes, in blue too.", "queued", member)
    html = response.content.decode()
    assert 'id="composer"' in html
    assert "Yes, in blue too." not in html
    assert AuditLog.objects.filter(action="message.sent").exists()


def test_a_reply_without_javascript_returns_to_the_conversation(member, conversation):
    response = signed_in(member).post(f"/inbox/{conversation.pk}/reply", {"text": "Hello"})
    assert response.status_code == 302
    assert response["Location"] == f"/inbox/{conversation.pk}/"


@pytest.mark.parametrize("text", ["", "   ", "x" * 4097])
def test_an_empty_or_too_long_reply_is_a_400_and_sends_nothing(member, conversation, text):
    response = signed_in(member).post(f"/inbox/{conversation.pk}/reply", {"text": text}, **HTMX)

    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    assert not Message.objects.filter(direction="out").exists()


def test_after_24_hours_the_box_offers_a_template_and_says_why(member, conversation):
    # given a customer who last wrote two days ago
    conversation.last_inbound_at = timezone.now() - timedelta(days=2)
    conversation.save()
    client = signed_in(member)

    # when the thread opens
    html = client.get(f"/inbox/{conversation.pk}/").content.decode()

    # then free text is not offered, and the page says why and what to do
    assert "Free text is not possible now." in html
    assert "Write a reply" not in html
    assert 'name="template"' in html

    # and free text posted anyway is refused with the reason, sending nothing
    refused = client.post(f"/inbox/{conversation.pk}/reply", {"text": "Hello?"}, **HTMX)
    assert refused.status_code == 409
    assert "send an approved template instead" in refused.content.decode()
    assert not Message.objects.filter(direction="out").exists()

    # while an approved template goes out
    sent = client.post(
        f"/inbox/{conversation.pk}/reply",
        {"template": "order_update", "language": "en_US", "parameters": "#1042\nFriday"},
        **HTMX,
    )
    assert sent.status_code == 200
    message = Message.objects.get(direction="out")
    assert message.type == "template"
    assert message.payload["template"]["components"][0]["parameters"][1] == {"type": "text", "text": "Friday"}


def test_a_template_with_a_bad_name_is_a_400(member, conversation):
    response = signed_in(member).post(
        f"/inbox/{conversation.pk}/reply", {"template": "Order Update!", "language": "english"}, **HTMX
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Lowercase letters, digits and _ only" in html
    assert "A language code such as en" in html
    assert not Message.objects.filter(direction="out").exists()


def test_the_reply_box_reloads_only_when_the_window_changes(member, conversation):
    client = signed_in(member)
    assert client.get(f"/inbox/{conversation.pk}/composer", {"window": "open"}, **HTMX).status_code == 204
    changed = client.get(f"/inbox/{conversation.pk}/composer", {"window": "closed"}, **HTMX)
    assert changed.status_code == 200
    assert "Write a reply" in changed.content.decode()


# --- working the conversation ---------------------------------------------------------------------


def test_status_changes_and_snoozing_needs_a_future_time(member, conversation):
    client = signed_in(member)

    resolved = client.post(f"/inbox/{conversation.pk}/status", {"status": "resolved"}, **HTMX)
    conversation.refresh_from_db()
    assert resolved.status_code == 200
    assert conversation.status == "resolved"
    assert 'id="conversation-status">Resolved' in resolved.content.decode()

    no_time = client.post(f"/inbox/{conversation.pk}/status", {"status": "snoozed"}, **HTMX)
    past = client.post(
        f"/inbox/{conversation.pk}/status", {"status": "snoozed", "snoozed_until": "2001-01-01T10:00"}, **HTMX
    )
    conversation.refresh_from_db()
    assert (no_time.status_code, past.status_code) == (400, 400)
    assert "Pick when the conversation comes back." in no_time.content.decode()
    assert "Pick a time in the future." in past.content.decode()
    assert conversation.status == "resolved"

    until = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    snoozed = client.post(f"/inbox/{conversation.pk}/status", {"status": "snoozed", "snoozed_until": until}, **HTMX)
    conversation.refresh_from_db()
    assert snoozed.status_code == 200
    assert conversation.status == "snoozed"
    assert conversation.snoozed_until is not None


def test_labels_are_added_and_removed(member, conversation):
    client = signed_in(member)

    client.post(f"/inbox/{conversation.pk}/labels", {"labels-add": "vip"}, **HTMX)
    added = client.post(f"/inbox/{conversation.pk}/labels", {"labels-add": "billing"}, **HTMX)
    assert sorted(conversation.labels.values_list("name", flat=True)) == ["billing", "vip"]
    assert 'aria-label="Remove label vip"' in added.content.decode()

    client.post(f"/inbox/{conversation.pk}/labels", {"labels-remove": "vip"}, **HTMX)
    assert list(conversation.labels.values_list("name", flat=True)) == ["billing"]

    empty = client.post(f"/inbox/{conversation.pk}/labels", {"labels-add": "  "}, **HTMX)
    too_long = client.post(f"/inbox/{conversation.pk}/labels", {"labels-add": "x" * 51}, **HTMX)
    assert (empty.status_code, too_long.status_code) == (400, 400)
    assert list(conversation.labels.values_list("name", flat=True)) == ["billing"]


def test_priority_changes(member, conversation):
    response = signed_in(member).post(f"/inbox/{conversation.pk}/priority", {"priority": "urgent"}, **HTMX)
    conversation.refresh_from_db()
    assert (response.status_code, conversation.priority) == (200, "urgent")

    bad = signed_in(member).post(f"/inbox/{conversation.pk}/priority", {"priority": "asap"}, **HTMX)
    conversation.refresh_from_db()
    assert (bad.status_code, conversation.priority) == (400, "urgent")


def test_the_controls_reload_only_when_something_they_show_changed(member, conversation):
    client = signed_in(member)
    page = client.get(f"/inbox/{conversation.pk}/").content.decode()
    version = re.search(r'id="controls-version" name="v" value="(\w+)"', page).group(1)

    # an inbound message changes nothing the controls show
    Conversation.objects.filter(pk=conversation.pk).update(unread_count=5, last_message_at=timezone.now())
    assert client.get(f"/inbox/{conversation.pk}/controls", {"v": version}, **HTMX).status_code == 204

    # a teammate resolving it does
    Conversation.objects.filter(pk=conversation.pk).update(status="resolved")
    changed = client.get(f"/inbox/{conversation.pk}/controls", {"v": version}, **HTMX)
    assert changed.status_code == 200
    assert 'id="conversation-status">Resolved' in changed.content.decode()


def test_a_failed_action_without_javascript_shows_the_page_with_the_error(member, conversation):
    response = signed_in(member).post(f"/inbox/{conversation.pk}/status", {"status": "snoozed"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Pick when the conversation comes back." in html
    assert 'id="conversation-list"' in html
    assert_no_inline_code(response)


# --- contact and lead -----------------------------------------------------------------------------


def test_the_contact_is_edited_and_audited(member, conversation):
    response = signed_in(member).post(
        f"/inbox/{conversation.pk}/contact",
        {"contact-name": "Sheena N.", "contact-email": "sheena@example.com", "contact-phone": "16505551234"},
        **HTMX,
    )

    assert response.status_code == 200
    assert "Contact saved." in response.content.decode()
    contact = Contact.objects.get(pk=conversation.contact_id)
    assert (contact.name, contact.email) == ("Sheena N.", "sheena@example.com")
    audit = AuditLog.objects.get(action="contact.updated")
    assert audit.metadata["fields"] == ["email", "name"]


def test_a_bad_contact_email_is_a_400_and_changes_nothing(member, conversation):
    response = signed_in(member).post(
        f"/inbox/{conversation.pk}/contact", {"contact-name": "Other", "contact-email": "not-an-email"}, **HTMX
    )

    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert Contact.objects.get(pk=conversation.contact_id).name == "Sheena Nelson"


def test_a_lead_is_created_from_the_conversation_then_edited(member, conversation):
    client = signed_in(member)
    lead_fields = {"lead-name": "Sheena Nelson", "lead-status": "new", "lead-score": "30", "lead-source": "whatsapp"}

    created = client.post(f"/inbox/{conversation.pk}/lead", lead_fields, **HTMX)
    lead = Lead.objects.get()
    assert created.status_code == 200
    assert (lead.contact_id, lead.account_id, lead.score) == (conversation.contact_id, conversation.account_id, 30)

    edited = client.post(f"/inbox/{conversation.pk}/lead", {**lead_fields, "lead-status": "qualified"}, **HTMX)
    lead.refresh_from_db()
    assert edited.status_code == 200
    assert lead.status == "qualified"
    assert Lead.objects.count() == 1
    assert AuditLog.objects.get(action="lead.updated").metadata["fields"] == ["status"]


def test_a_lead_with_a_bad_score_is_a_400(member, conversation):
    response = signed_in(member).post(
        f"/inbox/{conversation.pk}/lead", {"lead-name": "X", "lead-status": "new", "lead-score": "101"}, **HTMX
    )
    assert response.status_code == 400
    assert "less than or equal to 100" in response.content.decode()
    assert not Lead.objects.exists()


def test_the_panel_shows_the_contacts_lead(viewer, conversation):
    LeadFactory(account=conversation.account, contact=conversation.contact, status="won", score=88)
    html = signed_in(viewer).get(f"/inbox/{conversation.pk}/").content.decode()
    assert "lead-won" in html
    assert "88" in html


# --- media ----------------------------------------------------------------------------------------


def test_stored_media_is_served_to_the_tenant_only(member, other_admin, conversation, media):
    name = default_storage.save(
        f"whatsapp/{conversation.account_id}/{conversation.channel_id}/photo.jpg", ContentFile(b"\xff\xd8jpeg")
    )
    image = MessageFactory(
        conversation=conversation,
        type="image",
        media={"download_status": "stored", "file": name, "mime_type": "image/jpeg"},
    )
    url = f"/inbox/{conversation.pk}/messages/{image.pk}/media"

    response = signed_in(member).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == b"\xff\xd8jpeg"
    assert signed_in(other_admin).get(url).status_code == 404
    assert Client().get(url).status_code == 302


def test_media_a_browser_could_run_is_downloaded_not_shown(member, conversation, media):
    name = default_storage.save(
        f"whatsapp/{conversation.account_id}/{conversation.channel_id}/x.svg", ContentFile(b"<svg onload=alert(1)>")
    )
    svg = MessageFactory(
        conversation=conversation,
        type="document",
        media={"download_status": "stored", "file": name, "mime_type": "image/svg+xml", "filename": "x.svg"},
    )

    response = signed_in(member).get(f"/inbox/{conversation.pk}/messages/{svg.pk}/media")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize(
    "media_field",
    [
        {"download_status": "pending"},
        {"download_status": "stored", "file": "whatsapp/999999/1/elsewhere.jpg"},
        {"download_status": "stored", "file": "../../etc/passwd"},
    ],
)
def test_media_not_stored_for_this_tenant_is_not_found(member, conversation, media, media_field):
    message = MessageFactory(conversation=conversation, type="image", media=media_field)
    assert signed_in(member).get(f"/inbox/{conversation.pk}/messages/{message.pk}/media").status_code == 404


# --- demo content ---------------------------------------------------------------------------------


def test_the_demo_inbox_is_seeded_once_and_shows_a_living_inbox(account, client_admin, media):
    from django.core.management.base import OutputWrapper

    from inbox.demo import DEMO_PHONE_NUMBER_ID, seed_demo

    # when the demo content is seeded twice
    def counts():
        return [model.objects.count() for model in (Conversation, Message, Lead, Label)]

    out = io.StringIO()
    seed_demo(account, stdout=OutputWrapper(out))
    first = counts()
    seed_demo(account, stdout=OutputWrapper(out))

    # then the second run added nothing, and the inbox shows conversations in several states
    assert counts() == first
    assert Conversation.objects.get(contact__name="Sheena Nelson").channel.phone_number_id == DEMO_PHONE_NUMBER_ID
    assert set(Conversation.objects.values_list("status", flat=True)) == {"open", "pending", "resolved", "snoozed"}
    assert len(set(Message.objects.values_list("type", flat=True))) >= 8
    html = signed_in(client_admin).get("/inbox/").content.decode()
    assert len(_listed(signed_in(client_admin).get("/inbox/"))) == first[0]
    assert "0 new conversations" in out.getvalue()
    assert 'class="badge snoozed"' in html
