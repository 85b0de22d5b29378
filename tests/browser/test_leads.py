"""Leads in a real browser: filtering the table, editing a lead, and downloading the CSV."""

from __future__ import annotations

import csv
import io

from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in

AGENT = "agent@demo.skybot.local"


def open_leads(page):
    sign_in(page, AGENT)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Leads").click()
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()
    return page.locator("table.leads-table tbody tr")


def test_the_status_filter_narrows_the_table(page):
    # given the demo leads
    rows = open_leads(page)
    expect(rows.filter(has_text="Helena Costa")).to_have_count(1)
    screenshot(page, "leads-table")

    # when only won leads are asked for
    page.get_by_label("Status").select_option("won")
    page.get_by_role("button", name="Filter").click()

    # then only those are left
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Priya Sharma")


def test_a_lead_is_edited_from_the_table(page):
    # given the leads table
    rows = open_leads(page)

    # when a lead is opened, changed and saved
    page.get_by_role("link", name="Jonas Weber").click()
    page.get_by_label("Status").select_option("nurture")
    page.get_by_label("Score (0–100)").fill("35")
    page.get_by_role("button", name="Save lead").click()

    # then the table shows the change
    expect(page.get_by_text("Lead “Jonas Weber” saved.")).to_be_visible()
    row = rows.filter(has_text="Jonas Weber")
    expect(row).to_contain_text("Nurture")
    expect(row).to_contain_text("35")


def test_a_score_above_100_is_stopped_before_it_is_sent(page):
    # given a lead's form
    open_leads(page)
    page.get_by_role("link", name="Helena Costa").click()
    edit_url = page.url

    # when a score beyond the scale is saved
    score = page.get_by_label("Score (0–100)")
    score.fill("150")
    page.get_by_role("button", name="Save lead").click()

    # then the browser points at the field and the form stays
    assert score.evaluate("field => field.validity.rangeOverflow") is True
    expect(page).to_have_url(edit_url)
    expect(page.get_by_role("button", name="Save lead")).to_be_visible()


def test_the_csv_export_downloads_the_filtered_leads(page):
    # given the table filtered to qualified leads
    rows = open_leads(page)
    page.get_by_label("Status").select_option("qualified")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)

    # when the export is downloaded
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()

    # then the file holds those leads
    assert download.value.suggested_filename.startswith("leads-")
    assert download.value.suggested_filename.endswith(".csv")
    lines = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert lines[0][:2] == ["id", "name"]
    assert [line[1] for line in lines[1:]] == ["Sheena Nelson"]
    assert lines[1][6] == "qualified"


def test_the_leads_table_on_a_phone(phone_page):
    rows = open_leads(phone_page)
    expect(rows.filter(has_text="Priya Sharma")).to_be_visible()
    expect(phone_page.get_by_role("link", name="Export CSV")).to_be_visible()
    screenshot(phone_page, "leads-table-phone")
