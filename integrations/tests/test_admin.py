"""Django admin: staff read endpoints and deliveries; secrets never reach a page; nothing is edited there."""

from __future__ import annotations

import pytest
from django.test import Client

from integrations.models import EventDeliveryAttempt
from integrations.tests.factories import EventDeliveryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(super_admin) -> Client:
    client = Client()
    client.force_login(super_admin)
    return client


def test_staff_read_endpoints_and_deliveries_without_secrets(staff_client, account):
    # given an endpoint with a delivery and an attempt
    delivery = EventDeliveryFactory.create(endpoint__account=account)
    EventDeliveryAttempt.objects.create(delivery=delivery, number=1, status_code=502, error="HTTP 502")
    endpoint = delivery.endpoint

    # when / then
    pages = [
        staff_client.get("/admin/integrations/webhookendpoint/"),
        staff_client.get(f"/admin/integrations/webhookendpoint/{endpoint.pk}/change/"),
        staff_client.get("/admin/integrations/eventdelivery/"),
        staff_client.get(f"/admin/integrations/eventdelivery/{delivery.pk}/change/"),
    ]
    assert [page.status_code for page in pages] == [200] * 4
    assert all(endpoint.secret not in page.content.decode() for page in pages)
    assert "HTTP 502" in pages[3].content.decode()
    assert staff_client.get("/admin/integrations/webhookendpoint/add/").status_code == 403
