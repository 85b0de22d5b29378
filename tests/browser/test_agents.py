"""The agents pages in a real browser: creating an agent from a template, its status and executions
changing live as the SkyBot runner reports them, analytics with the chart, the CSV export, and what
a viewer is offered. The local stand-in server plays the runner (agents/tests/fake_runner.py)."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from agents.tests.fake_runner import FakeRunner
from agents.tests.runner_events import sign
from tests.browser.conftest import screenshot, sign_in
from tests.platform import RUNNER_WEBHOOK_SECRET, Platform

ADMIN = "admin@demo.skybot.local"
USER = "agent@demo.skybot.local"
VIEWER = "viewer@demo.skybot.local"
DEMO_AGENT = "Support desk"  # agents/demo.py: active, a week of executions
CSV_HEADER = "id,agent_id,agent_name,external_id,status,started_at,finished_at,duration_ms,conversation_id,error"


@pytest.fixture
def runner(platform: Platform) -> Iterator[FakeRunner]:
    """The SkyBot runner stand-in, with no workflow yet."""
    platform.graph_api.clear()
    yield FakeRunner(platform.graph_api)
    platform.graph_api.clear()


def post_runner_event(platform: Platform, event_type: str, data: dict[str, Any]) -> httpx.Response:
    """Deliver an event to /webhooks/skybot signed as the runner signs it."""
    body = json.dumps({"id": f"evt_{uuid.uuid4().hex}", "type": event_type, "data": data}).encode()
    timestamp = int(time.time())
    response = httpx.post(
        f"{platform.url}/webhooks/skybot",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-SkyBot-Timestamp": str(timestamp),
            "X-SkyBot-Signature": sign(body, timestamp=timestamp, secret=RUNNER_WEBHOOK_SECRET),
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response


def create_custom_agent(page: Any, name: str) -> int:
    """Create an agent from the Custom agent template through the pages; its id."""
    page.goto("/agents/new/")
    page.get_by_role("link", name="Use the Custom agent template").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("System prompt", exact=True).fill("Answer briefly and kindly.")
    page.get_by_role("button", name="Create agent").click()
    page.wait_for_url(re.compile(r"/agents/\d+/$"))
    match = re.search(r"/agents/(\d+)/$", page.url)
    assert match is not None
    return int(match[1])


def mark_page(page: Any) -> None:
    """Remember this page load: `still_same_page` is false after a reload or navigation."""
    page.evaluate("window.__notReloaded = true")


def still_same_page(page: Any) -> bool:
    return bool(page.evaluate("window.__notReloaded === true"))


def wait_until_live(page: Any) -> None:
    expect(page.locator("#live-status")).to_have_attribute("data-state", "open")


def test_an_admin_creates_an_agent_from_a_template_after_fixing_the_form(page: Any, runner: FakeRunner) -> None:
    # given an admin on the template catalogue
    sign_in(page, ADMIN)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Agents").click()
    page.get_by_role("link", name="Create an agent").first.click()
    expect(page.get_by_role("heading", name="Create an agent")).to_be_visible()
    screenshot(page, "agents-templates")

    # when they fill in the Sales assistant form with a discount above its limit and an FTP catalogue
    page.get_by_role("link", name="Use the Sales assistant template").click()
    expect(page.get_by_label("Currency")).to_have_value("USD")  # the schema's default
    screenshot(page, "agents-create-form")
    page.get_by_label("Name", exact=True).fill("Shoe seller")
    page.get_by_label("Greeting", exact=True).fill("Hi! Looking for shoes?")
    page.get_by_label("Product catalog URL", exact=True).fill("ftp://files.example.com/catalogue.csv")
    page.get_by_label("Max discount percent").fill("90")
    page.get_by_label("Qualifying questions").fill("What size?\nWhat colour?")
    page.get_by_role("button", name="Create agent").click()

    # then the schema's verdict is under each field, what they typed is kept, nothing was deployed
    expect(page.get_by_text("Please correct the errors below.")).to_be_visible()
    expect(page.get_by_text("Max discount percent must be at most 40.")).to_be_visible()
    expect(page.get_by_text("Write a web address that starts with http:// or https://.")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Shoe seller")
    assert runner.requests("POST", "/workflows") == []
    screenshot(page, "agents-create-form-errors")

    # when they correct both and submit again
    page.get_by_label("Product catalog URL", exact=True).fill("https://shop.example.com/catalogue.json")
    page.get_by_label("Max discount percent").fill("15")
    page.get_by_role("button", name="Create agent").click()

    # then the agent's page says it was created, and the runner deployed and activated its workflow
    expect(page.get_by_text("Agent “Shoe seller” created.")).to_be_visible()
    expect(page.locator("#agent-status-badge")).to_have_text("Active")
    deploys = runner.requests("POST", "/workflows")
    assert len(deploys) == 1
    assert deploys[0].headers["Authorization"] == "Bearer browser-test-runner-key"
    definition = deploys[0].get_json()
    assert definition["template"] == "sales-assistant"
    assert definition["config"]["max_discount_percent"] == 15
    assert definition["config"]["qualifying_questions"] == ["What size?", "What colour?"]
    assert len(runner.requests("POST", r"/workflows/wf-1/activate")) == 1
    expect(page.get_by_text("wf-1")).to_be_visible()

    # and the list shows it beside the demo agents
    page.get_by_role("link", name="← Agents").click()
    row = page.locator("tr", has_text="Shoe seller")
    expect(row.get_by_text("Active", exact=True)).to_be_visible()
    expect(row).to_contain_text("Sales assistant")
    expect(page.locator("tr", has_text=DEMO_AGENT)).to_be_visible()
    screenshot(page, "agents-list")


def test_status_changes_reach_open_pages_without_a_reload(page: Any, runner: FakeRunner, platform: Platform) -> None:
    # given an agent deployed through the pages, and the agents list open
    sign_in(page, ADMIN)
    agent_id = create_custom_agent(page, "Status watcher")
    workflow = {"agent_id": agent_id, "workflow_id": "wf-1"}
    page.goto("/agents/")
    wait_until_live(page)
    mark_page(page)
    row = page.locator(f'tr[data-agent="{agent_id}"]')
    expect(row.get_by_text("Active", exact=True)).to_be_visible()

    # when the runner reports the workflow paused
    post_runner_event(platform, "workflow.status_changed", {**workflow, "status": "inactive"})

    # then the badge in the list changes by itself
    expect(row.get_by_text("Inactive", exact=True)).to_be_visible()
    assert still_same_page(page)

    # when the admin opens the agent and activates it again
    row.get_by_role("link", name="Status watcher").click()
    wait_until_live(page)
    mark_page(page)
    expect(page.get_by_role("button", name="Deactivate")).to_have_count(0)
    page.get_by_role("button", name="Activate", exact=True).click()

    # then the runner activated the workflow and the page shows the new status and actions
    expect(page.locator("#agent-status-badge")).to_have_text("Active")
    expect(page.get_by_role("button", name="Deactivate")).to_be_visible()
    expect(page.get_by_role("button", name="Activate", exact=True)).to_have_count(0)
    assert runner.status["wf-1"] == "active"

    # and when the runner reports the workflow broken, the open page follows
    post_runner_event(
        platform, "workflow.status_changed", {**workflow, "status": "failed", "error": "Model quota used up"}
    )
    expect(page.locator("#agent-status-badge")).to_have_text("Failed")
    expect(page.get_by_text("Model quota used up")).to_be_visible()
    expect(page.get_by_role("button", name="Redeploy")).to_be_visible()
    assert still_same_page(page)


def test_executions_reported_by_the_runner_appear_in_the_open_log(
    page: Any, runner: FakeRunner, platform: Platform
) -> None:
    # given an agent's page with no executions yet
    sign_in(page, ADMIN)
    agent_id = create_custom_agent(page, "Busy bee")
    expect(page.get_by_text("No executions yet")).to_be_visible()
    wait_until_live(page)
    mark_page(page)
    reference = {"agent_id": agent_id, "workflow_id": "wf-1", "execution_id": "exe-browser-1"}

    # when the runner reports an execution starting
    post_runner_event(platform, "execution.started", {**reference, "input_summary": "Do you ship to Porto?"})

    # then it appears in the log, running
    row = page.locator('tr[data-execution="exe-browser-1"]')
    expect(row).to_contain_text("Running")
    expect(row).to_contain_text("Do you ship to Porto?")

    # when it finishes
    post_runner_event(
        platform,
        "execution.succeeded",
        {**reference, "duration_ms": 1800, "output_summary": "Yes, in 2 days."},
    )

    # then the same row shows the outcome, without a reload
    expect(row).to_contain_text("Succeeded")
    expect(row).to_contain_text("1.8 s")
    expect(row).to_contain_text("Yes, in 2 days.")
    expect(page.locator("tr[data-execution]")).to_have_count(1)
    assert still_same_page(page)


def test_analytics_show_the_chart_and_figures_and_export_a_csv(page: Any, tmp_path: Path) -> None:
    # given a USER on the demo agent's page (a week of executions)
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    sign_in(page, USER)
    page.goto("/agents/")
    page.get_by_role("link", name=DEMO_AGENT).click()

    # then the week's figures and a bar chart of the executions per day
    chart = page.get_by_role("img", name=re.compile(r"^Executions last 7 days per day"))
    expect(chart).to_be_visible()
    assert page.locator(".chart-svg rect.ok").count() >= 7
    total = int(page.locator("#stat-total").inner_text())
    assert total > 100
    expect(page.locator("#stat-success")).to_have_text(re.compile(r"^\d+\.\d%$"))
    expect(page.get_by_text("Median duration (p50)")).to_be_visible()
    screenshot(page, "agents-detail")

    # when they look at the last 24 hours instead
    page.get_by_label("Period").select_option("24h")

    # then the chart is per hour and the address keeps the choice
    expect(page.get_by_role("img", name=re.compile(r"^Executions last 24 hours per hour"))).to_be_visible()
    expect(page).to_have_url(re.compile(r"range=24h"))
    day_total = int(page.locator("#stat-total").inner_text())
    assert 0 < day_total < total

    # when they export the period as CSV
    page.get_by_role("button", name="Export executions (CSV)").click()

    # then the page shows the report being prepared, then a download link
    expect(page.get_by_text("Preparing your report")).to_be_visible()
    ready = page.get_by_text(re.compile(r"Your report is ready: \d+ rows?\."))
    expect(ready).to_be_visible(timeout=15_000)
    counted = re.search(r"ready: (\d+) row", ready.inner_text())
    assert counted is not None
    rows = int(counted[1])
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    path = tmp_path / "report.csv"
    download_info.value.save_as(path)
    lines = path.read_text().splitlines()
    assert lines[0] == CSV_HEADER
    assert len(lines) - 1 == rows
    assert rows >= day_total  # every agent of the tenant, this agent included
    assert any(f",{DEMO_AGENT}," in line for line in lines[1:])
    assert not [error for error in console_errors if "Content Security Policy" in error]


def test_a_viewer_reads_agents_but_is_offered_no_change(page: Any) -> None:
    # given a viewer
    sign_in(page, VIEWER)

    # when they open the agents list and the demo agent
    page.goto("/agents/")
    expect(page.locator("tr", has_text=DEMO_AGENT)).to_be_visible()
    expect(page.get_by_role("link", name="Create an agent")).to_have_count(0)
    page.get_by_role("link", name=DEMO_AGENT).click()
    expect(page.locator("#agent-status-badge")).to_have_text("Active")

    # then no button changes anything, and the create page refuses them
    for name in ("Deactivate", "Redeploy", "Delete", "Export executions (CSV)"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    expect(page.get_by_role("link", name="Edit configuration")).to_have_count(0)
    response = page.goto("/agents/new/")
    assert response is not None
    assert response.status == 403


def test_the_agent_page_fits_a_phone(phone_page: Any) -> None:
    sign_in(phone_page, ADMIN)
    phone_page.goto("/agents/")
    phone_page.get_by_role("link", name=DEMO_AGENT).click()
    expect(phone_page.get_by_role("img", name=re.compile(r"^Executions"))).to_be_visible()

    # the page itself does not scroll sideways (the chart scrolls inside its frame)
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone_page, "agents-detail-phone")
    phone_page.goto("/agents/")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone_page, "agents-list-phone")
