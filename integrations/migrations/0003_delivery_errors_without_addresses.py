"""Attempts recorded before refusals stopped naming addresses said what a host name resolved to
("Blocked destination: vm resolves to a blocked address: 127.0.0.1 ..."), and tenants read them in
their delivery log: they now say only that the destination is not allowed."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# The text `core.outbound.DESTINATION_NOT_ALLOWED` had when this was written.
DESTINATION_NOT_ALLOWED = "Destination not allowed: SkyBot Inbox only calls public internet addresses."


def hide_addresses(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor | None) -> None:
    attempts = apps.get_model("integrations", "EventDeliveryAttempt")
    attempts.objects.filter(error__startswith="Blocked destination").update(error=DESTINATION_NOT_ALLOWED)


class Migration(migrations.Migration):
    dependencies = [("integrations", "0002_secret_binding")]

    operations = [migrations.RunPython(hide_addresses, migrations.RunPython.noop)]
