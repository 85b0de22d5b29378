"""`manage.py reencrypt_secrets`: rotating ENCRYPTION_KEY re-encrypts every encrypted column."""

from __future__ import annotations

import io
import os

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.management.commands.reencrypt_secrets import Command, encrypted_columns
from accounts.models import AuditLog
from core.crypto import key_id_of
from inbox.models import Channel, RouterConfig
from inbox.tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

OLD = ("old", os.urandom(32))
NEW = ("new", os.urandom(32))
GONE = ("gone", os.urandom(32))


def _raw(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def _key_ids(table: str, column: str) -> list[str | None]:
    return [key_id_of(value) if value else value for value in _raw(table, column)]


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("reencrypt_secrets", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def written_under_old(settings, account, other_account):
    """Two channels (one with every secret, one with only a token) and a router secret, under `old`."""
    settings.ENCRYPTION_KEYS = dict([OLD])
    full = ChannelFactory(account=account, access_token="token-a", app_secret="secret-a", verify_token="verify-a")
    bare = ChannelFactory(account=other_account, access_token="token-b", app_secret="", verify_token="")
    router = RouterConfig.objects.create(account=account, url="https://n8n.acme.test/hook", secret="router-secret")
    settings.ENCRYPTION_KEYS = dict([NEW, OLD])
    return full, bare, router


def test_every_encrypted_field_is_found_through_the_app_registry():
    labels = {column.label for column in encrypted_columns()}
    assert {
        "inbox.Channel.access_token",
        "inbox.Channel.app_secret",
        "inbox.Channel.verify_token",
        "inbox.RouterConfig.secret",
    } <= labels


def test_values_under_the_old_key_move_to_the_new_one_and_still_decrypt(written_under_old):
    full, bare, router = written_under_old
    assert _key_ids("inbox_channel", "access_token") == ["old", "old"]
    before_updated_at = Channel.objects.get(pk=full.pk).updated_at

    # when
    output = _run("--batch-size", "1")

    # then every non-empty value is under the new key, empty ones stay empty
    assert _key_ids("inbox_channel", "access_token") == ["new", "new"]
    assert _key_ids("inbox_channel", "app_secret") == ["new", ""]
    assert _key_ids("inbox_channel", "verify_token") == ["new", ""]
    assert _key_ids("inbox_routerconfig", "secret") == ["new"]
    full.refresh_from_db()
    bare.refresh_from_db()
    router.refresh_from_db()
    assert (full.access_token, full.app_secret, full.verify_token) == ("token-a", "secret-a", "verify-a")
    assert (bare.access_token, bare.app_secret) == ("token-b", "")
    assert router.secret == "router-secret"
    assert full.updated_at == before_updated_at
    assert "inbox.Channel.access_token: 2/2 re-encrypted" in output
    assert "Re-encrypted 5 value(s) with new." in output
    audit = AuditLog.objects.get(action="secrets.reencrypted")
    assert audit.metadata["key_id"] == "new"
    assert audit.metadata["values"]["inbox.Channel.access_token"] == 2


def test_the_old_key_can_be_dropped_afterwards(written_under_old, settings):
    full, _bare, _router = written_under_old
    _run()

    settings.ENCRYPTION_KEYS = dict([NEW])

    assert Channel.objects.get(pk=full.pk).app_secret == "secret-a"
    assert "Nothing to do" in _run()


def test_dry_run_counts_values_per_key_and_changes_nothing(written_under_old, settings):
    # given one more channel already under the new key
    ChannelFactory(access_token="token-c")
    before = {column: _raw("inbox_channel", column) for column in ("access_token", "app_secret", "verify_token")}
    router_before = _raw("inbox_routerconfig", "secret")

    # when
    output = _run("--dry-run")

    # then
    assert "inbox.Channel.access_token: new: 1, old: 2" in output
    assert "inbox.RouterConfig.secret: old: 1" in output
    assert "Total: new: 1, old: 5." in output
    assert "5 value(s) would be re-encrypted with new" in output
    assert {column: _raw("inbox_channel", column) for column in before} == before
    assert _raw("inbox_routerconfig", "secret") == router_before
    assert not AuditLog.objects.filter(action="secrets.reencrypted").exists()


def test_a_value_under_a_key_no_longer_configured_stops_everything(written_under_old, settings):
    # given a channel written under a key that is then dropped, next to values the command would rotate
    settings.ENCRYPTION_KEYS = dict([GONE])
    lost = ChannelFactory(access_token="token-lost")
    settings.ENCRYPTION_KEYS = dict([NEW, OLD])
    before = _raw("inbox_channel", "access_token")

    # when / then: the row is named and nothing is rewritten
    err = io.StringIO()
    with pytest.raises(CommandError, match="cannot be decrypted"):
        call_command("reencrypt_secrets", stdout=io.StringIO(), stderr=err)
    assert f"inbox.Channel.access_token pk={lost.pk} was written with key 'gone'" in err.getvalue()
    assert _raw("inbox_channel", "access_token") == before
    assert _key_ids("inbox_routerconfig", "secret") == ["old"]

    # and the dry run says the same
    with pytest.raises(CommandError):
        call_command("reencrypt_secrets", "--dry-run", stdout=io.StringIO(), stderr=io.StringIO())


def test_a_tampered_value_is_reported_not_rewritten(written_under_old):
    full, _bare, _router = written_under_old
    stored = _raw("inbox_channel", "app_secret")[0]
    tampered = stored[:-4] + ("AAAA" if not stored.endswith("AAAA") else "BBBB")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inbox_channel SET app_secret = %s WHERE id = %s", [tampered, full.pk])

    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("reencrypt_secrets", stdout=io.StringIO(), stderr=err)

    assert f"inbox.Channel.app_secret pk={full.pk} does not decrypt" in err.getvalue()
    assert _key_ids("inbox_channel", "access_token") == ["old", "old"]


def test_help_explains_the_rotation():
    text = " ".join(Command().create_parser("manage.py", "reencrypt_secrets").format_help().split())

    assert "--dry-run" in text
    assert "--batch-size" in text
    assert "Rotating ENCRYPTION_KEY" in text
    assert "exits with status 1" in text
    assert "every enc:v1: value becomes enc:v2:" in text
    assert "Running it again is safe" in text
