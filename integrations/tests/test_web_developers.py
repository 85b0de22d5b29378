"""Developers pages (API keys and usage, webhook endpoints and their delivery log): who may open
them, what they change, that an endpoint's secret appears once and never again, and that the lists
cost the same few queries however long they are."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone
from werkzeug import Response

from accounts.models import Account, AuditLog, Role, User
from accounts.principals import Principal
from accounts.services.api_key_usage import api_key_usage_record
from accounts.services.api_keys import IssuedKey, api_key_create
from accounts.tests.factories import UserFactory
from core.tests.html import assert_no_inline_code
from core.tests.resolver import fake_dns
from inbox.services.crm import lead_create
from integrations.models import (
    DeliveryStatus,
    DisabledReason,
    EndpointSource,
    EventDelivery,
    EventDeliveryAttempt,
    WebhookEndpoint,
)
from integrations.tests.conftest import verify_standard_webhook
from integrations.tests.factories import EventDeliveryFactory, WebhookEndpointFactory

SECRET = re.compile(r"whsec_[A-Za-z0-9+/]+=*")
HTMX = {"HTTP_HX_REQUEST": "true"}
NEW = {"url": "https://hooks.acme.test/skybot", "events": ["lead.created", "message.received"], "description": "CRM"}


@pytest.fixture
def web():
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def admin_web(web, client_admin) -> Client:
    return web(client_admin)


@pytest.fixture
def issued(account) -> IssuedKey:
    return api_key_create(
        account=account, name="CRM sync", scopes=["read"], expires_at=None, actor=Principal.platform_key()
    )


@pytest.fixture
def endpoint(account) -> WebhookEndpoint:
    return WebhookEndpointFactory(account=account, url="https://hooks.acme.test/one", events=["lead.created"])


@pytest.fixture
def delivery(endpoint) -> EventDelivery:
    failed = EventDeliveryFactory.create(endpoint=endpoint, status=DeliveryStatus.FAILED)
    EventDeliveryAttempt.objects.create(
        delivery=failed, number=1, status_code=500, duration_ms=40, response_excerpt="boom", error="HTTP 500"
    )
    return failed


def notices(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def snapshot(endpoint: WebhookEndpoint) -> tuple:
    endpoint.refresh_from_db()
    return (endpoint.url, endpoint.events, endpoint.description, endpoint.is_active, endpoint.secret)


# --- who may open what ----------------------------------------------------------------------------


def pages(key, endpoint) -> list[str]:
    return [
        "/developers/",
        f"/developers/api-keys/{key.pk}/",
        "/developers/webhooks/",
        "/developers/webhooks/new/",
        f"/developers/webhooks/{endpoint.pk}/",
        f"/developers/webhooks/{endpoint.pk}/edit/",
    ]


def test_every_developers_page_renders_for_an_admin_without_inline_code(admin_web, issued, endpoint, delivery):
    for url in pages(issued.api_key, endpoint):
        # when
        response = admin_web.get(url)

        # then
        assert response.status_code == 200, url
        assert_no_inline_code(response)
        html = response.content.decode()
        assert '/static/css/developers.css"' in html
        assert 'href="/developers/" aria-current="page"' in html  # the main navigation
        assert 'href="/api/docs/"' in html
        assert 'href="/api/schema/"' in html


def test_the_admin_finds_the_area_in_the_navigation_and_others_do_not(admin_web, web, member, viewer):
    assert 'href="/developers/"' in admin_web.get("/inbox/").content.decode()
    for person in (member, viewer):
        assert 'href="/developers/"' not in web(person).get("/inbox/").content.decode()


@pytest.mark.parametrize("who", ["member", "viewer"])
def test_user_and_viewer_are_refused_every_page_and_action_and_nothing_changes(
    request, web, who, issued, endpoint, delivery
):
    # given a USER or VIEWER of the tenant
    browser = web(request.getfixturevalue(who))
    before = snapshot(endpoint)
    audit_rows = AuditLog.objects.count()

    # when they open each page, then each answers 403
    for url in [*pages(issued.api_key, endpoint), f"/developers/webhooks/{endpoint.pk}/deliveries/"]:
        response = browser.get(url)
        assert response.status_code == 403, url
        assert "Permission denied" in response.content.decode()

    # and every form they post is refused
    posts = [
        ("/developers/webhooks/new/", NEW),
        (f"/developers/webhooks/{endpoint.pk}/edit/", {**NEW, "url": "https://evil.test/"}),
        (f"/developers/webhooks/{endpoint.pk}/rotate/", {"overlap_seconds": "0"}),
        (f"/developers/webhooks/{endpoint.pk}/turn-off/", {}),
        (f"/developers/webhooks/{endpoint.pk}/turn-on/", {}),
        (f"/developers/webhooks/{endpoint.pk}/test/", {}),
        (f"/developers/webhooks/{endpoint.pk}/delete/", {}),
        (f"/developers/webhooks/deliveries/{delivery.pk}/redeliver/", {}),
    ]
    for url, data in posts:
        assert browser.post(url, data).status_code == 403, url

    # then nothing changed: the same endpoint, secret and log, nothing audited
    assert snapshot(endpoint) == before
    assert WebhookEndpoint.objects.count() == 1
    assert EventDelivery.objects.count() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert AuditLog.objects.count() == audit_rows


def test_a_visitor_who_is_not_signed_in_is_sent_to_the_sign_in_page(client, db):
    response = client.get("/developers/webhooks/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/developers/webhooks/")


def test_another_tenants_keys_endpoints_and_deliveries_answer_404_and_stay_as_they_were(admin_web, other_account):
    # given a key, an endpoint and a delivery of another tenant
    theirs = api_key_create(
        account=other_account, name="Theirs", scopes=["read"], expires_at=None, actor=Principal.platform_key()
    )
    api_key_usage_record(api_key=theirs.api_key, status_code=200)
    their_delivery = EventDeliveryFactory.create(
        endpoint=WebhookEndpointFactory(account=other_account), status=DeliveryStatus.FAILED
    )
    endpoint = their_delivery.endpoint
    before = snapshot(endpoint)

    # when the admin aims at them by id, then every page and action answers 404
    assert admin_web.get(f"/developers/api-keys/{theirs.api_key.pk}/").status_code == 404
    for url in (f"/developers/webhooks/{endpoint.pk}/", f"/developers/webhooks/{endpoint.pk}/edit/"):
        assert admin_web.get(url).status_code == 404, url
    assert admin_web.get(f"/developers/webhooks/{endpoint.pk}/deliveries/").status_code == 404
    for url, data in [
        (f"/developers/webhooks/{endpoint.pk}/edit/", NEW),
        (f"/developers/webhooks/{endpoint.pk}/rotate/", {"overlap_seconds": "0"}),
        (f"/developers/webhooks/{endpoint.pk}/turn-off/", {}),
        (f"/developers/webhooks/{endpoint.pk}/test/", {}),
        (f"/developers/webhooks/{endpoint.pk}/delete/", {}),
        (f"/developers/webhooks/deliveries/{their_delivery.pk}/redeliver/", {}),
    ]:
        assert admin_web.post(url, data).status_code == 404, url

    # and nothing of theirs changed or shows on our pages
    assert snapshot(endpoint) == before
    their_delivery.refresh_from_db()
    assert their_delivery.status == DeliveryStatus.FAILED
    assert "Theirs" not in admin_web.get("/developers/").content.decode()
    assert endpoint.url not in admin_web.get("/developers/webhooks/").content.decode()


# --- API keys and usage ---------------------------------------------------------------------------


def test_the_keys_usage_is_listed_with_its_errors_and_last_use(admin_web, issued, account):
    # given a key that made five requests today, two refused, and one three days ago
    for status in (200, 200, 201, 404, 503):
        api_key_usage_record(api_key=issued.api_key, status_code=status)
    api_key_usage_record(api_key=issued.api_key, status_code=200, now=timezone.now() - timedelta(days=3))
    unused = api_key_create(
        account=account, name="Unused", scopes=["read"], expires_at=None, actor=Principal.platform_key()
    )

    # when the admin opens the Developers page
    html = admin_web.get("/developers/").content.decode()

    # then the key's row counts six requests, one 4xx and one 5xx, used just now
    row = re.search(rf'<tr id="key-usage-{issued.api_key.pk}".*?</tr>', html, re.S).group(0)
    assert '<td data-label="Requests" class="num">6</td>' in row
    assert "1 / 1" in row
    assert "just now" in row
    assert "<svg" in row  # per-day bars, today's with its own count:
    assert "5 requests, 1 client error (4xx), 1 server error (5xx)" in row
    # and a key never used says so
    unused_row = re.search(rf'<tr id="key-usage-{unused.api_key.pk}".*?</tr>', html, re.S).group(0)
    assert "Never" in unused_row
    assert '<td data-label="Requests" class="num">0</td>' in unused_row
    # and the chart of every key is there with its table
    assert "Requests of every key: 6 requests in the last 14 days" in html


def test_one_keys_usage_page_shows_each_day_of_the_window(admin_web, issued):
    # given requests today and 20 days ago
    api_key_usage_record(api_key=issued.api_key, status_code=429)
    api_key_usage_record(api_key=issued.api_key, status_code=200, now=timezone.now() - timedelta(days=20))
    url = f"/developers/api-keys/{issued.api_key.pk}/"

    # when the last 14 days are shown, then only today's request is in them
    html = admin_web.get(url).content.decode()
    assert "1 request in the last 14 days" in re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert html.count("<time datetime=") >= 14

    # when the last 30 days are asked for, then both are
    html = admin_web.get(url, {"days": "30"}).content.decode()
    assert "2 requests in the last 30 days" in re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert 'href="?days=30" class="active" aria-current="true"' in html


def test_a_period_not_offered_is_400_with_a_message(admin_web, issued):
    for url in ("/developers/", f"/developers/api-keys/{issued.api_key.pk}/"):
        response = admin_web.get(url, {"days": "9999"})
        assert response.status_code == 400, url
        assert "Choose one of the periods offered" in response.content.decode()


def test_the_developers_page_costs_the_same_few_queries_with_many_keys(admin_web, account, django_assert_num_queries):
    def add_keys(count: int) -> None:
        for number in range(count):
            # each made by another person, some of them deactivated since
            creator = UserFactory(account=account, role=Role.CLIENT_ADMIN, is_active=number % 2 == 0)
            issued = api_key_create(
                account=account,
                name=f"Key {number}",
                scopes=["read"],
                expires_at=None,
                actor=Principal.for_user(creator),
            )
            for days_ago in range(3):
                when = timezone.now() - timedelta(days=days_ago)
                api_key_usage_record(api_key=issued.api_key, status_code=200, now=when)

    # given one key, measured
    add_keys(1)
    with django_assert_num_queries(6) as few:
        assert admin_web.get("/developers/").status_code == 200

    # when there are ten more, then the page costs no more queries
    add_keys(10)
    with django_assert_num_queries(len(few.captured_queries)):
        response = admin_web.get("/developers/")
    assert response.status_code == 200
    assert response.content.decode().count("(deactivated)") == 5


def test_the_keys_list_says_who_created_each_key_and_who_has_left(admin_web, account, client_admin):
    # given a key made by the admin, and one by a colleague deactivated since
    ada = UserFactory(account=account, role=Role.CLIENT_ADMIN, full_name="Ada Lovelace", email="ada@acme.test")
    theirs = api_key_create(
        account=account, name="Ada's key", scopes=["read"], expires_at=None, actor=Principal.for_user(ada)
    )
    ours = api_key_create(
        account=account, name="Our key", scopes=["read"], expires_at=None, actor=Principal.for_user(client_admin)
    )
    User.objects.filter(pk=ada.pk).update(is_active=False)

    # when
    html = admin_web.get("/developers/").content.decode()
    usage_page = admin_web.get(f"/developers/api-keys/{theirs.api_key.pk}/").content.decode()

    # then each row names its creator, and Ada's says she has left; her key is still active
    row = re.search(rf'<tr id="key-usage-{theirs.api_key.pk}".*?</tr>', html, re.S).group(0)
    assert "Ada Lovelace" in row
    assert "ada@acme.test" in row
    assert "(deactivated)" in row
    assert "Active" in row
    other = re.search(rf'<tr id="key-usage-{ours.api_key.pk}".*?</tr>', html, re.S).group(0)
    assert client_admin.email in other
    assert "(deactivated)" not in other
    assert "Ada Lovelace" in usage_page
    assert "(deactivated)" in usage_page


# --- adding an endpoint, and its secret shown once ------------------------------------------------


def test_adding_an_endpoint_shows_its_secret_once_and_never_again(admin_web, account):
    # when the admin adds an endpoint (the form posts through htmx)
    response = admin_web.post("/developers/webhooks/new/", NEW, **HTMX)

    # then it exists with its events, and the answer is the only one holding its secret
    assert response.status_code == 201
    assert response["Cache-Control"].startswith("max-age=0")
    endpoint = WebhookEndpoint.objects.get(account=account)
    assert (endpoint.url, endpoint.events, endpoint.description) == (NEW["url"], sorted(NEW["events"]), "CRM")
    assert endpoint.source == EndpointSource.WEB
    shown = SECRET.search(response.content.decode()).group(0)
    assert shown == endpoint.secret
    assert 'data-copy="#webhook-secret"' in response.content.decode()
    assert AuditLog.objects.filter(action="webhook.created", account=account).count() == 1

    # and no other page shows it
    for url in (
        "/developers/webhooks/",
        f"/developers/webhooks/{endpoint.pk}/",
        f"/developers/webhooks/{endpoint.pk}/edit/",
        "/developers/webhooks/new/",
        "/developers/",
    ):
        html = admin_web.get(url).content.decode()
        assert shown not in html, url
        assert SECRET.search(html) is None, url


def test_without_htmx_the_secret_comes_in_a_whole_page(admin_web, account):
    response = admin_web.post("/developers/webhooks/new/", NEW)
    assert response.status_code == 201
    assert_no_inline_code(response)
    assert WebhookEndpoint.objects.get(account=account).secret in response.content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({**NEW, "url": "not a url"}, "url", "Enter a valid URL."),
        ({**NEW, "url": "ftp://hooks.acme.test/"}, "url", "Only https URLs are accepted."),
        ({**NEW, "url": "http://hooks.acme.test/"}, "url", "Only https URLs are accepted."),
        ({**NEW, "url": "https://127.0.0.1/hook"}, "url", "127.0.0.1 is a loopback address"),
        ({**NEW, "url": "https://169.254.169.254/latest"}, "url", "169.254.169.254 is a link-local address"),
        ({**NEW, "url": "https://localhost:8000/hook"}, "url", "Destination not allowed"),
        ({**NEW, "url": "https://user:pw@hooks.acme.test/"}, "url", "Put no credentials in the URL."),
        ({**NEW, "url": ""}, "url", "This field is required."),
        ({**NEW, "events": []}, "events", "Choose at least one event type."),
        ({**NEW, "events": ["lead.deleted"]}, "events", "Select a valid choice."),
        ({**NEW, "description": "x" * 201}, "description", "at most 200 characters"),
    ],
)
def test_bad_input_shows_the_error_on_its_field_and_adds_nothing(admin_web, settings, data, field, message):
    # given production's rules for outgoing URLs
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    settings.OUTBOUND_REQUIRE_HTTPS = True

    # when
    response = admin_web.post("/developers/webhooks/new/", data, **HTMX)

    # then
    assert response.status_code == 400
    html = response.content.decode()
    errors = re.search(rf'id="id_{field}_errors">(.*?)</div>', html, re.S)
    assert errors is not None, html
    assert message in errors.group(1)
    assert "nothing was saved" in html
    assert not WebhookEndpoint.objects.exists()
    assert not AuditLog.objects.filter(action="webhook.created").exists()


def test_the_fiftieth_endpoint_is_the_last(admin_web, account):
    # given a tenant with fifty endpoints
    WebhookEndpointFactory.create_batch(50, account=account)

    # when the admin adds another, then the service's limit is shown and nothing is added
    response = admin_web.post("/developers/webhooks/new/", NEW)
    assert response.status_code == 302
    assert any("at most 50 webhook endpoints" in notice for notice in notices(response))
    assert WebhookEndpoint.objects.filter(account=account).count() == 50


# --- changing one ---------------------------------------------------------------------------------


def test_editing_changes_url_and_events_and_keeps_the_secret(admin_web, endpoint):
    # given
    secret = endpoint.secret

    # when
    response = admin_web.post(
        f"/developers/webhooks/{endpoint.pk}/edit/",
        {"url": "https://hooks.acme.test/two", "events": ["message.status", "lead.updated"], "description": "New"},
    )

    # then
    assert response.status_code == 302
    assert response["Location"] == f"/developers/webhooks/{endpoint.pk}/"
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.description) == (
        "https://hooks.acme.test/two",
        ["lead.updated", "message.status"],
        "New",
    )
    assert endpoint.secret == secret
    assert AuditLog.objects.filter(action="webhook.updated").count() == 1


def test_editing_with_a_blocked_url_changes_nothing(admin_web, endpoint, settings):
    # given
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    before = snapshot(endpoint)

    # when
    response = admin_web.post(
        f"/developers/webhooks/{endpoint.pk}/edit/", {"url": "http://10.0.0.8/hook", "events": ["lead.created"]}
    )

    # then
    assert response.status_code == 400
    assert "10.0.0.8 is a private address" in response.content.decode()
    assert snapshot(endpoint) == before


def test_the_edit_form_starts_from_the_endpoints_values(admin_web, endpoint):
    html = admin_web.get(f"/developers/webhooks/{endpoint.pk}/edit/").content.decode()
    assert f'value="{endpoint.url}"' in html
    assert re.search(r'<input type="checkbox" name="events" value="lead.created"[^>]*checked', html)
    assert not re.search(r'<input type="checkbox" name="events" value="message.status"[^>]*checked', html)


def test_rotating_shows_the_new_secret_once_and_explains_the_overlap(admin_web, endpoint):
    # given
    old = endpoint.secret

    # when the admin rotates with a one-hour overlap
    response = admin_web.post(f"/developers/webhooks/{endpoint.pk}/rotate/", {"overlap_seconds": "3600"}, **HTMX)

    # then the new secret is shown, the old one keeps signing for the hour
    assert response.status_code == 200
    endpoint.refresh_from_db()
    html = response.content.decode()
    assert SECRET.search(html).group(0) == endpoint.secret != old
    assert endpoint.previous_secret == old
    assert timedelta(minutes=59) < endpoint.previous_secret_expires_at - timezone.now() <= timedelta(hours=1)
    assert "Keeps signing too until" in html
    assert "two signatures" in html
    # and the endpoint's page mentions the overlap, not the secrets
    page_html = admin_web.get(f"/developers/webhooks/{endpoint.pk}/").content.decode()
    assert "The previous secret also signs until" in page_html
    assert endpoint.secret not in page_html
    assert old not in page_html


def test_rotating_without_overlap_drops_the_old_secret(admin_web, endpoint):
    response = admin_web.post(f"/developers/webhooks/{endpoint.pk}/rotate/", {"overlap_seconds": "0"}, **HTMX)
    assert response.status_code == 200
    assert "No longer signs" in response.content.decode()
    endpoint.refresh_from_db()
    assert (endpoint.previous_secret, endpoint.previous_secret_expires_at) == ("", None)


def test_rotating_with_an_overlap_not_offered_keeps_the_secret(admin_web, endpoint):
    # given
    before = snapshot(endpoint)

    # when
    response = admin_web.post(f"/developers/webhooks/{endpoint.pk}/rotate/", {"overlap_seconds": "999999"}, **HTMX)

    # then
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert snapshot(endpoint) == before


def test_turning_off_and_on_again(admin_web, endpoint):
    # given an endpoint that kept failing
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=4, failing_since=timezone.now())

    # when the admin turns it off
    response = admin_web.post(f"/developers/webhooks/{endpoint.pk}/turn-off/")

    # then
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason) == (False, DisabledReason.MANUAL)
    html = admin_web.get(f"/developers/webhooks/{endpoint.pk}/").content.decode()
    assert "Turned off by a person" in html
    assert "Send a test event" not in html

    # when they turn it on again, then it starts afresh
    admin_web.post(f"/developers/webhooks/{endpoint.pk}/turn-on/")
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason, endpoint.consecutive_failures) == (True, "", 0)


def test_a_turned_off_endpoint_cannot_be_tested_or_redelivered_to(admin_web, endpoint, delivery):
    # given
    admin_web.post(f"/developers/webhooks/{endpoint.pk}/turn-off/")

    # when the admin tries anyway
    tested = admin_web.post(f"/developers/webhooks/{endpoint.pk}/test/")
    redelivered = admin_web.post(f"/developers/webhooks/deliveries/{delivery.pk}/redeliver/", **HTMX)

    # then they are told why, and nothing was sent
    assert tested.status_code == 302
    assert "This endpoint is turned off: turn it on first." in notices(tested)
    assert redelivered.status_code == 409
    assert "turn it on first" in redelivered.content.decode()
    assert EventDelivery.objects.count() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED


def test_deleting_removes_the_endpoint_and_its_log(admin_web, endpoint, delivery):
    # when
    response = admin_web.post(f"/developers/webhooks/{endpoint.pk}/delete/")

    # then
    assert response.status_code == 302
    assert response["Location"] == "/developers/webhooks/"
    assert not WebhookEndpoint.objects.exists()
    assert not EventDelivery.objects.exists()
    assert AuditLog.objects.filter(action="webhook.deleted").count() == 1
    assert any("Deleted the endpoint https://hooks.acme.test/one" in notice for notice in notices(response))


def test_the_delete_and_turn_off_buttons_ask_first(admin_web, endpoint):
    html = admin_web.get(f"/developers/webhooks/{endpoint.pk}/").content.decode()
    assert re.search(r'action="/developers/webhooks/\d+/delete/" data-confirm="Delete the endpoint', html)
    assert re.search(r'action="/developers/webhooks/\d+/turn-off/" data-confirm="Turn off this endpoint', html)


# --- test events, the delivery log and redelivery -------------------------------------------------


def test_a_test_event_reaches_the_receiver_signed_and_shows_in_the_log(
    admin_web, account, receiver, django_capture_on_commit_callbacks
):
    # given an endpoint at a local receiver
    created = admin_web.post(
        "/developers/webhooks/new/", {"url": receiver.url_for("/hook"), "events": ["lead.created"]}, **HTMX
    )
    secret = SECRET.search(created.content.decode()).group(0)
    endpoint = WebhookEndpoint.objects.get(account=account)
    receiver.expect_request("/hook", method="POST").respond_with_data("pong")

    # when the admin sends a test event
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_web.post(f"/developers/webhooks/{endpoint.pk}/test/")

    # then the receiver got a ping signed with the secret
    assert response.status_code == 302
    request, _ = receiver.log[0]
    assert verify_standard_webhook(secret, request.headers, request.get_data())
    assert request.json["type"] == "ping"
    # and the log shows it delivered, with the answer
    html = admin_web.get(response["Location"]).content.decode()
    row = re.search(r'<tr id="delivery-\d+" class="delivery".*?</tr>', html, re.S).group(0)
    assert "<code>ping</code>" in row
    assert "Delivered" in row
    assert "HTTP 200" in row
    assert "pong" in html
    assert "hx-trigger" not in html  # nothing on its way: the log does not reload itself


def test_redelivering_a_failed_delivery_sends_the_same_event_again(
    admin_web, account, receiver, django_capture_on_commit_callbacks
):
    # given a test event the receiver refused
    admin_web.post("/developers/webhooks/new/", {"url": receiver.url_for("/hook"), "events": ["lead.created"]}, **HTMX)
    endpoint = WebhookEndpoint.objects.get(account=account)
    receiver.expect_oneshot_request("/hook").respond_with_response(Response("down", status=503))
    with django_capture_on_commit_callbacks(execute=True):
        admin_web.post(f"/developers/webhooks/{endpoint.pk}/test/")
    delivery = EventDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == DeliveryStatus.PENDING
    html = admin_web.get(f"/developers/webhooks/{endpoint.pk}/").content.decode()
    assert "Retrying" in html
    assert "HTTP 503" in html
    assert 'hx-trigger="every 4s"' in html  # a retry is due in seconds: the log follows it

    # when the receiver works again and the admin redelivers
    receiver.expect_request("/hook").respond_with_data("ok")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_web.post(f"/developers/webhooks/deliveries/{delivery.pk}/redeliver/")

    # then the same event went out again and the delivery succeeded on its second attempt
    assert response.status_code == 302
    assert response["Location"] == f"/developers/webhooks/{endpoint.pk}/"
    first, second = (entry[0] for entry in receiver.log)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.SUCCEEDED, 2)
    assert AuditLog.objects.filter(action="webhook.redelivered").count() == 1


def test_the_delivery_log_page_never_says_what_a_name_resolves_to(admin_web, account, settings, monkeypatch, committed):
    # given an endpoint on an internal name that resolves to the server's loopback
    fake_dns(monkeypatch)[0]["vm"] = ["127.0.0.1"]
    admin_web.post("/developers/webhooks/new/", {"url": "http://vm:8080/hook", "events": ["lead.created"]}, **HTMX)
    endpoint = WebhookEndpoint.objects.get(account=account)
    settings.OUTBOUND_ALLOW_LOOPBACK = False

    # when the admin sends a test event and opens the log
    sent = committed(lambda: admin_web.post(f"/developers/webhooks/{endpoint.pk}/test/"))
    html = admin_web.get(f"/developers/webhooks/{endpoint.pk}/").content.decode()

    # then the attempt says the destination is not allowed, and nothing more
    assert sent.status_code == 302
    assert "Destination not allowed" in html
    assert "127.0.0.1" not in html
    assert "resolves" not in html


def test_redelivering_goes_back_to_the_page_of_the_log_it_was_clicked_on(admin_web, endpoint, delivery):
    referer = f"http://testserver/developers/webhooks/{endpoint.pk}/?page=2&status=failed"
    response = admin_web.post(f"/developers/webhooks/deliveries/{delivery.pk}/redeliver/", HTTP_REFERER=referer)
    assert response["Location"] == referer


def test_the_log_is_newest_first_paginated_and_filtered(admin_web, endpoint):
    # given 25 deliveries, the newest one failed
    deliveries = [EventDeliveryFactory(endpoint=endpoint) for _ in range(25)]
    EventDelivery.objects.filter(pk=deliveries[-1].pk).update(status=DeliveryStatus.FAILED)
    url = f"/developers/webhooks/{endpoint.pk}/"

    # when the first page is opened, then it holds the 20 newest, newest first
    html = admin_web.get(url).content.decode()
    shown = [int(pk) for pk in re.findall(r'<tr id="delivery-(\d+)"', html)]
    assert shown == [delivery.pk for delivery in reversed(deliveries)][:20]
    assert "Page 1 of 2" in html

    # and the second page the 5 oldest
    html = admin_web.get(url, {"page": "2"}).content.decode()
    assert len(re.findall(r'<tr id="delivery-(\d+)"', html)) == 5

    # when only failed ones are asked for
    html = admin_web.get(url, {"status": "failed"}).content.decode()
    assert [int(pk) for pk in re.findall(r'<tr id="delivery-(\d+)"', html)] == [deliveries[-1].pk]

    # and a status that does not exist is a 400 with a message
    response = admin_web.get(url, {"status": "lost"})
    assert response.status_code == 400
    assert "Choose one of the statuses offered." in response.content.decode()


def test_an_endpoint_without_deliveries_says_what_to_do(admin_web, endpoint):
    html = admin_web.get(f"/developers/webhooks/{endpoint.pk}/").content.decode()
    assert "Nothing sent yet" in html
    assert "send a test event" in html


def test_the_log_and_the_list_cost_the_same_few_queries_however_long(
    admin_web, account, endpoint, django_assert_num_queries
):
    def add(count: int) -> None:
        for _ in range(count):
            other = WebhookEndpointFactory.create(account=account)
            EventDeliveryFactory(endpoint=other)
            delivery = EventDeliveryFactory.create(endpoint=endpoint)
            for number in (1, 2):
                EventDeliveryAttempt.objects.create(delivery=delivery, number=number, status_code=500)

    # given a few endpoints and deliveries, measured
    add(2)
    log_url = f"/developers/webhooks/{endpoint.pk}/"
    with django_assert_num_queries(7) as log_queries:
        assert admin_web.get(log_url).status_code == 200
    with django_assert_num_queries(4) as list_queries:
        assert admin_web.get("/developers/webhooks/").status_code == 200

    # when there are many more, then neither page costs more
    add(15)
    with django_assert_num_queries(len(log_queries.captured_queries)):
        assert admin_web.get(log_url).status_code == 200
    with django_assert_num_queries(len(list_queries.captured_queries)):
        assert admin_web.get("/developers/webhooks/").status_code == 200


def test_the_list_shows_status_reasons_and_the_last_delivery(admin_web, account):
    # given an endpoint delivering fine, one turned off for failing, one that never received anything
    working = WebhookEndpointFactory.create(account=account, url="https://hooks.acme.test/working")
    EventDeliveryFactory(endpoint=working, status=DeliveryStatus.FAILED)
    EventDeliveryFactory(endpoint=working, status=DeliveryStatus.SUCCEEDED)
    WebhookEndpointFactory(
        account=account,
        url="https://hooks.acme.test/broken",
        is_active=False,
        disabled_reason=DisabledReason.FAILING,
        disabled_at=timezone.now(),
    )
    WebhookEndpointFactory(account=account, url="https://hooks.acme.test/quiet")

    # when
    html = admin_web.get("/developers/webhooks/").content.decode()

    # then
    def row(url: str) -> str:
        return re.search(rf"<tr id=\"endpoint-\d+\">(?:(?!</tr>).)*{re.escape(url)}.*?</tr>", html, re.S).group(0)

    assert "Delivered" in row("https://hooks.acme.test/working")
    assert "Off" in row("https://hooks.acme.test/broken")
    assert "Deliveries kept failing" in row("https://hooks.acme.test/broken")
    assert "Nothing sent yet" in row("https://hooks.acme.test/quiet")


def test_an_empty_list_says_what_to_do(admin_web):
    html = admin_web.get("/developers/webhooks/").content.decode()
    assert "No webhook endpoints yet" in html
    assert "No Zap is subscribed." in html


# --- Zapier's subscriptions -----------------------------------------------------------------------


@pytest.fixture
def zap(account) -> WebhookEndpoint:
    """A Zap's REST hook subscription to new leads."""
    return WebhookEndpointFactory.create(
        account=account, source=EndpointSource.ZAPIER, url="https://hooks.zapier.com/hooks/standard/1/abc"
    )


def test_a_zapier_subscriptions_settings_stay_zapiers(admin_web, zap):
    # given a Zap's REST hook with a failed delivery
    delivery = EventDeliveryFactory.create(endpoint=zap, status=DeliveryStatus.FAILED)
    before = snapshot(zap)

    # when the admin opens the list and the subscription's page
    listing = admin_web.get("/developers/webhooks/").content.decode()
    detail = admin_web.get(f"/developers/webhooks/{zap.pk}/").content.decode()

    # then it is listed under Zapier, with its log and no control to change its settings
    zapier_section = listing.split('id="zapier-title"')[1]
    assert zap.url in zapier_section
    assert f"/developers/webhooks/{zap.pk}/edit/" not in listing
    assert "Zapier manages this subscription" in detail
    for control in ("Send a test event", "Rotate the secret", "Redeliver", "/edit/"):
        assert control not in detail, control

    # and changes to its settings posted anyway are refused, and nothing changes
    for url, data in [
        (f"/developers/webhooks/{zap.pk}/edit/", NEW),
        (f"/developers/webhooks/{zap.pk}/rotate/", {"overlap_seconds": "0"}),
        (f"/developers/webhooks/{zap.pk}/test/", {}),
        (f"/developers/webhooks/deliveries/{delivery.pk}/redeliver/", {}),
    ]:
        response = admin_web.post(url, data, **HTMX)
        assert response.status_code == 409, url
        assert "Zapier manages this subscription" in response.content.decode()
    assert admin_web.get(f"/developers/webhooks/{zap.pk}/edit/").status_code == 409
    assert snapshot(zap) == before
    assert EventDelivery.objects.filter(endpoint=zap).count() == 1


def test_the_admin_turns_a_zapier_subscription_off_and_it_receives_nothing(
    admin_web, account, client_admin, receiver, committed
):
    # given a Zap subscribed to new leads at a local stand-in for Zapier
    zap = WebhookEndpointFactory.create(
        account=account, source=EndpointSource.ZAPIER, url=receiver.url_for("/zap"), events=["lead.created"]
    )
    receiver.expect_request("/zap", method="POST").respond_with_data("ok")
    detail = admin_web.get(f"/developers/webhooks/{zap.pk}/").content.decode()
    assert re.search(rf'action="/developers/webhooks/{zap.pk}/turn-off/" data-confirm="Turn off this Zapier', detail)

    # when the admin turns it off, and a lead is created
    response = admin_web.post(f"/developers/webhooks/{zap.pk}/turn-off/")
    committed(lambda: lead_create(account=account, actor=Principal.platform_key(), name="Not for the Zap"))

    # then it is off, audited as the admin's change, and nothing was sent to it
    assert response.status_code == 302
    zap.refresh_from_db()
    assert (zap.is_active, zap.disabled_reason) == (False, DisabledReason.MANUAL)
    audit = AuditLog.objects.get(action="webhook.updated", target_id=str(zap.pk))
    assert audit.metadata["fields"] == ["is_active"]
    assert audit.actor_user == client_admin
    assert receiver.log == []
    assert not EventDelivery.objects.filter(endpoint=zap).exists()
    assert "Turned off by a person" in admin_web.get(f"/developers/webhooks/{zap.pk}/").content.decode()

    # when they turn it on again, then the next lead reaches the Zap
    assert admin_web.post(f"/developers/webhooks/{zap.pk}/turn-on/").status_code == 302
    committed(lambda: lead_create(account=account, actor=Principal.platform_key(), name="For the Zap"))
    assert len(receiver.log) == 1
    assert receiver.log[0][0].json["data"]["name"] == "For the Zap"


def test_the_admin_deletes_a_zapier_subscription_after_confirming(admin_web, client_admin, zap):
    # given a Zap's hook with a delivery log, and its page asks before deleting
    EventDeliveryFactory.create(endpoint=zap, status=DeliveryStatus.FAILED)
    detail = admin_web.get(f"/developers/webhooks/{zap.pk}/").content.decode()
    assert re.search(
        rf'action="/developers/webhooks/{zap.pk}/delete/" data-confirm="Delete the Zapier subscription', detail
    )

    # when the admin deletes it
    response = admin_web.post(f"/developers/webhooks/{zap.pk}/delete/")

    # then it is gone with its log, audited like any endpoint's deletion
    assert response.status_code == 302
    assert response["Location"] == "/developers/webhooks/"
    assert not WebhookEndpoint.objects.exists()
    assert not EventDelivery.objects.exists()
    audit = AuditLog.objects.get(action="webhook.deleted")
    assert (audit.target_id, audit.metadata["source"], audit.actor_user) == (str(zap.pk), "zapier", client_admin)
    assert any("Deleted the Zapier subscription" in notice for notice in notices(response))


@pytest.mark.parametrize("who", ["member", "viewer"])
def test_a_user_or_viewer_cannot_turn_off_or_delete_a_zapier_subscription(request, web, who, zap):
    # given a USER or VIEWER of the tenant
    browser = web(request.getfixturevalue(who))
    before = snapshot(zap)

    # when they post the admin's actions, then each is refused and nothing changes
    for action in ("turn-off", "turn-on", "delete"):
        assert browser.post(f"/developers/webhooks/{zap.pk}/{action}/").status_code == 403, action
    assert snapshot(zap) == before
    assert not AuditLog.objects.filter(action__startswith="webhook.").exists()


def test_another_tenants_zapier_subscription_answers_404_and_stays(admin_web, other_account):
    # given a Zap's hook of another tenant
    theirs = WebhookEndpointFactory.create(account=other_account, source=EndpointSource.ZAPIER)
    before = snapshot(theirs)

    # when the admin aims the new actions at it, then each is 404 and nothing of theirs changes
    for action in ("turn-off", "turn-on", "delete"):
        assert admin_web.post(f"/developers/webhooks/{theirs.pk}/{action}/").status_code == 404, action
    assert snapshot(theirs) == before
    assert not AuditLog.objects.filter(action__startswith="webhook.").exists()


def test_a_disabled_tenants_admin_cannot_turn_off_or_delete_a_zapier_subscription(admin_web, account, zap):
    # given the admin's page open while platform staff deactivate the tenant
    Account.objects.filter(pk=account.pk).update(is_active=False)
    before = snapshot(zap)

    # when the open session posts the actions
    for action in ("turn-off", "delete"):
        response = admin_web.post(f"/developers/webhooks/{zap.pk}/{action}/")

        # then each is refused, and nothing changes or is audited
        assert response.status_code in (302, 401, 403), action
        if response.status_code == 302:  # to the sign-in page, not back to the page with a success notice
            assert not response["Location"].startswith("/developers/"), action
    assert snapshot(zap) == before
    assert not AuditLog.objects.filter(action__startswith="webhook.").exists()
