"""Sandbox numbers: WhatsApp numbers that live inside the platform, to try it without a Meta account.

A sandbox number is a `Channel` with `is_sandbox`; the rest of the platform treats it as any number.

- **Customers are simulated** (`sandbox_customer_writes`, used by the customer simulator page): the
  message is built as the JSON Meta sends, signed with the number's app secret as Meta signs it, and
  handed to `accept_notification`, the function behind `POST /webhooks/whatsapp`. It is verified,
  stored, de-duplicated and ingested like any notification, so the inbox, the live feed, agents,
  plugins, the n8n router, outgoing webhooks and Zapier cannot tell it from a real one.
- **Replies never leave the platform**: `graph_api_for` gives a sandbox number `SandboxGraphApi`, a
  stand-in for the Graph API with the client's interface. It checks a reply's body as Meta does and
  answers with a message id, or with Meta's error. Once the send path has stored that id,
  `sandbox_delivery_report` sends the `sent` and `delivered` status notifications Meta would, by the
  same signed path; the simulator sends `read` when it shows the reply (`sandbox_customer_reads`).
- **Failures to test with** (`sandbox_failure_set`): the next reply is accepted and then reported
  `failed` with error 131026 (undeliverable), as Meta reports it; or every attempt at it is answered
  HTTP 500 until the platform stops retrying. The inbox shows either exactly as it shows Meta's.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from typing import Any

import httpx
import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from accounts.principals import Principal
from accounts.services.audit import SYSTEM, RequestContext, audit_log_record
from core.exceptions import ApplicationError, Conflict
from core.locks import lock_keys
from core.signing import body_signature
from inbox.models import Channel, Message, MessageDirection, MessageStatus, SandboxFailure
from inbox.services.webhooks import Outcome, accept_notification, forget_app_secret
from inbox.whatsapp import GraphApi, PhoneNumber, SentMessage, WhatsAppClient, error_from_response

logger = structlog.get_logger(__name__)

MAX_SANDBOX_NUMBERS = 5
# Meta's phone number ids are integers, never written with a leading zero: a sandbox id starts with
# one, so it can never take the id of a real number someone connects later.
SANDBOX_ID_PREFIX = "0"
SANDBOX_ID_DIGITS = 15
MAX_TEXT = 4096
MEDIA = ("image", "audio", "video", "document", "sticker")
SENDABLE = ("text", "template", *MEDIA, "location", "contacts", "interactive", "reaction")
UNDELIVERABLE_ERROR: dict[str, Any] = {
    "code": 131026,
    "title": "Message undeliverable",
    "message": "Message undeliverable",
    "error_data": {"details": "Message Undeliverable."},
    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
}


class NotASandboxNumber(Conflict):
    code = "not_sandbox"
    default_message = "Only a sandbox number has simulated customers and failures."


class SandboxNotificationRefused(ApplicationError):
    """The webhook refused a notification the sandbox signed: the number has no app secret to sign with."""

    status_code = 502
    code = "sandbox_webhook_refused"

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(f"The WhatsApp webhook refused the sandbox's notification: {outcome.message}")


def new_wamid() -> str:
    """A message id shaped like Meta's (`wamid.` and base64)."""
    return "wamid." + base64.b64encode(secrets.token_bytes(30)).decode()


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


# --- the Graph API stand-in -----------------------------------------------------------------------


def _graph_answer(status: int, message: str, *, code: int, title: str = "", details: str = "") -> httpx.Response:
    """An error answer as the Graph API writes it."""
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "A" + secrets.token_urlsafe(16),
    }
    if title:
        error["error_user_title"] = title
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return httpx.Response(status, json={"error": error})


def send_problem(*, to: str, message: dict[str, Any]) -> str:
    """What the Graph API would refuse in this send (in its words), or "" when it accepts it."""
    if not re.fullmatch(r"\+?\d{5,20}", to):
        return "The parameter to is invalid."
    kind = message.get("type", "text")
    if kind not in SENDABLE:
        return f"Param type must be one of {{{', '.join(SENDABLE).upper()}}} - got {kind!r}."
    body = message.get(kind)
    if kind == "contacts":
        return "" if isinstance(body, list) and body else "The parameter contacts is required."
    if not isinstance(body, dict):
        return f"The parameter {kind} is required."
    if kind == "text":
        text = body.get("body")
        if not isinstance(text, str) or not text.strip():
            return "The parameter text['body'] is required."
        if len(text) > MAX_TEXT:
            return f"Param text['body'] must be at most {MAX_TEXT} characters long."
    elif kind == "template":
        language = body.get("language")
        if not isinstance(body.get("name"), str) or not body["name"]:
            return "The parameter template['name'] is required."
        if not isinstance(language, dict) or not language.get("code"):
            return "The parameter template['language']['code'] is required."
    elif kind in MEDIA:
        if not body.get("id") and not body.get("link"):
            return f"The parameter {kind}['id'] or {kind}['link'] is required."
    elif kind == "location":
        if not all(isinstance(body.get(key), int | float) for key in ("latitude", "longitude")):
            return "The parameters location['latitude'] and location['longitude'] are required."
    elif kind == "interactive":
        if not body.get("type"):
            return "The parameter interactive['type'] is required."
    elif kind == "reaction" and not body.get("message_id"):
        return "The parameter reaction['message_id'] is required."
    return ""


def _send_digest(to: str, message: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps({"to": to, "message": message}, sort_keys=True).encode()).hexdigest()


def _answers_server_error(channel: Channel, *, to: str, message: dict[str, Any]) -> bool:
    """Whether this attempt meets the switched-on HTTP 500: the first send after it is switched on,
    then every retry of that same reply, as many as the platform makes before it gives up."""
    from inbox.tasks import send_message  # the task module imports the services lazily too

    digest = _send_digest(to, message)
    with transaction.atomic():
        state = (
            Channel.objects.select_for_update()
            .filter(pk=channel.pk)
            .values("sandbox_failure", "sandbox_failing_send", "sandbox_failing_attempts")
            .first()
        )
        if state is None:
            return False
        if state["sandbox_failing_send"] == digest and state["sandbox_failing_attempts"] > 0:
            left = state["sandbox_failing_attempts"] - 1
            Channel.objects.filter(pk=channel.pk).update(
                sandbox_failing_attempts=left, sandbox_failing_send=digest if left else ""
            )
            return True
        if state["sandbox_failure"] == SandboxFailure.SERVER_ERROR:
            Channel.objects.filter(pk=channel.pk).update(
                sandbox_failure=SandboxFailure.NONE,
                sandbox_failing_send=digest,
                sandbox_failing_attempts=send_message.max_retries,
            )
            return True
    return False


class SandboxGraphApi:
    """The Graph API as a sandbox number sees it: answers like Meta's, and nothing leaves the platform."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    def __enter__(self) -> SandboxGraphApi:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def send(self, *, to: str, message: dict[str, Any]) -> SentMessage:
        """Accept a reply (text, template, media, location, contacts, interactive, reaction) as
        `POST /{phone_number_id}/messages` does: a message id, or Meta's error."""
        problem = send_problem(to=to, message=message)
        if problem:
            raise error_from_response(_graph_answer(400, f"(#100) {problem}", code=100, details=problem))
        if _answers_server_error(self.channel, to=to, message=message):
            raise error_from_response(
                _graph_answer(
                    500,
                    "(#131000) Something went wrong",
                    code=131000,
                    title="Something went wrong",
                    details="Something went wrong",
                )
            )
        return SentMessage(wamid=new_wamid())

    def phone_number(self) -> PhoneNumber:
        return PhoneNumber(
            id=self.channel.phone_number_id,
            display_phone_number=self.channel.display_phone_number,
            verified_name=self.channel.name or "Sandbox",
        )

    def media_url(self, media_id: str) -> tuple[str, str]:
        """A sandbox customer sends text only: no media object exists, as Meta answers an unknown id."""
        raise error_from_response(
            _graph_answer(
                400,
                f"Unsupported get request. Object with ID '{media_id}' does not exist.",
                code=100,
            )
        )

    def download(self, url: str, *, max_bytes: int = 100 * 1024 * 1024) -> bytes:
        raise error_from_response(_graph_answer(404, "The media is not available in the sandbox.", code=100))


def graph_api_for(channel: Channel) -> GraphApi:
    """The Graph API for this number: Meta's, or the sandbox's stand-in for a sandbox number."""
    if channel.is_sandbox:
        return SandboxGraphApi(channel)
    return WhatsAppClient(phone_number_id=channel.phone_number_id, access_token=channel.access_token)


# --- notifications, as Meta sends them --------------------------------------------------------------


def _notify(channel: Channel, value: dict[str, Any]) -> None:
    """Deliver one notification about this number through the webhook's POST path, signed with the
    number's app secret (its own, else WHATSAPP_APP_SECRET) exactly as Meta signs it."""
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": channel.business_account_id or channel.phone_number_id,
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": _digits(channel.display_phone_number),
                                "phone_number_id": channel.phone_number_id,
                            },
                            **value,
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    secret = channel.app_secret or settings.WHATSAPP_APP_SECRET
    signature = body_signature(secret=secret, body=body) if secret else ""
    outcome = accept_notification(body=body, signature=signature)
    if outcome.status == 401 and secret:
        # Signed with the stored secret, so this process remembered an older one (or that no number
        # had a secret of its own, for up to 30 seconds): forget it and deliver again.
        forget_app_secret(channel.phone_number_id)
        outcome = accept_notification(body=body, signature=signature)
    if outcome.status != 200:
        logger.warning("sandbox_notification_refused", channel_id=channel.pk, code=outcome.code)
        raise SandboxNotificationRefused(outcome)


def _status(wamid: str, status: str, *, wa_id: str, channel: Channel, **extra: Any) -> dict[str, Any]:
    update: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(int(time.time())), "recipient_id": wa_id}
    if status in ("sent", "delivered"):
        conversation = hashlib.sha256(f"{channel.phone_number_id}:{wa_id}".encode()).hexdigest()[:32]
        update["conversation"] = {"id": conversation, "origin": {"type": "service"}}
        update["pricing"] = {"billable": True, "pricing_model": "CBP", "category": "service"}
    return {**update, **extra}


def sandbox_delivery_report(*, message: Message) -> None:
    """Report a reply the stand-in accepted as Meta would: `sent` and `delivered`, or `failed` with
    error 131026 when that failure was switched on. Called once the reply's id is stored, so the
    statuses never arrive before the message they are about."""
    channel = message.channel
    wamid = str(message.external_id)
    wa_id = message.conversation.contact.wa_id
    undeliverable = Channel.objects.filter(pk=channel.pk, sandbox_failure=SandboxFailure.UNDELIVERABLE).update(
        sandbox_failure=SandboxFailure.NONE
    )
    if undeliverable:
        statuses = [_status(wamid, "failed", wa_id=wa_id, channel=channel, errors=[UNDELIVERABLE_ERROR])]
    else:
        statuses = [
            _status(wamid, "sent", wa_id=wa_id, channel=channel),
            _status(wamid, "delivered", wa_id=wa_id, channel=channel),
        ]
    _notify(channel, {"statuses": statuses})


def _sandbox_only(channel: Channel) -> None:
    if not channel.is_sandbox:
        raise NotASandboxNumber()


def sandbox_customer_writes(
    *,
    channel: Channel,
    wa_id: str,
    name: str,
    text: str,
    actor: Principal,
    context: RequestContext = SYSTEM,
) -> str:
    """A simulated customer (`wa_id`, with the WhatsApp profile name `name`) writes `text` to the
    sandbox number; answers the message's id. The notification takes the webhook's path, so the
    message reaches the inbox (and agents, webhooks, n8n) as a real one does."""
    _sandbox_only(channel)
    if not channel.is_active:
        raise Conflict(
            "This sandbox number is deactivated: an admin activates it again in Settings → WhatsApp.",
            code="channel_inactive",
        )
    wamid = new_wamid()
    message = {
        "from": wa_id,
        "id": wamid,
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": text},
    }
    with transaction.atomic():
        audit_log_record(
            action="sandbox.customer_message",
            actor=actor,
            account=channel.account,
            target=channel,
            context=context,
            metadata={"wa_id": wa_id, "wamid": wamid},
        )
        _notify(channel, {"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [message]})
    return wamid


def sandbox_customer_reads(*, channel: Channel, wa_id: str) -> int:
    """The simulated customer `wa_id` read the replies delivered to them: Meta's `read` status for
    each; answers how many (none for a deactivated number)."""
    _sandbox_only(channel)
    if not channel.is_active:
        return 0
    wamids = list(
        Message.objects.filter(
            account_id=channel.account_id,
            channel=channel,
            conversation__contact__wa_id=wa_id,
            direction=MessageDirection.OUTBOUND,
            status=MessageStatus.DELIVERED,
            external_id__isnull=False,
        ).values_list("external_id", flat=True)[:100]
    )
    if wamids:
        _notify(channel, {"statuses": [_status(str(w), "read", wa_id=wa_id, channel=channel) for w in wamids]})
    return len(wamids)


@transaction.atomic
def sandbox_failure_set(
    *, channel: Channel, failure: str, actor: Principal, context: RequestContext = SYSTEM
) -> Channel:
    """Make the sandbox number's next reply fail (`SandboxFailure`), or switch that off (`NONE`,
    which also ends a reply still failing with HTTP 500)."""
    _sandbox_only(channel)
    failure = SandboxFailure(failure)
    changes: dict[str, Any] = {"sandbox_failure": failure, "updated_at": timezone.now()}
    if failure == SandboxFailure.NONE:
        changes.update(sandbox_failing_send="", sandbox_failing_attempts=0)
    Channel.objects.filter(pk=channel.pk).update(**changes)
    for name, value in changes.items():
        setattr(channel, name, value)
    audit_log_record(
        action="sandbox.failure_set",
        actor=actor,
        account=channel.account,
        target=channel,
        context=context,
        metadata={"failure": failure.value or "none"},
    )
    return channel


def _new_phone_number_id() -> str:
    while True:
        candidate = SANDBOX_ID_PREFIX + "".join(
            secrets.choice("0123456789") for _ in range(SANDBOX_ID_DIGITS - len(SANDBOX_ID_PREFIX))
        )
        if not Channel.objects.filter(phone_number_id=candidate).exists():
            return candidate


@transaction.atomic
def sandbox_channel_create(
    *,
    account: Account,
    actor: Principal,
    name: str = "",
    context: RequestContext = SYSTEM,
    **fields: Any,
) -> Channel:
    """Add a sandbox number to the tenant: no Meta account and no access token, an app secret of its
    own to sign its notifications, a fictional display number. `fields`: `default_agent`,
    `handoff_rule`."""
    lock_keys("inbox.sandbox_numbers", [account.pk])
    if Channel.objects.filter(account=account, is_sandbox=True).count() >= MAX_SANDBOX_NUMBERS:
        raise Conflict(
            f"A workspace has at most {MAX_SANDBOX_NUMBERS} sandbox numbers: delete or reuse one.",
            code="sandbox_limit",
        )
    phone_number_id = _new_phone_number_id()
    channel = Channel.objects.create(
        account=account,
        name=name or "Sandbox",
        phone_number_id=phone_number_id,
        display_phone_number=f"+1 555 01{phone_number_id[-6:-4]} {phone_number_id[-4:]}",
        access_token="",
        app_secret=secrets.token_urlsafe(32),
        is_sandbox=True,
        **fields,
    )
    audit_log_record(
        action="channel.created",
        actor=actor,
        account=account,
        target=channel,
        context=context,
        metadata={
            "phone_number_id": channel.phone_number_id,
            "display_phone_number": channel.display_phone_number,
            "sandbox": True,
        },
    )
    forget_app_secret(channel.phone_number_id)
    return channel
