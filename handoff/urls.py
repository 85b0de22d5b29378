"""Routes of the hand-off API under /api/v1/."""

from handoff import apis

urlpatterns = [*apis.urlpatterns]
