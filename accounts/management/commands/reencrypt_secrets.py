"""`manage.py reencrypt_secrets`: rewrite every encrypted column with the current ENCRYPTION_KEY key, bound to its row.

A value is rewritten when it is under another key than the current one, or when it is an `enc:v1:` value
written before secrets were bound to their row and column (see `core.crypto`). Running it again changes
nothing.
"""

from __future__ import annotations

import argparse
import textwrap
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser, DjangoHelpFormatter
from django.db import models, transaction
from django.db.models.functions import Cast

from accounts.services.audit import audit_log_record
from core.crypto import (
    ROW_IDENTITY_FIELD,
    DecryptionError,
    EncryptedTextField,
    Sealed,
    current_key_id,
    decrypt,
    encrypt,
    key_id_of,
    version_of,
)

RAW = "_stored_ciphertext"
NOT_ENCRYPTED = "(not encrypted)"
# Problems listed by name before the command gives up; the rest are counted.
MAX_LISTED_PROBLEMS = 50


class _HelpFormatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Django's option order, with the epilog's line breaks kept."""


@dataclass
class _Column:
    model: type[models.Model]
    field: EncryptedTextField

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.field.name}"


@dataclass
class _Scan:
    key_ids: Counter[str] = field(default_factory=Counter)
    unbound: int = 0
    stale: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0


def encrypted_columns() -> list[_Column]:
    """Every EncryptedTextField of every installed model (each table once: no proxies, no inherited fields)."""
    columns = []
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        for model_field in model._meta.local_concrete_fields:
            if isinstance(model_field, EncryptedTextField):
                columns.append(_Column(model, model_field))
    return sorted(columns, key=lambda column: column.label)


def _stored_batches(column: _Column, batch_size: int, *, lock: bool = False) -> Iterator[list[tuple[Any, Any, str]]]:
    """(pk, row uuid, stored ciphertext) of non-empty values, in pk order, `batch_size` rows at a time.

    Cast to a plain text column so the field does not decrypt on the way out. With `lock` each batch
    is read FOR UPDATE: the caller must be inside a transaction per batch.
    """
    pk_name = column.model._meta.pk.attname
    queryset = (
        column.model._base_manager.exclude(**{f"{column.field.attname}__isnull": True})
        .exclude(**{column.field.attname: ""})
        .annotate(**{RAW: Cast(column.field.attname, output_field=models.TextField())})
        .order_by(pk_name)
    )
    last: Any = None
    while True:
        page = queryset if last is None else queryset.filter(**{f"{pk_name}__gt": last})
        if lock:
            page = page.select_for_update()
        rows = [
            (pk, identity, str(raw))
            for pk, identity, raw in page.values_list(pk_name, ROW_IDENTITY_FIELD, RAW)[:batch_size]
        ]
        if not rows:
            return
        yield rows
        last = rows[-1][0]


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value (channel tokens and secrets, router secrets, webhook signing "
        "secrets, and any other EncryptedTextField) with the current encryption key, the first key in "
        "ENCRYPTION_KEY, bound to its row and column. Values written by earlier releases (enc:v1:, not "
        "bound to their row) are rewritten as enc:v2:; values already under the current key and bound are "
        "left alone, so running it twice changes nothing the second time. Every value is checked first: if "
        "one was written with a key that is no longer configured, or does not decrypt in its row (tampered, "
        "or copied from another row or column), the command names its model, field and primary key and "
        "exits with status 1 without changing anything."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = _HelpFormatter
        parser.description = textwrap.fill(self.help, width=100)
        parser.epilog = (
            "Rotating ENCRYPTION_KEY:\n"
            "  1. Put a new key first and keep the old one after it:  ENCRYPTION_KEY=k2:<new>,k1:<old>\n"
            "     and restart every process (web, workers) so all of them can read both keys.\n"
            f"  2. {prog_name} {subcommand} --dry-run   counts the values under each key id\n"
            f"  3. {prog_name} {subcommand}             re-encrypts the k1 values with k2\n"
            f"  4. {prog_name} {subcommand} --dry-run   should show k2 only; then drop k1 from ENCRYPTION_KEY.\n"
            "\n"
            "After upgrading to the release that binds secrets to their row and column:\n"
            f"  {prog_name} migrate, then {prog_name} {subcommand} once: every enc:v1: value becomes enc:v2:.\n"
            "  Running it again is safe: it finds nothing to do.\n"
            "\n"
            "Exit status: 0 when done (or nothing to do), 1 when a value cannot be decrypted."
        )
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only report how many values each key id protects, and how many are not yet bound to their "
            "row, per model field; change nothing.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="Rows read, locked and rewritten per transaction (default: 500).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size: int = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        current = current_key_id()
        configured = list(settings.ENCRYPTION_KEYS)
        columns = encrypted_columns()
        self.stdout.write(f"Current key: {current} (configured: {', '.join(configured)})")

        scans = {column.label: self._scan(column, batch_size, current) for column in columns}
        totals: Counter[str] = Counter()
        for column in columns:
            scan = scans[column.label]
            totals.update(scan.key_ids)
            counts = ", ".join(f"{kid}: {n}" for kid, n in sorted(scan.key_ids.items())) or "no values"
            unbound = f" ({scan.unbound} not bound to their row)" if scan.unbound else ""
            self.stdout.write(f"  {column.label}: {counts}{unbound}")
        stale = sum(scan.stale for scan in scans.values())
        unbound_total = sum(scan.unbound for scan in scans.values())
        summary = ", ".join(f"{kid}: {n}" for kid, n in sorted(totals.items())) or "no values"
        self.stdout.write(
            f"Total: {summary}. {stale} value(s) to re-encrypt with {current}, "
            f"{unbound_total} of them not yet bound to their row."
        )

        problems = [problem for scan in scans.values() for problem in scan.problems]
        problem_count = sum(scan.problem_count for scan in scans.values())
        if problem_count:
            for problem in problems:
                self.stderr.write(f"  {problem}")
            if problem_count > len(problems):
                self.stderr.write(f"  ... and {problem_count - len(problems)} more")
            raise CommandError(
                f"{problem_count} value(s) cannot be decrypted with the configured keys; nothing was changed. "
                "Add the missing key back to ENCRYPTION_KEY (after the current one) and run again."
            )
        if options["dry_run"]:
            self.stdout.write(f"Dry run: {stale} value(s) would be re-encrypted with {current}; nothing changed.")
            return
        if not stale:
            self.stdout.write(
                self.style.SUCCESS(f"Nothing to do: every value is under {current} and bound to its row.")
            )
            return

        rewritten: dict[str, int] = {}
        for column in columns:
            if scans[column.label].stale:
                rewritten[column.label] = self._rewrite(column, batch_size, current, scans[column.label].stale)
        audit_log_record(
            action="secrets.reencrypted",
            actor=None,
            account=None,
            metadata={"key_id": current, "values": rewritten},
        )
        done = sum(rewritten.values())
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {done} value(s) with {current}."))

    def _scan(self, column: _Column, batch_size: int, current: str) -> _Scan:
        """Count values per key id and check that each one decrypts in its row, changing nothing."""
        scan = _Scan()
        configured = settings.ENCRYPTION_KEYS
        for rows in _stored_batches(column, batch_size):
            for pk, identity, stored in rows:
                kid = key_id_of(stored)
                if kid is None:
                    scan.key_ids[NOT_ENCRYPTED] += 1
                    self._problem(scan, column, pk, "is not encrypted")
                    continue
                label = kid if kid in configured else f"{kid} (not configured)"
                scan.key_ids[label] += 1
                if kid not in configured:
                    self._problem(scan, column, pk, f"was written with key {kid!r}, which is not configured")
                    continue
                try:
                    decrypt(stored, context=column.field.context(identity))
                except (DecryptionError, ValueError):
                    self._problem(scan, column, pk, f"does not decrypt with key {kid!r} in this row")
                    continue
                bound = version_of(stored) == 2
                scan.unbound += not bound
                if kid != current or not bound:
                    scan.stale += 1
        return scan

    @staticmethod
    def _problem(scan: _Scan, column: _Column, pk: Any, message: str) -> None:
        scan.problem_count += 1
        if len(scan.problems) < MAX_LISTED_PROBLEMS:
            scan.problems.append(f"{column.label} pk={pk} {message}")

    def _rewrite(self, column: _Column, batch_size: int, current: str, expected: int) -> int:
        """Re-encrypt the column's stale values for their row, one locked batch per transaction, printing progress."""
        done = 0
        batches = _stored_batches(column, batch_size, lock=True)
        while True:
            with transaction.atomic():
                rows = next(batches, None)
                if rows is None:
                    break
                for pk, identity, stored in rows:
                    if key_id_of(stored) == current and version_of(stored) == 2:
                        continue
                    context = column.field.context(identity)
                    try:
                        plaintext = decrypt(stored, context=context)
                    except (DecryptionError, ValueError) as exc:
                        raise CommandError(
                            f"{column.label} pk={pk} no longer decrypts ({exc}); {done} value(s) of this field "
                            "were already re-encrypted. Fix the key configuration and run again."
                        ) from exc
                    # update() with the sealed value leaves updated_at alone.
                    sealed = Sealed(encrypt(plaintext, context=context))
                    column.model._base_manager.filter(pk=pk).update(**{column.field.attname: sealed})
                    done += 1
            self.stdout.write(f"  {column.label}: {done}/{expected} re-encrypted")
        return done
