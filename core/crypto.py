"""Secrets at rest: AES-256-GCM with a key id, bound to the row and column that hold them.

`ENCRYPTION_KEY` holds `kid:key[,kid:key...]`: the first key encrypts, every listed key decrypts.
A stored value looks like `enc:v2:<kid>:<base64(nonce + ciphertext + tag)>`. To rotate, put a new
key first, keep the old one after it, run `manage.py reencrypt_secrets`, then drop the old key.

Binding. The GCM associated data of a v2 value is `enc:v2:<kid>:<app>.<model>.<field>:<row uuid>`,
so a value decrypts only in the column and the row it was written for: copied (by SQL, a restore
gone wrong, or a write primitive in some other bug) into another tenant's channel or into another
column, it fails to authenticate instead of handing that row's owner someone else's secret.

The row identity is a `uuid` column (unique, never changed) that every model with an
`EncryptedTextField` has, rather than the primary key: the uuid exists before the row is INSERTed,
so a new row is encrypted in the same statement that creates it, with no second UPDATE. A system
check names a model that lacks it.

Because the associated data needs the row, `from_db_value` (which never sees the row) does not
decrypt: it keeps the stored value in a `Sealed` wrapper, and the model attribute opens it with its
instance's uuid on each access (a value that does not decrypt there raises `DecryptionError`; it
never yields another row's secret). `save()` encrypts through `pre_save`, which knows the instance.
Hence:
- `QuerySet.values()`/`values_list()` on an encrypted column give `Sealed` values, not secrets:
  load the model (`.only("uuid", "<field>")`) to read them.
- `update(<field>="plaintext")`, `bulk_update()` and lookups by a non-empty plaintext are refused
  with `ValueError` (they never worked as lookups: each encryption has a fresh nonce). Lookups by
  `""` and `__isnull` work as before.
- Renaming an encrypted field or its model changes the associated data: re-encrypt in the same
  migration.

`enc:v1:` values (associated data: the key id only) are written by earlier releases; they still
decrypt, anywhere, until `manage.py reencrypt_secrets` rewrites them as v2.
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.query_utils import DeferredAttribute

MARKER = "enc:v2:"
MARKER_V1 = "enc:v1:"
NONCE_BYTES = 12
ROW_IDENTITY_FIELD = "uuid"


class DecryptionError(Exception):
    """The value was written with a key that is no longer configured, for another row or column, or was
    tampered with."""


class Sealed:
    """A stored ciphertext as read from the database: opened only through the row that holds it."""

    __slots__ = ("stored",)

    def __init__(self, stored: str) -> None:
        self.stored = stored

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sealed) and other.stored == self.stored

    def __hash__(self) -> int:
        return hash(self.stored)

    def __repr__(self) -> str:
        return "<Sealed secret>"

    def __reduce__(self) -> tuple[type[Sealed], tuple[str]]:
        return (Sealed, (self.stored,))


def _keys() -> dict[str, bytes]:
    keys: dict[str, bytes] = settings.ENCRYPTION_KEYS
    return keys


def current_key_id() -> str:
    return next(iter(_keys()))


def _associated_data(kid: str, context: str) -> bytes:
    return f"{MARKER}{kid}:{context}".encode()


def encrypt(plaintext: str, *, context: str) -> str:
    """A v2 value that decrypts only with the same `context` (`<app>.<model>.<field>:<row uuid>`)."""
    kid = current_key_id()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(_keys()[kid]).encrypt(nonce, plaintext.encode(), _associated_data(kid, context))
    return f"{MARKER}{kid}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def _parse(stored: str) -> tuple[int, str, str]:
    for version, marker in ((2, MARKER), (1, MARKER_V1)):
        if stored.startswith(marker):
            kid, _, encoded = stored[len(marker) :].partition(":")
            return version, kid, encoded
    raise DecryptionError("value is not encrypted")


def decrypt(stored: str, *, context: str) -> str:
    """The plaintext of a v2 value written for `context`, or of a v1 value (not bound to a row)."""
    version, kid, encoded = _parse(stored)
    key = _keys().get(kid)
    if key is None:
        raise DecryptionError(f"encryption key {kid!r} is not configured")
    try:
        blob = base64.urlsafe_b64decode(encoded)
    except (binascii.Error, ValueError) as exc:
        raise DecryptionError("value is not valid base64") from exc
    associated = _associated_data(kid, context) if version == 2 else kid.encode()
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated).decode()
    except (InvalidTag, ValueError) as exc:
        raise DecryptionError("ciphertext does not authenticate for this row and column") from exc


def key_id_of(stored: str) -> str | None:
    try:
        return _parse(stored)[1]
    except DecryptionError:
        return None


def version_of(stored: str) -> int | None:
    """2 for values bound to their row, 1 for values written before binding, None if not encrypted."""
    try:
        return _parse(stored)[0]
    except DecryptionError:
        return None


class _SealedAttribute(DeferredAttribute):
    """The model attribute: a secret read from the database is decrypted on each access, for its row.

    A data descriptor (it has `__set__`), so reads come here even though the value lives in the
    instance's `__dict__`.
    """

    field: EncryptedTextField

    def __set__(self, instance: models.Model, value: Any) -> None:
        instance.__dict__[self.field.attname] = value

    def __get__(self, instance: models.Model | None, cls: Any = None) -> Any:
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, Sealed):
            try:
                # A v1 value needs no row identity (nor a model that has one yet, as in old migrations).
                context = self.field.context_for(instance) if version_of(value.stored) == 2 else ""
                return decrypt(value.stored, context=context)
            except DecryptionError as exc:
                raise DecryptionError(
                    f"{self.field.model._meta.label}.{self.field.name} pk={instance.pk}: {exc}"
                ) from exc
        return value


class EncryptedTextField(models.TextField):
    """A text column encrypted before it reaches the database, readable only in its own row.

    The model must have a unique, never-changing `uuid` column (see the module docstring).
    """

    descriptor_class = _SealedAttribute

    def context(self, row_identity: Any) -> str:
        """The associated data of this column in the row identified by `row_identity` (its uuid)."""
        if row_identity in (None, ""):
            raise ValueError(f"{self.model._meta.label}.{self.name}: the row has no {ROW_IDENTITY_FIELD}")
        return f"{self.model._meta.label_lower}.{self.name}:{row_identity}"

    def context_for(self, instance: models.Model) -> str:
        return self.context(getattr(instance, ROW_IDENTITY_FIELD))

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | Sealed | None:
        if value is None or value == "":
            return value
        return Sealed(value)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        current = model_instance.__dict__.get(self.attname)
        if isinstance(current, Sealed) and not add:
            # Unchanged since it was read from this row: write back what is stored, without decrypting.
            return current
        plaintext = getattr(model_instance, self.attname)
        if plaintext is None or plaintext == "":
            return plaintext
        return Sealed(encrypt(str(plaintext), context=self.context_for(model_instance)))

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, Sealed):
            return value.stored
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        raise ValueError(
            f"{self.model._meta.label}.{self.name} is encrypted for its row: assign it on a model instance and "
            "save() it; update(), bulk_update() and lookups cannot take a plaintext value."
        )

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        return [*super().check(**kwargs), *self._check_row_identity()]

    def _check_row_identity(self) -> list[checks.CheckMessage]:
        try:
            identity = self.model._meta.get_field(ROW_IDENTITY_FIELD)
        except FieldDoesNotExist:
            identity = None
        if isinstance(identity, models.UUIDField) and identity.unique and not identity.null:
            return []
        return [
            checks.Error(
                f"{self.model._meta.label} has an EncryptedTextField but no unique, non-null UUIDField "
                f"named {ROW_IDENTITY_FIELD!r}: each encrypted value is bound to that row identity.",
                hint=f"Add `{ROW_IDENTITY_FIELD} = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)`.",
                obj=self,
                id="core.E001",
            )
        ]
