"""Routes of the plugins API under /api/v1/; each API module owns its own patterns."""

from plugins.apis import plugins

urlpatterns = plugins.urlpatterns
