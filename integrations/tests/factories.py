from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from accounts.tests.factories import AccountFactory
from integrations.models import DeliveryStatus, EventDelivery, WebhookEndpoint, WebhookEvent
from integrations.signing import secret_generate


class WebhookEndpointFactory(DjangoModelFactory[WebhookEndpoint]):
    class Meta:
        model = WebhookEndpoint

    account = factory.SubFactory(AccountFactory)
    url = factory.Sequence(lambda n: f"https://hooks.example.com/{n}")
    events = factory.LazyFunction(lambda: ["lead.created"])
    secret = factory.LazyFunction(secret_generate)


class WebhookEventFactory(DjangoModelFactory[WebhookEvent]):
    class Meta:
        model = WebhookEvent

    account = factory.SubFactory(AccountFactory)
    type = "lead.created"
    payload = '{"type":"lead.created","timestamp":"2026-05-04T09:12:02Z","data":{"id":1}}'


class EventDeliveryFactory(DjangoModelFactory[EventDelivery]):
    class Meta:
        model = EventDelivery

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    account = factory.SelfAttribute("endpoint.account")
    event = factory.SubFactory(WebhookEventFactory, account=factory.SelfAttribute("..account"))
    status = DeliveryStatus.SUCCEEDED
    attempt_count = 1
