"""Your profile and time zone: every page shows dates in one format, in the viewer's zone (theirs,
else their workspace's, else UTC); exports and the API stay in UTC."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.models import AuditLog, User
from accounts.principals import Principal
from accounts.services.tenants import account_deactivate
from inbox.tests.factories import LeadFactory

PROFILE = "/accounts/profile/"
NOON_UTC = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def signed_in(user: User) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def sign_in_shown(browser: Client, person: User) -> str:
    """The last sign-in of `person` as Settings → Users and roles shows it."""
    User.objects.filter(pk=person.pk).update(last_login=NOON_UTC)
    page = browser.get("/settings/users/").content.decode()
    row = page[page.index(person.email) :]
    start = row.index('data-label="Last sign-in">')
    return row[start : row.index("</td>", start)]


def test_a_person_sets_their_time_zone_and_pages_show_times_in_it(client_admin):
    browser = signed_in(client_admin)

    # when they choose New York on their profile
    response = browser.post(PROFILE, {"time_zone": "America/New_York"})

    # then it is saved, audited, and the pages show times there (noon UTC is 08:00 in June)
    assert (response.status_code, response["Location"]) == (302, PROFILE)
    client_admin.refresh_from_db()
    assert client_admin.time_zone == "America/New_York"
    row = AuditLog.objects.get(action="user.time_zone_changed")
    assert row.metadata == {"old_time_zone": "", "new_time_zone": "America/New_York"}
    assert "1 Jun 2026, 08:00" in sign_in_shown(browser, client_admin)
    assert "America/New_York" in browser.get(PROFILE).content.decode()


def test_without_a_choice_people_see_their_workspaces_time_zone(client_admin, account):
    browser = signed_in(client_admin)
    assert "1 Jun 2026, 12:00" in sign_in_shown(browser, client_admin)  # no zone anywhere: UTC

    account.time_zone = "Asia/Tokyo"
    account.save(update_fields=["time_zone"])

    assert "1 Jun 2026, 21:00" in sign_in_shown(browser, client_admin)
    assert "The workspace’s: Asia/Tokyo" in browser.get(PROFILE).content.decode()


def test_choosing_the_workspaces_zone_again_clears_the_persons(client_admin):
    client_admin.time_zone = "Europe/Lisbon"
    client_admin.save(update_fields=["time_zone"])

    signed_in(client_admin).post(PROFILE, {"time_zone": ""})

    client_admin.refresh_from_db()
    assert client_admin.time_zone == ""


@pytest.mark.parametrize("value", ["Mars/Olympus_Mons", "localtime", "../../etc/passwd", "x" * 500])
def test_a_zone_that_is_not_an_iana_name_is_a_form_error_and_changes_nothing(client_admin, value):
    response = signed_in(client_admin).post(PROFILE, {"time_zone": value})

    assert response.status_code == 400
    assert "Choose a time zone from the list, such as Europe/Lisbon." in response.content.decode()
    client_admin.refresh_from_db()
    assert client_admin.time_zone == ""
    assert not AuditLog.objects.filter(action="user.time_zone_changed").exists()


def test_the_models_refuse_a_time_zone_that_does_not_exist(account, member):
    account.time_zone = "Europe/Atlantis"
    member.time_zone = "Nowhere"
    with pytest.raises(ValidationError, match="not a time zone"):
        account.full_clean()
    with pytest.raises(ValidationError, match="not a time zone"):
        member.full_clean()


@pytest.mark.parametrize("who", ["viewer", "member", "client_admin"])
def test_every_role_has_a_profile(request, who):
    person = request.getfixturevalue(who)

    response = signed_in(person).get(PROFILE)

    assert response.status_code == 200
    assert person.email in response.content.decode()


def test_a_disabled_workspace_signs_the_person_out_of_their_profile(client_admin, super_admin, account):
    browser = signed_in(client_admin)
    account_deactivate(account=account, actor=Principal.for_user(super_admin))

    response = browser.post(PROFILE, {"time_zone": "Europe/Lisbon"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    client_admin.refresh_from_db()
    assert client_admin.time_zone == ""


def test_signed_out_visitors_are_sent_to_sign_in(client, db):
    assert client.get(PROFILE)["Location"].startswith("/accounts/login/")


def test_the_api_and_exports_stay_in_utc_whatever_the_viewers_zone(client_admin, account, client_for):
    # given a viewer in Tokyo and a lead created at noon UTC
    client_admin.time_zone = "Asia/Tokyo"
    client_admin.save(update_fields=["time_zone"])
    lead = LeadFactory(account=account, name="Noon lead")
    type(lead).objects.filter(pk=lead.pk).update(created_at=NOON_UTC)

    # when they read it through the API and download the CSV
    api = client_for(client_admin).get(f"/api/v1/leads/{lead.pk}")
    export = signed_in(client_admin).get("/leads/export.csv")

    # then both say 12:00 UTC
    assert api.status_code == 200
    assert api.json()["created_at"] in ("2026-06-01T12:00:00Z", "2026-06-01T12:00:00+00:00")
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert [row["created_at"] for row in rows] == ["2026-06-01T12:00:00+00:00"]


WORKSPACE_ZONE = "/settings/time-zone/"


def test_an_admin_sets_the_workspaces_time_zone_for_people_without_their_own(client_admin, member, account):
    # when the admin chooses Lisbon for the workspace on the Settings overview
    response = signed_in(client_admin).post(WORKSPACE_ZONE, {"time_zone": "Europe/Lisbon"})

    # then it is saved and audited, and a person without a zone of their own reads times there
    assert (response.status_code, response["Location"]) == (302, "/settings/")
    account.refresh_from_db()
    assert account.time_zone == "Europe/Lisbon"
    assert AuditLog.objects.get(action="account.time_zone_changed").metadata["new_time_zone"] == "Europe/Lisbon"
    assert "1 Jun 2026, 13:00" in sign_in_shown(signed_in(client_admin), member)  # noon UTC, summer time
    overview = signed_in(client_admin).get("/settings/").content.decode()
    assert '<option value="Europe/Lisbon" selected>' in overview


def test_a_zone_that_is_not_one_is_refused_on_the_overview(client_admin, account):
    response = signed_in(client_admin).post(WORKSPACE_ZONE, {"time_zone": "Mars/Olympus"})
    assert response.status_code == 400
    assert "Choose a time zone from the list" in response.content.decode()
    account.refresh_from_db()
    assert account.time_zone == ""


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_only_admins_set_the_workspaces_time_zone(request, role, account):
    response = signed_in(request.getfixturevalue(role)).post(WORKSPACE_ZONE, {"time_zone": "Europe/Lisbon"})
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.time_zone == ""


def test_a_disabled_workspace_cannot_set_its_time_zone(client_admin, account):
    browser = signed_in(client_admin)
    account_deactivate(account=account, actor=Principal.platform_key())
    response = browser.post(WORKSPACE_ZONE, {"time_zone": "Europe/Lisbon"})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    account.refresh_from_db()
    assert account.time_zone == ""
