"""Ids of another tenant's rows answer exactly like ids that do not exist, wherever the API takes one."""

from __future__ import annotations

import pytest

from inbox.models import Contact, Lead
from inbox.tests.factories import ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db


def _missing_contact_id() -> int:
    return (Contact.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000


def test_creating_a_lead_for_another_tenants_contact_answers_like_a_missing_contact(client_for, member, other_account):
    # given another tenant's contact and an id nobody has
    foreign = ContactFactory(account=other_account)
    missing = _missing_contact_id()
    api = client_for(member)

    # when a lead is created naming each of them
    for_foreign = api.post("/api/v1/leads", {"name": "Ada", "contact": foreign.pk}, format="json")
    for_missing = api.post("/api/v1/leads", {"name": "Ada", "contact": missing}, format="json")

    # then both answers are the same 400, and no lead exists
    assert for_foreign.status_code == for_missing.status_code == 400
    assert for_foreign.json() == for_missing.json()
    assert not Lead.objects.exists()


def test_linking_a_lead_to_another_tenants_contact_answers_like_a_missing_contact(
    client_for, member, account, other_account
):
    # given a lead of the caller's tenant, another tenant's contact and an id nobody has
    lead = LeadFactory(account=account)
    foreign = ContactFactory(account=other_account)
    missing = _missing_contact_id()
    api = client_for(member)

    # when the lead is linked to each of them
    for_foreign = api.patch(f"/api/v1/leads/{lead.pk}", {"contact": foreign.pk}, format="json")
    for_missing = api.patch(f"/api/v1/leads/{lead.pk}", {"contact": missing}, format="json")

    # then both answers are the same 400, and the lead is unchanged
    assert for_foreign.status_code == for_missing.status_code == 400
    assert for_foreign.json() == for_missing.json()
    lead.refresh_from_db()
    assert lead.contact_id is None
