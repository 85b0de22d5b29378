"""Routes of the agents API under /api/v1/; each API module owns its own patterns."""

from agents.apis import agents, analytics, reports, templates

urlpatterns = [*templates.urlpatterns, *analytics.urlpatterns, *agents.urlpatterns, *reports.urlpatterns]
