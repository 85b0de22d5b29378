"""Set-based writes for hot paths."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from django.db import connection, models

ModelT = TypeVar("ModelT", bound=models.Model)


def bulk_update_rows(objects: Sequence[ModelT], fields: list[str]) -> None:
    """Write `fields` of many rows in one statement.

    On PostgreSQL: `UPDATE ... FROM unnest(...)`, one array parameter per column, which costs the
    same whatever the number of rows. Elsewhere Django's `bulk_update` (a CASE per column).
    """
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(objects, fields)
        return
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    columns: list[models.Field[object, object]] = []
    for name in fields:
        field = meta.get_field(name)
        assert isinstance(field, models.Field)
        columns.append(field)
    every = [pk, *columns]
    arrays = [
        [column.get_db_prep_save(getattr(obj, column.attname), connection) for obj in objects] for column in every
    ]
    quote = connection.ops.quote_name
    unnest = ", ".join(f"%s::{field.db_type(connection)}[]" for field in every)
    names = ", ".join(quote(field.column) for field in every)
    assignments = ", ".join(f"{quote(c.column)} = v.{quote(c.column)}" for c in columns)
    key = quote(pk.column)
    # Identifiers come from the model's metadata (quoted); every value travels as a parameter.
    sql = f"UPDATE {quote(meta.db_table)} AS t SET {assignments} FROM unnest({unnest}) AS v({names}) WHERE t.{key} = v.{key}"  # noqa: S608, E501
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
