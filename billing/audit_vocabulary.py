"""How the audit log names billing, and the sentence of each of its actions
(accounts/web/audit_sentences.py; registered by the app's ready())."""

from __future__ import annotations

from accounts.web.audit_sentences import TargetKind, audit_vocabulary_register

KINDS: list[TargetKind] = []

PHRASES = {
    "billing.sso_issued": "{actor} opened the billing portal",
}


def register() -> None:
    audit_vocabulary_register(kinds=KINDS, phrases=PHRASES)
