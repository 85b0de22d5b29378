"""The host's side of a plugin's context: every `context.storage/http/contacts/...` call a running
plugin makes arrives here as `(call, args)`, is checked against the installation's granted
permissions, and is answered from that installation's tenant only.

Nothing here trusts the plugin: ids it names are looked up inside its tenant (another tenant's id is
"not found", like a missing one), storage is the installation's own, and outside calls go only to
the manifest's `http:<domain>` hosts, through the SSRF-guarded client (core/outbound.py) with a
short timeout and a body cap. Errors are the SDK's, so the plugin sees `PermissionDenied`,
`NotFound`, `InvalidRequest`, `HttpError` or `StorageFull`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone
from skybot_plugin_sdk.errors import HttpError, InvalidRequest, NotFound, PermissionDenied, StorageFull
from skybot_plugin_sdk.manifest import http_domains

from core import outbound
from inbox.models import Contact, Conversation, Lead, Message, MessageDirection
from plugins.models import PluginInstallation, PluginStorageItem

MAX_KEY_LENGTH = 200
MAX_HISTORY = 50
FORWARDED_HEADERS = frozenset({"accept", "authorization", "content-type", "user-agent", "x-api-key"})


def contact_data(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "name": contact.name,
        "phone": contact.phone or contact.wa_id,
        "email": contact.email,
        "attributes": contact.attributes,
    }


def lead_data(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.pk,
        "name": lead.name,
        "email": lead.email,
        "phone": lead.phone,
        "company": lead.company,
        "status": lead.status,
        "score": lead.score,
        "contact_id": lead.contact_id,
        "metadata": lead.metadata,
    }


def message_data(message: Message) -> dict[str, Any]:
    return {
        "direction": "in" if message.direction == MessageDirection.INBOUND else "out",
        "text": message.text,
        "type": message.type,
        "created_at": message.created_at.isoformat(),
    }


def _int(args: dict[str, Any], name: str) -> int:
    value = args.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidRequest(f"{name} must be an integer.")
    return value


class Capabilities:
    """Answers one run's capability calls for `installation` (its tenant, its permissions)."""

    def __init__(self, installation: PluginInstallation) -> None:
        self.installation = installation
        self.account_id = installation.account_id
        self.permissions = set(installation.granted_permissions)
        self.domains = set(http_domains(installation.granted_permissions))
        self.calls: dict[str, Callable[[dict[str, Any]], Any]] = {
            "storage.get": self.storage_get,
            "storage.set": self.storage_set,
            "storage.delete": self.storage_delete,
            "storage.keys": self.storage_keys,
            "http.request": self.http_request,
            "contacts.get": self.contacts_get,
            "leads.get": self.leads_get,
            "leads.for_contact": self.leads_for_contact,
            "conversations.history": self.conversations_history,
            "analytics.summary": self.analytics_summary,
        }

    def handle(self, call: str, args: dict[str, Any]) -> Any:
        answer = self.calls.get(call)
        if answer is None:
            raise InvalidRequest(f"Unknown call: {call}.")
        if not isinstance(args, dict):
            raise InvalidRequest("The arguments must be an object.")
        return answer(args)

    def _need(self, permission: str) -> None:
        if permission not in self.permissions:
            raise PermissionDenied(f"The plugin's manifest does not ask for {permission}.")

    # --- storage -----------------------------------------------------------------------------------

    def _key(self, args: dict[str, Any]) -> str:
        self._need("storage")
        key = args.get("key")
        if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
            raise InvalidRequest(f"A storage key is a string of 1 to {MAX_KEY_LENGTH} characters.")
        return key

    def storage_get(self, args: dict[str, Any]) -> Any:
        key = self._key(args)
        item = PluginStorageItem.objects.filter(installation=self.installation, key=key).only("value").first()
        return None if item is None else item.value

    def storage_set(self, args: dict[str, Any]) -> None:
        key = self._key(args)
        try:
            size = len(json.dumps(args.get("value"), separators=(",", ":")))
        except (TypeError, ValueError):
            raise InvalidRequest("A stored value must be JSON (objects, lists, strings, numbers...).") from None
        others = (
            PluginStorageItem.objects.filter(installation=self.installation)
            .exclude(key=key)
            .aggregate(total=Sum("size"))["total"]
            or 0
        )
        cap = settings.PLUGINS_STORAGE_BYTES
        if others + size + len(key) > cap:
            raise StorageFull(f"The plugin's storage would exceed {cap} bytes in this workspace.")
        PluginStorageItem.objects.update_or_create(
            installation=self.installation, key=key, defaults={"value": args.get("value"), "size": size + len(key)}
        )

    def storage_delete(self, args: dict[str, Any]) -> None:
        key = self._key(args)
        PluginStorageItem.objects.filter(installation=self.installation, key=key).delete()

    def storage_keys(self, args: dict[str, Any]) -> list[str]:
        self._need("storage")
        return list(
            PluginStorageItem.objects.filter(installation=self.installation)
            .order_by("key")
            .values_list("key", flat=True)
        )

    # --- http --------------------------------------------------------------------------------------

    def http_request(self, args: dict[str, Any]) -> dict[str, Any]:
        method = str(args.get("method", "GET")).upper()
        if method not in ("GET", "POST"):
            raise InvalidRequest("Only GET and POST are allowed.")
        url = args.get("url")
        if not isinstance(url, str):
            raise InvalidRequest("url must be a string.")
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            raise InvalidRequest("url must be an absolute http(s) URL.")
        if host not in self.domains:
            raise PermissionDenied(f"The plugin's manifest does not ask for http:{host}.")
        if params := args.get("params"):
            if not isinstance(params, dict):
                raise InvalidRequest("params must be an object.")
            url = f"{url}{'&' if parts.query else '?'}{urlencode({str(k): str(v) for k, v in params.items()})}"
        headers = {
            str(name): str(value)
            for name, value in (args.get("headers") or {}).items()
            if str(name).lower() in FORWARDED_HEADERS
        }
        content: bytes | None = None
        if args.get("json") is not None:
            content = json.dumps(args["json"]).encode()
            headers.setdefault("Content-Type", "application/json")
        elif args.get("data") is not None:
            if not isinstance(args["data"], dict):
                raise InvalidRequest("data must be an object.")
            content = urlencode({str(k): str(v) for k, v in args["data"].items()}).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        timeout = settings.PLUGINS_HTTP_TIMEOUT_SECONDS
        try:
            response = outbound.request(
                method,
                url,
                content=content,
                headers=headers,
                timeout=httpx.Timeout(timeout),
                deadline_seconds=timeout,
                max_response_bytes=settings.PLUGINS_HTTP_MAX_RESPONSE_BYTES,
            )
        except (outbound.OutboundError, httpx.HTTPError) as exc:
            raise HttpError(outbound.failure_reason(exc)) from None
        return {
            "status": response.status_code,
            "headers": {
                name: value
                for name, value in response.headers.items()
                if name.lower() in ("content-type", "location", "retry-after")
            },
            "text": response.content.decode("utf-8", errors="replace"),
        }

    # --- the tenant's rows -------------------------------------------------------------------------

    def contacts_get(self, args: dict[str, Any]) -> dict[str, Any]:
        self._need("contacts:read")
        contact = Contact.objects.filter(account_id=self.account_id, pk=_int(args, "id")).first()
        if contact is None:
            raise NotFound("No such contact.")
        return contact_data(contact)

    def leads_get(self, args: dict[str, Any]) -> dict[str, Any]:
        self._need("leads:read")
        lead = Lead.objects.filter(account_id=self.account_id, pk=_int(args, "id")).first()
        if lead is None:
            raise NotFound("No such lead.")
        return lead_data(lead)

    def leads_for_contact(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        self._need("leads:read")
        leads = Lead.objects.filter(account_id=self.account_id, contact_id=_int(args, "contact_id")).order_by("id")
        return [lead_data(lead) for lead in leads[:20]]

    def conversations_history(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        self._need("conversations:read")
        conversation_id = _int(args, "conversation_id")
        limit = args.get("limit", 20)
        if not isinstance(limit, int) or not 1 <= limit <= MAX_HISTORY:
            raise InvalidRequest(f"limit must be between 1 and {MAX_HISTORY}.")
        if not Conversation.objects.filter(account_id=self.account_id, pk=conversation_id).exists():
            raise NotFound("No such conversation.")
        newest = Message.objects.filter(conversation_id=conversation_id).order_by("-created_at", "-id")[:limit]
        return [message_data(message) for message in reversed(list(newest))]

    def analytics_summary(self, args: dict[str, Any]) -> dict[str, Any]:
        self._need("analytics:read")
        days = args.get("days", 7)
        if not isinstance(days, int) or not 1 <= days <= 90:
            raise InvalidRequest("days must be between 1 and 90.")
        since = timezone.now() - timedelta(days=days)
        messages = Message.objects.filter(account_id=self.account_id, created_at__gte=since).aggregate(
            inbound=Count("pk", filter=Q(direction=MessageDirection.INBOUND)),
            outbound=Count("pk", filter=~Q(direction=MessageDirection.INBOUND)),
        )
        conversations = Conversation.objects.filter(account_id=self.account_id, created_at__gte=since).count()
        return {"days": days, "conversations_started": conversations, **messages}
