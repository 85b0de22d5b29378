"""A big tenant in a real browser: the pages a person uses on a tenant that `manage.py seed_scale` filled
(thousands of conversations, contacts and executions, one conversation of 5,000 messages) still show
a page at a time, page on without repeating or skipping rows, search, and count right.

The tenant is seeded once for the module, on the running platform's database, with a CLIENT_ADMIN
of a known password. What a page should show is read from that database by `manage.py shell`
snippets (the truth the page is compared with); the tests themselves only read the pages.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in
from tests.platform import Platform

SLUG = "bigco"
ADMIN = "admin@bigco.scale.local"
PASSWORD = "bigco-scale-2026"
# Sizes: every list has many pages, yet the tenant seeds in seconds on SQLite and PostgreSQL.
SIZES = {
    "contacts": 1500,
    "conversations": 1500,
    "messages": 10000,  # the first conversation takes 5,000 of them (seed_scale's big conversation)
    "leads": 400,
    "agents": 4,
    "executions": 10000,
    "people": 5,
}
SEED = 7
# Embedded mode (SQLite, no DATABASE_URL): seed_scale inserts with bulk_create instead of COPY.
SEARCH_WORD = "warranty"  # in seed_scale's vocabulary (skybot_inbox/management/scale.py: VOCABULARY)
UNKNOWN_WORD = "zeppelin"  # not in its vocabulary, nor in any name it makes

# Gives the tenant its admin and writes what the pages should show to the JSON file {out}.
_FACTS = """
import json, re
from accounts.models import Account, Role, User
from django.db.models import Count
from inbox.models import Conversation, Lead, Message
account = Account.objects.get(slug={slug!r})
User.objects.create_user({email!r}, {password!r}, account=account, role=Role.CLIENT_ADMIN, full_name="Bea Bigco")
conversations = Conversation.objects.filter(account=account)
big = conversations.annotate(n=Count("messages")).order_by("-n", "id").first()
thread = Message.objects.filter(conversation=big)
word = re.compile(r"\\b" + {word!r} + r"\\b", re.IGNORECASE)
saying = {{c for c, text in Message.objects.filter(account=account).values_list("conversation_id", "text")
          if word.search(text or "")}}
found = conversations.filter(pk__in=saying).order_by("-last_message_at", "-id").values_list("id", flat=True)
facts = {{
    "big_conversation": big.pk,
    "big_messages": thread.count(),
    "big_newest_message": thread.order_by("-created_at", "-id").values_list("id", flat=True)[0],
    "search_hits": list(found),
    "leads": Lead.objects.filter(account=account).count(),
}}
open({out!r}, "w").write(json.dumps(facts))
"""

# Each agent's executions, counted from the executions table for the two windows the agents pages
# show by default: the list's "7 days", counted from the start of the UTC hour 7 days ago
# (agents/selectors.py: recent_outcomes), and the agent page's "Last 7 days", which ends at the next
# 5-minute mark (agents/services/analytics.py: DEFAULT_END_ALIGNMENT).
_EXECUTIONS = """
import json, math
from collections import Counter
from datetime import UTC, datetime, timedelta
from django.utils import timezone
from agents.models import Agent, AgentExecution
now = timezone.now()
until = datetime.fromtimestamp(math.ceil(now.timestamp() / 300) * 300, tz=UTC)
figures = {{}}
for agent in Agent.objects.filter(account__slug={slug!r}).order_by("id"):
    runs = AgentExecution.objects.filter(agent=agent)
    page = Counter(runs.filter(started_at__gte=until - timedelta(days=7), started_at__lt=until)
                   .values_list("status", flat=True))
    since = (now - timedelta(days=7)).replace(minute=0, second=0, microsecond=0)
    listed = Counter(runs.filter(started_at__gte=since).values_list("status", flat=True))
    figures[agent.name] = {{"page": dict(page), "list": dict(listed)}}
open({out!r}, "w").write(json.dumps(figures, sort_keys=True))
"""


@dataclass(frozen=True)
class BigTenant:
    big_conversation: int
    big_messages: int
    big_newest_message: int
    search_hits: list[int]
    leads: int


def _shell(platform: Platform, out: Path, code: str, **values: Any) -> Any:
    """Run a `manage.py shell` snippet on the platform's database; what it wrote to `out`."""
    out.unlink(missing_ok=True)
    platform.manage("shell", "-c", textwrap.dedent(code).format(out=str(out), **values))
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def big_tenant(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> BigTenant:
    sizes = [arg for option, size in SIZES.items() for arg in (f"--{option}", str(size))]
    platform.manage("seed_scale", "--account-slug", SLUG, *sizes, "--seed", str(SEED))
    out = tmp_path_factory.mktemp("bigco") / "facts.json"
    facts = _shell(platform, out, _FACTS, slug=SLUG, email=ADMIN, password=PASSWORD, word=SEARCH_WORD)
    return BigTenant(**facts)


@pytest.fixture(scope="module")
def admin_session(
    chromium: Any, platform: Platform, big_tenant: BigTenant, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The tenant's admin signed in once, through the sign-in page: the browser's cookies for that."""
    context = chromium.new_context(base_url=platform.url)
    sign_in(context.new_page(), ADMIN, PASSWORD)
    path = tmp_path_factory.mktemp("bigco-session") / "state.json"
    context.storage_state(path=str(path))
    context.close()
    return str(path)


@pytest.fixture
def admin_page(chromium: Any, platform: Platform, admin_session: str) -> Iterator[Any]:
    """A fresh browser window of the signed-in admin, on a wide screen."""
    context = chromium.new_context(
        base_url=platform.url, viewport={"width": 1280, "height": 800}, storage_state=admin_session
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


# --- reading the pages ------------------------------------------------------------------------------


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def conversations_shown(page: Any) -> list[tuple[int, datetime, str]]:
    """The list's conversations, top to bottom: (id from the link, last activity, status shown)."""
    rows = page.locator("#conversation-list a.conv-item").evaluate_all(
        """links => links.map(link => [
            link.getAttribute("href"),
            link.querySelector("time").getAttribute("datetime"),
            link.querySelector(".conv-meta .badge").textContent.trim(),
        ])"""
    )
    return [(_id_in(href, "/inbox/"), _when(at), status) for href, at, status in rows]


def messages_shown(page: Any) -> list[tuple[int, datetime]]:
    """The thread's messages, top to bottom: (id, time shown)."""
    rows = page.locator("#thread-messages li.bubble").evaluate_all(
        "items => items.map(item => [item.id, item.querySelector('time').getAttribute('datetime')])"
    )
    return [(int(element_id.removeprefix("message-")), _when(at)) for element_id, at in rows]


def table_rows(page: Any, table: str, prefix: str) -> list[tuple[int, str, datetime]]:
    """A table's rows: (id from the name's link, name, time in the row)."""
    rows = page.locator(f"table.{table} tbody tr").evaluate_all(
        """rows => rows.map(row => [
            row.querySelector("td a").getAttribute("href"),
            row.querySelector("td a").textContent.trim(),
            row.querySelector("time").getAttribute("datetime"),
        ])"""
    )
    return [(_id_in(href, prefix), name, _when(at)) for href, name, at in rows]


def _id_in(href: str, prefix: str) -> int:
    match = re.match(rf"{re.escape(prefix)}(\d+)/", href)
    assert match is not None, href
    return int(match[1])


def assert_newest_activity_first(rows: list[tuple[int, datetime, str]]) -> None:
    keys = [(at, pk) for pk, at, _ in rows]
    assert keys == sorted(keys, reverse=True), "not newest activity first (ties: newest conversation first)"


def ids(rows: list[Any]) -> list[int]:
    return [row[0] for row in rows]


# --- the inbox ----------------------------------------------------------------------------------------


def test_the_inbox_shows_a_page_of_conversations_and_shows_more_without_repeats(admin_page: Any) -> None:
    page = admin_page
    items = page.locator("#conversation-list a.conv-item")
    more = page.get_by_role("link", name="Show more conversations")

    # given the inbox of a tenant with 1,500 conversations
    page.goto("/inbox/")
    expect(more).to_be_visible()
    first = conversations_shown(page)
    assert 10 <= len(first) < 100  # a page, not the whole tenant
    assert_newest_activity_first(first)
    screenshot(page, "large-tenant-inbox")

    # when the person asks for more, twice
    more.click()
    expect(items).to_have_count(2 * len(first))
    second = conversations_shown(page)
    more.click()
    expect(items).to_have_count(3 * len(first))
    third = conversations_shown(page)

    # then the list grows below what was shown, with conversations not shown before, in the same order
    assert second[: len(first)] == first
    assert third[: len(second)] == second
    assert len(set(ids(third))) == len(third), "a conversation is shown twice"
    assert_newest_activity_first(third)

    # when only open conversations are asked for
    page.get_by_label("Status").select_option("open")

    # then every conversation listed is open, and showing more still adds new open ones in order
    expect(page).to_have_url(re.compile(r"status=open"))
    expect(items).to_have_count(len(first))
    open_first = conversations_shown(page)
    assert {status for _, _, status in open_first} == {"Open"}
    assert ids(open_first) != ids(first)  # resolved and pending ones left the list
    more.click()
    expect(items).to_have_count(2 * len(first))
    open_second = conversations_shown(page)
    assert open_second[: len(open_first)] == open_first
    assert {status for _, _, status in open_second} == {"Open"}
    assert len(set(ids(open_second))) == len(open_second)
    assert_newest_activity_first(open_second)
    screenshot(page, "large-tenant-inbox-open")


def open_big_conversation(page: Any, big_tenant: BigTenant) -> Any:
    """Open the conversation of 5,000 messages; its "Show earlier messages" button."""
    assert big_tenant.big_messages == 5000  # seed_scale's biggest conversation
    page.goto(f"/inbox/{big_tenant.big_conversation}/")
    earlier = page.get_by_role("button", name="Show earlier messages")
    expect(earlier).to_be_visible()
    return earlier


def show_earlier(page: Any, earlier: Any) -> list[tuple[int, datetime]]:
    """Ask for earlier messages; the thread once they are in."""
    shown = page.locator("#thread-messages li.bubble").count()
    earlier.click()
    expect(page.locator("#thread-messages li.bubble")).not_to_have_count(shown)
    return messages_shown(page)


def test_the_5000_message_conversation_opens_on_its_newest_messages_and_loads_earlier_ones(
    admin_page: Any, big_tenant: BigTenant
) -> None:
    page = admin_page

    # when the person opens the conversation of 5,000 messages
    earlier = open_big_conversation(page, big_tenant)

    # then the thread shows a page of its messages, the newest at the bottom
    newest = messages_shown(page)
    assert 0 < len(newest) <= 100, f"{len(newest)} of 5,000 messages on the page"
    assert newest[-1][0] == big_tenant.big_newest_message
    screenshot(page, "large-tenant-thread")

    # when they ask for earlier messages, twice
    more = show_earlier(page, earlier)
    most = show_earlier(page, earlier)

    # then earlier messages come in above the ones shown, which stay as they were, none twice
    assert len(newest) < len(more) < len(most) < 500
    assert more[-len(newest) :] == newest
    assert most[-len(more) :] == more
    assert len({pk for pk, _ in most}) == len(most), "a message is shown twice"
    expect(earlier).to_be_visible()  # and there are earlier ones still
    screenshot(page, "large-tenant-thread-earlier")


def test_the_5000_message_conversation_reads_in_time_order(admin_page: Any, big_tenant: BigTenant) -> None:
    # given the conversation of 5,000 messages, with earlier messages loaded above the newest
    page = admin_page
    earlier = open_big_conversation(page, big_tenant)
    newest = messages_shown(page)
    shown = show_earlier(page, earlier)

    # then the times beside the messages rise from top to bottom, the earlier ones before the newest
    times = [at for _, at in shown]
    assert times == sorted(times), "the messages' times are out of order"
    assert times[0] < newest[0][1]


def test_searching_the_inbox_finds_the_conversations_saying_a_word(admin_page: Any, big_tenant: BigTenant) -> None:
    page = admin_page
    items = page.locator("#conversation-list a.conv-item")
    expected = big_tenant.search_hits
    assert len(expected) > 50  # the word is common in the tenant's messages

    # when the person searches the inbox for a word the customers use, and leaves the search box
    page.goto("/inbox/")
    search = page.get_by_label("Search")
    with page.expect_response(lambda response: f"q={SEARCH_WORD}" in response.url):
        search.fill(SEARCH_WORD)  # the list follows the typing
    with page.expect_response(lambda response: f"q={SEARCH_WORD}" in response.url):
        # Leaving the box asks again (the form's `change`). Clicking "Show more" straight from the box
        # sends that request beside the link's, and whichever answers last sets the list: the form
        # (templates/inbox/partials/filters.html) and the link are not synchronised (hx-sync).
        search.press("Tab")

    # then the list holds the conversations with a message saying it, newest activity first
    expect(page).to_have_url(re.compile(rf"q={SEARCH_WORD}"))
    expect(items.first).to_have_attribute("href", re.compile(rf"^/inbox/{expected[0]}/"))
    found = conversations_shown(page)
    assert ids(found) == expected[: len(found)]
    page.get_by_role("link", name="Show more conversations").click()
    expect(items).to_have_count(2 * len(found))
    assert ids(conversations_shown(page)) == expected[: 2 * len(found)]
    screenshot(page, "large-tenant-inbox-search")

    # when they search for a word nobody wrote
    search.fill(UNKNOWN_WORD)

    # then the list says nothing matches
    expect(page.get_by_role("heading", name="No conversation matches")).to_be_visible()
    expect(items).to_have_count(0)
    screenshot(page, "large-tenant-inbox-search-empty")


# --- contacts, leads, agents --------------------------------------------------------------------------


def turn_page(page: Any, link: Any) -> None:
    """Follow a pager link and wait for the page it leads to."""
    leaving = page.url
    link.click()
    page.wait_for_url(lambda url: url != leaving)


def test_the_contacts_table_pages_back_and_forth_and_finds_a_contact_by_name(admin_page: Any) -> None:
    page = admin_page
    pager = page.get_by_role("navigation", name="Pages")
    older = pager.get_by_role("link", name="Older →")
    newer = pager.get_by_role("link", name="← Newer")

    # given the contacts table of a tenant with 1,500 contacts
    page.goto("/contacts/")
    expect(page.get_by_role("heading", name="Contacts")).to_be_visible()
    expect(newer).to_have_count(0)
    first = table_rows(page, "contacts-table", "/contacts/")
    assert 10 <= len(first) < 200
    screenshot(page, "large-tenant-contacts")

    # when the person goes two pages on
    turn_page(page, older)
    second = table_rows(page, "contacts-table", "/contacts/")
    turn_page(page, older)
    third = table_rows(page, "contacts-table", "/contacts/")

    # then each page holds other contacts, newest first, following on from the page before
    shown = first + second + third
    assert len(second) == len(third) == len(first)
    assert len({pk for pk, _, _ in shown}) == len(shown), "a contact is shown on two pages"
    keys = [(at, pk) for pk, _, at in shown]
    assert keys == sorted(keys, reverse=True)

    # when they come back page by page
    turn_page(page, newer)
    assert table_rows(page, "contacts-table", "/contacts/") == second
    turn_page(page, newer)

    # then they are on the same first page, with nothing newer offered
    assert table_rows(page, "contacts-table", "/contacts/") == first
    expect(newer).to_have_count(0)

    # when they search for a contact seen on the third page, by name
    wanted, name, _ = third[7]
    page.get_by_role("searchbox", name="Search").fill(name)
    page.get_by_role("button", name="Search").click()

    # then that contact is found, among contacts of that name only
    expect(page).to_have_url(re.compile(r"[?&]q="))
    found = table_rows(page, "contacts-table", "/contacts/")
    assert wanted in ids(found)
    assert {shown_name for _, shown_name, _ in found} == {name}
    screenshot(page, "large-tenant-contacts-search")


def test_the_leads_table_counts_every_lead_and_pages_through_them(admin_page: Any, big_tenant: BigTenant) -> None:
    page = admin_page

    # when the person opens the leads of a tenant with hundreds of them
    page.goto("/leads/")
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()

    # then the page says how many there are and shows the first page of them
    expect(page.locator("#lead-count")).to_contain_text(f"{big_tenant.leads} leads.")
    first = table_rows(page, "leads-table", "/leads/")
    pages = -(-big_tenant.leads // len(first))
    pager = page.get_by_role("navigation", name="Pages")
    expect(pager).to_contain_text(f"Page 1 of {pages}")
    screenshot(page, "large-tenant-leads")

    # when they go to the next page
    pager.get_by_role("link", name="Older →").click()

    # then it holds other, older leads
    expect(pager).to_contain_text(f"Page 2 of {pages}")
    second = table_rows(page, "leads-table", "/leads/")
    assert len(second) == len(first)
    assert not set(ids(first)) & set(ids(second))
    keys = [(at, pk) for pk, _, at in first + second]
    assert keys == sorted(keys, reverse=True)


def _figure(page: Any, label: str) -> str:
    """The figure shown above `label` in the agent page's analytics."""
    analytics = page.get_by_role("region", name="Analytics")
    stat = analytics.locator(".stat").filter(has=page.get_by_text(label, exact=True))
    return str(stat.locator(".value").inner_text()).strip()


def test_the_agents_pages_show_the_executions_the_database_holds(
    admin_page: Any, platform: Platform, tmp_path: Path
) -> None:
    page = admin_page
    out = tmp_path / "executions.json"
    rows = page.locator("table.agent-table tbody tr")

    for _attempt in range(3):  # the windows move with the clock: read the pages between two equal counts
        # given what the database holds for each agent now
        before = _shell(platform, out, _EXECUTIONS, slug=SLUG)

        # when the person opens the agents list, and the busiest agent's page
        page.goto("/agents/")
        expect(rows).to_have_count(len(before))
        finished_shown = dict(
            rows.evaluate_all(
                """rows => rows.map(row => [
                    row.querySelector("td a").textContent.trim(),
                    row.querySelector("td.num").innerText.trim(),
                ])"""
            )
        )
        busiest = max(before, key=lambda name: sum(before[name]["page"].values()))
        screenshot(page, "large-tenant-agents")
        rows.get_by_role("link", name=busiest, exact=True).click()
        expect(page.get_by_role("heading", name=busiest)).to_be_visible()
        expect(page.get_by_label("Period")).to_have_value("7d")
        shown = {label: _figure(page, label) for label in ("Executions", "Success rate", "Failed")}

        if before == _shell(platform, out, _EXECUTIONS, slug=SLUG):
            break
    else:
        pytest.fail("the executions counted kept changing while the pages were read")
    screenshot(page, "large-tenant-agent")

    # then the list shows, for each agent, the success rate of the executions that finished in the last 7 days
    for name, figures in before.items():
        succeeded, failed = figures["list"].get("succeeded", 0), figures["list"].get("failed", 0)
        finished = succeeded + failed
        assert finished_shown[name] == f"{round(succeeded / finished * 100)}%\n{finished} finished", name

    # and the agent's page its total, success rate and failures over its default period, the last 7 days
    counted = before[busiest]["page"]
    succeeded, failed = counted.get("succeeded", 0), counted.get("failed", 0)
    assert succeeded > 100  # the period holds many executions
    assert shown == {
        "Executions": str(sum(counted.values())),
        "Success rate": f"{round(succeeded / (succeeded + failed), 4):.1%}",
        "Failed": str(failed),
    }
