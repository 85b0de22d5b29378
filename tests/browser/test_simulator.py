"""The customer simulator in a real browser, on the demo's sandbox number as `make run` seeds it: a
person writes as a new customer, the message appears live in a teammate's inbox, the demo's plugin
agent (the FAQ answerer) answers and the customer sees the answer with ✓✓, then the teammate takes
over and replies and the customer sees that too. Nothing goes to Meta: the Graph API stand-in
(tests/platform.py) must receive nothing. At desktop and phone widths."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from plugins.demo import DEMO_FAQ_CONFIG
from tests.browser.conftest import screenshot, sign_in
from tests.browser.test_inbox import conversation_link, live, new_customer
from tests.browser.test_marketplace import uninstall_if_installed
from tests.platform import Platform

ADMIN = "admin@demo.skybot.local"
USER = "agent@demo.skybot.local"
FAQ = DEMO_FAQ_CONFIG["faqs"][0]  # opening hours
DELIVERED = re.compile(r"^(Delivered|Read)$")  # ✓✓, grey or blue: the phone reads what it shows


@pytest.fixture
def demo_as_seeded(chromium: Any, platform: Platform) -> None:
    """The demo's FAQ answerer as `make run` leaves it: another test may have reinstalled it with
    other questions, so an admin uninstalls it and the seed (safe to run again) puts it back."""
    context = chromium.new_context(base_url=platform.url)
    context.set_default_timeout(10_000)
    admin = context.new_page()
    sign_in(admin, ADMIN)
    uninstall_if_installed(admin, "FAQ answerer")
    context.close()
    platform.manage("seed_demo")


@pytest.fixture
def teammate(chromium: Any, platform: Platform) -> Iterator[Any]:
    """A second person, in a browser of their own, working the inbox."""
    context = chromium.new_context(base_url=platform.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def open_simulator(page: Any) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Simulator").click()
    expect(page.get_by_role("heading", name="Customer simulator")).to_be_visible()


def add_customer(page: Any, *, name: str, wa_id: str) -> None:
    new = page.locator("details.sim-new")
    if new.get_attribute("open") is None:
        new.locator("summary").click()
    new.get_by_label("Name").fill(name)
    new.get_by_label("WhatsApp number").fill(wa_id)
    new.get_by_role("button", name="Open their chat").click()
    expect(page.get_by_text(f"No messages yet: write the first one as {name}.")).to_be_visible()


def test_a_customer_writes_in_the_simulator_the_agent_answers_and_a_teammate_takes_over(
    demo_as_seeded: None, page: Any, teammate: Any, phone_page: Any, graph_api: Any
) -> None:
    wa_id = new_customer()
    name = f"Nadia {wa_id[-4:]}"

    # given a teammate with the inbox open, and a person in the simulator with a new customer
    sign_in(teammate, ADMIN)
    live(teammate)
    sign_in(page, USER)
    open_simulator(page)
    live(page)
    add_customer(page, name=name, wa_id=wa_id)

    # when the person writes as the customer, asking one of the FAQ answerer's questions
    page.get_by_label(f"Message as {name}").fill("Hi! What are your opening hours?")
    page.get_by_role("button", name="Send").click()

    # then the phone shows the message, and it appears in the teammate's inbox without a reload
    phone = page.locator("#sim-chat")
    expect(phone.locator("li.sim-bubble.mine", has_text="What are your opening hours?")).to_be_visible()
    expect(page.get_by_label(f"Message as {name}")).to_have_value("")
    expect(conversation_link(teammate, name)).to_be_visible()

    # and the plugin agent answers: the customer sees the answer, delivered (✓✓)
    answer = phone.locator("li.sim-bubble.theirs", has_text=FAQ["answer"])
    expect(answer).to_be_visible(timeout=20_000)
    expect(answer.get_by_role("img", name=DELIVERED)).to_be_visible()
    screenshot(page, "simulator")

    # when the teammate opens the conversation, takes it over from the agent and replies
    conversation_link(teammate, name).click()
    thread = teammate.locator("#thread-messages")
    expect(thread.locator("li.bubble.out", has_text=FAQ["answer"])).to_contain_text("AI agent · FAQ answerer")
    # the phone read the answer: its ticks in the inbox turn blue
    expect(thread.locator("li.bubble.out", has_text=FAQ["answer"]).get_by_role("img", name="Read")).to_be_visible()
    controls = teammate.locator("#conversation-controls")
    controls.get_by_role("button", name="Take over from FAQ answerer").click()
    expect(controls.get_by_role("button", name="Take over from FAQ answerer")).to_have_count(0)
    teammate.get_by_label("Reply", exact=True).fill("Ada here: on Saturdays we open at 10:00 too.")
    teammate.get_by_role("button", name="Send").click()

    # then the customer's phone shows the teammate's reply, delivered
    reply = phone.locator("li.sim-bubble.theirs", has_text="on Saturdays we open at 10:00 too.")
    expect(reply).to_be_visible()
    expect(reply.get_by_role("img", name=DELIVERED)).to_be_visible()
    # and in the inbox the reply is read by the phone that shows it
    expect(thread.locator("li.bubble.out", has_text="on Saturdays").get_by_role("img", name="Read")).to_be_visible()

    # and nothing of it went to Meta
    assert graph_api.log == []

    # on a phone, the same chat is the page: the conversation first, then the customers
    sign_in(phone_page, USER)
    phone_page.goto(page.url)
    small = phone_page.locator("#sim-chat")
    expect(small.locator("li.sim-bubble.theirs", has_text="on Saturdays we open at 10:00 too.")).to_be_visible()
    expect(phone_page.get_by_label(f"Message as {name}")).to_be_visible()
    phone_box = phone_page.locator("#sim-phone").bounding_box()
    customers_box = phone_page.locator(".sim-customers").bounding_box()
    assert phone_box is not None
    assert customers_box is not None
    assert phone_box["y"] < customers_box["y"]
    assert phone_box["width"] <= 390
    screenshot(phone_page, "simulator-phone")


def test_a_failure_switched_on_in_the_simulator_shows_in_the_inbox_as_whatsapps(
    page: Any, teammate: Any, platform: Platform, graph_api: Any
) -> None:
    wa_id = new_customer()
    name = f"Fiona {wa_id[-4:]}"

    # given a customer of the demo number who wrote, whom a teammate answers (their agent let go)
    sign_in(page, USER)
    open_simulator(page)
    add_customer(page, name=name, wa_id=wa_id)
    page.get_by_label(f"Message as {name}").fill("Can I talk to a human please?")
    page.get_by_role("button", name="Send").click()
    # (the phone is drawn again once the send and whatever it set off, the agent's answer too, are done)
    expect(page.get_by_label(f"Message as {name}")).to_have_value("")
    expect(page.locator("#sim-chat li.sim-bubble.mine")).to_have_count(1)

    # when the person makes the next reply undeliverable, and the teammate replies
    page.get_by_role("button", name="Make the next reply fail: Undeliverable (error 131026)").click()
    expect(page.get_by_text("The next reply from this number fails")).to_be_visible()
    sign_in(teammate, USER)
    conversation_link(teammate, name).click()
    live(teammate)
    teammate.get_by_label("Reply", exact=True).fill("Hello Fiona, Sam here.")
    teammate.get_by_role("button", name="Send").click()

    # then the inbox shows WhatsApp's reason, and the customer's phone never got it
    failed = teammate.locator("#thread-messages li.bubble.out", has_text="Hello Fiona, Sam here.")
    expect(failed.get_by_role("img", name="Failed: Message undeliverable")).to_be_visible()
    expect(failed).to_contain_text("Not delivered: Message undeliverable")
    page.reload()
    expect(page.locator("#sim-chat")).not_to_contain_text("Hello Fiona, Sam here.")
    expect(page.get_by_text("Replies from this number are delivered.")).to_be_visible()
    assert graph_api.log == []
