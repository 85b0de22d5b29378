"""Downloading inbound media through the Graph API into the project's file storage."""

from __future__ import annotations

import mimetypes

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from inbox.models import Message
from inbox.services.sandbox import graph_api_for
from inbox.whatsapp import GraphApiError


def media_download(*, message: Message, final_attempt: bool) -> None:
    media = dict(message.media)
    media_id = media.get("id")
    if not media_id or media.get("download_status") == "stored":
        return
    channel = message.channel
    try:
        with graph_api_for(channel) as client:
            url, mime_type = client.media_url(str(media_id))
            content = client.download(url)
    except GraphApiError as exc:
        if exc.retryable and not final_attempt:
            raise
        media.update(download_status="failed", download_error=exc.message)
        Message.objects.filter(pk=message.pk).update(media=media, updated_at=timezone.now())
        return
    extension = mimetypes.guess_extension((mime_type or media.get("mime_type", "")).split(";")[0].strip()) or ""
    name = default_storage.save(
        f"whatsapp/{message.account_id}/{message.channel_id}/{media_id}{extension}", ContentFile(content)
    )
    media.update(download_status="stored", file=name, size=len(content))
    Message.objects.filter(pk=message.pk).update(media=media, updated_at=timezone.now())
