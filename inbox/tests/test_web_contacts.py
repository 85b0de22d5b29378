"""The Contacts pages: the table (by role, per tenant, searched, paged by position with no row missed
or repeated, at a flat query count) and a contact's page, where the User role edits."""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qsl

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, get_resolver
from django.utils import timezone

from accounts.models import AuditLog
from accounts.principals import Principal
from accounts.services.tenants import account_deactivate
from accounts.web.pages import WORKSPACE_DISABLED
from core.tests.html import assert_no_inline_code
from inbox.models import Contact
from inbox.tests.factories import ChannelFactory, ContactFactory, ConversationFactory, LeadFactory
from inbox.web.contacts import PAGE_SIZE

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def listed(response) -> list[str]:
    """The names in the table, top to bottom."""
    return [
        unescape(name) for name in re.findall(r'<td><a href="/contacts/\d+/">([^<]+)</a>', response.content.decode())
    ]


def link(response, label: str) -> str | None:
    """The query string of the pager's link `label` ("Older", "Newer"), if the page has one."""
    found = re.search(rf'<a href="\?([^"]+)">[^<]*{label}[^<]*</a>', response.content.decode())
    return unescape(found.group(1)) if found else None


def contact_fields(**changes) -> dict[str, str]:
    fields = {"contact-name": "Ana Lima", "contact-phone": "+351 910 000 000", "contact-email": "ana@lima.example"}
    return {**fields, **changes}


@pytest.fixture
def contacts(account, other_account):
    ana = ContactFactory(account=account, name="Ana Silva", wa_id="351912345678", email="ana@silva.example")
    bruno = ContactFactory(account=account, name="Bruno Costa", wa_id="5511987654321", phone="+55 11 98765-4321")
    carla = ContactFactory(account=account, name="Carla Dias", wa_id="14155550123", email="carla@dias.example")
    ContactFactory(account=other_account, name="Ana Foreign", wa_id="351912345679", email="ana@foreign.example")
    return {"ana": ana, "bruno": bruno, "carla": carla}


@pytest.mark.parametrize("user_fixture", ["viewer", "member", "client_admin"])
def test_every_role_sees_the_tenants_contacts_newest_first(request, user_fixture, contacts):
    response = signed_in(request.getfixturevalue(user_fixture)).get("/contacts/")

    assert response.status_code == 200
    assert listed(response) == ["Carla Dias", "Bruno Costa", "Ana Silva"]
    assert "Ana Foreign" not in response.content.decode()
    assert_no_inline_code(response)


@pytest.mark.parametrize("user_fixture", ["viewer", "member", "client_admin"])
def test_the_navigation_offers_contacts_beside_leads(request, user_fixture):
    html = signed_in(request.getfixturevalue(user_fixture)).get("/contacts/").content.decode()

    entries = re.findall(r'<li><a href="([^"]+)"[^>]*>([^<]+)</a></li>', html)
    assert ("/contacts/", "Contacts") in entries
    assert [label for _, label in entries].index("Contacts") == [label for _, label in entries].index("Leads") + 1
    assert 'href="/contacts/" aria-current="page"' in html


def test_a_signed_out_visitor_is_sent_to_sign_in(contacts):
    response = Client().get("/contacts/", {"q": "ana"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/contacts/")


@pytest.mark.parametrize("path", ["/contacts/", "contact"])
def test_an_open_session_of_a_disabled_tenant_is_signed_out_and_sees_nothing(
    account, member, super_admin, contacts, path
):
    # given a person's open session, and then their tenant disabled
    browser = signed_in(member)
    account_deactivate(account=account, actor=Principal.for_user(super_admin))

    # when they open the table or a contact
    url = path if path.startswith("/") else f"/contacts/{contacts['ana'].pk}/"
    response = browser.get(url)

    # then they are sent to sign in, told why, shown no contact, and the session is over
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "Ana Silva" not in response.content.decode()
    assert SESSION_KEY not in browser.session
    assert WORKSPACE_DISABLED in [str(notice) for notice in get_messages(response.wsgi_request)]


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("silva", ["Ana Silva"]),  # part of the name, any case
        ("+55 11 98765", ["Bruno Costa"]),  # the phone as it is stored
        ("(415) 555-0123", ["Carla Dias"]),  # the WhatsApp number however it is written
        ("351 912", ["Ana Silva"]),
        ("dias.example", ["Carla Dias"]),  # the email
        ("ANA@", ["Ana Silva"]),
        ("nobody-like-this", []),
    ],
)
def test_the_search_finds_by_name_phone_number_and_email_in_the_tenant_only(member, contacts, search, found):
    response = signed_in(member).get("/contacts/", {"q": search})

    assert response.status_code == 200
    assert listed(response) == found
    assert "Ana Foreign" not in response.content.decode()
    if not found:
        assert "No contact matches" in response.content.decode()


def test_a_row_shows_the_number_email_day_added_conversation_and_lead(member, account, channel):
    # given a contact added at 23:30 UTC, seen by someone in Tokyo (already the next day there)
    member.time_zone = "Asia/Tokyo"
    member.save(update_fields=["time_zone"])
    contact = ContactFactory(account=account, name="Dora Tan", wa_id="6591234567", email="dora@tan.example")
    Contact.objects.filter(pk=contact.pk).update(created_at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    # with two conversations (the later one is the one to open) and a lead
    now = timezone.now()
    ConversationFactory(account=account, channel=channel, contact=contact, last_message_at=now - timedelta(days=2))
    latest = ConversationFactory(
        account=account, channel=ChannelFactory(account=account), contact=contact, last_message_at=now
    )
    lead = LeadFactory(account=account, contact=contact, status="qualified")

    html = signed_in(member).get("/contacts/").content.decode()

    row = re.search(r"<tr>\s*<td><a href=\"/contacts/\d+/\">Dora Tan</a>.*?</tr>", html, re.S)
    assert row is not None
    cells = row.group(0)
    assert "+6591234567" in cells
    assert 'href="mailto:dora@tan.example"' in cells
    assert ">2 Mar 2026</time>" in cells
    assert 'title="2 Mar 2026, 08:30"' in cells
    assert f'href="/inbox/{latest.pk}/"' in cells
    assert f'href="/leads/{lead.pk}/" class="badge lead-qualified">Qualified</a>' in cells


def test_a_contact_without_conversation_or_lead_shows_dashes(member, contacts):
    html = signed_in(member).get("/contacts/").content.decode()

    rows = html[html.index("<tbody>") : html.index("</tbody>")]
    assert "/inbox/" not in rows
    assert "/leads/" not in rows
    assert rows.count("<td>—</td>") == 3 * 2 + 1  # no conversation nor lead for any; no email for Bruno


def many_contacts(account, count: int, *, name: str = "Person") -> list[Contact]:
    """`count` contacts, four at a time created at the very same moment (ties only the id can order)."""
    start = timezone.now() - timedelta(days=1)
    made = Contact.objects.bulk_create(
        Contact(account=account, wa_id=f"44{next(NUMBERS):010d}", name=f"{name} {index:03d}") for index in range(count)
    )
    for index, contact in enumerate(made):  # `created_at` is set on creation: written afterwards
        contact.created_at = start + timedelta(seconds=index // 4)
    Contact.objects.bulk_update(made, ["created_at"])
    return made


NUMBERS = itertools.count()


def walk(client: Client, query: dict[str, str], label: str) -> tuple[list[list[str]], list[dict[str, Any]]]:
    """Follow the pager's `label` links from the page `query` to the last; each page's names."""
    pages, queries = [], []
    while query is not None:
        response = client.get("/contacts/", query)
        assert response.status_code == 200
        pages.append(listed(response))
        queries.append(query)
        following = link(response, label)
        query = dict(parse_qsl(following)) if following else None  # type: ignore[assignment]
        assert len(pages) < 10
    return pages, queries


def test_paging_walks_every_contact_once_and_back(member, account, other_account):
    # given more than two pages of contacts, many sharing their creation time, and another tenant's
    made = many_contacts(account, 2 * PAGE_SIZE + 7)
    many_contacts(other_account, 5, name="Foreign")
    newest_first = [contact.name for contact in sorted(made, key=lambda c: (c.created_at, c.pk), reverse=True)]
    client = signed_in(member)

    # when the Older links are followed to the end
    pages, queries = walk(client, {}, "Older")

    # then every contact was shown exactly once, newest first, a page at a time
    assert [len(page) for page in pages] == [PAGE_SIZE, PAGE_SIZE, 7]
    assert list(itertools.chain.from_iterable(pages)) == newest_first

    # and the Newer links from the last page lead back through the same pages
    back, _ = walk(client, queries[-1], "Newer")
    assert back == pages[::-1]
    # and the newest page offers no Newer link, the others a way back to the newest
    first = client.get("/contacts/").content.decode()
    assert "Newer" not in first
    assert "Newest" not in first
    assert "« Newest" in client.get("/contacts/", queries[1]).content.decode()


def test_paging_keeps_the_search(member, account):
    many_contacts(account, PAGE_SIZE + 3, name="Match")
    many_contacts(account, 10, name="Other")
    client = signed_in(member)

    pages, queries = walk(client, {"q": "match"}, "Older")

    assert [len(page) for page in pages] == [PAGE_SIZE, 3]
    assert all(name.startswith("Match") for name in itertools.chain.from_iterable(pages))
    assert queries[1]["q"] == "match"


def test_a_page_past_the_oldest_contact_says_so(member, account):
    many_contacts(account, 3)
    client = signed_in(member)
    oldest = Contact.objects.order_by("created_at", "id").first()
    assert oldest is not None
    token = f"{(oldest.created_at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)}-{oldest.pk}"

    response = client.get("/contacts/", {"before": token})

    assert response.status_code == 200
    assert "No older contacts" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"before": "yesterday"},
        {"after": "12-"},
        {"before": "99999999999999999999999-1"},  # beyond the calendar
        {"after": "1-99999999999999999999999"},  # beyond any row id the database can compare with
        {"before": "1-1", "after": "2-2"},
        {"q": "x" * 101},
    ],
)
def test_a_broken_page_link_or_search_is_a_400_that_shows_no_contact(member, contacts, query):
    response = signed_in(member).get("/contacts/", query)

    assert response.status_code == 400
    assert listed(response) == []
    assert "cannot be used" in response.content.decode() or "link is broken" in response.content.decode()


def test_the_table_costs_the_same_queries_whatever_the_number_of_contacts(
    member, account, channel, django_assert_num_queries
):
    def add(count: int) -> None:
        for _ in range(count):
            contact = ContactFactory(account=account)
            ConversationFactory(account=account, channel=channel, contact=contact)
            LeadFactory(account=account, contact=contact)

    add(2)
    client = signed_in(member)
    with django_assert_num_queries(4) as few:
        client.get("/contacts/")
    add(PAGE_SIZE + 10)
    with django_assert_num_queries(len(few.captured_queries)):
        first = client.get("/contacts/")
    assert len(listed(first)) == PAGE_SIZE
    older = link(first, "Older")
    assert older is not None
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(listed(client.get(f"/contacts/?{older}"))) == 12
    with django_assert_num_queries(len(few.captured_queries)):
        client.get("/contacts/", {"q": "a"})


@pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans are PostgreSQL's")
@pytest.mark.parametrize("query", [{}, {"before": "older"}, {"q": "silva"}, {"q": "351 912"}])
def test_each_page_reads_contacts_through_an_index(member, account, contacts, channel, query):
    # given the page's own query (the one reading contacts), as it ran
    many_contacts(account, PAGE_SIZE + 1)
    client = signed_in(member)
    if query.get("before"):
        query = dict(parse_qsl(link(client.get("/contacts/"), "Older") or ""))
    with CaptureQueriesContext(connection) as ran:
        assert client.get("/contacts/", query).status_code == 200
    (sql,) = [q["sql"] for q in ran.captured_queries if 'FROM "inbox_contact"' in q["sql"]]

    # then with sequential scans priced out, PostgreSQL still finds a plan reading no table whole
    assert whole_reads(sql) == []


def whole_reads(sql: str) -> list[str]:
    """What the plan of `sql` reads whole (a sequential scan, or an index scan without a condition)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        (document,) = cursor.fetchone()
        cursor.execute("RESET enable_seqscan")
    nodes, whole = [(json.loads(document) if isinstance(document, str) else document)[0]["Plan"]], []
    while nodes:
        node = nodes.pop()
        nodes.extend(node.get("Plans", []))
        scans_index = node["Node Type"] in {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}
        if node["Node Type"] == "Seq Scan" or (scans_index and "Index Cond" not in node):
            whole.append(node.get("Relation Name") or node.get("Index Name"))
    return whole


# --- a contact's page -----------------------------------------------------------------------------


def test_a_viewer_sees_a_contact_and_no_way_to_edit_it(viewer, contacts):
    html = signed_in(viewer).get(f"/contacts/{contacts['ana'].pk}/").content.decode()

    assert "Ana Silva" in html
    assert "+351912345678" in html
    assert "ana@silva.example" in html
    assert "contact-form" not in html
    assert "Save contact" not in html


def test_a_user_edits_a_contact_and_it_is_audited(member, contacts):
    contact = contacts["ana"]
    client = signed_in(member)
    assert "Save contact" in client.get(f"/contacts/{contact.pk}/").content.decode()

    response = client.post(
        f"/contacts/{contact.pk}/", contact_fields(**{"contact-name": "Ana Silva", "contact-email": "ana@new.example"})
    )

    assert response.status_code == 302
    assert response["Location"] == "/contacts/"
    contact.refresh_from_db()
    assert (contact.name, contact.email, contact.wa_id) == ("Ana Silva", "ana@new.example", "351912345678")
    audit = AuditLog.objects.get(action="contact.updated")
    assert audit.metadata["fields"] == ["email", "phone"]  # only what changed
    assert "Contact “Ana Silva” saved." in client.get("/contacts/").content.decode()


def test_a_post_without_the_csrf_token_is_refused(member, contacts):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)

    response = client.post(f"/contacts/{contacts['ana'].pk}/", contact_fields())

    assert response.status_code == 403
    contacts["ana"].refresh_from_db()
    assert contacts["ana"].name == "Ana Silva"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"contact-email": "nope"}, "Enter a valid email address."),
        ({"contact-name": "x" * 201}, "at most 200 characters"),
        ({"contact-phone": "1" * 33}, "at most 32 characters"),
    ],
)
def test_bad_contact_input_is_a_400_with_the_error_and_changes_nothing(member, contacts, changes, error):
    contact = contacts["ana"]

    response = signed_in(member).post(f"/contacts/{contact.pk}/", contact_fields(**changes))

    assert response.status_code == 400
    assert error in response.content.decode()
    contact.refresh_from_db()
    assert (contact.name, contact.email) == ("Ana Silva", "ana@silva.example")
    assert not AuditLog.objects.filter(action="contact.updated").exists()
    assert_no_inline_code(response)


def test_a_viewer_cannot_edit_even_by_posting(viewer, contacts):
    contact = contacts["ana"]

    assert signed_in(viewer).post(f"/contacts/{contact.pk}/", contact_fields()).status_code == 403

    contact.refresh_from_db()
    assert contact.name == "Ana Silva"


def test_another_tenants_contact_is_not_found(member, other_account):
    foreign = ContactFactory(account=other_account, name="Foreign Fred")
    client = signed_in(member)

    assert client.get(f"/contacts/{foreign.pk}/").status_code == 404
    assert client.post(f"/contacts/{foreign.pk}/", contact_fields()).status_code == 404
    assert client.get("/contacts/999999999/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.name == "Foreign Fred"


def test_a_contacts_page_links_to_its_conversation_and_lead(member, account, channel):
    contact = ContactFactory(account=account, name="Chat Charlie")
    conversation = ConversationFactory(account=account, channel=channel, contact=contact)
    lead = LeadFactory(account=account, contact=contact, status="won")

    html = signed_in(member).get(f"/contacts/{contact.pk}/").content.decode()

    assert f'<a href="/inbox/{conversation.pk}/">Open in the Inbox</a>' in html
    assert f'<a href="/leads/{lead.pk}/" class="badge lead-won">Won</a>' in html


def test_every_contacts_view_goes_through_page():
    resolver = get_resolver()
    (mount,) = [p for p in resolver.url_patterns if str(p.pattern) == "contacts/"]
    views = [p.callback for p in mount.url_patterns if isinstance(p, URLPattern)]

    assert len(views) == 2
    assert all(hasattr(view, "page_role") for view in views)
