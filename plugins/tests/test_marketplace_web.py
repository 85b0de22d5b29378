"""The marketplace pages: the catalogue's grid and filters, a plugin's page (Markdown description,
screenshots, permissions, versions, reviews), installing through the form generated from the
version's JSON Schema, the team's review, and the installed plugins (update, configure, off and on,
uninstall, executions). Each with the API's role and tenant rules, bad input, a disabled tenant and
the grid's query count."""

from __future__ import annotations

import base64
import io
import json
import re
import zipfile
from collections.abc import Callable
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts.models import Account, AuditLog, User
from accounts.principals import Principal
from accounts.tests.factories import UserFactory
from agents.models import Agent, AgentStatus, ExecutionStatus
from agents.tests.factories import AgentExecutionFactory
from core.tests.html import assert_no_inline_code
from plugins.models import (
    DisabledReason,
    Plugin,
    PluginInstallation,
    PluginReview,
    PluginVersion,
    VersionStatus,
)
from plugins.services.installations import plugin_install, plugin_upgrade
from plugins.services.packages import plugin_upload
from plugins.services.reviews import review_create
from plugins.services.versions import version_yank
from plugins.tests.conftest import ECHO_SOURCE, build_package, manifest

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
# A 1x1 PNG, for a screenshot.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><script>alert(1)</script><circle r="4"/></svg>'


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html(response: Any) -> str:
    return response.content.decode()


def field_error(page: str, field: str, message: str) -> bool:
    """Whether `page` shows `message` under the field, in the list its control's aria-describedby names."""
    shown = rf'id="id_{field}_errors"><ul class="errorlist" id="id_{field}_error"><li>{message}'
    return re.search(shown, page) is not None


def card_ids(page: str) -> list[str]:
    return re.findall(r'<li class="plugin-card" data-plugin="([^"]+)"', page)


def catalogue_plugin(number: int, **fields: Any) -> Plugin:
    """A published plugin with one published version, stored directly (the grid reads no package)."""
    now = timezone.now()
    values: dict[str, Any] = {
        "plugin_id": f"plugin-{number:03d}",
        "name": f"Plugin {number:03d}",
        "author": "Someone",
        "description": "Does a thing.",
        "category": "SALES",
        "is_published": True,
        "published_at": now,
        **fields,
    }
    plugin = Plugin.objects.create(**values)
    PluginVersion.objects.create(
        plugin=plugin,
        version="1.0.0",
        manifest={"id": plugin.plugin_id, "version": "1.0.0", "permissions": ["messages:send"]},
        package=b"",
        sha256=f"{number:064d}",
        size=0,
        status=VersionStatus.PUBLISHED,
        published_at=now,
    )
    return plugin


def upload(manifest_data: dict[str, Any], files: dict[str, str] | None = None, changelog: str = "") -> PluginVersion:
    data = build_package(manifest_data, files)
    return plugin_upload(data=data, actor=None, publish=True, changelog=changelog)


def echo(version: str, **overrides: Any) -> dict[str, Any]:
    return manifest(version=version, **overrides)


# --- the catalogue ------------------------------------------------------------------------------------


def test_the_marketplace_shows_each_published_plugin_as_a_card(
    account: Account, viewer: User, echo_version: PluginVersion, install: Callable[..., Any]
) -> None:
    # given the echo plugin (free, installed here) and a verified paid one with reviews, and a draft
    install(account)
    catalogue_plugin(
        1,
        name="Lead magnet",
        author="Magnet Labs",
        is_verified=True,
        price=Decimal("9.90"),
        rating_average=Decimal("4.40"),
        review_count=5,
        downloads=12,
    )
    catalogue_plugin(2, name="Not out yet", is_published=False)

    # when a viewer opens the marketplace from the navigation
    response = signed_in(viewer).get("/marketplace/")

    # then each published plugin is a card with its facts, in the default order (most installed first)
    assert response.status_code == 200
    assert_no_inline_code(response)
    page = html(response)
    assert '<a href="/marketplace/">Marketplace</a>' in page or 'href="/marketplace/" aria-current="page"' in page
    assert card_ids(page) == ["plugin-001", "echo"]
    magnet = page[page.index('data-plugin="plugin-001"') : page.index('data-plugin="echo"')]
    assert "Lead magnet" in magnet
    assert "by Magnet Labs" in magnet
    assert ">Verified</span>" in magnet
    assert "Sales" in magnet
    assert "★★★★☆" in magnet
    assert "4.4 (5 reviews)" in magnet
    assert "12 installs" in magnet
    assert "9.90 a month" in magnet
    assert '<span class="plugin-icon letter " aria-hidden="true">L</span>' in magnet
    echo_card = page[page.index('data-plugin="echo"') :]
    assert "Free" in echo_card
    assert ">Installed</span>" in echo_card
    assert "No reviews yet" in echo_card
    assert "Not out yet" not in page
    # and a viewer has no Installed tab
    assert "/marketplace/installed/" not in page


def test_filters_narrow_the_grid_and_htmx_gets_the_grid_alone(viewer: User) -> None:
    # given plugins of several kinds
    catalogue_plugin(1, name="Alpha seller", category="SALES", is_verified=True, downloads=5)
    catalogue_plugin(2, name="Beta helper", category="SUPPORT", description="Answers refunds.", downloads=9)
    catalogue_plugin(3, name="Gamma seller", category="SALES", price=Decimal("5.00"), rating_average=Decimal("4.9"))
    browser = signed_in(viewer)

    def shown(query: str, **headers: Any) -> list[str]:
        response = browser.get(f"/marketplace/?{query}", **headers)
        assert response.status_code == 200
        return card_ids(html(response))

    # then each filter narrows the list and each sort orders it
    assert shown("q=seller") == ["plugin-001", "plugin-003"]
    assert shown("q=REFUNDS") == ["plugin-002"]
    assert shown("category=SALES") == ["plugin-001", "plugin-003"]
    assert shown("verified=true") == ["plugin-001"]
    assert shown("free=true") == ["plugin-002", "plugin-001"]
    assert shown("free=false") == ["plugin-003"]
    assert shown("sort=name") == ["plugin-001", "plugin-002", "plugin-003"]
    assert shown("sort=rating")[0] == "plugin-003"
    assert shown("category=SALES&free=true&q=alpha") == ["plugin-001"]

    # and an htmx request answers the grid without the page around it
    response = browser.get("/marketplace/?category=SUPPORT", **HTMX)
    assert card_ids(html(response)) == ["plugin-002"]
    assert "<html" not in html(response)
    assert 'id="market-filters"' not in html(response)

    # and the full page shows the filters as chosen
    page = html(browser.get("/marketplace/?category=SALES&verified=true&q=seller&sort=name"))
    assert '<option value="SALES" selected>' in page
    assert '<option value="name" selected>' in page
    assert re.search(r'<input type="checkbox" name="verified" value="true"[^>]* checked', page)
    assert 'value="seller"' in page
    assert 'hx-push-url="true"' in page


def test_an_empty_marketplace_and_filters_that_match_nothing_say_so(viewer: User) -> None:
    browser = signed_in(viewer)
    assert "No plugins yet" in html(browser.get("/marketplace/"))

    catalogue_plugin(1)
    page = html(browser.get("/marketplace/?q=nothing-like-this"))
    assert "No plugin matches these filters" in page
    assert '<a href="/marketplace/">Clear the filters</a>' in page
    assert card_ids(page) == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("sort=price", "Sort: Select a valid choice. price is not one of the available choices."),
        ("category=PETS", "Category: Select a valid choice. PETS is not one of the available choices."),
        ("free=maybe", "Free:"),
        ("verified=2", "Verified:"),
        ("page=0", "Page: A whole number from 1 to 10000."),
        ("page=abc", "Page: A whole number from 1 to 10000."),
    ],
)
def test_a_bad_filter_value_is_a_400_that_says_what_is_wrong(viewer: User, query: str, message: str) -> None:
    catalogue_plugin(1)
    browser = signed_in(viewer)

    for headers in ({}, HTMX):
        response = browser.get(f"/marketplace/?{query}", **headers)
        assert response.status_code == 400
        page = html(response)
        assert "These filters are not valid" in page
        assert message in page
        assert "Clear the filters" in page
        assert card_ids(page) == []


def test_the_grid_shows_24_plugins_a_page_and_more_on_request(viewer: User) -> None:
    for number in range(1, 31):
        catalogue_plugin(number, downloads=100 - number)
    browser = signed_in(viewer)

    # the first page has 24 cards and a "More" link that keeps the filters
    page = html(browser.get("/marketplace/?sort=installs"))
    assert card_ids(page) == [f"plugin-{n:03d}" for n in range(1, 25)]
    assert 'href="/marketplace/?sort=installs&amp;page=2"' in page

    # the "More" request (htmx) answers the next cards alone, with no further link
    more = browser.get("/marketplace/?sort=installs&page=2", **HTMX)
    assert more.status_code == 200
    assert card_ids(html(more)) == [f"plugin-{n:03d}" for n in range(25, 31)]
    assert "More plugins" not in html(more)
    assert '<ul class="plugin-grid">' not in html(more)

    # and a page past the end says so
    assert "No more plugins" in html(browser.get("/marketplace/?sort=installs&page=3"))


def test_the_grid_costs_the_same_queries_for_3_or_24_plugins(
    account: Account, viewer: User, django_assert_num_queries: Any
) -> None:
    for number in range(1, 4):
        catalogue_plugin(number)
    browser = signed_in(viewer)
    browser.get("/marketplace/")  # warm the session

    # session, user, tenant, plugins, their versions, this tenant's installations among them
    with django_assert_num_queries(6) as few:
        browser.get("/marketplace/", **HTMX)
    for number in range(4, 40):
        plugin = catalogue_plugin(number, is_verified=number % 2 == 0, icon="icon.svg")
        PluginReview.objects.create(account=account, plugin=plugin, version="1.0.0", rating=4)
    with django_assert_num_queries(len(few.captured_queries)):
        response = browser.get("/marketplace/", **HTMX)
    assert len(card_ids(html(response))) == 24
    with django_assert_num_queries(len(few.captured_queries)):  # the whole page: no more
        browser.get("/marketplace/")


def test_a_disabled_tenant_is_signed_out_of_the_marketplace(account: Account, viewer: User) -> None:
    browser = signed_in(viewer)
    account.is_active = False
    account.save()

    response = browser.get("/marketplace/", **HTMX)
    assert response.status_code == 401
    assert response["HX-Redirect"] == "/accounts/login/"
    assert browser.get("/marketplace/").status_code == 302


def test_every_marketplace_page_goes_through_page() -> None:
    def views(patterns: list[Any], prefix: str = "") -> list[tuple[str, Any]]:
        found: list[tuple[str, Any]] = []
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                found += views(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                found.append((route, pattern.callback))
        return found

    routes = [(route, view) for route, view in views(get_resolver().url_patterns) if route.startswith("marketplace/")]
    assert len(routes) >= 12
    assert [route for route, view in routes if not hasattr(view, "page_role")] == []


# --- a plugin's page ----------------------------------------------------------------------------------


def test_the_plugin_page_shows_what_it_does_may_do_its_versions_and_reviews(
    account: Account, other_account: Account, viewer: User, echo_version: PluginVersion, install: Any
) -> None:
    # given the echo plugin with a second version, Markdown in its description, and two reviews
    upload(
        echo("1.1.0", description="Echoes **every** message.\n\n- fast\n- [docs](https://docs.example.com)"),
        changelog="Now *faster*.",
    )
    install(account)
    install(other_account)
    author = UserFactory(account=other_account, full_name="Grace Hopper")
    review_create(account=other_account, plugin=echo_version.plugin, rating=5, text="Great.", actor=_principal(author))
    other_review = PluginReview.objects.get()
    review_create(account=account, plugin=echo_version.plugin, rating=3, text="Fine.", actor=_principal(viewer))

    # when a viewer opens its page
    response = signed_in(viewer).get("/marketplace/echo/")

    # then the description is rendered from Markdown
    assert response.status_code == 200
    assert_no_inline_code(response)
    page = html(response)
    assert "Echoes <strong>every</strong> message." in page
    assert '<a href="https://docs.example.com" rel="noopener noreferrer nofollow">docs</a>' in page
    # and the permissions in words, the versions with their changelogs
    assert "Answer the customer in the conversation." in page
    assert "Call localhost over HTTPS or HTTP, through the platform." in page
    assert page.index(">1.1.0") < page.index(">1.0.0")
    assert "Now <em>faster</em>." in page
    # and the reviews: the average, the histogram, each review by first name and initial only
    assert "4.0 of 5 (2 reviews)" in page
    assert '<progress max="2" value="1" aria-label="1 review with 5 stars">' in page
    assert '<progress max="2" value="0" aria-label="0 reviews with 4 stars">' in page
    assert "Grace H." in page
    assert other_account.name not in page
    assert ">Your team</span>" in page
    # and it is installed here, but a viewer may not install nor review
    assert ">Installed</span>" in page
    assert "/marketplace/echo/install/" not in page
    assert 'action="/marketplace/echo/review/"' not in page
    assert other_review.rating == 5


def _principal(user: User) -> Principal:
    return Principal.for_user(user)


def test_an_admin_is_offered_install_until_it_is_installed(
    account: Account, client_admin: User, member: User, echo_version: PluginVersion, install: Any
) -> None:
    browser = signed_in(client_admin)
    page = html(browser.get("/marketplace/echo/"))
    assert '<a class="button" href="/marketplace/echo/install/">Install</a>' in page
    assert "An admin of your workspace can install it." in html(signed_in(member).get("/marketplace/echo/"))

    install(account)
    page = html(browser.get("/marketplace/echo/"))
    assert "/marketplace/echo/install/" not in page
    assert ">Installed</span>" in page
    assert 'href="/marketplace/installed/echo/"' in page


def test_a_plugin_staff_switched_off_cannot_be_installed(client_admin: User, echo_version: PluginVersion) -> None:
    Plugin.objects.filter(pk=echo_version.plugin_id).update(is_enabled=False, disabled_reason="Broken for now.")
    browser = signed_in(client_admin)

    page = html(browser.get("/marketplace/echo/"))
    assert "Unavailable" in page
    assert "Broken for now." in page
    assert "/marketplace/echo/install/" not in page
    response = browser.post("/marketplace/echo/install/", {"version": "1.0.0", "config-greeting": "Hi"})
    assert response.status_code == 409
    assert not PluginInstallation.objects.exists()


class Elements(HTMLParser):
    """Every element of an HTML fragment with its attributes: what a browser would build from it."""

    def __init__(self, fragment: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []
        self.feed(fragment)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {name: value or "" for name, value in attrs}))


def test_markdown_cannot_put_script_or_javascript_links_in_the_page(viewer: User, publish: Any) -> None:
    # given a description and a changelog written to attack the page
    attack = (
        "# Hi\n\n<script>alert('x')</script>\n\n<img src=x onerror=alert(1)>\n\n"
        "[click](javascript:alert(1)) [also](JaVaScRiPt:alert(2)) [data](data:text/html;base64,PHNjcmlwdD4=)\n\n"
        '<a href="javascript:alert(3)">raw link</a> <iframe src="https://evil.example"></iframe>\n\n'
        '![pixel](https://evil.example/track.png "t") [local](/marketplace/echo/review/delete/)\n\n'
        "<div onclick=alert(4) style='color:red'>styled</div> [fine](https://example.com/docs)"
    )
    publish(manifest(description=attack))
    upload(echo("1.0.1", description=attack), changelog=attack)

    # when the plugin's page is shown
    response = signed_in(viewer).get("/marketplace/echo/")
    assert response.status_code == 200
    page = html(response)
    permissions = page.rindex("<section", 0, page.index('id="permissions-title"'))
    description = page[page.index('<div class="markdown card">') : permissions]
    changelogs = page[page.index('<ol class="versions">') : page.index("</ol>")]

    # then the only elements the Markdown made are harmless ones, and links go to http(s) sites only
    for fragment in (description, changelogs):
        elements = Elements(fragment).found
        tags = {tag for tag, _ in elements}
        assert tags <= {"div", "p", "h3", "a", "time", "span", "li", "ol"}, tags
        assert [tag for tag, _ in elements].count("div") == 1  # the page's own box: none came from the text
        for tag, attributes in elements:
            assert not [name for name in attributes if name.startswith("on") or name == "style"], (tag, attributes)
            if tag == "a":
                assert attributes.get("href", "https://").startswith("https://"), attributes
                assert attributes["rel"] == "noopener noreferrer nofollow"
        assert "<h3>Hi</h3>" in fragment
        assert '<a href="https://example.com/docs" rel="noopener noreferrer nofollow">fine</a>' in fragment
        assert "&lt;script&gt;" in fragment  # shown as text, not run
        assert "pixel" in fragment  # an image is its alt text
    # and the grid's summary is text only
    grid = html(signed_in(viewer).get("/marketplace/"))
    assert "<script>alert" not in grid
    assert "<img src=x" not in grid


def test_an_unknown_or_unpublished_plugin_is_404(viewer: User, client_admin: User) -> None:
    catalogue_plugin(1, is_published=False)
    for path in ("/marketplace/nope/", "/marketplace/plugin-001/", "/marketplace/plugin-001/files/icon.svg"):
        assert signed_in(viewer).get(path).status_code == 404
    assert signed_in(client_admin).get("/marketplace/plugin-001/install/").status_code == 404


def test_the_icon_and_screenshots_are_served_and_nothing_else_of_the_package(viewer: User) -> None:
    # given a plugin whose package has an SVG icon, a screenshot and its code
    files = {"echo_plugin.py": ECHO_SOURCE, "icon.svg": SVG}
    data = build_package(manifest(icon="icon.svg"), files)
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("screenshots/inbox.png", PNG)
        archive.writestr("screenshots/notes.txt", "not an image")
    plugin_upload(data=buffer.getvalue(), actor=None, publish=True)
    browser = signed_in(viewer)

    # then its page shows the icon and the screenshot from the marketplace's file URLs
    page = html(browser.get("/marketplace/echo/"))
    assert '<img class="plugin-icon big" src="/marketplace/echo/files/icon.svg"' in page
    assert '<img src="/marketplace/echo/files/screenshots/inbox.png" alt="Screenshot 1 of Echo"' in page
    assert "notes.txt" not in page
    assert 'src="/marketplace/echo/files/icon.svg"' in html(browser.get("/marketplace/"))

    # and the SVG comes with a CSP that runs nothing in it
    icon = browser.get("/marketplace/echo/files/icon.svg")
    assert icon.status_code == 200
    assert icon["Content-Type"] == "image/svg+xml"
    assert "sandbox" in icon["Content-Security-Policy"]
    assert "default-src 'none'" in icon["Content-Security-Policy"]
    assert icon["X-Content-Type-Options"] == "nosniff"
    shot = browser.get("/marketplace/echo/files/screenshots/inbox.png")
    assert (shot.status_code, shot["Content-Type"], shot.content) == (200, "image/png", PNG)

    # but a package file that is neither the icon nor a screenshot is not found
    for path in ("echo_plugin.py", "plugin.json", "screenshots/notes.txt", "../plugin.json", "missing.png"):
        assert browser.get(f"/marketplace/echo/files/{path}").status_code == 404


# --- installing ---------------------------------------------------------------------------------------


RICH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "greeting": {"type": "string", "title": "Greeting", "default": "Hello"},
        "token": {"type": "string", "title": "API token", "secret": True},
        "threshold": {"type": "integer", "minimum": 0, "maximum": 100, "default": 50},
        "ratio": {"type": "number", "minimum": 0, "maximum": 1},
        "loud": {"type": "boolean", "title": "Answer loudly"},
        "language": {"type": "string", "enum": ["en", "pt", "es"], "default": "en"},
        "keywords": {"type": "array", "items": {"type": "string"}, "default": ["refund", "return"]},
    },
    "required": ["greeting", "token"],
    "additionalProperties": False,
}


def test_the_install_form_is_generated_from_the_versions_schema(client_admin: User, publish: Any) -> None:
    publish(manifest(config_schema=RICH_SCHEMA))

    response = signed_in(client_admin).get("/marketplace/echo/install/")

    assert response.status_code == 200
    assert_no_inline_code(response)
    page = html(response)
    # the permissions it asks for come first, in words
    assert page.index("Answer the customer in the conversation.") < page.index('name="config-greeting"')
    # required fields are marked beside their label; defaults are filled in
    assert re.search(r'for="id_config-greeting">Greeting</label> <span class="req"', page)
    assert re.search(r'<input type="text" name="config-greeting" value="Hello" required', page)
    assert re.search(r'for="id_config-token">API token</label> <span class="req"', page)
    assert re.search(r'<input type="number" name="config-threshold" value="50" min="0" max="100"', page)
    assert re.search(r'<input type="number" name="config-ratio" step="any" min="0" max="1"', page)
    assert 'name="config-loud"' in page
    assert '<option value="en" selected>en</option>' in page
    assert "refund\nreturn</textarea>" in page
    # the secret is a password field
    assert re.search(r'<input type="password" name="config-token"[^>]* required', page)
    assert '<input type="hidden" name="version" value="1.0.0">' in page


def test_installing_from_the_form_grants_the_permissions_and_keeps_the_secret_apart(
    account: Account, client_admin: User, publish: Any
) -> None:
    publish(manifest(config_schema=RICH_SCHEMA))

    browser = signed_in(client_admin)
    response = browser.post(
        "/marketplace/echo/install/",
        {
            "version": "1.0.0",
            "config-greeting": "Hi there",
            "config-token": "tok-123",
            "config-threshold": "70",
            "config-ratio": "0.25",
            "config-loud": "on",
            "config-language": "pt",
            "config-keywords": "refund\n\n  exchange \n",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/marketplace/installed/echo/"
    installation = PluginInstallation.objects.get(account=account)
    assert installation.config == {
        "greeting": "Hi there",
        "threshold": 70,
        "ratio": 0.25,
        "loud": True,
        "language": "pt",
        "keywords": ["refund", "exchange"],
    }
    assert json.loads(installation.secret_config) == {"token": "tok-123"}
    assert installation.granted_permissions == manifest()["permissions"]
    assert installation.installed_by == client_admin
    assert AuditLog.objects.filter(action="plugin.installed", actor_user=client_admin).exists()
    page = html(browser.get(response["Location"]))
    assert "Echo 1.0.0 installed. Create an agent from it to put it to work." in page
    assert "tok-123" not in page


def test_the_schemas_verdict_is_shown_under_each_field_and_nothing_is_installed(
    client_admin: User, echo_version: PluginVersion
) -> None:
    response = signed_in(client_admin).post(
        "/marketplace/echo/install/", {"version": "1.0.0", "config-greeting": "Hi", "config-threshold": "500"}
    )

    assert response.status_code == 400
    page = html(response)
    assert "Please correct the errors below." in page
    assert field_error(page, "config-threshold", "Threshold must be at most 100.")
    assert 'value="Hi"' in page
    assert not PluginInstallation.objects.exists()


def test_missing_required_fields_and_bad_numbers_are_caught_by_the_form(client_admin: User, publish: Any) -> None:
    publish(manifest(config_schema=RICH_SCHEMA))

    response = signed_in(client_admin).post(
        "/marketplace/echo/install/",
        {"version": "1.0.0", "config-greeting": " ", "config-threshold": "many", "config-language": "fr"},
    )

    assert response.status_code == 400
    page = html(response)
    assert field_error(page, "config-greeting", "This field is required.")
    assert field_error(page, "config-token", "This field is required.")
    assert field_error(page, "config-threshold", "Enter a whole number.")
    assert field_error(page, "config-language", "Select a valid choice.")
    assert not PluginInstallation.objects.exists()


def test_a_plugin_refusing_to_install_says_why_and_nothing_is_installed(
    client_admin: User, echo_version: PluginVersion
) -> None:
    response = signed_in(client_admin).post(
        "/marketplace/echo/install/", {"version": "1.0.0", "config-greeting": "Hi", "config-refuse_install": "on"}
    )

    assert response.status_code == 400
    assert "The plugin&#x27;s on_install failed" in html(response)
    assert "not today" in html(response)
    assert not PluginInstallation.objects.exists()
    assert not Plugin.objects.filter(downloads__gt=0).exists()


def test_a_version_published_while_the_form_was_open_is_not_installed_blindly(
    client_admin: User, echo_version: PluginVersion
) -> None:
    upload(echo("1.1.0", permissions=["messages:send", "http:api.example.com"]))

    response = signed_in(client_admin).post("/marketplace/echo/install/", {"version": "1.0.0", "config-greeting": "Hi"})

    assert response.status_code == 409
    page = html(response)
    assert "Version 1.1.0 was published meanwhile" in page
    assert "Call api.example.com over HTTPS or HTTP" in page  # the new version's permissions, shown now
    assert not PluginInstallation.objects.exists()


def test_a_viewer_or_member_may_not_install(member: User, viewer: User, echo_version: PluginVersion) -> None:
    for person in (member, viewer):
        browser = signed_in(person)
        assert browser.get("/marketplace/echo/install/").status_code == 403
        response = browser.post("/marketplace/echo/install/", {"version": "1.0.0", "config-greeting": "Hi"})
        assert response.status_code == 403
    assert not PluginInstallation.objects.exists()


def test_the_install_page_of_an_installed_plugin_leads_to_its_settings(
    client_admin: User, echo_installation: PluginInstallation
) -> None:
    browser = signed_in(client_admin)
    response = browser.get("/marketplace/echo/install/")
    assert (response.status_code, response["Location"]) == (302, "/marketplace/installed/echo/")
    response = browser.post("/marketplace/echo/install/", {"version": "1.0.0", "config-greeting": "Again"})
    assert response.status_code == 302
    echo_installation.refresh_from_db()
    assert echo_installation.config["greeting"] == "Hi"
    assert PluginInstallation.objects.count() == 1


def test_a_disabled_tenant_is_signed_out_and_nothing_is_installed(
    account: Account, client_admin: User, echo_version: PluginVersion
) -> None:
    browser = signed_in(client_admin)
    account.is_active = False
    account.save()

    response = browser.post("/marketplace/echo/install/", {"version": "1.0.0", "config-greeting": "Hi"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert not PluginInstallation.objects.exists()


# --- the team's review --------------------------------------------------------------------------------


def test_an_admin_writes_edits_and_deletes_the_teams_review(
    client_admin: User, echo_installation: PluginInstallation
) -> None:
    browser = signed_in(client_admin)
    page = html(browser.get("/marketplace/echo/"))
    assert "Review it" in page
    assert 'name="review-rating"' in page

    # when the admin publishes a 4-star review (htmx)
    response = browser.post("/marketplace/echo/review/", {"review-rating": "4", "review-text": " Works well. "}, **HTMX)

    # then the reviews section comes back with it, the average and the form to edit it
    assert response.status_code == 200
    section = html(response)
    assert "Your review is saved." in section
    assert "Works well." in section
    assert "4.0" in section
    assert "Your team's review" in section
    assert re.search(r'<input type="radio" name="review-rating" value="4"[^>]* checked', section)
    review = PluginReview.objects.get()
    assert (review.rating, review.text, review.version, review.author) == (4, "Works well.", "1.0.0", client_admin)

    # when they change it without htmx
    response = browser.post("/marketplace/echo/review/", {"review-rating": "2", "review-text": "Got worse."})
    assert (response.status_code, response["Location"]) == (302, "/marketplace/echo/#reviews")
    review.refresh_from_db()
    assert (review.rating, review.text) == (2, "Got worse.")
    assert Plugin.objects.get().rating_average == Decimal("2.00")

    # and when they delete it
    response = browser.post("/marketplace/echo/review/delete/", **HTMX)
    assert response.status_code == 200
    assert "Your review is deleted." in html(response)
    assert not PluginReview.objects.exists()
    assert Plugin.objects.get().review_count == 0
    assert browser.post("/marketplace/echo/review/delete/").status_code == 404


def test_a_review_without_stars_or_too_long_is_a_400_and_nothing_is_saved(
    client_admin: User, echo_installation: PluginInstallation
) -> None:
    browser = signed_in(client_admin)

    response = browser.post("/marketplace/echo/review/", {"review-text": "No stars"}, **HTMX)
    assert response.status_code == 400
    assert field_error(html(response), "review-rating", "This field is required.")
    assert "No stars" in html(response)

    response = browser.post("/marketplace/echo/review/", {"review-rating": "9", "review-text": "x"})
    assert response.status_code == 400
    assert "Select a valid choice." in html(response)
    assert "<h1>Echo</h1>" in html(response)  # the plugin's page again

    response = browser.post("/marketplace/echo/review/", {"review-rating": "5", "review-text": "x" * 4001}, **HTMX)
    assert response.status_code == 400
    assert not PluginReview.objects.exists()


def test_only_an_admin_of_a_team_that_installed_it_may_review(
    client_admin: User, other_admin: User, viewer: User, echo_installation: PluginInstallation
) -> None:
    # a viewer of the installing tenant
    assert signed_in(viewer).post("/marketplace/echo/review/", {"review-rating": "5"}).status_code == 403
    # an admin of a tenant without it sees no form and is refused
    browser = signed_in(other_admin)
    assert 'name="review-rating"' not in html(browser.get("/marketplace/echo/"))
    response = browser.post("/marketplace/echo/review/", {"review-rating": "5"}, **HTMX)
    assert response.status_code == 403
    assert "Only a team that has installed this plugin can review it." in html(response)
    assert not PluginReview.objects.exists()
    # and only POST
    assert signed_in(client_admin).get("/marketplace/echo/review/").status_code == 405


# --- installed plugins --------------------------------------------------------------------------------


def test_the_installed_list_shows_the_tenants_plugins_with_their_state(
    account: Account, other_account: Account, client_admin: User, echo_installation: PluginInstallation, publish: Any
) -> None:
    publish(manifest(id="other-one", name="Other one"))
    plugin_install(
        account=other_account, plugin_id="other-one", config={"greeting": "x"}, actor=Principal.platform_key()
    )
    upload(echo("1.1.0"))

    response = signed_in(client_admin).get("/marketplace/installed/")

    assert response.status_code == 200
    assert_no_inline_code(response)
    page = html(response)
    assert '<a href="/marketplace/installed/echo/">Echo</a>' in page
    assert "version 1.0.0" in page
    assert '<span class="badge ok">On</span>' in page
    assert "Update available: 1.1.0" in page
    assert "Other one" not in page
    # and the Settings overview links here
    settings_page = html(signed_in(client_admin).get("/settings/"))
    assert 'href="/marketplace/installed/"' in settings_page
    assert re.search(r'<span class="value">1</span>\s*<span class="label">installed plugin · Plugins', settings_page)


def test_the_installed_list_costs_the_same_queries_for_1_or_5_plugins(
    account: Account,
    client_admin: User,
    echo_installation: PluginInstallation,
    publish: Any,
    install: Any,
    django_assert_num_queries: Any,
) -> None:
    browser = signed_in(client_admin)
    browser.get("/marketplace/installed/")
    with django_assert_num_queries(5) as few:  # session, user, tenant, installations, their plugins' versions
        browser.get("/marketplace/installed/")
    for number in range(4):
        publish(manifest(id=f"more-{number}", name=f"More {number}"))
        install(account, plugin_id=f"more-{number}")
    with django_assert_num_queries(len(few.captured_queries)):
        page = html(browser.get("/marketplace/installed/"))
    assert page.count('class="card installed"') == 5


def test_an_installation_page_shows_its_agents_executions_and_errors(
    account: Account, client_admin: User, plugin_agent: Agent, echo_installation: PluginInstallation
) -> None:
    AgentExecutionFactory(agent=plugin_agent, input_summary="hello there", output_summary="echo: hello there")
    AgentExecutionFactory(agent=plugin_agent, status=ExecutionStatus.FAILED, error="plugin_error: it broke")

    response = signed_in(client_admin).get("/marketplace/installed/echo/")

    assert response.status_code == 200
    assert_no_inline_code(response)
    page = html(response)
    assert f'<a href="/agents/{plugin_agent.pk}/">Echo agent</a>' in page
    assert f'href="/agents/new/{echo_installation.template.key}/"' in page
    assert "echo: hello there" in page
    errors = page[page.index('id="errors-title"') : page.index('id="executions-title"')]
    assert "plugin_error: it broke" in errors
    # the configuration shows the secret as set, never its value
    assert "<dt>API token</dt><dd>Set (hidden)</dd>" in page
    assert "s3cret-token-value" not in page


def test_configuring_keeps_a_secret_left_empty_and_shows_the_schemas_verdict(
    client_admin: User, echo_installation: PluginInstallation
) -> None:
    browser = signed_in(client_admin)
    form = html(browser.get("/marketplace/installed/echo/configure/"))
    assert 'value="Hi"' in form
    assert "s3cret-token-value" not in form
    assert re.search(r'<input type="password" name="config-token"(?![^>]*value=)(?![^>]* required)[^>]*>', form)
    assert "A value is stored: leave this empty to keep it." in form

    # a refused value: 400 under its field, nothing changed
    response = browser.post(
        "/marketplace/installed/echo/configure/", {"config-greeting": "Yo", "config-threshold": "-1"}
    )
    assert response.status_code == 400
    assert field_error(html(response), "config-threshold", "Threshold must be at least 0.")
    echo_installation.refresh_from_db()
    assert echo_installation.config == {"greeting": "Hi"}

    # a valid one with the secret left empty: saved, the secret kept
    response = browser.post(
        "/marketplace/installed/echo/configure/", {"config-greeting": "Yo", "config-threshold": "7"}
    )
    assert (response.status_code, response["Location"]) == (302, "/marketplace/installed/echo/")
    echo_installation.refresh_from_db()
    assert echo_installation.config == {"greeting": "Yo", "threshold": 7, "refuse_install": False}
    assert json.loads(echo_installation.secret_config) == {"token": "s3cret-token-value"}

    # a new secret replaces the old one
    browser.post("/marketplace/installed/echo/configure/", {"config-greeting": "Yo", "config-token": "new-one"})
    echo_installation.refresh_from_db()
    assert json.loads(echo_installation.secret_config) == {"token": "new-one"}


def test_turning_an_installation_off_and_on(client_admin: User, echo_installation: PluginInstallation) -> None:
    browser = signed_in(client_admin)

    response = browser.post("/marketplace/installed/echo/switch/", {"is_active": "false"})
    assert response.status_code == 302
    echo_installation.refresh_from_db()
    assert (echo_installation.is_active, echo_installation.disabled_reason) == (False, DisabledReason.MANUAL)
    page = html(browser.get("/marketplace/installed/echo/"))
    assert "Turned off by an admin of your workspace." in page
    assert "Turn on" in page

    # a value that is neither: 400, nothing changed
    response = browser.post("/marketplace/installed/echo/switch/", {"is_active": "maybe"})
    assert response.status_code == 400
    assert "Say whether to turn it on or off." in html(response)
    echo_installation.refresh_from_db()
    assert echo_installation.is_active is False

    browser.post("/marketplace/installed/echo/switch/", {"is_active": "true"})
    echo_installation.refresh_from_db()
    assert (echo_installation.is_active, echo_installation.disabled_reason) == (True, "")
    assert browser.get("/marketplace/installed/echo/switch/").status_code == 405


def test_why_an_installation_is_off_is_explained(
    client_admin: User, echo_installation: PluginInstallation, echo_version: PluginVersion
) -> None:
    browser = signed_in(client_admin)
    PluginInstallation.objects.filter(pk=echo_installation.pk).update(
        is_active=False, disabled_reason=DisabledReason.FAILING, consecutive_failures=5, disabled_at=timezone.now()
    )
    assert "Turned off by itself: its last 5 runs failed." in html(browser.get("/marketplace/installed/echo/"))

    # a yanked version: the way out is the update to a published one, not "Turn on"
    PluginInstallation.objects.filter(pk=echo_installation.pk).update(is_active=True, disabled_reason="")
    newer = upload(echo("1.1.0"))
    plugin_upgrade(installation=echo_installation, actor=_principal(client_admin))
    version_yank(version=newer, reason="It leaked data.", actor=None)
    page = html(browser.get("/marketplace/installed/echo/"))
    assert "its author withdrew version 1.1.0" in page
    assert "Update available: version 1.0.0" in page
    assert "Turn on" not in page

    # and staff switching the plugin off says so
    Plugin.objects.filter(pk=echo_version.plugin_id).update(is_enabled=False, disabled_reason="Under review.")
    assert "SkyBot staff switched this plugin off for every workspace. Under review." in html(
        browser.get("/marketplace/installed/echo/")
    )


def test_an_update_needs_each_new_permission_ticked(client_admin: User, echo_installation: PluginInstallation) -> None:
    # given a new version that asks to call another host and no longer writes leads
    asked = [p for p in manifest()["permissions"] if p != "leads:write"] + ["http:api.example.com"]
    upload(echo("1.1.0", permissions=asked), changelog="Calls the example API.")
    browser = signed_in(client_admin)

    # then the installation's page shows the notice with what it adds (to tick) and drops
    page = html(browser.get("/marketplace/installed/echo/"))
    notice = page[page.index('id="update-title"') : page.index('id="agents-title"')]
    assert "Update available: version 1.1.0" in notice
    assert 'name="accept_permissions" value="http:api.example.com"' in notice
    assert "Call api.example.com over HTTPS or HTTP" in notice
    assert "Change a lead&#x27;s status, score and details." in notice  # dropped

    # when the admin updates without ticking it: 409 naming it, nothing changed
    response = browser.post("/marketplace/installed/echo/update/", {"version": "1.1.0"})
    assert response.status_code == 409
    assert "http:api.example.com" in html(response)
    echo_installation.refresh_from_db()
    assert echo_installation.version.version == "1.0.0"

    # a permission the version does not add is not a choice
    response = browser.post(
        "/marketplace/installed/echo/update/", {"version": "1.1.0", "accept_permissions": "admin:everything"}
    )
    assert response.status_code == 400
    assert "Select a valid choice." in html(response)

    # when they tick it, the installation moves on with exactly the new permissions
    response = browser.post(
        "/marketplace/installed/echo/update/", {"version": "1.1.0", "accept_permissions": "http:api.example.com"}
    )
    assert (response.status_code, response["Location"]) == (302, "/marketplace/installed/echo/")
    echo_installation.refresh_from_db()
    assert echo_installation.version.version == "1.1.0"
    assert echo_installation.granted_permissions == asked
    assert json.loads(echo_installation.secret_config) == {"token": "s3cret-token-value"}
    assert "Update available" not in html(browser.get("/marketplace/installed/echo/"))


def test_an_update_whose_schema_wants_more_is_configured_on_the_update_page(
    client_admin: User, echo_installation: PluginInstallation
) -> None:
    schema = json.loads(json.dumps(manifest()["config_schema"]))
    schema["properties"]["region"] = {"type": "string", "enum": ["eu", "us"]}
    schema["required"] = ["greeting", "region"]
    upload(echo("2.0.0", config_schema=schema))
    browser = signed_in(client_admin)

    # the short form cannot do it: the update page says what the new version needs
    response = browser.post("/marketplace/installed/echo/update/", {"version": "2.0.0"})
    assert response.status_code == 400
    page = html(response)
    assert "config.region: Region is required." in page
    assert 'name="config-region"' in page
    echo_installation.refresh_from_db()
    assert echo_installation.version.version == "1.0.0"

    # the update page's form carries the configuration
    form = html(browser.get("/marketplace/installed/echo/update/"))
    assert 'value="Hi"' in form
    assert '<input type="hidden" name="with_config" value="1">' in form
    response = browser.post(
        "/marketplace/installed/echo/update/",
        {"version": "2.0.0", "with_config": "1", "config-greeting": "Hi", "config-region": "eu"},
    )
    assert response.status_code == 302
    echo_installation.refresh_from_db()
    assert (echo_installation.version.version, echo_installation.config["region"]) == ("2.0.0", "eu")
    assert json.loads(echo_installation.secret_config) == {"token": "s3cret-token-value"}


def test_uninstalling_asks_first_then_removes_the_installation_and_its_agents(
    client_admin: User, plugin_agent: Agent, echo_installation: PluginInstallation
) -> None:
    browser = signed_in(client_admin)

    page = html(browser.get("/marketplace/installed/echo/uninstall/"))
    assert "Uninstall Echo?" in page
    assert "<li>Echo agent</li>" in page
    assert PluginInstallation.objects.exists()

    response = browser.post("/marketplace/installed/echo/uninstall/")

    assert (response.status_code, response["Location"]) == (302, "/marketplace/installed/")
    assert not PluginInstallation.objects.exists()
    plugin_agent.refresh_from_db()
    assert plugin_agent.status == AgentStatus.DELETED
    assert "Echo is uninstalled" in html(browser.get("/marketplace/installed/"))
    assert browser.get("/marketplace/installed/echo/").status_code == 404


INSTALLATION_PAGES = [
    ("get", "/marketplace/installed/echo/", {}),
    ("get", "/marketplace/installed/echo/configure/", {}),
    ("post", "/marketplace/installed/echo/configure/", {"config-greeting": "Stolen"}),
    ("post", "/marketplace/installed/echo/switch/", {"is_active": "false"}),
    ("get", "/marketplace/installed/echo/update/", {}),
    ("post", "/marketplace/installed/echo/update/", {"version": "1.1.0"}),
    ("get", "/marketplace/installed/echo/uninstall/", {}),
    ("post", "/marketplace/installed/echo/uninstall/", {}),
]


@pytest.mark.parametrize(("method", "path", "data"), INSTALLATION_PAGES)
def test_another_tenants_installation_is_404_and_stays_as_it_was(
    other_admin: User, echo_installation: PluginInstallation, method: str, path: str, data: dict[str, str]
) -> None:
    upload(echo("1.1.0"))

    response = getattr(signed_in(other_admin), method)(path, data)

    assert response.status_code == 404
    echo_installation.refresh_from_db()
    assert (echo_installation.config, echo_installation.is_active) == ({"greeting": "Hi"}, True)
    assert echo_installation.version.version == "1.0.0"


@pytest.mark.parametrize(("method", "path", "data"), INSTALLATION_PAGES)
def test_a_member_or_viewer_gets_403_on_the_installed_pages(
    member: User, viewer: User, echo_installation: PluginInstallation, method: str, path: str, data: dict[str, str]
) -> None:
    for person in (member, viewer):
        assert getattr(signed_in(person), method)(path, data).status_code == 403
    assert signed_in(viewer).get("/marketplace/installed/").status_code == 403
    echo_installation.refresh_from_db()
    assert (echo_installation.config, echo_installation.is_active) == ({"greeting": "Hi"}, True)


def test_a_disabled_tenant_is_signed_out_and_its_installation_stays_on(
    account: Account, client_admin: User, echo_installation: PluginInstallation
) -> None:
    browser = signed_in(client_admin)
    account.is_active = False
    account.save()

    response = browser.post("/marketplace/installed/echo/switch/", {"is_active": "false"}, **HTMX)

    assert response.status_code == 401
    echo_installation.refresh_from_db()
    assert echo_installation.is_active is True
