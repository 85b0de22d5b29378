"""Connecting a WhatsApp number proves it: Meta's Graph API (a local stand-in here, answering like
Meta) must confirm that the access token can read the phone number id before anything is stored,
and a number another tenant has connected gets the same refusal as any other."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management.base import OutputWrapper

from accounts.models import AuditLog
from inbox.demo import DEMO_PHONE_NUMBER_ID, seed_demo
from inbox.models import Channel
from inbox.services.channels import ALREADY_CONNECTED_HERE
from inbox.tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

NUMBER = "200000000000001"
TOKEN = "EAAG-token-of-the-business"
BODY = {"phone_number_id": NUMBER, "display_phone_number": "+1 555 0100", "access_token": TOKEN}


def connect(client: Any, **overrides: str) -> Any:
    return client.post("/api/v1/channels", {**BODY, **overrides}, format="json")


def test_a_number_meta_confirms_for_the_token_is_connected(client_for, client_admin, graph_api):
    # given a token Meta confirms for the number
    graph_api.owns(NUMBER, token=TOKEN)

    # when the admin connects it
    response = connect(client_for(client_admin))

    # then it is stored, after one question to Meta carrying the token in its header only
    assert response.status_code == 201, response.json()
    assert Channel.objects.get().phone_number_id == NUMBER
    (request, _), *_ = graph_api.server.log
    assert request.path == f"/v21.0/{NUMBER}"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in request.url


@pytest.mark.parametrize(
    "given",
    [
        pytest.param({"access_token": "EAAG-revoked-or-made-up"}, id="a token Meta does not know"),
        pytest.param({"phone_number_id": "200000000000002"}, id="a number the token cannot read"),
    ],
)
def test_a_number_meta_does_not_confirm_is_refused_and_nothing_is_stored(client_for, client_admin, graph_api, given):
    # given Meta confirms only NUMBER for TOKEN
    graph_api.owns(NUMBER, token=TOKEN)

    # when the admin connects with another token, or another number
    response = connect(client_for(client_admin), **given)

    # then it is a 400 at the number, saying Meta did not confirm it; nothing is stored or audited
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert "did not confirm" in body["details"]["phone_number_id"][0]
    assert TOKEN not in response.content.decode()
    assert not Channel.objects.exists()
    assert not AuditLog.objects.filter(action="channel.created").exists()


def test_another_tenants_number_gets_the_same_answer_as_any_refusal(client_for, client_admin, other_account, graph_api):
    # given another tenant's number, which Meta would confirm for this admin's token as well
    theirs = ChannelFactory(account=other_account, phone_number_id=NUMBER, display_phone_number="+44 20 7946 0000")
    graph_api.owns(NUMBER, token=TOKEN)
    api = client_for(client_admin)

    # when the admin connects it, and a number Meta does not confirm for the token
    elsewhere = connect(api)
    unconfirmed = connect(api, phone_number_id="200000000000002")

    # then the two answers cannot be told apart, and nothing of the other tenant's number shows
    assert elsewhere.status_code == unconfirmed.status_code == 400
    assert elsewhere.json() == unconfirmed.json()
    assert theirs.display_phone_number not in elsewhere.content.decode()
    assert Channel.objects.get() == theirs


def test_a_number_already_connected_to_the_same_account_says_so(client_for, client_admin, account, graph_api):
    ChannelFactory(account=account, phone_number_id=NUMBER)
    graph_api.owns(NUMBER, token=TOKEN)

    response = connect(client_for(client_admin))

    assert response.status_code == 400
    assert response.json()["details"]["phone_number_id"] == [ALREADY_CONNECTED_HERE]
    assert Channel.objects.count() == 1


def test_meta_answering_for_another_number_is_a_refusal(client_for, client_admin, httpserver, settings):
    # given a Graph API that answers the lookup with another number's id
    settings.GRAPH_API_BASE_URL = httpserver.url_for("/v21.0")
    httpserver.expect_request(f"/v21.0/{NUMBER}", method="GET").respond_with_json(
        {"id": "999999999999999", "display_phone_number": "+1 555 0199", "verified_name": "Someone Else"}
    )

    response = connect(client_for(client_admin))

    assert response.status_code == 400
    assert not Channel.objects.exists()


def test_meta_being_down_is_a_503_to_try_again_and_stores_nothing(client_for, client_admin, httpserver, settings):
    # given a Graph API that fails
    settings.GRAPH_API_BASE_URL = httpserver.url_for("/v21.0")
    httpserver.expect_request(f"/v21.0/{NUMBER}", method="GET").respond_with_json(
        {"error": {"message": "An unexpected error has occurred.", "type": "OAuthException", "code": 2}}, status=500
    )

    response = connect(client_for(client_admin))

    assert response.status_code == 503
    assert response.json()["code"] == "whatsapp_unavailable"
    assert not Channel.objects.exists()


def test_the_demo_seed_connects_its_number_without_asking_meta(account, settings):
    # given a Graph API nobody can reach
    settings.GRAPH_API_BASE_URL = "http://127.0.0.1:9/v21.0"

    # when the demo is seeded, then its number exists
    seed_demo(account, stdout=OutputWrapper(StringIO()))
    assert Channel.objects.get(account=account).phone_number_id == DEMO_PHONE_NUMBER_ID
