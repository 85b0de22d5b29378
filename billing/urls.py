"""Routes of the billing API under /api/v1/."""

from django.urls import path

from billing.apis import BillingSsoApi

urlpatterns = [
    path("billing/sso", BillingSsoApi.as_view(), name="billing-sso"),
]
