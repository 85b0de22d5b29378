"""The Leads pages: the table and its filters, the CSV download, and a lead's form — by role, per
tenant, with bad input refused and a flat query count."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AuditLog
from core.tests.html import assert_no_inline_code
from inbox.models import Lead
from inbox.tests.factories import ContactFactory, ConversationFactory, LeadFactory

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def listed(response) -> list[str]:
    return re.findall(r'<td><a href="/leads/\d+/">([^<]+)</a>', response.content.decode())


def lead_fields(**changes) -> dict[str, str]:
    fields = {
        "lead-name": "Ana Lima",
        "lead-company": "Lima Lda",
        "lead-email": "ana@lima.example",
        "lead-phone": "+351 910 000 000",
        "lead-status": "qualified",
        "lead-score": "60",
        "lead-source": "website",
    }
    return {**fields, **changes}


@pytest.fixture
def leads(account, other_account):
    now = timezone.now()
    won = LeadFactory(account=account, name="Wanda Won", status="won", source="website")
    fresh = LeadFactory(account=account, name="Nico New", status="new", source="whatsapp")
    old = LeadFactory(account=account, name="Olga Old", status="new", source="whatsapp")
    Lead.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=40))
    LeadFactory(account=other_account, name="Foreign Fred", status="won")
    return {"won": won, "fresh": fresh, "old": old}


@pytest.mark.parametrize("user_fixture", ["viewer", "member", "client_admin"])
def test_every_role_sees_the_tenants_leads(request, user_fixture, leads):
    response = signed_in(request.getfixturevalue(user_fixture)).get("/leads/")

    assert response.status_code == 200
    assert sorted(listed(response)) == ["Nico New", "Olga Old", "Wanda Won"]
    assert_no_inline_code(response)


def test_a_viewer_is_offered_no_way_to_write(viewer, leads):
    client = signed_in(viewer)
    html = client.get("/leads/").content.decode()
    lead_page = client.get(f"/leads/{leads['won'].pk}/").content.decode()

    assert "New lead" not in html
    assert "Export CSV" in html  # reading, not writing
    assert "lead-form" not in lead_page
    assert "Save lead" not in lead_page
    assert "Wanda Won" in lead_page


def test_filters_narrow_the_table(member, leads):
    client = signed_in(member)
    today = timezone.now().date()

    assert listed(client.get("/leads/", {"status": "won"})) == ["Wanda Won"]
    assert listed(client.get("/leads/", {"source": "website"})) == ["Wanda Won"]
    recent = client.get("/leads/", {"created_from": (today - timedelta(days=7)).isoformat()})
    assert sorted(listed(recent)) == ["Nico New", "Wanda Won"]
    older = client.get("/leads/", {"created_to": (today - timedelta(days=30)).isoformat()})
    assert listed(older) == ["Olga Old"]
    assert listed(client.get("/leads/", {"created_to": today.isoformat(), "status": "new"})) == ["Nico New", "Olga Old"]
    nothing = client.get("/leads/", {"status": "lost"})
    assert "No lead matches" in nothing.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"status": "bogus"},
        {"created_from": "yesterday"},
        {"created_from": "2026-02-10", "created_to": "2026-02-01"},
    ],
)
def test_bad_filters_are_a_400_that_says_which(member, leads, query):
    response = signed_in(member).get("/leads/", query)

    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    assert listed(response) == []


def test_the_calendars_first_and_last_days_are_valid_filters(member, leads):
    response = signed_in(member).get("/leads/", {"created_from": "0001-01-01", "created_to": "9999-12-31"})

    assert response.status_code == 200
    assert len(listed(response)) == 3


def test_an_empty_table_says_what_to_do(member):
    html = signed_in(member).get("/leads/").content.decode()
    assert "No leads yet" in html
    assert "/leads/new" in html


def test_the_csv_export_downloads_the_filtered_leads_of_the_tenant(viewer, leads):
    # when the table is filtered and exported
    response = signed_in(viewer).get("/leads/export.csv", {"status": "new"})

    # then the download holds exactly those leads
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="leads-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["id", "name", "email"]
    assert [row[1] for row in rows[1:]] == ["Nico New", "Olga Old"]


def test_the_export_link_carries_the_tables_filters(member, leads):
    html = signed_in(member).get("/leads/", {"status": "won", "source": "website"}).content.decode()
    assert 'href="/leads/export.csv?status=won&amp;source=website"' in html


def test_a_bad_export_filter_is_a_400(member, leads):
    response = signed_in(member).get("/leads/export.csv", {"created_from": "soon"})
    assert response.status_code == 400


def test_a_user_edits_a_lead_and_it_is_audited(member, leads):
    lead = leads["fresh"]

    response = signed_in(member).post(f"/leads/{lead.pk}/", lead_fields(**{"lead-name": lead.name}))

    assert response.status_code == 302
    assert response["Location"] == "/leads/"
    lead.refresh_from_db()
    assert (lead.status, lead.score, lead.company) == ("qualified", 60, "Lima Lda")
    audit = AuditLog.objects.get(action="lead.updated")
    assert "status" in audit.metadata["fields"]
    assert "name" not in audit.metadata["fields"]  # only what changed


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"lead-score": "150"}, "less than or equal to 100"),
        ({"lead-name": ""}, "This field is required."),
        ({"lead-email": "nope"}, "Enter a valid email address."),
        ({"lead-status": "maybe"}, "Select a valid choice"),
    ],
)
def test_bad_lead_input_is_a_400_with_the_error_and_changes_nothing(member, leads, changes, error):
    lead = leads["fresh"]

    response = signed_in(member).post(f"/leads/{lead.pk}/", lead_fields(**changes))

    assert response.status_code == 400
    assert error in response.content.decode()
    lead.refresh_from_db()
    assert (lead.name, lead.status) == ("Nico New", "new")
    assert_no_inline_code(response)


def test_a_viewer_cannot_edit_or_create_even_by_posting(viewer, leads):
    client = signed_in(viewer)
    lead = leads["fresh"]

    assert client.post(f"/leads/{lead.pk}/", lead_fields()).status_code == 403
    assert client.get("/leads/new").status_code == 403
    assert client.post("/leads/new", lead_fields()).status_code == 403
    lead.refresh_from_db()
    assert lead.name == "Nico New"
    assert Lead.objects.count() == 4


def test_another_tenants_lead_is_not_found(member, other_account):
    foreign = LeadFactory(account=other_account, name="Foreign Fred")
    client = signed_in(member)

    assert client.get(f"/leads/{foreign.pk}/").status_code == 404
    assert client.post(f"/leads/{foreign.pk}/", lead_fields()).status_code == 404
    foreign.refresh_from_db()
    assert foreign.name == "Foreign Fred"


def test_a_user_creates_a_lead(member):
    client = signed_in(member)
    assert client.get("/leads/new").status_code == 200

    response = client.post("/leads/new", lead_fields())

    assert response.status_code == 302
    lead = Lead.objects.get()
    assert (lead.account, lead.name, lead.score) == (member.account, "Ana Lima", 60)
    assert "Lead “Ana Lima” created." in client.get("/leads/").content.decode()


def test_a_lead_links_to_its_contacts_conversation(member, account, channel):
    contact = ContactFactory(account=account, name="Chat Charlie")
    conversation = ConversationFactory(account=account, channel=channel, contact=contact)
    LeadFactory(account=account, name="Charlie", contact=contact)

    html = signed_in(member).get("/leads/").content.decode()

    assert f'<a href="/inbox/{conversation.pk}/">Chat Charlie</a>' in html


def test_the_table_query_count_does_not_grow_with_leads(member, account, channel, django_assert_num_queries):
    def add(count):
        for _ in range(count):
            contact = ContactFactory(account=account)
            ConversationFactory(account=account, channel=channel, contact=contact)
            LeadFactory(account=account, contact=contact)

    add(2)
    client = signed_in(member)
    with django_assert_num_queries(5) as few:
        client.get("/leads/")
    add(20)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(listed(client.get("/leads/"))) == 22
