"""A web session lasts only as long as its access: a disabled tenant or a person whose sign-ins were
ended is signed out on the next page, htmx partial, download or form post, and nothing is done.

Every web page goes through `accounts.web.pages.page`, which is where this is checked; the last test keeps it
that way for pages added later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Account, Role, User
from accounts.principals import Principal
from accounts.services.tenants import account_deactivate
from accounts.services.users import user_update
from accounts.web.pages import SIGN_IN_ENDED, WORKSPACE_DISABLED
from inbox.models import Lead
from inbox.tests.factories import ConversationFactory, LeadFactory, MessageFactory
from integrations.models import WebhookEndpoint

HTMX = {"HTTP_HX_REQUEST": "true"}
LOGIN = "/accounts/login/"


@dataclass(frozen=True)
class Visit:
    """One request a signed-in admin makes; `created` counts what a form post would add."""

    name: str
    method: str
    url: Callable[[dict[str, Any]], str]
    data: dict[str, Any] | None = None
    htmx: bool = False
    created: Callable[[Account], int] | None = None

    def make(self, browser: Client, objects: dict[str, Any]) -> Any:
        extra = HTMX if self.htmx else {}
        if self.method == "GET":
            return browser.get(self.url(objects), **extra)
        return browser.post(self.url(objects), self.data or {}, **extra)


# Add a page here when it shows or changes something a tenant owns.
VISITS = [
    Visit("inbox page", "GET", lambda o: "/inbox/"),
    Visit("conversation page", "GET", lambda o: f"/inbox/{o['conversation'].pk}/"),
    Visit("thread partial (htmx)", "GET", lambda o: f"/inbox/{o['conversation'].pk}/messages", htmx=True),
    Visit("leads table", "GET", lambda o: "/leads/"),
    Visit("leads CSV export", "GET", lambda o: "/leads/export.csv"),
    Visit("contacts table", "GET", lambda o: "/contacts/?q=secret"),
    Visit("contact page", "GET", lambda o: f"/contacts/{o['conversation'].contact_id}/"),
    Visit("settings: people", "GET", lambda o: "/settings/users/"),
    Visit("developers: webhooks", "GET", lambda o: "/developers/webhooks/"),
    Visit("agents", "GET", lambda o: "/agents/"),
    Visit(
        "invite an admin",
        "POST",
        lambda o: "/settings/users/new/",
        {"email": "intruder@acme.test", "role": Role.CLIENT_ADMIN, "sign_in": "link"},
        created=lambda account: User.objects.filter(account=account, email="intruder@acme.test").count(),
    ),
    Visit(
        "create a webhook",
        "POST",
        lambda o: "/developers/webhooks/new/",
        {"url": "https://hooks.acme.test/exfiltrate", "events": ["message.received"]},
        created=lambda account: WebhookEndpoint.objects.filter(account=account).count(),
    ),
    Visit(
        "create a webhook (htmx)",
        "POST",
        lambda o: "/developers/webhooks/new/",
        {"url": "https://hooks.acme.test/exfiltrate", "events": ["message.received"]},
        htmx=True,
        created=lambda account: WebhookEndpoint.objects.filter(account=account).count(),
    ),
    Visit(
        "add a lead",
        "POST",
        lambda o: "/leads/new",
        {"name": "Planted lead", "email": "planted@example.com"},
        created=lambda account: Lead.objects.filter(account=account, name="Planted lead").count(),
    ),
]


def disable_with_the_service(account: Account, staff: User) -> None:
    account_deactivate(account=account, actor=Principal.for_user(staff))


def disable_the_flag_only(account: Account, staff: User) -> None:
    # A tenant switched off by any other path (a data fix, a future admin screen): the flag alone
    # must be enough to shut its sessions out.
    Account.objects.filter(pk=account.pk).update(is_active=False)


@pytest.fixture
def objects(account, client_admin) -> dict[str, Any]:
    conversation = ConversationFactory(account=account)
    MessageFactory(conversation=conversation, text="the customer's private message")
    LeadFactory(account=account, name="Secret Lead", email="secret.lead@example.com")
    return {"conversation": conversation}


def notices(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def assert_sent_to_sign_in(response: Any, visit: Visit) -> None:
    if visit.htmx:
        # htmx swaps nothing; the whole page goes to the sign-in page.
        assert response.status_code == 401
        assert response["HX-Redirect"] == LOGIN
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)


@pytest.mark.parametrize("disable", [disable_with_the_service, disable_the_flag_only])
@pytest.mark.parametrize("visit", VISITS, ids=lambda visit: visit.name)
def test_an_open_session_of_a_disabled_tenant_is_signed_out_and_changes_nothing(
    visit, disable, account, client_admin, super_admin, objects
):
    # given an admin's browser with an open session, and what the tenant owns before
    browser = Client()
    browser.force_login(client_admin)
    assert browser.get("/inbox/").status_code == 200
    before = visit.created(account) if visit.created else None

    # when staff disable the tenant and the open session makes the request
    disable(account, super_admin)
    response = visit.make(browser, objects)

    # then it is sent to the sign-in page with a notice, shows nothing of the tenant, creates nothing
    assert_sent_to_sign_in(response, visit)
    assert WORKSPACE_DISABLED in notices(response)
    body = response.content.decode()
    assert "Secret Lead" not in body
    assert "private message" not in body
    if visit.created:
        assert visit.created(account) == before
    # and the session is over
    assert SESSION_KEY not in browser.session


def test_the_sign_in_page_says_the_workspace_is_disabled(account, client_admin, super_admin):
    # given an open session of a tenant staff then disable
    browser = Client()
    browser.force_login(client_admin)
    account_deactivate(account=account, actor=Principal.for_user(super_admin))

    # when the person opens the inbox and follows where it sends them
    response = browser.get("/inbox/", follow=True)

    # then the sign-in page explains why they were signed out
    assert response.request["PATH_INFO"] == LOGIN
    assert WORKSPACE_DISABLED in response.content.decode()


@pytest.mark.parametrize("visit", VISITS, ids=lambda visit: visit.name)
def test_an_open_session_of_a_deactivated_person_is_signed_out(visit, account, client_admin, member, objects):
    # given two admins, one with an open session
    leaving = client_admin
    other_admin = User.objects.create_user("second.admin@acme.test", account=account, role=Role.CLIENT_ADMIN)
    browser = Client()
    browser.force_login(leaving)
    before = visit.created(account) if visit.created else None

    # when the other admin deactivates them and the open session makes the request
    user_update(user=leaving, is_active=False, actor=Principal.for_user(other_admin))
    response = visit.make(browser, objects)

    # then it is sent to the sign-in page, told why, and nothing was done
    assert_sent_to_sign_in(response, visit)
    assert SIGN_IN_ENDED in notices(response)
    assert SESSION_KEY not in browser.session
    if visit.created:
        assert visit.created(account) == before


# --- every web page goes through page() -----------------------------------------------------------

# URL prefixes of the signed-in web UI (every tenant area). Sign-in pages, the admin, the API and the
# provider webhooks have their own authentication.
WEB_AREAS = ("inbox/", "leads/", "contacts/", "agents/", "settings/", "developers/", "marketplace/", "simulator/")


def _views(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def test_every_web_view_is_wrapped_in_page():
    # given every route of the signed-in web UI
    routes = [(route, view) for route, view in _views(get_resolver().url_patterns) if route.startswith(WEB_AREAS)]
    assert len(routes) > 40  # the walk found the areas

    # then each view goes through page(), which refuses disabled tenants and ended sign-ins
    unwrapped = [route for route, view in routes if not hasattr(view, "page_role")]
    assert unwrapped == []
