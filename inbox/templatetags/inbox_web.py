"""Template helpers of the inbox pages: readable times, message previews and delivery ticks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from inbox.models import Message, MessageStatus

register = template.Library()

# Symbol and accessible name of each delivery status of a reply.
TICKS = {
    MessageStatus.QUEUED: ("◷", "Queued"),
    MessageStatus.SENT: ("✓", "Sent"),
    MessageStatus.DELIVERED: ("✓✓", "Delivered"),
    MessageStatus.READ: ("✓✓", "Read"),
    MessageStatus.FAILED: ("!", "Failed"),
}

PREVIEW_PREFIX = {
    "image": "📷 Photo",
    "video": "🎬 Video",
    "audio": "🎤 Audio",
    "document": "📄 Document",
    "sticker": "Sticker",
    "location": "📍",
    "contacts": "👤",
}


@register.filter
def when(value: datetime | None) -> str:
    """A short, readable time: 14:05 today, "Yesterday", 12 Jun this year, else 12 Jun 2024."""
    if not value:
        return ""
    local = timezone.localtime(value)
    today = timezone.localtime().date()
    if local.date() == today:
        return local.strftime("%H:%M")
    if local.date() == today - timedelta(days=1):
        return "Yesterday"
    if local.year == today.year:
        return f"{local.day} {local:%b}"
    return f"{local.day} {local:%b %Y}"


@register.filter
def moment(value: datetime | None) -> str:
    """Time of a message: 14:05 today, else 12 Jun, 14:05."""
    if not value:
        return ""
    local = timezone.localtime(value)
    if local.date() == timezone.localtime().date():
        return local.strftime("%H:%M")
    return f"{when(value)}, {local:%H:%M}"


@register.filter
def preview(message: Message | None) -> str:
    """One line that says what a message is, for the conversation list."""
    if message is None:
        return "No messages yet"
    kind, text = message.type, message.text
    if kind == "reaction":
        return f"Reacted {text}" if text else "Removed a reaction"
    if kind == "template":
        return f"Template: {text.removeprefix('[template ').removesuffix(']')}"
    if kind == "unsupported":
        return "Unsupported message"
    if kind in PREVIEW_PREFIX:
        prefix = PREVIEW_PREFIX[kind]
        return f"{prefix}: {text}" if text and kind not in ("location", "contacts") else f"{prefix} {text}".strip()
    return text


@register.filter
def delivery_error(message: Message) -> str:
    """Why WhatsApp did not deliver a reply, in Meta's words when it gave any."""
    error = message.error if isinstance(message.error, dict) else {}
    return str(error.get("message") or error.get("title") or "WhatsApp refused the message.")


@register.simple_tag
def tick(message: Message) -> SafeString | str:
    """The delivery status of a reply as ticks, with an accessible name ("Delivered")."""
    if message.direction != "out":
        return ""
    symbol, label = TICKS.get(MessageStatus(message.status), ("", message.get_status_display()))
    if message.status == MessageStatus.FAILED:
        label = f"Failed: {delivery_error(message)}"
    return format_html(
        '<span class="tick {}" role="img" aria-label="{}" title="{}">{}</span>', message.status, label, label, symbol
    )


@register.filter
def map_url(message: Message) -> str:
    """An OpenStreetMap link for a shared location, or "" when it has no usable coordinates."""
    location = message.payload.get("location") if isinstance(message.payload, dict) else None
    if not isinstance(location, dict):
        return ""
    try:
        latitude, longitude = float(location["latitude"]), float(location["longitude"])
    except (KeyError, TypeError, ValueError):
        return ""
    return (
        f"https://www.openstreetmap.org/?mlat={latitude:.6f}&mlon={longitude:.6f}#map=16/{latitude:.6f}/{longitude:.6f}"
    )


@register.filter
def template_parameters(message: Message) -> list[str]:
    """The body parameters of a template reply, in order."""
    template_body: Any = message.payload.get("template") if isinstance(message.payload, dict) else None
    if not isinstance(template_body, dict):
        return []
    values = []
    for component in template_body.get("components") or []:
        if isinstance(component, dict):
            values += [str(p.get("text", "")) for p in component.get("parameters") or [] if isinstance(p, dict)]
    return values


@register.filter
def raw_type(message: Message) -> str:
    """The type Meta gave a message this inbox cannot show."""
    payload = message.payload if isinstance(message.payload, dict) else {}
    return str(payload.get("type") or "unknown")
