"""Routes of the accounts API under /api/v1/; each API module owns its own patterns."""

from accounts.apis import api_keys, audit, auth, me, tenants, users

urlpatterns = [
    *auth.urlpatterns,
    *me.urlpatterns,
    *api_keys.urlpatterns,
    *users.urlpatterns,
    *tenants.urlpatterns,
    *audit.urlpatterns,
]
