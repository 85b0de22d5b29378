"""/api/schema/ generates each variant of the schema once per process and answers the rest from memory."""

from __future__ import annotations

import json

import pytest
import yaml
from django.test import Client
from prometheus_client import REGISTRY

from core.schema import forget_schemas

pytestmark = pytest.mark.django_db

JSON = "application/vnd.oai.openapi+json"


def builds() -> float:
    return REGISTRY.get_sample_value("skybot_openapi_schema_builds_total") or 0.0


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    forget_schemas()


def test_the_second_request_is_answered_without_generating_again(client: Client) -> None:
    # given a process that has not served the schema yet
    before = builds()

    # when the schema is asked for twice
    first = client.get("/api/schema/", {"format": "json"})
    second = client.get("/api/schema/", {"format": "json"})

    # then it was generated once, and both answers are the same complete schema
    assert builds() - before == 1
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.content == second.content
    assert first["Content-Type"] == second["Content-Type"] == JSON
    assert second["Content-Disposition"] == 'inline; filename="SkyBot Inbox API.json"'
    assert "/api/v1/conversations" in json.loads(second.content)["paths"]


def test_each_format_is_its_own_variant_and_stays_correct(client: Client) -> None:
    before = builds()

    as_yaml = client.get("/api/schema/")
    as_json = client.get("/api/schema/", HTTP_ACCEPT=JSON)
    again_yaml = client.get("/api/schema/", {"format": "yaml"})
    again_json = client.get("/api/schema/", {"format": "json"})

    # then YAML and JSON were generated once each, and each answer is in the format asked for
    assert builds() - before == 2
    assert as_yaml["Content-Type"].startswith("application/vnd.oai.openapi")
    assert yaml.safe_load(as_yaml.content) == json.loads(as_json.content)
    assert again_yaml.content == as_yaml.content
    assert again_json.content == as_json.content


def test_each_language_is_its_own_variant(client: Client) -> None:
    before = builds()

    english = client.get("/api/schema/", {"format": "json"})
    german = client.get("/api/schema/", {"format": "json", "lang": "de"})
    german_again = client.get("/api/schema/", {"format": "json", "lang": "de"})
    english_again = client.get("/api/schema/", {"format": "json"})

    # then one generation per language, each answered in its own language every time
    assert builds() - before == 2
    cursor_de = "Der Zeigerwert für die Paginierung"
    assert cursor_de in german.content.decode()
    assert cursor_de not in english.content.decode()
    assert german_again.content == german.content
    assert english_again.content == english.content


def test_a_change_of_settings_generates_it_again(client: Client, settings) -> None:
    # given a schema already served
    client.get("/api/schema/", {"format": "json"})
    before = builds()

    # when a setting changes (as tests do) and the schema is asked for again
    settings.SITE_URL = "http://127.0.0.1:8123"
    client.get("/api/schema/", {"format": "json"})

    # then it is generated again rather than answered from before the change
    assert builds() - before == 1


def test_what_a_client_adds_neither_multiplies_variants_nor_changes_the_schema(client: Client) -> None:
    from core.schema import _rendered

    # given the JSON schema served once
    reference = client.get("/api/schema/", {"format": "json"})
    before = builds()

    # when callers vary a version parameter and media-type parameters of Accept
    answers = [client.get("/api/schema/", {"format": "json", "version": f"evil{n}"}) for n in range(5)]
    answers += [client.get("/api/schema/", HTTP_ACCEPT=f"{JSON}; x={n}") for n in range(5)]

    # then nothing was generated again, nothing new is kept, and everyone gets the same bytes
    assert builds() == before
    assert len(_rendered) == 1
    for answer in answers:
        assert answer.status_code == 200
        assert answer.content == reference.content
        assert answer["Content-Type"] == JSON
    assert "evil" not in reference.content.decode()
