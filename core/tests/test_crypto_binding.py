"""Encrypted secrets are bound to their row and column: a ciphertext moved elsewhere does not decrypt."""

from __future__ import annotations

import base64
import io
import os
import uuid

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.management import call_command
from django.db import connection, models, transaction
from django.test.utils import isolate_apps

from core.crypto import DecryptionError, EncryptedTextField, Sealed, key_id_of, version_of
from inbox.models import Channel, RouterConfig
from inbox.tests.factories import ChannelFactory
from integrations.models import WebhookEndpoint
from integrations.tests.factories import WebhookEndpointFactory

pytestmark = pytest.mark.django_db

KEY = ("k1", os.urandom(32))
NEXT = ("k2", os.urandom(32))


@pytest.fixture(autouse=True)
def _one_key(settings):
    settings.ENCRYPTION_KEYS = dict([KEY])


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


def _write_raw(table: str, column: str, pk: int, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk])


def _copy(table: str, column: str, *, from_pk: int, to_pk: int, to_column: str | None = None) -> None:
    """What an attacker with a write into the table (or a bad restore) does: move the stored bytes."""
    _write_raw(table, to_column or column, to_pk, _raw(table, column, from_pk))


def _v1(plaintext: str, key: tuple[str, bytes] = KEY) -> str:
    """A value as earlier releases stored it: associated data = the key id only."""
    kid, secret = key
    nonce = os.urandom(12)
    sealed = AESGCM(secret).encrypt(nonce, plaintext.encode(), kid.encode())
    return f"enc:v1:{kid}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def test_a_channel_token_copied_to_another_tenants_channel_does_not_decrypt(account, other_account):
    # given two tenants' channels
    victim = ChannelFactory(account=account, access_token="EAAG-victim-token", verify_token="victim-verify")
    attacker = ChannelFactory(account=other_account, access_token="EAAG-attacker-token", verify_token="mine")

    # when the victim's stored ciphertexts are copied into the attacker's row
    _copy("inbox_channel", "access_token", from_pk=victim.pk, to_pk=attacker.pk)
    _copy("inbox_channel", "verify_token", from_pk=victim.pk, to_pk=attacker.pk)

    # then the attacker's channel cannot read them: it never yields the victim's secrets
    copied = Channel.objects.get(pk=attacker.pk)
    with pytest.raises(DecryptionError, match=f"inbox.Channel.access_token pk={attacker.pk}"):
        _ = copied.access_token
    with pytest.raises(DecryptionError):
        _ = copied.verify_token
    # and the victim's own row still reads
    assert Channel.objects.get(pk=victim.pk).access_token == "EAAG-victim-token"


def test_a_secret_copied_into_another_column_of_the_same_row_does_not_decrypt(account):
    # given a channel whose app secret is known to its tenant, and whose token is not shown anywhere
    channel = ChannelFactory(account=account, access_token="EAAG-token", app_secret="app-secret", verify_token="v")

    # when the token's ciphertext is written into the verify token column (shown on the settings page)
    _copy("inbox_channel", "access_token", from_pk=channel.pk, to_pk=channel.pk, to_column="verify_token")

    # then the verify token does not decrypt to the access token
    with pytest.raises(DecryptionError):
        _ = Channel.objects.get(pk=channel.pk).verify_token
    assert Channel.objects.get(pk=channel.pk).access_token == "EAAG-token"


def test_webhook_and_router_secrets_are_bound_to_their_row_too(account, other_account):
    victim_endpoint = WebhookEndpointFactory(account=account, secret="whsec_victim")
    attacker_endpoint = WebhookEndpointFactory(account=other_account, secret="whsec_attacker")
    victim_router = RouterConfig.objects.create(account=account, url="https://n8n.acme.test/a", secret="victim-router")
    attacker_router = RouterConfig.objects.create(account=other_account, url="https://n8n.x.test/b", secret="mine")

    _copy("integrations_webhookendpoint", "secret", from_pk=victim_endpoint.pk, to_pk=attacker_endpoint.pk)
    _copy("inbox_routerconfig", "secret", from_pk=victim_router.pk, to_pk=attacker_router.pk)

    with pytest.raises(DecryptionError):
        _ = WebhookEndpoint.objects.get(pk=attacker_endpoint.pk).secret
    with pytest.raises(DecryptionError):
        _ = RouterConfig.objects.get(pk=attacker_router.pk).secret
    assert WebhookEndpoint.objects.get(pk=victim_endpoint.pk).secret == "whsec_victim"
    assert RouterConfig.objects.get(pk=victim_router.pk).secret == "victim-router"


def test_values_written_before_row_binding_still_read(account):
    # given a channel whose token was stored by an earlier release
    channel = ChannelFactory(account=account)
    _write_raw("inbox_channel", "access_token", channel.pk, _v1("EAAG-from-v1"))

    # then it reads, and the next save of another field leaves it as it is
    loaded = Channel.objects.get(pk=channel.pk)
    assert loaded.access_token == "EAAG-from-v1"
    loaded.name = "Renamed"
    loaded.save()
    assert version_of(_raw("inbox_channel", "access_token", channel.pk)) == 1
    assert Channel.objects.get(pk=channel.pk).access_token == "EAAG-from-v1"


def test_reencrypt_binds_old_values_to_their_row_and_a_second_run_changes_nothing(account, other_account):
    # given v1 values (under the old key) in two channels, a router and a webhook endpoint
    first = ChannelFactory(account=account)
    second = ChannelFactory(account=other_account)
    router = RouterConfig.objects.create(account=account, url="https://n8n.acme.test/hook", secret="x")
    endpoint = WebhookEndpointFactory(account=account)
    _write_raw("inbox_channel", "access_token", first.pk, _v1("token-1"))
    _write_raw("inbox_channel", "app_secret", first.pk, _v1("app-1"))
    _write_raw("inbox_channel", "access_token", second.pk, _v1("token-2"))
    _write_raw("inbox_routerconfig", "secret", router.pk, _v1("router-1"))
    _write_raw("integrations_webhookendpoint", "secret", endpoint.pk, _v1("whsec_1"))

    # when the command runs
    out = io.StringIO()
    call_command("reencrypt_secrets", "--batch-size", "1", stdout=out, stderr=io.StringIO())

    # then every value is v2, still under k1, and reads in its own row
    output = out.getvalue()
    assert "inbox.Channel.access_token: k1: 2 (2 not bound to their row)" in output
    assert "5 value(s) to re-encrypt with k1, 5 of them not yet bound to their row." in output
    assert "inbox.Channel.access_token: 2/2 re-encrypted" in output
    assert "Re-encrypted 5 value(s) with k1." in output
    stored = {
        ("inbox_channel", "access_token", first.pk): "token-1",
        ("inbox_channel", "app_secret", first.pk): "app-1",
        ("inbox_channel", "access_token", second.pk): "token-2",
        ("inbox_routerconfig", "secret", router.pk): "router-1",
        ("integrations_webhookendpoint", "secret", endpoint.pk): "whsec_1",
    }
    after = {place: _raw(*place) for place in stored}
    assert all(version_of(value) == 2 and key_id_of(value) == "k1" for value in after.values())
    assert Channel.objects.get(pk=first.pk).access_token == "token-1"
    assert Channel.objects.get(pk=first.pk).app_secret == "app-1"
    assert Channel.objects.get(pk=second.pk).access_token == "token-2"
    assert RouterConfig.objects.get(pk=router.pk).secret == "router-1"
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == "whsec_1"
    # and they are now bound: moved to the other channel, the first token no longer decrypts
    _copy("inbox_channel", "access_token", from_pk=first.pk, to_pk=second.pk)
    with pytest.raises(DecryptionError):
        _ = Channel.objects.get(pk=second.pk).access_token
    _write_raw("inbox_channel", "access_token", second.pk, after[("inbox_channel", "access_token", second.pk)])

    # when it runs again, nothing changes
    again = io.StringIO()
    call_command("reencrypt_secrets", stdout=again, stderr=io.StringIO())
    assert "Nothing to do" in again.getvalue()
    assert {place: _raw(*place) for place in stored} == after


def test_rotation_rewrites_old_key_and_old_format_in_one_run(settings, account):
    # given one v1 value and one v2 value, both under k1
    channel = ChannelFactory(account=account, app_secret="app-secret")
    _write_raw("inbox_channel", "access_token", channel.pk, _v1("EAAG-old"))

    # when k2 becomes the current key and the command runs
    settings.ENCRYPTION_KEYS = dict([NEXT, KEY])
    call_command("reencrypt_secrets", stdout=io.StringIO(), stderr=io.StringIO())

    # then both are v2 under k2, and read with k1 gone
    for column in ("access_token", "app_secret"):
        value = _raw("inbox_channel", column, channel.pk)
        assert (version_of(value), key_id_of(value)) == (2, "k2")
    settings.ENCRYPTION_KEYS = dict([NEXT])
    loaded = Channel.objects.get(pk=channel.pk)
    assert (loaded.access_token, loaded.app_secret) == ("EAAG-old", "app-secret")


def test_reencrypt_names_a_copied_value_and_changes_nothing(account, other_account):
    victim = ChannelFactory(account=account, access_token="EAAG-victim")
    attacker = ChannelFactory(account=other_account)
    _write_raw("inbox_channel", "app_secret", victim.pk, _v1("needs-rewrite"))
    _copy("inbox_channel", "access_token", from_pk=victim.pk, to_pk=attacker.pk)
    before = _raw("inbox_channel", "app_secret", victim.pk)

    err = io.StringIO()
    with pytest.raises(Exception, match="cannot be decrypted"):
        call_command("reencrypt_secrets", stdout=io.StringIO(), stderr=err)

    assert f"inbox.Channel.access_token pk={attacker.pk} does not decrypt with key 'k1' in this row" in err.getvalue()
    assert _raw("inbox_channel", "app_secret", victim.pk) == before


def test_the_orm_never_hands_out_a_secret_without_its_row(account):
    channel = ChannelFactory(account=account, access_token="EAAG-token", verify_token="")
    stored = _raw("inbox_channel", "access_token", channel.pk)

    # values_list gives the sealed value, which shows nothing
    (sealed,) = Channel.objects.filter(pk=channel.pk).values_list("access_token", flat=True)
    assert isinstance(sealed, Sealed)
    assert "EAAG" not in repr(sealed)
    # filters on empty values still work
    assert Channel.objects.filter(verify_token="").count() == 1
    assert Channel.objects.exclude(access_token="").count() == 1
    # a plaintext cannot be written for many rows at once, nor looked up
    with pytest.raises(ValueError, match="encrypted for its row"), transaction.atomic():
        Channel.objects.filter(pk=channel.pk).update(access_token="EAAG-other")
    with pytest.raises(ValueError, match="encrypted for its row"):
        list(Channel.objects.filter(access_token="EAAG-token"))
    # saving an unchanged row writes back the same ciphertext; a changed secret is encrypted anew
    loaded = Channel.objects.get(pk=channel.pk)
    loaded.save()
    assert _raw("inbox_channel", "access_token", channel.pk) == stored
    loaded.access_token = "EAAG-rotated"
    loaded.save(update_fields=["access_token"])
    assert Channel.objects.get(pk=channel.pk).access_token == "EAAG-rotated"


@isolate_apps("core")
def test_a_model_with_an_encrypted_field_must_have_a_row_identity():
    class Unbound(models.Model):  # noqa: DJ008
        token = EncryptedTextField()

    class Bound(models.Model):  # noqa: DJ008
        uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
        token = EncryptedTextField()

    assert [error.id for error in Unbound._meta.get_field("token").check()] == ["core.E001"]
    assert Bound._meta.get_field("token").check() == []
