"""Transaction-scoped locks on arbitrary keys (PostgreSQL advisory locks).

SQLite serialises writers on its own, so there the lock is the write transaction itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.db import connection


def _key(namespace: str, value: object) -> int:
    digest = hashlib.blake2b(f"{namespace}:{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_keys(namespace: str, values: Iterable[object]) -> None:
    """Hold `pg_advisory_xact_lock` on each (namespace, value) until the transaction ends.

    Keys are taken in a fixed order so two transactions locking overlapping sets cannot deadlock.
    """
    if connection.vendor != "postgresql":
        return
    keys = sorted({_key(namespace, value) for value in values})
    if keys:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k", [keys])
