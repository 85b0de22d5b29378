"""The Developers area in a real browser: a webhook endpoint from its creation (secret shown once)
to a test event, a failing receiver and a redelivery, and an API key's usage after real calls."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect
from pytest_httpserver import HTTPServer
from werkzeug import Response

from integrations.tests.conftest import verify_standard_webhook
from tests.browser.conftest import screenshot, sign_in

ADMIN = "admin@demo.skybot.local"
AGENT = "agent@demo.skybot.local"
SECRET = re.compile(r"^whsec_[A-Za-z0-9+/]+=*$")
FULL_KEY = re.compile(r"^sk_live_[A-Za-z0-9]{12}_[A-Za-z0-9]{40}$")


@pytest.fixture(scope="module")
def receiver() -> Iterator[HTTPServer]:
    """The tenant's webhook receiver: a local server the platform's process posts to (loopback is
    allowed outside production)."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def open_developers(page, tab: str | None = None) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Developers").click()
    expect(page.get_by_role("heading", name="Developers", exact=True)).to_be_visible()
    if tab:
        page.get_by_role("navigation", name="Developers").get_by_role("link", name=tab, exact=True).click()
        expect(
            page.get_by_role("navigation", name="Developers").get_by_role("link", name=tab, exact=True)
        ).to_have_attribute("aria-current", "page")


def delivery_rows(page):
    return page.locator("#delivery-log tr.delivery")


def test_a_webhook_endpoint_gets_a_test_event_fails_and_is_redelivered_to(page, phone_page, receiver):
    # given an admin on the Webhooks tab, and a receiver that answers 200
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    path = f"/hooks/{uuid.uuid4().hex[:8]}"
    url = receiver.url_for(path)
    receiver.clear_all_handlers()
    receiver.expect_request(path, method="POST").respond_with_data("pong")
    sign_in(page, ADMIN)
    open_developers(page, "Webhooks")

    # when they add an endpoint for two event types
    page.get_by_role("link", name="Add an endpoint").first.click()
    page.get_by_label("URL", exact=True).fill(url)
    page.get_by_label("lead.created — A lead was created.").check()
    page.get_by_label("message.received — ").check()
    page.get_by_label("Description").fill("Browser test receiver")
    screenshot(page, "developers-webhook-new")
    page.get_by_role("button", name="Add endpoint").click()

    # then the signing secret is shown once, ready to copy
    secret_field = page.get_by_label("Signing secret", exact=True)
    expect(secret_field).to_have_value(SECRET)
    expect(page.get_by_text("Copy it now: this is the only time the secret is shown.")).to_be_visible()
    secret = secret_field.input_value()
    screenshot(page, "developers-webhook-created")
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_text("Copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret

    # when they open the endpoint, then the secret is not on its page
    page.get_by_role("link", name="Done: open the endpoint").click()
    expect(page.get_by_role("heading", name=url)).to_be_visible()
    expect(page.get_by_text("Nothing sent yet")).to_be_visible()
    assert secret not in page.content()

    # when they send a test event
    page.get_by_role("button", name="Send a test event").click()

    # then the receiver got it, signed with that secret, and the log shows it delivered
    expect(page.get_by_text("Sent a test event (ping).")).to_be_visible()
    expect(delivery_rows(page)).to_have_count(1)
    first = delivery_rows(page).first
    expect(first).to_contain_text("ping")
    expect(first).to_contain_text("Delivered")
    expect(first).to_contain_text("HTTP 200")
    request, _ = receiver.log[-1]
    assert verify_standard_webhook(secret, request.headers, request.get_data())

    # when the receiver starts failing and another test event goes out
    receiver.clear_all_handlers()
    receiver.expect_request(path, method="POST").respond_with_response(Response("down for maintenance", status=503))
    page.get_by_role("button", name="Send a test event").click()

    # then the newest delivery is listed first, waiting for a retry, with the receiver's answer
    expect(delivery_rows(page)).to_have_count(2)
    failing = delivery_rows(page).first
    expect(failing).to_contain_text("Retrying")
    expect(failing).to_contain_text("HTTP 503")
    expect(failing.get_by_role("cell").nth(6)).to_contain_text(re.compile(r"due now|in "))

    # when the receiver is fixed and they redeliver the failed event
    receiver.clear_all_handlers()
    receiver.expect_request(path, method="POST").respond_with_data("back")
    failing.get_by_role("button", name=re.compile(r"^Redeliver")).click()

    # then the same delivery succeeded on its second attempt
    expect(page.get_by_text("Sent the event again.")).to_be_visible()
    redelivered = delivery_rows(page).first
    expect(redelivered).to_contain_text("Delivered")
    expect(redelivered.get_by_role("cell").nth(3)).to_have_text("2")
    expect(delivery_rows(page)).to_have_count(2)

    # and its attempts show what the receiver answered each time
    details = page.locator("#delivery-log tr.delivery-details").first
    details.get_by_text("Attempts and payload").click()
    expect(details.get_by_text("down for maintenance")).to_be_visible()
    expect(details.get_by_text("back", exact=True)).to_be_visible()
    expect(details).to_contain_text("Attempt 1")
    expect(details).to_contain_text("Attempt 2")
    expect(details).to_contain_text('"type": "ping"')
    screenshot(page, "developers-webhook-log")

    # and the list shows the endpoint on, with its last delivery
    page.get_by_role("link", name="← Webhooks").click()
    row = page.locator("tr", has_text=url)
    expect(row).to_contain_text("On")
    expect(row).to_contain_text("lead.created")
    expect(row).to_contain_text("Delivered")
    screenshot(page, "developers-webhooks")

    # and at phone width the endpoint's page and log still read well
    sign_in(phone_page, ADMIN)
    phone_page.goto(page.url)
    phone_page.locator("tr", has_text=url).get_by_role("link", name=re.compile(r"^Delivery log")).click()
    expect(delivery_rows(phone_page)).to_have_count(2)
    screenshot(phone_page, "developers-webhook-phone")

    # when they delete it (and confirm), nothing more is sent to it
    page.locator("tr", has_text=url).get_by_role("link", name=re.compile(r"^Delivery log")).click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text(f"Deleted the endpoint {url}")).to_be_visible()
    expect(page.locator("tr", has_text=url)).to_have_count(0)


def test_a_keys_calls_show_as_its_usage(page, platform):
    # given an admin creates a read-only key in Settings
    sign_in(page, ADMIN)
    page.goto("/settings/api-keys/new/")
    name = f"Usage key {uuid.uuid4().hex[:6]}"
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Read: reading only").check()
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_label("API key", exact=True)
    expect(key).to_have_value(FULL_KEY)
    headers = {"X-API-Key": key.input_value()}

    # when an integration calls the API with it: three fine calls, one it may not make, one missing row
    for _ in range(3):
        assert httpx.get(f"{platform.url}/api/v1/me", headers=headers, timeout=10).status_code == 200
    assert httpx.get(f"{platform.url}/api/v1/webhooks", headers=headers, timeout=10).status_code == 403
    assert httpx.get(f"{platform.url}/api/v1/contacts/999999", headers=headers, timeout=10).status_code == 404

    # then the Developers page counts them on the key's row, with the two errors
    page.goto("/inbox/")
    open_developers(page)
    row = page.locator("tr", has_text=name)
    expect(row.get_by_role("cell").nth(3)).to_have_text("5")
    expect(row.get_by_role("cell").nth(4)).to_have_text("2 / 0")
    expect(row.get_by_role("cell").nth(5)).to_have_text("just now")
    # and the demo key's two weeks fill the chart
    expect(page.locator("tr", has_text="Zapier (demo)")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile(r"^Requests of every key"))).to_be_visible()
    screenshot(page, "developers-api-keys")

    # when they open the key's usage
    row.get_by_role("link", name=f"Usage of {name}").click()

    # then today's bar and numbers are there
    expect(page.get_by_role("heading", name=re.compile(name))).to_be_visible()
    expect(page.locator(".stat", has_text="requests in the last 14 days")).to_contain_text("5")
    expect(page.locator(".stat", has_text="client errors (4xx)")).to_contain_text("2")
    expect(page.get_by_role("img", name=re.compile(rf"^Requests of {name}: 5 requests"))).to_be_visible()
    page.get_by_role("link", name="30 days").click()
    expect(page.get_by_role("link", name="30 days")).to_have_attribute("aria-current", "true")
    expect(page.locator(".stat", has_text="requests in the last 30 days")).to_contain_text("5")
    screenshot(page, "developers-api-key-usage")


def test_a_user_is_offered_no_developers_area_and_cannot_open_it(page):
    # given
    sign_in(page, AGENT)

    # then there is no link, and the address answers 403
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Developers")).to_have_count(0)
    response = page.goto("/developers/webhooks/")
    assert response is not None
    assert response.status == 403


def test_the_api_reference_tries_a_call_on_the_address_the_server_was_started_on(page, platform):
    # given an admin signed in on a server started like `make run` on a port of its own (not 8000)
    sign_in(page, ADMIN)
    open_developers(page)
    base_url = page.locator("dt:text-is('Base URL') + dd code").inner_text()
    assert base_url == f"{platform.url}/api/v1"
    blocked: list[str] = []
    page.on(
        "console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None
    )

    # when they try "Who am I" in the API reference
    page.goto("/api/docs/")
    operation = page.locator("[id$='-me_retrieve']")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()

    # then the call reaches this server (the reference's server is this address) and answers 200
    expect(operation.locator(".live-responses-table tr.response .response-col_status")).to_have_text("200")
    expect(operation.locator(".request-url pre")).to_have_text(f"{platform.url}/api/v1/me")
    assert blocked == []
