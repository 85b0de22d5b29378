"""Routes of the inbox API under /api/v1/."""

from inbox.apis import channels, conversations, crm, router

urlpatterns = [*channels.urlpatterns, *conversations.urlpatterns, *crm.urlpatterns, *router.urlpatterns]
