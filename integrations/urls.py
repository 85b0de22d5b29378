"""Routes of the integrations API under /api/v1/."""

from integrations.apis import webhooks, zapier

urlpatterns = [*webhooks.urlpatterns, *zapier.urlpatterns]
