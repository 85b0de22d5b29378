"""Settings in a real browser: an API key's secret shown once, inviting people, connecting WhatsApp."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in
from tests.platform import VERIFY_TOKEN

ADMIN = "admin@demo.skybot.local"
AGENT = "agent@demo.skybot.local"
FULL_KEY = re.compile(r"^sk_live_[A-Za-z0-9]{12}_[A-Za-z0-9]{40}$")


def open_settings_tab(page, tab: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name=tab, exact=True).click()
    expect(page.get_by_role("navigation", name="Settings").get_by_role("link", name=tab, exact=True)).to_have_attribute(
        "aria-current", "page"
    )


def test_an_api_key_secret_is_shown_once_works_and_stops_after_revoking(page, platform):
    # given an admin on the API keys tab
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, ADMIN)
    open_settings_tab(page, "API keys")
    screenshot(page, "settings-api-keys")
    name = f"Browser key {uuid.uuid4().hex[:6]}"

    # when they create a key
    page.get_by_role("link", name="Create an API key").first.click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Read: reading only").check()
    page.get_by_label("Write: also works the inbox").check()
    screenshot(page, "settings-api-key-new")
    page.get_by_role("button", name="Create key").click()

    # then the full key is shown in a read-only field, and the copy button copies it
    secret_field = page.get_by_label("API key", exact=True)
    expect(secret_field).to_have_value(FULL_KEY)
    expect(secret_field).to_have_attribute("readonly", "")
    expect(page.get_by_text("Copy it now: this is the only time the full key is shown.")).to_be_visible()
    secret = secret_field.input_value()
    screenshot(page, "settings-api-key-created")
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_text("Copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret

    # and the key really works against the API
    me = httpx.get(f"{platform.url}/api/v1/me", headers={"X-API-Key": secret}, timeout=10)
    assert me.status_code == 200
    assert (me.json()["name"], me.json()["role"]) == (name, "USER")
    prefix = me.json()["prefix"]

    # when the page is reloaded, then the secret is gone
    page.reload()
    expect(page.get_by_role("heading", name="Create an API key")).to_be_visible()
    expect(page.locator("#new-key-secret")).to_have_count(0)
    assert secret not in page.content()

    # and the list shows the prefix only
    page.get_by_role("link", name="← API keys").click()
    row = page.locator("tr", has_text=name)
    expect(row).to_contain_text(f"sk_live_{prefix}_…")
    expect(row).to_contain_text("Active")
    assert secret not in page.content()

    # when they revoke it (and confirm)
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=f"Revoke {name}").click()

    # then it is listed as revoked and no longer works
    expect(page.get_by_text(f"The key “{name}” ({prefix}) is revoked")).to_be_visible()
    expect(page.locator("tr", has_text=name)).to_contain_text("Revoked")
    assert httpx.get(f"{platform.url}/api/v1/me", headers={"X-API-Key": secret}, timeout=10).status_code == 401


def test_rotating_a_key_shows_the_new_secret_once_and_explains_the_grace_period(page, platform):
    # given a key
    sign_in(page, ADMIN)
    page.goto("/settings/api-keys/new/")
    name = f"Rotated key {uuid.uuid4().hex[:6]}"
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Read: reading only").check()
    page.get_by_role("button", name="Create key").click()
    old = page.get_by_label("API key", exact=True).input_value()

    # when they rotate it with a one-hour grace period
    page.goto("/settings/api-keys/")
    page.get_by_role("link", name=f"Rotate {name}").click()
    page.get_by_label("The old secret").select_option(label="Keep the old secret working for 1 hour")
    page.get_by_role("button", name="Rotate the secret").click()

    # then the new secret is shown, the old one keeps working for the hour
    new = page.get_by_label("API key", exact=True)
    expect(new).to_have_value(FULL_KEY)
    expect(page.get_by_text("Keeps working until")).to_be_visible()
    screenshot(page, "settings-api-key-rotated")
    for key in (old, new.input_value()):
        assert httpx.get(f"{platform.url}/api/v1/me", headers={"X-API-Key": key}, timeout=10).status_code == 200


def test_an_admin_invites_someone_with_a_role_and_changes_it(page):
    # given
    sign_in(page, ADMIN)
    open_settings_tab(page, "Users and roles")
    email = f"invitee-{uuid.uuid4().hex[:8]}@demo.skybot.local"

    # when they invite a viewer by email
    page.get_by_role("link", name="Invite someone").first.click()
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Name", exact=True).fill("Ivy Invitee")
    page.get_by_label("Role").select_option(label="Viewer")
    expect(page.get_by_label("Email them a sign-in link")).to_be_checked()
    screenshot(page, "settings-user-invite")
    page.get_by_role("button", name="Invite").click()

    # then they are listed as a viewer, and the admin is told how they will sign in
    expect(page.get_by_text(f"Invited {email}: we emailed them a sign-in link.")).to_be_visible()
    role = page.get_by_label(f"Role of {email}")
    expect(role).to_have_value("VIEWER")
    expect(page.locator("tr", has_text=email)).to_contain_text("Never")

    # when they make the person a User
    role.select_option(label="User")
    page.get_by_role("button", name=f"Change role of {email}").click()

    # then
    expect(page.get_by_text(f"{email} is now User.")).to_be_visible()
    expect(page.get_by_label(f"Role of {email}")).to_have_value("USER")
    screenshot(page, "settings-users")

    # and the admin's own row offers no control that could lock them out
    own = page.locator("tr", has_text=ADMIN)
    expect(own).to_contain_text("Another admin can change your own role or access.")
    expect(own.get_by_role("combobox")).to_have_count(0)


def test_an_admin_connects_a_number_and_sees_what_to_paste_into_meta_but_never_the_token(page, platform, graph_api):
    # given a number Meta confirms for the admin's token
    sign_in(page, ADMIN)
    open_settings_tab(page, "WhatsApp")
    phone_number_id = str(uuid.uuid4().int)[:15]
    access_token = f"EAAG-browser-{uuid.uuid4().hex}"
    graph_api.expect_request(
        f"/{phone_number_id}", method="GET", headers={"Authorization": f"Bearer {access_token}"}
    ).respond_with_json({"id": phone_number_id, "display_phone_number": "+1 555-010-2030", "verified_name": "Browser"})

    # when they connect a number
    page.get_by_role("link", name="Connect a number").first.click()
    page.get_by_label("Name", exact=True).fill("Browser line")
    page.get_by_label("Phone number ID").fill(phone_number_id)
    page.get_by_label("Display number").fill("+1 555 010 2030")
    page.get_by_label("Access token").fill(access_token)
    screenshot(page, "settings-whatsapp-new")
    page.get_by_role("button", name="Connect").click()

    # then the number's card shows the webhook URL and the verify token Meta needs
    expect(page.get_by_text("Connected Browser line.")).to_be_visible()
    card = page.locator("article.channel", has_text=phone_number_id)
    expect(card.get_by_label("Webhook URL")).to_have_value(f"{platform.url}/webhooks/whatsapp")
    expect(card.get_by_label("Verify token")).to_have_value(VERIFY_TOKEN)
    expect(card).to_contain_text("Access token")
    expect(card.locator("dd", has_text="set").first).to_be_visible()
    assert access_token not in page.content()
    screenshot(page, "settings-whatsapp")

    # and Meta's subscription check with what is shown succeeds
    verify = httpx.get(
        card.get_by_label("Webhook URL").input_value(),
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": card.get_by_label("Verify token").input_value(),
            "hub.challenge": "1158201444",
        },
        timeout=10,
    )
    assert (verify.status_code, verify.text) == (200, "1158201444")

    # when they open the number to edit it, then the token is not shown back either
    card.get_by_role("link", name="Edit Browser line").click()
    expect(page.get_by_label("Access token")).to_have_value("")
    expect(page.get_by_text("Access token: set")).to_be_visible()
    assert access_token not in page.content()

    # when they rename it, leaving the token empty, then the name changes and the token stays set
    page.get_by_label("Name", exact=True).fill("Browser support line")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved Browser support line.")).to_be_visible()
    card = page.locator("article.channel", has_text=phone_number_id)
    expect(card.get_by_role("heading", name="Browser support line")).to_be_visible()
    expect(card.locator("dt:has-text('Access token') + dd")).to_have_text("set")


def test_the_overview_audit_log_and_billing_tabs(page):
    # given
    sign_in(page, ADMIN)

    # the overview
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Recent activity")).to_be_visible()
    screenshot(page, "settings-overview")

    # the audit log, filtered by an action
    open_settings_tab(page, "Audit log")
    expect(page.locator("table.audit tbody tr").first).to_be_visible()
    screenshot(page, "settings-audit")
    page.get_by_label("Action").select_option("api_key.created")
    page.get_by_role("button", name="Filter").click()
    actions = page.locator("table.audit tbody .action-code")
    expect(actions.first).to_have_text("api_key.created")
    assert set(actions.all_inner_texts()) == {"api_key.created"}

    # billing, which this server has not set up
    open_settings_tab(page, "Billing")
    expect(page.get_by_text("Billing is not set up on this server.")).to_be_visible()
    expect(page.get_by_role("button", name="Open the billing portal")).to_have_count(0)
    screenshot(page, "settings-billing")


def test_a_user_is_offered_no_settings_and_is_refused_them(page):
    sign_in(page, AGENT)

    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings")).to_have_count(0)
    response = page.goto("/settings/users/")
    assert response is not None
    assert response.status == 403


def test_settings_fit_a_phone_screen(phone_page):
    # given
    sign_in(phone_page, ADMIN)

    for url, name in (
        ("/settings/api-keys/", "api-keys"),
        ("/settings/whatsapp/", "whatsapp"),
        ("/settings/users/", "users"),
    ):
        # when
        phone_page.goto(url)

        # then nothing but the tables' own scroll areas is wider than the screen
        expect(phone_page.get_by_role("navigation", name="Settings")).to_be_visible()
        assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(phone_page, f"settings-{name}-phone")
