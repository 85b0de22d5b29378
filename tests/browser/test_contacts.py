"""Contacts in a real browser: reaching the table, searching it, and going on to the conversation."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in

VIEWER = "viewer@demo.skybot.local"


def open_contacts(page):
    sign_in(page, VIEWER)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts").click()
    expect(page.get_by_role("heading", name="Contacts")).to_be_visible()
    return page.locator("table.contacts-table tbody tr")


def test_a_viewer_finds_a_contact_by_number_and_opens_the_conversation(page):
    # given the demo contacts, seen by a viewer
    rows = open_contacts(page)
    expect(rows.filter(has_text="Sheena Nelson")).to_have_count(1)
    screenshot(page, "contacts-table")

    # when searching for a number written as people write it
    page.get_by_role("searchbox", name="Search").fill("(555) 010-0103")
    page.get_by_role("button", name="Search").click()

    # then only that customer is left, with their number, email and lead
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Priya Sharma")
    expect(rows.first).to_contain_text("+15550100103")
    expect(rows.first).to_contain_text("priya@sharma-co.example")
    expect(rows.first.get_by_role("link", name="Won")).to_be_visible()

    # when their conversation is opened from the row
    rows.first.get_by_role("link", name="Open the conversation with Priya Sharma").click()

    # then the inbox shows it
    expect(page.get_by_role("heading", name="Priya Sharma")).to_be_visible()


def test_the_contacts_table_on_a_phone(phone_page):
    rows = open_contacts(phone_page)
    expect(rows.filter(has_text="Marcus Chen")).to_be_visible()
    expect(phone_page.get_by_role("searchbox", name="Search")).to_be_in_viewport()
    screenshot(phone_page, "contacts-table-phone")
