"""Settings pages (people, API keys, audit log, billing, overview): who may open them, what they
change, and that a key's secret appears once and never again."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.contrib.auth import authenticate
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import ApiKey, AuditLog, Role, User
from accounts.principals import Principal
from accounts.services.api_keys import api_key_authenticate, api_key_create, api_key_revoke
from accounts.services.audit import audit_log_record
from accounts.services.users import user_update
from accounts.tests.factories import UserFactory
from core.tests.html import assert_no_inline_code

STRONG_PASSWORD = "plum-violet-orchard-42"
FULL_KEY = re.compile(r"sk_live_[A-Za-z0-9]{12}_[A-Za-z0-9]{40}")
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def web():
    """A browser signed in as `user` (a session, like the sign-in page gives)."""

    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def admin_web(web, client_admin) -> Client:
    return web(client_admin)


@pytest.fixture
def issued(account, client_admin):
    return api_key_create(
        account=account, name="Zapier", scopes=["read"], expires_at=None, actor=Principal.for_user(client_admin)
    )


def notices(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- who may open what ----------------------------------------------------------------------------


def pages(person: User, key: ApiKey) -> list[str]:
    return [
        "/settings/",
        "/settings/users/",
        "/settings/users/new/",
        "/settings/api-keys/",
        "/settings/api-keys/new/",
        f"/settings/api-keys/{key.pk}/",
        "/settings/audit/",
        "/settings/billing/",
    ]


def test_every_settings_page_renders_for_an_admin_without_inline_code(admin_web, client_admin, issued):
    for url in pages(client_admin, issued.api_key):
        # when
        response = admin_web.get(url)

        # then
        assert response.status_code == 200, url
        assert_no_inline_code(response)
        assert '/static/css/settings.css"' in response.content.decode()
        assert 'aria-current="page"' in response.content.decode()


@pytest.mark.parametrize("who", ["member", "viewer"])
def test_user_and_viewer_are_refused_every_settings_page_and_action(request, web, who, client_admin, issued):
    # given a USER or VIEWER of the tenant, and another person and key to act on
    person = request.getfixturevalue(who)
    browser = web(person)
    other = UserFactory(account=client_admin.account, role=Role.VIEWER)
    key = issued.api_key
    before = AuditLog.objects.count()

    # when they open each page, then each answers 403
    for url in pages(person, key):
        response = browser.get(url)
        assert response.status_code == 403, url
        assert "Permission denied" in response.content.decode()

    # and every form they post is refused and changes nothing
    posts = [
        ("/settings/users/new/", {"email": "x@acme.test", "role": Role.CLIENT_ADMIN, "sign_in": "link"}),
        (f"/settings/users/{other.pk}/role/", {"role": Role.CLIENT_ADMIN}),
        (f"/settings/users/{other.pk}/deactivate/", {}),
        (f"/settings/users/{other.pk}/reactivate/", {}),
        ("/settings/api-keys/new/", {"name": "Mine", "scopes": ["admin"]}),
        (f"/settings/api-keys/{key.pk}/rotate/", {"grace_seconds": "0"}),
        (f"/settings/api-keys/{key.pk}/revoke/", {}),
        ("/settings/billing/portal/", {}),
    ]
    for url, data in posts:
        assert browser.post(url, data).status_code == 403, url
    assert not User.objects.filter(email="x@acme.test").exists()
    other.refresh_from_db()
    assert (other.role, other.is_active) == (Role.VIEWER, True)
    assert ApiKey.objects.filter(account=client_admin.account).count() == 1
    assert api_key_authenticate(issued.key) is not None
    assert AuditLog.objects.count() == before


def test_a_visitor_who_is_not_signed_in_is_sent_to_the_sign_in_page(client, db):
    response = client.get("/settings/api-keys/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/settings/api-keys/")


def test_another_tenants_people_and_keys_answer_404_and_stay_as_they_were(admin_web, other_admin, other_account):
    # given a person and a key of another tenant
    stranger = UserFactory(account=other_account, role=Role.VIEWER)
    theirs = api_key_create(
        account=other_account, name="Theirs", scopes=["read"], expires_at=None, actor=Principal.for_user(other_admin)
    )

    # when the admin aims at them by id, then every page and action answers 404
    assert admin_web.get(f"/settings/api-keys/{theirs.api_key.pk}/").status_code == 404
    assert admin_web.post(f"/settings/api-keys/{theirs.api_key.pk}/rotate/", {"grace_seconds": "0"}).status_code == 404
    assert admin_web.post(f"/settings/api-keys/{theirs.api_key.pk}/revoke/").status_code == 404
    assert admin_web.post(f"/settings/users/{stranger.pk}/role/", {"role": Role.USER}).status_code == 404
    assert admin_web.post(f"/settings/users/{stranger.pk}/deactivate/").status_code == 404
    assert admin_web.post("/settings/users/999999/reactivate/").status_code == 404

    # and nothing of theirs changed
    stranger.refresh_from_db()
    assert (stranger.role, stranger.is_active) == (Role.VIEWER, True)
    assert api_key_authenticate(theirs.key) is not None


def test_the_lists_show_only_the_admins_own_tenant(admin_web, other_admin, other_account):
    api_key_create(
        account=other_account,
        name="Globex key",
        scopes=["read"],
        expires_at=None,
        actor=Principal.for_user(other_admin),
    )

    people = admin_web.get("/settings/users/").content.decode()
    keys = admin_web.get("/settings/api-keys/").content.decode()
    audit = admin_web.get("/settings/audit/").content.decode()

    assert "admin@acme.test" in people
    assert "admin@globex.test" not in people
    assert "Globex key" not in keys
    assert "admin@globex.test" not in audit


# --- users and roles ------------------------------------------------------------------------------


def test_the_users_page_lists_people_with_role_status_and_last_sign_in(admin_web, client_admin, member):
    # given a person who signed in once and one who was deactivated
    member.last_login = timezone.now()
    member.save(update_fields=["last_login"])
    gone = UserFactory(account=client_admin.account, role=Role.VIEWER, email="gone@acme.test", is_active=False)

    # when
    html = admin_web.get("/settings/users/").content.decode()

    # then
    row = html[html.index(f'id="user-{member.pk}"') :]
    assert "user@acme.test" in row
    assert '<option value="USER" selected>' in row
    assert member.last_login.strftime("%Y") in row.split("</tr>")[0]
    gone_row = html[html.index(f'id="user-{gone.pk}"') :].split("</tr>")[0]
    assert "Deactivated" in gone_row
    assert "Reactivate" in gone_row
    own_row = html[html.index(f'id="user-{client_admin.pk}"') :].split("</tr>")[0]
    assert "Another admin can change your own role" in own_row
    assert 'name="role"' not in own_row


def test_inviting_someone_creates_them_with_the_role_and_emails_a_sign_in_link(
    admin_web, client_admin, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_web.post(
            "/settings/users/new/",
            {"email": "New.Person@Acme.test", "full_name": "New Person", "role": Role.VIEWER, "sign_in": "link"},
        )

    # then
    assert response.status_code == 302
    assert response["Location"] == "/settings/users/"
    person = User.objects.get(email="new.person@acme.test")
    assert (person.account, person.role, person.full_name) == (client_admin.account, Role.VIEWER, "New Person")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@acme.test"]
    assert "admin@acme.test added you to Acme" in mail.outbox[0].body
    link = re.search(r"https?://\S+/accounts/magic-link/[^/\s]+/", mail.outbox[0].body)
    assert link is not None
    # the link signs the new person in
    confirm = Client().post(urlsplit(link.group(0)).path)
    assert confirm.status_code == 302
    assert AuditLog.objects.filter(action="user.created", target_id=str(person.pk)).exists()
    assert notices(response) == ["Invited new.person@acme.test: we emailed them a sign-in link."]


def test_adding_someone_with_a_first_password_lets_them_sign_in_with_it(admin_web):
    response = admin_web.post(
        "/settings/users/new/",
        {"email": "pat@acme.test", "role": Role.USER, "sign_in": "password", "password": STRONG_PASSWORD},
    )

    assert response.status_code == 302
    assert authenticate(email="pat@acme.test", password=STRONG_PASSWORD) is not None
    assert len(mail.outbox) == 0


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "not-an-email", "role": Role.USER, "sign_in": "link"}, "email", "Enter a valid email address."),
        ({"email": "a@acme.test", "role": Role.SUPER_ADMIN, "sign_in": "link"}, "role", "Select a valid choice."),
        ({"email": "a@acme.test", "role": Role.USER, "sign_in": "password"}, "password", "Type a first password"),
        (
            {"email": "a@acme.test", "role": Role.USER, "sign_in": "password", "password": "12345678"},
            "password",
            "This password is too common.",
        ),
        (
            {"email": "USER@acme.test", "role": Role.USER, "sign_in": "link"},
            "email",
            "A user with this email address already exists.",
        ),
    ],
)
def test_a_bad_invitation_shows_the_error_at_its_field_and_creates_nobody(admin_web, member, data, field, message):
    # given
    before = User.objects.count()

    # when
    response = admin_web.post("/settings/users/new/", data)

    # then
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field]), errors
    assert message.split("“")[0] in response.content.decode().replace("&#x27;", "'")
    assert User.objects.count() == before
    assert len(mail.outbox) == 0


def test_changing_a_role_saves_it_and_says_so(admin_web, member):
    # when
    response = admin_web.post(f"/settings/users/{member.pk}/role/", {"role": Role.VIEWER}, follow=True)

    # then
    member.refresh_from_db()
    assert member.role == Role.VIEWER
    assert "user@acme.test is now Viewer." in response.content.decode()
    assert AuditLog.objects.filter(action="user.role_changed", target_id=str(member.pk)).exists()


def test_an_unknown_role_changes_nothing(admin_web, member):
    response = admin_web.post(f"/settings/users/{member.pk}/role/", {"role": Role.SUPER_ADMIN}, follow=True)

    member.refresh_from_db()
    assert member.role == Role.USER
    assert "Choose one of the roles offered" in response.content.decode()


def test_the_last_admin_cannot_be_demoted_and_the_notice_says_why(admin_web, client_admin):
    # when the only admin's role is posted away (the page offers no control for it, a crafted form may)
    response = admin_web.post(
        f"/settings/users/{client_admin.pk}/role/",
        {"role": Role.VIEWER},
        HTTP_REFERER="http://testserver/settings/users/",
        follow=True,
    )

    # then
    client_admin.refresh_from_db()
    assert client_admin.role == Role.CLIENT_ADMIN
    assert response.redirect_chain[-1][0] == "http://testserver/settings/users/"
    assert "This is the last active administrator of the account" in response.content.decode()


def test_deactivating_and_reactivating_someone(admin_web, member):
    # when
    response = admin_web.post(f"/settings/users/{member.pk}/deactivate/", follow=True)

    # then
    member.refresh_from_db()
    assert member.is_active is False
    assert "user@acme.test is deactivated" in response.content.decode()

    # when
    admin_web.post(f"/settings/users/{member.pk}/reactivate/")

    # then
    member.refresh_from_db()
    assert member.is_active is True


def test_the_actions_only_accept_a_post(admin_web, member):
    assert admin_web.get(f"/settings/users/{member.pk}/deactivate/").status_code == 405
    member.refresh_from_db()
    assert member.is_active is True


def test_the_users_page_costs_the_same_queries_for_3_or_30_people(admin_web, client_admin, django_assert_num_queries):
    UserFactory.create_batch(2, account=client_admin.account)
    with django_assert_num_queries(4) as few:
        admin_web.get("/settings/users/")
    UserFactory.create_batch(27, account=client_admin.account)
    with django_assert_num_queries(len(few.captured_queries)):
        response = admin_web.get("/settings/users/")
    assert response.content.decode().count('<tr id="user-') == 30


# --- API keys -------------------------------------------------------------------------------------


def test_creating_a_key_shows_its_secret_once_and_then_only_its_prefix(admin_web, account):
    # when
    response = admin_web.post(
        "/settings/api-keys/new/", {"name": "CRM sync", "scopes": ["read", "write"], "expires_on": ""}
    )

    # then the answer holds the full key, in a read-only field with a copy button, never cached
    assert response.status_code == 201
    html = response.content.decode()
    secret = FULL_KEY.search(html)
    assert secret is not None
    assert 'id="new-key-secret"' in html
    assert "readonly" in html
    assert 'data-copy="#new-key-secret"' in html
    assert "no-store" in response["Cache-Control"]
    assert_no_inline_code(response)
    key = ApiKey.objects.get(account=account, name="CRM sync")
    assert key.scopes == ["read", "write"]
    assert key.expires_at is None
    assert api_key_authenticate(secret.group(0)) == key

    # and no page shows it again
    for url in ("/settings/api-keys/", f"/settings/api-keys/{key.pk}/", "/settings/api-keys/new/", "/settings/"):
        page = admin_web.get(url).content.decode()
        assert secret.group(0) not in page, url
        assert FULL_KEY.search(page) is None, url
    assert f"sk_live_{key.prefix}_" in admin_web.get("/settings/api-keys/").content.decode()


def test_an_htmx_create_answers_the_fragment_only(admin_web):
    response = admin_web.post("/settings/api-keys/new/", {"name": "Zap", "scopes": ["read"]}, **HTMX)

    assert response.status_code == 201
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="api-key-issued"' in html
    assert FULL_KEY.search(html) is not None


def test_a_key_with_an_expiry_day_works_until_the_end_of_that_day(admin_web, account):
    day = timezone.localdate() + timedelta(days=30)

    admin_web.post("/settings/api-keys/new/", {"name": "Temp", "scopes": ["read"], "expires_on": day.isoformat()})

    key = ApiKey.objects.get(account=account, name="Temp")
    assert timezone.localtime(key.expires_at).date() == day
    assert timezone.localtime(key.expires_at).hour == 23


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "scopes": ["read"]}, "name", "This field is required."),
        ({"name": "No scope"}, "scopes", "Choose at least one scope."),
        ({"name": "Bad scope", "scopes": ["root"]}, "scopes", "Select a valid choice."),
        (
            {"name": "Past", "scopes": ["read"], "expires_on": "2001-01-01"},
            "expires_on",
            "Choose today or a later day.",
        ),
        ({"name": "x" * 101, "scopes": ["read"]}, "name", "at most 100 characters"),
    ],
)
def test_a_bad_key_form_shows_the_error_and_creates_no_key(admin_web, account, data, field, message):
    response = admin_web.post("/settings/api-keys/new/", data)

    assert response.status_code == 400
    assert any(message in error for error in response.context["form"].errors[field])
    assert FULL_KEY.search(response.content.decode()) is None
    assert not ApiKey.objects.filter(account=account).exists()


def test_the_key_list_shows_name_prefix_scopes_dates_and_status(admin_web, account, client_admin, issued):
    # given a revoked key and an expired one
    actor = Principal.for_user(client_admin)
    old = api_key_create(account=account, name="Old", scopes=["read"], expires_at=None, actor=actor)
    api_key_revoke(api_key=old.api_key, actor=actor)
    soon = api_key_create(
        account=account, name="Soon", scopes=["admin"], expires_at=timezone.now() + timedelta(seconds=1), actor=actor
    )
    ApiKey.objects.filter(pk=soon.api_key.pk).update(expires_at=timezone.now() - timedelta(days=1))

    # when
    html = admin_web.get("/settings/api-keys/").content.decode()

    # then
    def row(key: ApiKey) -> str:
        return html[html.index(f'id="api-key-{key.pk}"') :].split("</tr>")[0]

    zapier = row(issued.api_key)
    assert "Zapier" in zapier
    assert issued.api_key.prefix in zapier
    assert ">read<" in zapier
    assert "Active" in zapier
    assert "Revoke" in zapier
    assert "admin@acme.test" in zapier
    assert "Revoked" in row(old.api_key)
    assert "Revoke<" not in row(old.api_key)
    assert "Expired" in row(soon.api_key)
    assert 'data-confirm="Revoke the key “Zapier”?' in zapier


def test_rotating_shows_the_new_secret_once_and_explains_the_grace_period(admin_web, issued):
    # when
    response = admin_web.post(f"/settings/api-keys/{issued.api_key.pk}/rotate/", {"grace_seconds": "3600"}, **HTMX)

    # then
    assert response.status_code == 200
    html = response.content.decode()
    new = FULL_KEY.search(html)
    assert new is not None
    assert new.group(0) != issued.key
    assert "Keeps working until" in html
    assert "no-store" in response["Cache-Control"]
    assert api_key_authenticate(new.group(0)) is not None
    assert api_key_authenticate(issued.key) is not None  # the old one, during the grace period
    assert new.group(0) not in admin_web.get(f"/settings/api-keys/{issued.api_key.pk}/").content.decode()


def test_rotating_without_grace_stops_the_old_secret_now(admin_web, issued):
    response = admin_web.post(f"/settings/api-keys/{issued.api_key.pk}/rotate/", {"grace_seconds": "0"})

    assert "Stopped working now." in response.content.decode()
    assert api_key_authenticate(issued.key) is None


def test_an_out_of_range_grace_period_rotates_nothing(admin_web, issued):
    response = admin_web.post(f"/settings/api-keys/{issued.api_key.pk}/rotate/", {"grace_seconds": "9999999"})

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert api_key_authenticate(issued.key) is not None


def test_revoking_stops_the_key_and_keeps_it_listed(admin_web, issued):
    # when
    response = admin_web.post(f"/settings/api-keys/{issued.api_key.pk}/revoke/", follow=True)

    # then
    assert api_key_authenticate(issued.key) is None
    html = response.content.decode()
    assert f"The key “Zapier” ({issued.api_key.prefix}) is revoked" in html
    assert "Revoked" in html


def test_rotating_a_revoked_key_is_refused_with_a_notice(admin_web, client_admin, issued):
    api_key_revoke(api_key=issued.api_key, actor=Principal.for_user(client_admin))

    response = admin_web.post(f"/settings/api-keys/{issued.api_key.pk}/rotate/", {"grace_seconds": "0"}, **HTMX)

    assert response.status_code == 409
    assert response["HX-Retarget"] == "#toasts"
    assert "A revoked key cannot be rotated." in response.content.decode()
    assert FULL_KEY.search(response.content.decode()) is None


def test_a_key_outlives_its_creators_deactivation_and_the_list_says_who_left(
    admin_web, api_client, account, client_admin
):
    # given a key made by a second admin, and one made by the admin still here
    grace = UserFactory(account=account, role=Role.CLIENT_ADMIN, full_name="Grace Hopper", email="grace@acme.test")
    theirs = api_key_create(
        account=account, name="Grace's sync", scopes=["read"], expires_at=None, actor=Principal.for_user(grace)
    )
    ours = api_key_create(
        account=account, name="Our sync", scopes=["read"], expires_at=None, actor=Principal.for_user(client_admin)
    )

    # when Grace is deactivated
    user_update(user=grace, actor=Principal.for_user(client_admin), is_active=False)

    # then her key still works: it belongs to the tenant
    api_client.credentials(HTTP_X_API_KEY=theirs.key)
    assert api_client.get("/api/v1/me").status_code == 200
    # and the list and the key's page say who made each key, and that Grace has left
    html = admin_web.get("/settings/api-keys/").content.decode()
    row = re.search(rf'<tr id="api-key-{theirs.api_key.pk}".*?</tr>', html, re.S).group(0)
    assert "Grace Hopper" in row
    assert "grace@acme.test" in row
    assert "(deactivated)" in row
    other = re.search(rf'<tr id="api-key-{ours.api_key.pk}".*?</tr>', html, re.S).group(0)
    assert client_admin.email in other
    assert "(deactivated)" not in other
    detail = admin_web.get(f"/settings/api-keys/{theirs.api_key.pk}/").content.decode()
    assert "Grace Hopper" in detail
    assert "(deactivated)" in detail


def test_the_key_list_costs_the_same_queries_for_1_or_20_keys(
    admin_web, account, client_admin, issued, django_assert_num_queries
):
    with django_assert_num_queries(4) as few:
        admin_web.get("/settings/api-keys/")
    # keys made by nineteen different people, some of them deactivated since
    for n in range(19):
        creator = UserFactory(account=account, role=Role.CLIENT_ADMIN, is_active=n % 3 != 0)
        api_key_create(
            account=account, name=f"Key {n}", scopes=["read"], expires_at=None, actor=Principal.for_user(creator)
        )
    with django_assert_num_queries(len(few.captured_queries)):
        response = admin_web.get("/settings/api-keys/")
    html = response.content.decode()
    assert html.count('<tr id="api-key-') == 20
    assert html.count("(deactivated)") == 7


# --- audit log ------------------------------------------------------------------------------------


def _entries(account, client_admin, count: int, action: str = "thing.done") -> None:
    for _ in range(count):
        audit_log_record(action=action, actor=client_admin, account=account, metadata={"fields": ["name", "role"]})


def test_the_audit_log_lists_newest_first_with_who_what_and_details(admin_web, account, client_admin):
    # given
    audit_log_record(action="first.thing", actor=client_admin, account=account)
    audit_log_record(action="second.thing", actor=client_admin, account=account, metadata={"fields": ["name", "role"]})

    # when
    html = admin_web.get("/settings/audit/").content.decode()

    # then
    table = html[html.index("<table") :]
    assert table.index("second.thing") < table.index("first.thing")
    assert "fields: name, role" in html
    assert "admin@acme.test" in html


def test_the_audit_log_filters_by_action_actor_and_dates(admin_web, account, client_admin, member):
    # given entries by two people, one of them a week old
    audit_log_record(action="user.updated", actor=client_admin, account=account)
    audit_log_record(action="api_key.created", actor=member, account=account)
    AuditLog.objects.create(
        account=account,
        actor_user=client_admin,
        actor_label=client_admin.email,
        action="channel.created",
        created_at=timezone.now() - timedelta(days=7),
    )

    def shown(query: str) -> set[str]:
        response = admin_web.get(f"/settings/audit/?{query}")
        assert response.status_code == 200
        return {row.entry.action for row in response.context["rows"]}

    # then
    assert shown("action=user.updated") == {"user.updated"}
    assert shown("actor=user%40acme.test") == {"api_key.created"}
    today = timezone.localdate()
    assert "channel.created" not in shown(f"date_from={today.isoformat()}")
    week_ago = (today - timedelta(days=7)).isoformat()
    assert shown(f"date_from={week_ago}&date_to={week_ago}") == {"channel.created"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("date_from=yesterday", "date_from"),
        ("date_from=2026-05-02&date_to=2026-05-01", "date_to"),
        ("action=x", "action"),
    ],
)
def test_a_bad_audit_filter_says_what_is_wrong(admin_web, account, client_admin, query, field):
    audit_log_record(action="user.updated", actor=client_admin, account=account)

    response = admin_web.get(f"/settings/audit/?{query}")

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert list(response.context["rows"]) == []


def test_the_audit_log_has_pages_that_keep_the_filter(admin_web, account, client_admin):
    _entries(account, client_admin, 60)

    first = admin_web.get("/settings/audit/?action=thing.done")
    second = admin_web.get("/settings/audit/?action=thing.done&page=2")

    assert len(first.context["rows"]) == 50
    assert "action=thing.done&amp;page=2" in first.content.decode()
    assert len(second.context["rows"]) == 10


def test_the_audit_log_costs_the_same_queries_for_5_or_50_entries(
    admin_web, account, client_admin, django_assert_num_queries
):
    _entries(account, client_admin, 5)
    with django_assert_num_queries(6) as few:
        admin_web.get("/settings/audit/")
    _entries(account, client_admin, 45, action="other.thing")
    with django_assert_num_queries(len(few.captured_queries)):
        response = admin_web.get("/settings/audit/")
    assert len(response.context["rows"]) == 50


# --- billing --------------------------------------------------------------------------------------


def test_billing_says_when_it_is_not_configured_and_offers_no_broken_button(admin_web, settings):
    settings.BILLING_PORTAL_URL = ""
    settings.BILLING_SSO_SECRET = ""

    page = admin_web.get("/settings/billing/").content.decode()
    assert "Billing is not set up on this server." in page
    assert "Open the billing portal" not in page

    response = admin_web.post("/settings/billing/portal/", HTTP_REFERER="http://testserver/settings/billing/")
    assert response.status_code == 302
    assert response["Location"] == "http://testserver/settings/billing/"
    assert notices(response) == ["The billing portal is not configured."]


def test_the_billing_button_opens_the_portal_signed_in(admin_web, client_admin, settings):
    # given
    settings.BILLING_PORTAL_URL = "https://billing.example.com/sso"
    settings.BILLING_SSO_SECRET = "billing-secret-for-tests-0123456789"

    # when the admin opens the page, its form may post to the portal's origin (CSP)
    page = admin_web.get("/settings/billing/")
    assert "Open the billing portal" in page.content.decode()
    form_action = next(
        part for part in page["Content-Security-Policy"].split(";") if part.strip().startswith("form-action")
    )
    assert "https://billing.example.com" in form_action

    # and presses the button
    response = admin_web.post("/settings/billing/portal/")

    # then they are sent to the portal with a token naming them
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "billing.example.com", "/sso")
    claims = jwt.decode(
        parse_qs(location.query)["token"][0],
        settings.BILLING_SSO_SECRET,
        algorithms=["HS256"],
        audience=settings.BILLING_SSO_AUDIENCE,
        issuer=settings.BILLING_SSO_ISSUER,
    )
    assert (claims["email"], claims["account"]) == ("admin@acme.test", client_admin.account_id)
    assert AuditLog.objects.filter(action="billing.sso_issued").exists()


# --- overview -------------------------------------------------------------------------------------


def test_the_overview_counts_what_is_set_up_and_shows_recent_activity(admin_web, member, issued):
    html = admin_web.get("/settings/").content.decode()

    assert re.search(r'<span class="value">2</span>\s*<span class="label">active people', html)
    assert re.search(r'<span class="value">1</span>\s*<span class="label">active API key ', html)
    assert "api_key.created" in html


def test_the_demo_seed_adds_one_integration_key_however_often_it_runs(account, client_admin):
    from io import StringIO

    from accounts.demo import DEMO_KEY_NAME, seed_demo

    seed_demo(account, stdout=StringIO())
    seed_demo(account, stdout=StringIO())

    key = ApiKey.objects.get(account=account, name=DEMO_KEY_NAME)
    assert key.created_by == client_admin
    assert key.is_active
