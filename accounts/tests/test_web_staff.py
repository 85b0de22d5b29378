"""Platform staff act in a tenant they choose: the switcher, the pages in that tenant, stopping, and
who cannot use it.

Staff belong to no tenant. Without a choice a tenant page sends them to the switcher (never the 403
page); with one they see and work that tenant's pages, and only that tenant's, under a banner.
Entering and leaving are audit rows in the tenant. Nobody else can use the switcher or smuggle a
tenant into their session.
"""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Account, AuditLog, Role, User
from accounts.principals import Principal
from accounts.services.staff import ENTERED, LEFT
from accounts.services.tenants import account_deactivate
from accounts.web.pages import STAFF_TENANT_SESSION_KEY
from inbox.tests.factories import ConversationFactory

SWITCHER = "/accounts/staff/workspace/"
STOP = "/accounts/staff/workspace/stop/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def signed_in(user: User) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def staff(super_admin) -> Client:
    return signed_in(super_admin)


def audit_actions(account: Account) -> list[str]:
    return list(AuditLog.objects.filter(account=account).order_by("created_at").values_list("action", flat=True))


def act_in(browser: Client, account: Account, **data: str):
    return browser.post(SWITCHER, {"account": str(account.pk), **data})


# --- without a choice ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/inbox/", "/settings/users/", "/leads/", "/accounts/profile/"])
def test_staff_without_a_choice_are_sent_to_the_switcher_not_a_403(staff, account, url):
    # when staff open a tenant page before choosing a tenant
    response = staff.get(url)

    # then they land on the switcher, which lists the tenants to choose from
    assert response.status_code == 302
    assert response["Location"].startswith(f"{SWITCHER}?next=")
    switcher = staff.get(response["Location"])
    assert switcher.status_code == 200
    page = switcher.content.decode()
    assert "Choose a workspace to act in" in page
    assert f'aria-label="Act in {account.name}"' in page
    assert "Permission denied" not in page


def test_home_sends_staff_to_the_switcher_until_they_choose(staff, account):
    assert staff.get("/")["Location"] == SWITCHER
    act_in(staff, account)
    assert staff.get("/")["Location"] == "/inbox/"


def test_a_part_of_a_page_asked_without_a_choice_is_refused_with_a_notice(staff, account):
    conversation = ConversationFactory(account=account)

    response = staff.get(f"/inbox/{conversation.pk}/messages", **HTMX)

    assert response.status_code == 403
    assert "Choose a workspace to act in first." in response.content.decode()


# --- acting in a tenant ----------------------------------------------------------------------------


def test_staff_act_in_the_tenant_they_choose_and_see_only_its_rows(staff, super_admin, account, other_account):
    # given a conversation in each of two tenants
    ours = ConversationFactory(account=account, contact__name="Olivia Ours")
    ConversationFactory(account=other_account, contact__name="Theo Theirs")

    # when staff choose Acme, coming from the inbox
    response = act_in(staff, account, next="/inbox/")

    # then they are taken back to the inbox, which shows Acme's conversations only, under the banner
    assert (response.status_code, response["Location"]) == (302, "/inbox/")
    inbox = staff.get("/inbox/")
    assert inbox.status_code == 200
    page = inbox.content.decode()
    assert "Olivia Ours" in page
    assert "Theo Theirs" not in page
    assert "Acting in <strong>Acme</strong> as platform staff" in page
    assert 'action="/accounts/staff/workspace/stop/"' in page
    # and the conversation opens, while another tenant's is the same 404 as a missing one
    assert staff.get(f"/inbox/{ours.pk}/").status_code == 200
    assert staff.get(f"/inbox/{ConversationFactory(account=other_account).pk}/").status_code == 404
    # and the tenant's audit log says staff came in
    entered = AuditLog.objects.get(account=account, action=ENTERED)
    assert (entered.actor_user, entered.target_id) == (super_admin, str(account.pk))


def test_staff_use_the_tenants_admin_pages_and_their_changes_are_theirs(staff, super_admin, account, client_admin):
    act_in(staff, account)

    # when staff invite someone in the tenant
    people = staff.get("/settings/users/")
    response = staff.post(
        "/settings/users/new/", {"email": "new@acme.test", "role": Role.VIEWER, "sign_in": "link", "full_name": "N"}
    )

    # then it is done in that tenant, audited under the staff member
    assert people.status_code == 200
    assert client_admin.email in people.content.decode()
    assert response.status_code == 302
    invited = User.objects.get(email="new@acme.test")
    assert invited.account == account
    created = AuditLog.objects.get(action="user.created", target_id=str(invited.pk))
    assert (created.account, created.actor_user) == (account, super_admin)


def test_the_principal_of_staff_in_a_tenant_is_scoped_to_it(super_admin, account):
    principal = Principal.for_staff_in(super_admin, account)

    assert principal.is_staff_acting
    assert not principal.is_platform  # so every read is scoped to `account`
    assert principal.has_role(Role.CLIENT_ADMIN)


def test_switching_to_another_tenant_leaves_the_first(staff, account, other_account):
    act_in(staff, account)

    act_in(staff, other_account)

    assert audit_actions(account) == [ENTERED, LEFT]
    assert audit_actions(other_account) == [ENTERED]
    assert staff.session[STAFF_TENANT_SESSION_KEY] == other_account.pk


def test_stopping_is_audited_and_ends_the_choice(staff, account):
    act_in(staff, account)

    response = staff.post(STOP)

    assert (response.status_code, response["Location"]) == (302, SWITCHER)
    assert audit_actions(account) == [ENTERED, LEFT]
    assert STAFF_TENANT_SESSION_KEY not in staff.session
    assert staff.get("/inbox/")["Location"].startswith(SWITCHER)


def test_the_switcher_only_goes_back_to_our_own_pages(staff, account):
    response = act_in(staff, account, next="https://evil.example/steal")

    assert response["Location"] == "/inbox/"


# --- refused ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "abc", "999999", "-1"])
def test_a_tenant_that_does_not_exist_is_a_form_error_and_changes_nothing(staff, account, value):
    response = staff.post(SWITCHER, {"account": value})

    assert response.status_code == 400
    assert "Choose one of the workspaces listed." in response.content.decode()
    assert STAFF_TENANT_SESSION_KEY not in staff.session
    assert not AuditLog.objects.filter(action=ENTERED).exists()


def test_a_disabled_tenant_cannot_be_entered(staff, account):
    account.is_active = False
    account.save(update_fields=["is_active"])

    response = act_in(staff, account)

    assert response.status_code == 400
    assert "This workspace is disabled" in response.content.decode()
    assert STAFF_TENANT_SESSION_KEY not in staff.session
    assert audit_actions(account) == []


def test_staff_stop_acting_in_a_tenant_that_gets_disabled(staff, super_admin, account):
    # given staff acting in a tenant
    act_in(staff, account)

    # when the tenant is disabled
    account_deactivate(account=account, actor=Principal.for_user(super_admin))
    response = staff.get("/inbox/")

    # then the next page takes them to the switcher, saying why, and they are still signed in
    assert response.status_code == 302
    assert response["Location"].startswith(SWITCHER)
    follow = staff.get(response["Location"])
    assert "Acme has been disabled, so you no longer act in it." in follow.content.decode()
    assert STAFF_TENANT_SESSION_KEY not in staff.session
    left = AuditLog.objects.get(account=account, action=LEFT)
    assert left.metadata["reason"] == "workspace disabled"


@pytest.mark.parametrize("who", ["client_admin", "member", "viewer"])
def test_people_of_a_tenant_cannot_use_the_switcher(request, who, account, other_account):
    person = request.getfixturevalue(who)
    browser = signed_in(person)

    # when they open the switcher, or post another tenant to it, or try to stop
    responses = [browser.get(SWITCHER), act_in(browser, other_account), browser.post(STOP)]

    # then each is the 403 page, and nothing is recorded
    assert [response.status_code for response in responses] == [403, 403, 403]
    assert STAFF_TENANT_SESSION_KEY not in browser.session
    assert not AuditLog.objects.filter(action__in=[ENTERED, LEFT]).exists()


def test_a_tenant_smuggled_into_a_persons_session_is_ignored(client_admin, account, other_account):
    # given an admin whose session somehow names another tenant
    ConversationFactory(account=account, contact__name="Olivia Ours")
    ConversationFactory(account=other_account, contact__name="Theo Theirs")
    browser = signed_in(client_admin)
    session = browser.session
    session[STAFF_TENANT_SESSION_KEY] = other_account.pk
    session.save()

    # when they open the inbox
    page = browser.get("/inbox/").content.decode()

    # then they see their own tenant, and no banner
    assert "Olivia Ours" in page
    assert "Theo Theirs" not in page
    assert "as platform staff" not in page


def test_signed_out_visitors_are_sent_to_sign_in(client, db):
    assert client.get(SWITCHER)["Location"].startswith("/accounts/login/")
    assert client.post(STOP)["Location"].startswith("/accounts/login/")


def test_the_switcher_finds_tenants_by_name(staff, account, other_account):
    page = staff.get(SWITCHER, {"q": "glob"}).content.decode()

    assert "Globex" in page
    assert 'aria-label="Act in Acme"' not in page
