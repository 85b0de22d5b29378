"""The marketplace in a real browser: an admin finds the FAQ answerer (an example plugin the demo
seed publishes), installs it through the form generated from its schema, creates an agent from it,
gives it a conversation on the number connected to Meta, and the plugin's answer to the customer's
WhatsApp message shows in the open thread. The plugin runs in the platform's sandbox; the local
stand-in plays Meta's Graph API."""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in
from tests.browser.test_inbox import conversation_link, customer_writes, live, new_customer
from tests.platform import META_PHONE_NUMBER_ID

ADMIN = "admin@demo.skybot.local"
VIEWER = "viewer@demo.skybot.local"
FAQS = [
    {
        "question": "Do you deliver to Porto?",
        "answer": "Yes: we deliver to Porto in 2 working days.",
        "keywords": ["porto"],
    }
]


def uninstall_if_installed(page: Any, name: str) -> None:
    """The demo seed installs the FAQ answerer: take it out through the pages, as an admin would."""
    page.goto("/marketplace/installed/")
    manage = page.get_by_role("link", name=f"Manage {name}")
    if manage.count() == 0:
        return
    manage.click()
    page.get_by_role("link", name="Uninstall…").click()
    expect(page.get_by_role("heading", name=f"Uninstall {name}?")).to_be_visible()
    page.get_by_role("button", name=f"Uninstall {name}").click()
    expect(page.get_by_text(f"{name} is uninstalled")).to_be_visible()


def test_an_admin_installs_a_plugin_and_its_agent_answers_a_customer_in_the_inbox(
    page: Any, platform: Any, graph_api: Any
) -> None:
    marketplace_errors: list[str] = []  # what the browser refused on the marketplace's pages

    def on_console(message: Any) -> None:
        if message.type == "error" and "/marketplace/" in page.url:
            marketplace_errors.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    sign_in(page, ADMIN)
    uninstall_if_installed(page, "FAQ answerer")

    # when the admin opens the marketplace and searches for it
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Marketplace").click()
    expect(page.get_by_role("heading", name="Marketplace")).to_be_visible()
    cards = page.locator(".plugin-card")
    expect(cards).to_have_count(3)  # the three example plugins
    page.evaluate("window.notReloaded = true")
    page.get_by_label("Search").fill("frequent questions")

    # then the grid narrows in place, and the address keeps the search
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("FAQ answerer")
    expect(cards.first).to_contain_text("Free")
    expect(page).to_have_url(re.compile(r"q=frequent(\+|%20)questions"))
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "marketplace")

    # when they open it
    cards.first.get_by_role("link", name="FAQ answerer").click()

    # then its page says what it does and what it may do
    expect(page.get_by_role("heading", name="FAQ answerer", level=1)).to_be_visible()
    expect(page.get_by_text("Answers your customers' frequent questions")).to_be_visible()
    expect(page.get_by_text("Answer the customer in the conversation.")).to_be_visible()
    screenshot(page, "marketplace-plugin")

    # when they install it, filling in the form generated from its schema
    page.get_by_role("link", name="Install", exact=True).click()
    expect(page.get_by_role("heading", name="Install FAQ answerer 1.0.0")).to_be_visible()
    expect(page.get_by_label("How sure before answering")).to_have_value("0.5")  # the schema's default
    page.get_by_label("Questions and answers").fill('[{"question": "Hi", "answer": "Hello!"}]')
    page.get_by_role("button", name="Grant and install").click()
    # the schema refuses a question that short: its message is under the field, what was typed is kept
    expect(page.get_by_text("Please correct the errors below.")).to_be_visible()
    expect(page.get_by_text("Item 1: Question must be at least 3 characters long.")).to_be_visible()
    expect(page.get_by_label("Questions and answers")).to_have_value('[{"question": "Hi", "answer": "Hello!"}]')
    page.get_by_label("Questions and answers").fill(json.dumps(FAQS))
    screenshot(page, "marketplace-install")
    page.get_by_role("button", name="Grant and install").click()

    # then the installed plugin's page says so, and leads to creating an agent from it
    expect(page.get_by_text("FAQ answerer 1.0.0 installed.")).to_be_visible()
    expect(page.get_by_text("Its agents answer the conversations they hold.")).to_be_visible()
    page.get_by_role("link", name="Create an agent from it").click()
    page.get_by_label("Name", exact=True).fill("Porto helper")
    page.get_by_label("Demo shop").check()
    page.get_by_role("button", name="Create agent").click()
    expect(page.get_by_text("Agent “Porto helper” created.")).to_be_visible()
    # (the agents' template catalogue lists the plugin too)
    page.goto("/agents/new/")
    expect(page.get_by_role("link", name="Use the FAQ answerer template")).to_be_visible()

    # when a new customer writes, and the admin gives the conversation to the agent
    wa_id = new_customer()
    customer_writes(platform, wa_id=wa_id, name="Paula Porto", text="Hello!", phone_number_id=META_PHONE_NUMBER_ID)
    page.goto("/inbox/")
    conversation_link(page, "Paula Porto").click()
    expect(page.get_by_role("heading", name="Paula Porto")).to_be_visible()
    controls = page.locator("#conversation-controls")
    controls.get_by_label("Assigned to").select_option(label="Porto helper")
    controls.get_by_role("button", name="Assign", exact=True).click()
    expect(controls.locator("#conversation-holder")).to_contain_text("AI agent Porto helper")
    live(page)
    graph_api.expect_request(f"/{META_PHONE_NUMBER_ID}/messages", method="POST").respond_with_json(
        {"messaging_product": "whatsapp", "messages": [{"id": f"wamid.OUT{wa_id}"}]}
    )

    # and the customer asks a question of the list
    customer_writes(
        platform,
        wa_id=wa_id,
        name="Paula Porto",
        text="Hi, do you ship to porto?",
        phone_number_id=META_PHONE_NUMBER_ID,
    )

    # then the plugin's answer goes to WhatsApp and appears in the open thread, by the agent
    thread = page.locator("#thread-messages")
    expect(thread.get_by_text("Hi, do you ship to porto?")).to_be_visible()
    answer = thread.locator("li.bubble.out", has_text="Yes: we deliver to Porto in 2 working days.")
    expect(answer).to_be_visible(timeout=20_000)
    expect(answer).to_contain_text("AI agent · Porto helper")
    sent = graph_api.log[-1][0].get_json()
    assert (sent["to"], sent["text"]["body"]) == (wa_id, "Yes: we deliver to Porto in 2 working days.")
    screenshot(page, "marketplace-agent-answered")

    # and the installed plugin's page shows the agent built on it and the run
    page.goto("/marketplace/installed/faq-answerer/")
    expect(page.get_by_role("link", name="Porto helper").first).to_be_visible()
    expect(page.locator("table.executions")).to_contain_text("Succeeded")
    screenshot(page, "marketplace-installed")
    assert not [error for error in marketplace_errors if "Content Security Policy" in error]


def test_a_viewer_browses_the_marketplace_but_is_offered_no_install(page: Any) -> None:
    sign_in(page, VIEWER)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Marketplace").click()

    # a bad filter in the address says what is wrong, with a way out
    page.goto("/marketplace/?sort=price")
    expect(page.get_by_text("These filters are not valid")).to_be_visible()
    page.get_by_role("link", name="Clear the filters").click()

    page.locator(".plugin-card").filter(has_text="Lead scorer").get_by_role("link").first.click()
    expect(page.get_by_text("An admin of your workspace can install it.")).to_be_visible()
    expect(page.get_by_role("link", name="Install", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Installed", exact=True)).to_have_count(0)
    response = page.goto("/marketplace/installed/")
    assert response is not None
    assert response.status == 403
