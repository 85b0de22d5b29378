"""Meta's subscription check (`GET /webhooks/whatsapp`) finds a channel's own verify token by its
keyed digest: one query whatever the number of channels, and no other channel's token decrypted."""

from __future__ import annotations

import hashlib
import importlib
import io
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test import Client

from core.crypto import Sealed, encrypt
from inbox.models import Channel
from inbox.tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

OWN_TOKEN = "own-verify-token-of-number-25"


def check(token: str, challenge: str = "1158201444") -> Any:
    return Client().get(
        "/webhooks/whatsapp", {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": challenge}
    )


def _break_ciphertexts(channels: list[Channel]) -> None:
    """Store values no configured key decrypts in these channels' verify tokens (as if written under
    a key that is gone): reading any of them would fail."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inbox_channel SET verify_token = %s WHERE id IN (" + ",".join(["%s"] * len(channels)) + ")",
            ["enc:v1:retired:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", *[c.pk for c in channels]],
        )


@pytest.fixture
def numbers(account, other_account) -> list[Channel]:
    """50 numbers across two tenants, each with its own verify token."""
    return [
        ChannelFactory.create(
            account=account if n % 2 else other_account, verify_token=f"own-verify-token-of-number-{n}"
        )
        for n in range(50)
    ]


def test_the_right_own_token_answers_the_challenge_in_one_query(numbers, django_assert_num_queries):
    # given 50 numbers whose other 49 tokens could not even be decrypted
    _break_ciphertexts([channel for channel in numbers if channel.verify_token != OWN_TOKEN])

    # when Meta checks the subscription with one number's own token
    with django_assert_num_queries(1):
        response = check(OWN_TOKEN)

    # then the challenge comes back, found without touching the other numbers' tokens
    assert response.status_code == 200
    assert response.content == b"1158201444"


def test_a_wrong_token_is_403_in_one_query_and_decrypts_nothing(numbers, django_assert_num_queries):
    # given 50 numbers, none of whose tokens could be decrypted
    _break_ciphertexts(numbers)

    # when someone tries a token that is not one of them
    with django_assert_num_queries(1):
        response = check("not-anyones-token")

    # then it is refused (not a 500 from reading a token it never needed)
    assert response.status_code == 403
    assert response.json()["code"] == "verification_failed"


def test_a_digest_without_the_matching_token_is_not_enough(account, django_assert_num_queries):
    # given a number whose token was replaced behind the digest's back
    channel = ChannelFactory(account=account, verify_token=OWN_TOKEN)
    field = Channel._meta.get_field("verify_token")
    replaced = Sealed(encrypt("replaced", context=field.context(channel.uuid)))
    Channel.objects.filter(pk=channel.pk).update(verify_token=replaced)

    # then the old token no longer answers: the matching row's token is compared as well
    assert check(OWN_TOKEN).status_code == 403


def test_changing_or_removing_an_own_token_moves_the_check_with_it(account, client_for, client_admin):
    # given a number with its own token
    channel = ChannelFactory(account=account, verify_token="first-token")
    api = client_for(client_admin)

    # when the admin changes it through the API, then only the new one answers
    changed = api.patch(f"/api/v1/channels/{channel.pk}", {"verify_token": "second-token"}, format="json")
    assert changed.status_code == 200
    assert (check("first-token").status_code, check("second-token").status_code) == (403, 200)

    # when the admin removes it, then neither answers (the platform default still does)
    removed = api.patch(f"/api/v1/channels/{channel.pk}", {"verify_token": ""}, format="json")
    assert removed.status_code == 200
    assert (check("second-token").status_code, check("").status_code) == (403, 403)
    channel.refresh_from_db()
    assert channel.verify_token_digest == ""


def test_the_digest_is_keyed_and_the_token_is_not_stored_in_the_clear(account):
    channel = ChannelFactory(account=account, verify_token=OWN_TOKEN)

    with connection.cursor() as cursor:
        cursor.execute("SELECT verify_token, verify_token_digest FROM inbox_channel WHERE id = %s", [channel.pk])
        stored, digest = cursor.fetchone()

    assert OWN_TOKEN not in stored
    assert len(digest) == 64
    assert digest != hashlib.sha256(OWN_TOKEN.encode()).hexdigest()


def test_the_migration_fills_the_digest_of_existing_numbers(account):
    # given numbers stored before the digest existed
    own = ChannelFactory(account=account, verify_token=OWN_TOKEN)
    bare = ChannelFactory(account=account, verify_token="")
    Channel.objects.update(verify_token_digest="")
    assert check(OWN_TOKEN).status_code == 403

    # when the data migration runs
    migration = importlib.import_module("inbox.migrations.0005_channel_verify_token_digest")
    migration.fill_verify_token_digests(apps, connection.schema_editor())

    # then the own token answers again, and a number without one has no digest
    assert check(OWN_TOKEN).status_code == 200
    bare.refresh_from_db()
    own.refresh_from_db()
    assert (bool(own.verify_token_digest), bare.verify_token_digest) == (True, "")


def test_rotating_secret_key_keeps_the_check_working_and_the_command_moves_the_digests(account, settings):
    # given a number with its own token, digested under the current SECRET_KEY
    ChannelFactory(account=account, verify_token=OWN_TOKEN)
    old_key = settings.SECRET_KEY

    # when SECRET_KEY is rotated with the old one kept as a fallback, then the token still answers
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 50
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert check(OWN_TOKEN).status_code == 200

    # when the digests are rewritten and the fallback dropped, then it still answers
    call_command("refresh_verify_token_digests", stdout=io.StringIO())
    settings.SECRET_KEY_FALLBACKS = []
    assert check(OWN_TOKEN).status_code == 200
