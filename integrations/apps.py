from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from core.realtime import add_sink
        from integrations import audit_vocabulary
        from integrations.services.outbox import webhook_events_capture

        # Every event the live feeds publish may also be an outgoing webhook.
        add_sink(webhook_events_capture)
        audit_vocabulary.register()
