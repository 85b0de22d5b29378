"""Contacts and leads: create, update, delete — each audited; lead changes are published
(`lead.created`, `lead.updated` on the inbox feed, and so to webhooks) after commit."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction

from accounts.models import Account
from accounts.principals import Principal
from accounts.services.audit import SYSTEM, RequestContext, audit_log_record
from core.exceptions import ApplicationError
from core.realtime import publish
from inbox.models import Contact, Lead
from inbox.serializers import lead_event_data

ModelT = TypeVar("ModelT", bound=models.Model)


def _duplicate_contact() -> ApplicationError:
    return ApplicationError(
        "A contact with this WhatsApp id already exists.",
        code="validation_error",
        details={"wa_id": ["A contact with this WhatsApp id already exists."]},
    )


@transaction.atomic
def contact_create(*, account: Account, actor: Principal, context: RequestContext = SYSTEM, **fields: Any) -> Contact:
    try:
        with transaction.atomic():
            contact = Contact.objects.create(
                account=account, phone=fields.pop("phone", "") or fields["wa_id"], **fields
            )
    except IntegrityError:
        raise _duplicate_contact() from None
    audit_log_record(action="contact.created", actor=actor, account=account, target=contact, context=context)
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, actor: Principal, context: RequestContext = SYSTEM, **changes: Any) -> Contact:
    try:
        with transaction.atomic():
            return _save_changes(contact, action="contact.updated", actor=actor, context=context, changes=changes)
    except IntegrityError:
        raise _duplicate_contact() from None


def _save_changes(
    instance: ModelT, *, action: str, actor: Principal, context: RequestContext, changes: dict[str, Any]
) -> ModelT:
    """Write the changed fields of a tenant row and audit which ones changed (names, not values)."""
    for name, value in changes.items():
        setattr(instance, name, value)
    instance.save(update_fields=[*changes, "updated_at"])
    audit_log_record(
        action=action,
        actor=actor,
        account=getattr(instance, "account", None),
        target=instance,
        context=context,
        metadata={"fields": sorted(changes)},
    )
    return instance


def _no_such_contact() -> ApplicationError:
    # Word for word what the API answers for an id that does not exist: another tenant's contact
    # must not be told apart from a missing one.
    return ApplicationError("Invalid input.", code="validation_error", details={"contact": ["No such contact."]})


@transaction.atomic
def lead_create(*, account: Account, actor: Principal, context: RequestContext = SYSTEM, **fields: Any) -> Lead:
    contact = fields.get("contact")
    if contact is not None and contact.account_id != account.pk:
        raise _no_such_contact()
    lead = Lead.objects.create(account=account, **fields)
    audit_log_record(action="lead.created", actor=actor, account=account, target=lead, context=context)
    publish(account_id=account.pk, feed="inbox", event="lead.created", data=lead_event_data(lead))
    return lead


@transaction.atomic
def lead_update(*, lead: Lead, actor: Principal, context: RequestContext = SYSTEM, **changes: Any) -> Lead:
    contact = changes.get("contact")
    if contact is not None and contact.account_id != lead.account_id:
        raise _no_such_contact()
    lead = _save_changes(lead, action="lead.updated", actor=actor, context=context, changes=changes)
    publish(account_id=lead.account_id, feed="inbox", event="lead.updated", data=lead_event_data(lead))
    return lead


@transaction.atomic
def record_delete(*, instance: ModelT, action: str, actor: Principal, context: RequestContext = SYSTEM) -> None:
    """Delete a tenant row (contact or lead) and audit it."""
    account = getattr(instance, "account", None)
    audit_log_record(action=action, actor=actor, account=account, target=instance, context=context)
    instance.delete()
