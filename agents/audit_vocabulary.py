"""How the audit log names agents and reports, and the sentence of each of its actions
(accounts/web/audit_sentences.py; registered by the app's ready())."""

from __future__ import annotations

from accounts.web.audit_sentences import TargetKind, audit_vocabulary_register, url_or_blank

KINDS = [
    TargetKind("agents.agent", lambda a: a.name, lambda a: url_or_blank("agents_web:detail", a.pk)),
    TargetKind("agents.report", lambda r: f"report #{r.pk}"),
]

PHRASES = {
    "agent.created": "{actor} created the agent {target}",
    "agent.updated": "{actor} changed the agent {target}",
    "agent.deployed": "{actor} deployed the agent {target}",
    "agent.deactivated": "{actor} stopped the agent {target}",
    "agent.deleted": "{actor} deleted the agent {name}",
    "agent.runner_status": "The agent {target} went from {from} to {to}",
    "report.requested": "{actor} asked for a report",
}


def register() -> None:
    audit_vocabulary_register(kinds=KINDS, phrases=PHRASES)
