"""A `uuid` per webhook endpoint: the row identity its encrypted signing secrets are bound to.

Existing rows each get their own uuid before the column becomes unique; their secrets stay `enc:v1:`
(readable, not yet bound) until `manage.py reencrypt_secrets` rewrites them.
"""

import uuid

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

HELP_TEXT = "The row identity its encrypted columns are bound to; never changes."


def give_each_row_a_uuid(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    model = apps.get_model("integrations", "WebhookEndpoint")
    for pk in list(model._base_manager.filter(uuid__isnull=True).values_list("pk", flat=True)):
        model._base_manager.filter(pk=pk).update(uuid=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookendpoint",
            name="uuid",
            field=models.UUIDField(editable=False, null=True, help_text=HELP_TEXT),
        ),
        migrations.RunPython(give_each_row_a_uuid, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="webhookendpoint",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True, help_text=HELP_TEXT),
        ),
    ]
