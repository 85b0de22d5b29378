from django.apps import AppConfig


class PluginsConfig(AppConfig):
    name = "plugins"
    verbose_name = "Plugins"

    def ready(self) -> None:
        from core.views import READINESS_INFO
        from plugins import audit_vocabulary, receivers
        from plugins.services.sandbox import readiness_info

        # Plugin agents are answered here; the agents app only knows a `plugin` runtime exists.
        receivers.connect()
        READINESS_INFO["plugins"] = readiness_info
        audit_vocabulary.register()
