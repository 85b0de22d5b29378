"""How the audit log names webhook endpoints, and the sentence of each of its actions
(accounts/web/audit_sentences.py; registered by the app's ready())."""

from __future__ import annotations

from accounts.web.audit_sentences import TargetKind, audit_vocabulary_register, url_or_blank

KINDS = [
    TargetKind(
        "integrations.webhookendpoint", lambda e: e.url, lambda e: url_or_blank("developers_web:webhook_detail", e.pk)
    ),
]

PHRASES = {
    "webhook.created": "{actor} added the webhook {target}",
    "webhook.updated": "{actor} changed the webhook {target}",
    "webhook.deleted": "{actor} deleted the webhook {url}",
    "webhook.secret_rotated": "{actor} rotated the signing secret of the webhook {target}",
    "webhook.tested": "{actor} sent a test event to the webhook {target}",
    "webhook.redelivered": "{actor} sent a webhook event again",
    "webhook.disabled": "The webhook {target} was turned off after failing again and again",
}


def register() -> None:
    audit_vocabulary_register(kinds=KINDS, phrases=PHRASES)
