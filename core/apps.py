from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from core.observability import install_slow_query_logger

        connection_created.connect(install_slow_query_logger, dispatch_uid="core.slow_query_logger")
