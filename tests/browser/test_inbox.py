"""The Inbox in a real browser: customer messages arriving live, a reply going out to WhatsApp and
its ticks following Meta's status notifications, filters, and what a viewer may not do."""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

from playwright.sync_api import expect

from inbox.demo import DEMO_PHONE_NUMBER_ID
from tests.browser.conftest import screenshot, sign_in
from tests.platform import META_PHONE_NUMBER_ID

AGENT = "agent@demo.skybot.local"
VIEWER = "viewer@demo.skybot.local"

_numbers = itertools.count(1)


def new_customer() -> str:
    """A WhatsApp number no other test (nor the demo) uses."""
    return f"1555{int(time.time() * 1000) % 10**6:06d}{next(_numbers):02d}"


def _notification(value: dict[str, Any], phone_number_id: str = DEMO_PHONE_NUMBER_ID) -> dict[str, Any]:
    metadata = {"display_phone_number": "15550100001", "phone_number_id": phone_number_id}
    value = {"messaging_product": "whatsapp", "metadata": metadata, **value}
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "100000000000900", "changes": [{"field": "messages", "value": value}]}],
    }


def customer_writes(
    platform: Any, *, wa_id: str, name: str, text: str, phone_number_id: str = DEMO_PHONE_NUMBER_ID
) -> None:
    """Meta notifies the number (the demo's, unless another is named) of a text message from `wa_id`."""
    wamid = f"wamid.IN{wa_id}{time.monotonic_ns()}"
    message = {"from": wa_id, "id": wamid, "timestamp": str(int(time.time())), "type": "text", "text": {"body": text}}
    response = platform.post_whatsapp_webhook(
        _notification(
            {"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [message]}, phone_number_id
        )
    )
    assert response.status_code == 200, response.text


def meta_reports(
    platform: Any, *, wamid: str, wa_id: str, status: str, phone_number_id: str = META_PHONE_NUMBER_ID
) -> None:
    """Meta notifies the number connected to it that the reply `wamid` reached `status`."""
    update = {"id": wamid, "status": status, "timestamp": str(int(time.time())), "recipient_id": wa_id}
    response = platform.post_whatsapp_webhook(_notification({"statuses": [update]}, phone_number_id))
    assert response.status_code == 200, response.text


def live(page: Any) -> None:
    """Wait until the page follows the live feed (events sent before that would be missed)."""
    expect(page.locator("#live-status")).to_have_attribute("data-state", "open")


def conversation_link(page: Any, name: str) -> Any:
    return page.locator("#conversation-list").get_by_role("link", name=re.compile(re.escape(name)))


def test_a_customer_message_appears_in_the_open_inbox_without_reloading(page, platform):
    # given a teammate with a conversation open, and a mark that a reload would wipe
    sign_in(page, AGENT)
    conversation_link(page, "Sheena Nelson").click()
    expect(page.get_by_role("heading", name="Sheena Nelson")).to_be_visible()
    live(page)
    page.evaluate("window.stillTheSamePage = true")

    # when that customer writes, and a customer never seen before writes too
    customer_writes(platform, wa_id="15550100101", name="Sheena Nelson", text="Can I pay on delivery?")
    newcomer = new_customer()
    customer_writes(
        platform,
        wa_id=newcomer,
        name="Nadia Newcomer",
        text="Hello, are you open today?",
        phone_number_id=META_PHONE_NUMBER_ID,  # the demo number's FAQ agent would answer there
    )

    # then the thread and the list show both, on the same page
    thread = page.locator("#thread-messages")
    expect(thread.get_by_text("Can I pay on delivery?")).to_be_visible()
    expect(conversation_link(page, "Sheena Nelson")).to_contain_text("Can I pay on delivery?")
    expect(conversation_link(page, "Nadia Newcomer")).to_contain_text("Hello, are you open today?")
    assert page.evaluate("window.stillTheSamePage") is True
    screenshot(page, "inbox-thread")


def test_a_reply_goes_to_whatsapp_and_its_ticks_follow_metas_notifications(page, platform, graph_api):
    # given a customer who just wrote to the number connected to Meta, open in the inbox
    wa_id = new_customer()
    customer_writes(
        platform,
        wa_id=wa_id,
        name="Rui Replyme",
        text="Is the Aurora lamp in stock?",
        phone_number_id=META_PHONE_NUMBER_ID,
    )
    sign_in(page, AGENT)
    conversation_link(page, "Rui Replyme").click()
    expect(page.get_by_role("heading", name="Rui Replyme")).to_be_visible()
    live(page)
    wamid = f"wamid.OUT{wa_id}"
    graph_api.expect_request(f"/{META_PHONE_NUMBER_ID}/messages", method="POST").respond_with_json(
        {"messaging_product": "whatsapp", "messages": [{"id": wamid}]}
    )

    # when the teammate replies
    page.get_by_label("Reply", exact=True).fill("Yes, we have three in brass.")
    page.get_by_role("button", name="Send").click()

    # then the reply went to WhatsApp and shows one tick
    thread = page.locator("#thread-messages")
    reply = thread.locator("li.bubble.out", has_text="Yes, we have three in brass.")
    expect(reply.get_by_role("img", name="Sent")).to_be_visible()
    sent = graph_api.log[0][0].get_json()
    assert (sent["to"], sent["text"]["body"]) == (wa_id, "Yes, we have three in brass.")
    expect(page.get_by_label("Reply", exact=True)).to_have_value("")

    # when Meta reports it delivered, then read, the ticks follow without a reload
    meta_reports(platform, wamid=wamid, wa_id=wa_id, status="delivered")
    expect(reply.get_by_role("img", name="Delivered")).to_be_visible()
    meta_reports(platform, wamid=wamid, wa_id=wa_id, status="read")
    expect(reply.get_by_role("img", name="Read")).to_be_visible()


def test_filters_and_search_narrow_the_list(page):
    # given the demo inbox
    sign_in(page, AGENT)
    items = page.locator("#conversation-list .conv-item")
    expect(conversation_link(page, "Priya Sharma")).to_be_visible()
    screenshot(page, "inbox-list")

    # when searching by name
    page.get_by_label("Search").fill("marcus")

    # then only that customer is left
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("Marcus Chen")

    # when the search is cleared and only resolved conversations are asked for
    page.get_by_label("Search").fill("")
    page.get_by_label("Status").select_option("resolved")
    expect(items.first).to_contain_text("Priya Sharma")
    expect(items).to_have_count(1)

    # and the address keeps the filter, so a reload shows the same list
    expect(page).to_have_url(re.compile(r"status=resolved"))
    page.reload()
    expect(items).to_have_count(1)

    # when the filter asks for the conversations assigned to the person
    page.get_by_label("Status").select_option("")
    page.get_by_label("Assigned to").select_option("me")
    expect(items.first).to_contain_text("Marcus Chen")
    expect(items).to_have_count(1)


def test_a_viewer_reads_conversations_but_gets_no_reply_box_or_controls(page):
    # when a VIEWER opens a conversation
    sign_in(page, VIEWER)
    conversation_link(page, "Marcus Chen").click()
    expect(page.get_by_role("heading", name="Marcus Chen")).to_be_visible()

    # then they read it all, and nothing on the page writes
    expect(page.locator("#thread-messages").get_by_text("Where is my order #1042?")).to_be_visible()
    expect(page.get_by_text("Replying and changing it needs the User role.")).to_be_visible()
    expect(page.get_by_label("Reply", exact=True)).to_have_count(0)
    for button in ("Send", "Assign", "Resolve", "Save contact", "Save lead"):
        expect(page.get_by_role("button", name=button)).to_have_count(0)


def test_a_teammate_resolves_and_labels_a_conversation(page):
    # given a conversation open for a USER
    sign_in(page, AGENT)
    conversation_link(page, "Tom Becker").click()
    controls = page.locator("#conversation-controls")

    # when they add a label and resolve it
    controls.get_by_label("Add a label").fill("warranty")
    controls.get_by_role("button", name="Add").click()
    expect(controls.get_by_text("warranty")).to_be_visible()
    controls.get_by_role("button", name="Resolve").click()

    # then the conversation shows both, and so does the list
    expect(controls.locator("#conversation-status")).to_have_text("Resolved")
    expect(conversation_link(page, "Tom Becker")).to_contain_text("Resolved")
    expect(conversation_link(page, "Tom Becker")).to_contain_text("warranty")

    # and reopening works the same way
    controls.get_by_role("button", name="Reopen").click()
    expect(controls.locator("#conversation-status")).to_have_text("Open")


def test_on_a_phone_a_conversation_is_a_page_of_its_own(phone_page):
    # given a phone-width screen
    sign_in(phone_page, AGENT)

    # when a conversation is opened from the list
    conversation_link(phone_page, "Marcus Chen").click()

    # then it fills the screen, with a way back to the list
    expect(phone_page.get_by_role("heading", name="Marcus Chen")).to_be_visible()
    expect(phone_page.locator("#conversation-list")).to_be_hidden()
    expect(phone_page.get_by_label("Reply", exact=True)).to_be_visible()
    screenshot(phone_page, "inbox-thread-phone")
    phone_page.get_by_role("link", name="← All conversations").click()
    expect(conversation_link(phone_page, "Marcus Chen")).to_be_visible()
