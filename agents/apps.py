from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "AI agents"

    def ready(self) -> None:
        from agents import audit_vocabulary

        audit_vocabulary.register()
