from django.apps import AppConfig


class HandoffConfig(AppConfig):
    name = "handoff"
    verbose_name = "Handoff"

    def ready(self) -> None:
        from handoff import receivers

        # The inbox and the agents announce what happens; who holds a conversation is decided here.
        receivers.connect()
