"""The page shell: an icon on every page (and at /favicon.ico), and the Live status only where a
live feed runs (the browser test checks what shows; here, what the pages declare)."""

from __future__ import annotations

from django.contrib.staticfiles import finders
from django.test import Client


def test_favicon_ico_is_the_icon_not_a_404(client, db):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == "/static/favicon.ico"
    for name in ("favicon.ico", "favicon.svg"):
        path = finders.find(name)
        assert path is not None
    with open(finders.find("favicon.ico"), "rb") as icon:
        assert icon.read(4) == b"\x00\x00\x01\x00"  # an ICO file


def test_every_page_links_the_icon(client, client_admin):
    sign_in_page = client.get("/accounts/login/").content.decode()
    client.force_login(client_admin)
    inbox = client.get("/inbox/").content.decode()

    for page in (sign_in_page, inbox):
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page


def test_only_pages_with_a_live_feed_declare_one(client_admin):
    browser = Client()
    browser.force_login(client_admin)

    assert 'data-feeds="inbox"' in browser.get("/inbox/").content.decode()
    assert 'data-feeds=""' in browser.get("/settings/").content.decode()
