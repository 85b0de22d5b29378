from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from core.observability import install_slow_query_logger

        connection_created.connect(install_slow_query_logger, dispatch_uid="core.slow_query_logger")

        # The OpenAPI descriptions of both ways to authenticate (API key, JWT) are drf-spectacular
        # extensions, registered on import: load them here so the schema never depends on which API
        # module happened to be imported first.
        import accounts.schema  # noqa: F401
