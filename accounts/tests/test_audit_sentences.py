"""The audit log reads as sentences ("Ana changed Bruno's role to Viewer") with links to what has a
page, its codes kept as filters; and the admin names things as people say them."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import AuditLog, Role, User
from accounts.principals import Principal
from accounts.services.audit import SYSTEM, audit_log_record
from accounts.services.auth import login_success_record
from accounts.services.users import user_update
from accounts.tests.factories import UserFactory
from inbox.tests.factories import ChannelFactory, LeadFactory

AUDIT = "/settings/audit/"


def signed_in(user: User) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def ana(account) -> User:
    return UserFactory(account=account, role=Role.CLIENT_ADMIN, full_name="Ana Admin", email="ana@acme.test")


@pytest.fixture
def bruno(account) -> User:
    return UserFactory(account=account, role=Role.USER, full_name="Bruno Silva", email="bruno@acme.test")


def sentences(html: str) -> list[str]:
    """The "What happened" cells, as text (tags dropped)."""
    cells = re.findall(r'<td class="sentence"[^>]*>(.*?)<br>', html, re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


def test_entries_read_as_sentences_with_links_and_keep_their_code_as_a_filter(ana, bruno):
    # given Ana signed in and made Bruno a viewer
    login_success_record(user=ana, method="session", context=SYSTEM)
    user_update(user=bruno, role=Role.VIEWER, actor=Principal.for_user(ana))

    # when she reads the audit log
    html = signed_in(ana).get(AUDIT).content.decode()

    # then each entry is a sentence, Bruno linked to the people page
    shown = sentences(html)
    assert "Ana Admin changed Bruno Silva’s role to Viewer" in shown
    assert "Ana Admin changed Bruno Silva’s role" in shown  # the user.updated entry: which fields
    assert "Ana Admin signed in" in shown
    assert '<a href="/settings/users/">Bruno Silva’s</a> role to Viewer' in html
    # and the codes stay, each a link that filters the log by it
    assert 'href="?action=user.role_changed"' in html
    assert 'href="?action=auth.login"' in html
    assert "auth.login" in html


def test_a_filter_by_code_still_works(ana, bruno):
    login_success_record(user=ana, method="session", context=SYSTEM)
    user_update(user=bruno, role=Role.VIEWER, actor=Principal.for_user(ana))

    html = signed_in(ana).get(AUDIT, {"action": "user.role_changed"}).content.decode()

    assert sentences(html) == ["Ana Admin changed Bruno Silva’s role to Viewer"]


def test_people_acting_on_themselves_read_as_their_own(ana):
    signed_in(ana).post("/accounts/profile/", {"time_zone": "Europe/Lisbon"})

    html = signed_in(ana).get(AUDIT).content.decode()

    assert "Ana Admin set their time zone to Europe/Lisbon" in sentences(html)


def test_targets_link_to_their_page_and_deleted_ones_keep_their_name(ana, account):
    lead = LeadFactory(account=account, name="Lena Lead")
    audit_log_record(action="lead.created", actor=ana, account=account, target=lead)
    audit_log_record(action="agent.deleted", actor=ana, account=account, metadata={"name": "Old bot"})

    html = signed_in(ana).get(AUDIT).content.decode()

    assert "Ana Admin added the lead Lena Lead" in sentences(html)
    assert f'added the lead <a href="/leads/{lead.pk}/">Lena Lead</a>' in html
    assert "Ana Admin deleted the agent Old bot" in sentences(html)


def test_an_action_without_a_phrase_still_reads_as_a_sentence(ana, account):
    audit_log_record(action="webhook.frobnicated", actor=ana, account=account)
    AuditLog.objects.create(account=account, action="secrets.rotated_somewhere")

    shown = sentences(signed_in(ana).get(AUDIT).content.decode())

    assert "Ana Admin: webhook frobnicated" in shown
    assert "SkyBot: secrets rotated somewhere" in shown


def test_the_simulators_actions_read_as_sentences(ana, account):
    # the rows inbox/services/sandbox.py writes
    channel = ChannelFactory(account=account, name="Test line")
    audit_log_record(
        action="sandbox.customer_message",
        actor=ana,
        account=account,
        target=channel,
        metadata={"wa_id": "15550007777", "wamid": "wamid.x"},
    )
    audit_log_record(
        action="sandbox.failure_set", actor=ana, account=account, target=channel, metadata={"failure": "131026"}
    )

    shown = sentences(signed_in(ana).get(AUDIT).content.decode())

    assert "Ana Admin wrote to the sandbox number Test line as the customer 15550007777" in shown
    assert "Ana Admin set the failure test of the sandbox number Test line to 131026" in shown


def test_another_tenants_rows_are_never_named(ana, account, other_account):
    # given a row of Acme whose target id is a lead of Globex (ids are shared across tenants)
    theirs = LeadFactory(account=other_account, name="Secret Globex lead")
    AuditLog.objects.create(
        account=account, actor_user=ana, actor_label=ana.email, action="lead.updated",
        target_type="inbox.lead", target_id=str(theirs.pk),
    )  # fmt: skip

    html = signed_in(ana).get(AUDIT).content.decode()

    assert "Secret Globex lead" not in html
    assert "Ana Admin changed the lead something since deleted" in sentences(html)


def test_naming_the_targets_costs_one_query_per_kind_not_per_row(ana, account, django_assert_num_queries):
    browser = signed_in(ana)
    for _ in range(3):
        audit_log_record(action="lead.created", actor=ana, account=account, target=LeadFactory(account=account))
    with django_assert_num_queries(7) as few:  # the page's six, and one for the leads
        browser.get(AUDIT)
    for _ in range(30):
        audit_log_record(action="lead.created", actor=ana, account=account, target=LeadFactory(account=account))
    with django_assert_num_queries(len(few.captured_queries)):
        browser.get(AUDIT)


def test_the_overview_shows_the_latest_entries_as_sentences(ana, bruno):
    user_update(user=bruno, role=Role.VIEWER, actor=Principal.for_user(ana))

    html = signed_in(ana).get("/settings/").content.decode()

    assert (
        '<span title="ana@acme.test">Ana Admin</span> changed <a href="/settings/users/">Bruno Silva’s</a> role' in html
    )


# --- the admin's names ------------------------------------------------------------------------------


def test_the_admin_names_each_section_once_and_says_deliveries(super_admin):
    html = signed_in(super_admin).get("/admin/").content.decode()

    sections = re.findall(r"<caption>\s*<a [^>]*>([^<]+)</a>", html)
    assert len(sections) == len(set(sections))
    assert "Accounts" not in sections  # allauth's app: named for what it holds
    assert "Sign-in email addresses" in sections
    assert "Tenants and people" in sections
    assert "Event deliveries" in html
    assert "deliverys" not in html.lower()
