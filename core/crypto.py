"""Secrets at rest: AES-256-GCM with a key id, so ENCRYPTION_KEY can be rotated.

`ENCRYPTION_KEY` holds `kid:key[,kid:key...]`: the first key encrypts, every listed key decrypts.
A stored value looks like `enc:v1:<kid>:<base64(nonce + ciphertext + tag)>`. To rotate, put a new
key first, keep the old one after it, run `manage.py reencrypt_secrets`, then drop the old key.
"""

from __future__ import annotations

import base64
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import models

MARKER = "enc:v1:"
NONCE_BYTES = 12


class DecryptionError(Exception):
    """The value was written with a key that is no longer configured, or was tampered with."""


def _keys() -> dict[str, bytes]:
    keys: dict[str, bytes] = settings.ENCRYPTION_KEYS
    return keys


def current_key_id() -> str:
    return next(iter(_keys()))


def encrypt(plaintext: str) -> str:
    kid = current_key_id()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(_keys()[kid]).encrypt(nonce, plaintext.encode(), kid.encode())
    return f"{MARKER}{kid}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(stored: str) -> str:
    if not stored.startswith(MARKER):
        raise DecryptionError("value is not encrypted")
    kid, _, encoded = stored[len(MARKER) :].partition(":")
    key = _keys().get(kid)
    if key is None:
        raise DecryptionError(f"encryption key {kid!r} is not configured")
    blob = base64.urlsafe_b64decode(encoded)
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], kid.encode()).decode()
    except InvalidTag as exc:
        raise DecryptionError("ciphertext does not authenticate") from exc


def key_id_of(stored: str) -> str | None:
    if not stored.startswith(MARKER):
        return None
    return stored[len(MARKER) :].partition(":")[0]


class EncryptedTextField(models.TextField):
    """A text column whose value is encrypted before it reaches the database."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))
