"""The audited-action helper: every mutating service writes its `AuditLog` row through here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models

from accounts.models import Account, ApiKey, AuditLog, User
from accounts.principals import Principal
from core.middleware import client_ip


@dataclass(frozen=True)
class RequestContext:
    """Where a change came from, for the audit trail."""

    ip_address: str | None = None
    user_agent: str = ""
    request_id: str = ""

    @classmethod
    def from_request(cls, request: Any) -> RequestContext:
        meta = getattr(request, "META", {})
        return cls(
            ip_address=client_ip(request) if meta else None,
            user_agent=meta.get("HTTP_USER_AGENT", "")[:512],
            request_id=getattr(request, "request_id", "")
            or getattr(getattr(request, "_request", None), "request_id", ""),
        )


SYSTEM = RequestContext()


def audit_log_record(
    *,
    action: str,
    actor: Principal | User | ApiKey | None,
    account: Account | None,
    target: models.Model | None = None,
    context: RequestContext = SYSTEM,
    metadata: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one audit row. Call it inside the service's transaction."""
    actor_user: User | None = None
    actor_api_key: ApiKey | None = None
    label = ""
    if isinstance(actor, Principal):
        actor_user, actor_api_key, label = actor.user, actor.api_key, actor.label
    elif isinstance(actor, User):
        actor_user, label = actor, actor.email
    elif isinstance(actor, ApiKey):
        actor_api_key, label = actor, f"api_key:{actor.prefix}"
    return AuditLog.objects.create(
        account=account,
        actor_user=actor_user,
        actor_api_key=actor_api_key,
        actor_label=label,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        ip_address=context.ip_address,
        user_agent=context.user_agent,
        request_id=context.request_id,
        metadata=metadata or {},
    )
