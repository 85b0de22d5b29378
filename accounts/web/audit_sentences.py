"""Audit rows as sentences a person reads: "Ana Admin changed Bruno's role to Viewer".

Each action code has a phrase; the actor and the target are named as the pages name them (a person's
name, an agent's, a lead's...) and linked to their page where one exists. Targets are looked up in
one query per kind of target on the page, within the rows' own tenant, so a page costs the same for 5
rows or 50. An action without a phrase (or whose details are missing) still reads as a sentence:
"Ana Admin: webhook secret rotated (Order hook)". The code itself stays beside it, as a filter link.

This module knows only `accounts`' own actions and models. The apps above it bring their own words
with `audit_vocabulary_register` (from their AppConfig.ready, in `<app>/audit_vocabulary.py`); URLs
are named, so an area a deployment does not serve shows the name without a link.
"""

from __future__ import annotations

import string
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from accounts.models import AuditLog, Role


@dataclass(frozen=True)
class Named:
    """A thing a sentence names: its name and, when it has a page, the page's address."""

    name: str
    url: str = ""
    title: str = ""

    def html(self) -> SafeString:
        if self.url:
            return format_html('<a href="{}">{}</a>', self.url, self.name)
        if self.title:
            return format_html('<span title="{}">{}</span>', self.title, self.name)
        return format_html("{}", self.name)


def url_or_blank(name: str, *args: Any) -> str:
    """The address of the page `name`, or "" where this deployment serves no such page."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # an area this deployment does not serve
        return ""


@dataclass(frozen=True)
class TargetKind:
    """How to name (and link) the targets of one model: `model` is its label, `name` and `url` read a row."""

    model: str
    name: Callable[[Any], str]
    url: Callable[[Any], str] = lambda row: ""
    related: tuple[str, ...] = ()
    tenant_field: str | None = "account"  # None: a catalogue row every tenant sees


TARGET_KINDS: dict[str, TargetKind] = {
    "accounts.user": TargetKind(
        "accounts.user",
        lambda u: u.full_name or u.email,
        lambda u: url_or_blank("settings_web:users"),
        tenant_field=None,
    ),
    "accounts.apikey": TargetKind(
        "accounts.apikey", lambda k: f"“{k.name}”", lambda k: url_or_blank("settings_web:api_key_detail", k.pk)
    ),
    "accounts.account": TargetKind("accounts.account", lambda a: a.name, tenant_field="pk"),
    "accounts.planratelimit": TargetKind(
        "accounts.planratelimit", lambda limits: limits.get_plan_display(), tenant_field=None
    ),
}

# The sentence of each action. `{actor}` and `{target}` are named (and linked); `{target_s}` is the
# target's possessive ("Bruno's", or "their" when people act on themselves); other fields come from
# the row's details. A field the row lacks makes it fall back to the general sentence.
PHRASES: dict[str, str] = {
    "auth.login": "{actor} signed in",
    "auth.logout": "{actor} signed out",
    "auth.login_failed": "A sign-in as {target} failed (wrong password)",
    "auth.magic_link_sent": "A sign-in link was emailed to {target}",
    "auth.access_revoked": "{target_s} sign-ins were ended ({reason})",
    "auth.refresh_reused": "A sign-in token of {target} was used twice, so all their sign-ins were ended",
    "user.created": "{actor} added {target} as {role}",
    "user.updated": "{actor} changed {target_s} {fields}",
    "user.role_changed": "{actor} changed {target_s} role to {new_role}",
    "user.deleted": "{actor} deleted {email}",
    "user.time_zone_changed": "{actor} set {target_s} time zone to {new_time_zone}",
    "api_key.created": "{actor} created the API key {target}",
    "api_key.rotated": "{actor} rotated the secret of the API key {target}",
    "api_key.revoked": "{actor} revoked the API key {target}",
    "api_key.creator_deactivated": "The API key {target} keeps working, though {creator} who made it was deactivated",
    "staff.tenant_entered": "{actor} began acting in this workspace",
    "staff.tenant_left": "{actor} stopped acting in this workspace",
    "account.created": "{actor} created this workspace",
    "account.updated": "{actor} changed this workspace’s {fields}",
    "account.deactivated": "{actor} disabled this workspace",
    "account.time_zone_changed": "{actor} set this workspace’s time zone to {new_time_zone}",
    "secrets.reencrypted": "Stored secrets were encrypted again with a new key",
    "plan_rate_limit.created": "{actor} set the API rate limits of the plan {target}",
    "plan_rate_limit.updated": "{actor} changed the API rate limits of the plan {target}",
}

ROLE_LABELS = {role.value: role.label for role in Role}
FORMATTER = string.Formatter()


def audit_vocabulary_register(*, kinds: Iterable[TargetKind] = (), phrases: Mapping[str, str] | None = None) -> None:
    """An app above `accounts` adds how its models are named and linked, and its actions' sentences."""
    for kind in kinds:
        TARGET_KINDS[kind.model] = kind
    PHRASES.update(phrases or {})


def _possessive(name: str) -> str:
    return f"{name}’" if name.endswith("s") else f"{name}’s"


def _words(value: Any) -> str:
    """A detail in words: roles by their label, lists as "name and role", codes without underscores."""
    if isinstance(value, list | tuple):
        words = [_words(item) for item in value]
        return " and ".join([", ".join(words[:-1]), words[-1]]) if len(words) > 1 else "".join(words) or "nothing"
    text = str(value)
    return ROLE_LABELS.get(text, text.replace("_", " "))


def _actor(entry: AuditLog) -> Named:
    user = entry.actor_user
    if user is not None:
        if user.account_id is None:  # platform staff: known to a tenant by their address, not their name
            return Named(f"{user.email} (platform staff)", title=user.full_name)
        return Named(user.full_name or user.email, title=user.email)
    label = entry.actor_label
    if entry.actor_api_key is not None:
        return Named(f"The API key “{entry.actor_api_key.name}”", title=entry.actor_api_key.prefix)
    if label.startswith("api_key:"):
        return Named(f"The API key {label.removeprefix('api_key:')}")
    if label.startswith("plugin:"):
        return Named(f"The plugin {label.removeprefix('plugin:')}")
    if label == "platform_key":
        return Named("The platform key")
    if "@" in label:  # a person since deleted
        return Named(label)
    return Named("SkyBot")


def _fallback_name(entry: AuditLog) -> str:
    details = entry.metadata if isinstance(entry.metadata, Mapping) else {}
    for key in ("name", "email", "url", "plugin", "plugin_id", "prefix"):
        if details.get(key):
            return str(details[key])
    return "something since deleted" if entry.target_type else "this workspace"


def resolve_targets(entries: Iterable[AuditLog]) -> dict[tuple[str, str], Named]:
    """The named targets of `entries`: one query per kind of target, within the rows' tenants."""
    wanted: dict[str, set[str]] = defaultdict(set)
    tenants: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        if entry.target_type in TARGET_KINDS and entry.target_id.isdigit():
            wanted[entry.target_type].add(entry.target_id)
            if entry.account_id is not None:
                tenants[entry.target_type].add(entry.account_id)
    found: dict[tuple[str, str], Named] = {}
    for target_type, ids in wanted.items():
        kind = TARGET_KINDS[target_type]
        try:
            model = apps.get_model(kind.model)
        except LookupError:  # an app this deployment does not install
            continue
        rows: models.QuerySet[Any] = model._default_manager.filter(pk__in=ids)
        if kind.tenant_field is not None:
            rows = rows.filter(**{f"{kind.tenant_field}__in": tenants[target_type]})
        elif kind.model == "accounts.user":
            rows = rows.filter(account_id__in=tenants[target_type]) | rows.filter(account__isnull=True)
        if kind.related:
            rows = rows.select_related(*kind.related)
        for row in rows:
            found[(target_type, str(row.pk))] = Named(kind.name(row), kind.url(row))
    return found


def audit_sentence(entry: AuditLog, targets: Mapping[tuple[str, str], Named]) -> SafeString:
    """What `entry` says happened, as one sentence (HTML, with links)."""
    actor = _actor(entry)
    target = targets.get((entry.target_type, entry.target_id)) or Named(_fallback_name(entry))
    self_acted = entry.target_type == "accounts.user" and str(entry.actor_user_id) == entry.target_id
    details = entry.metadata if isinstance(entry.metadata, Mapping) else {}
    values: dict[str, Any] = {key: _words(value) for key, value in details.items()}
    values.update(
        actor=actor.html(),
        target=target.html(),
        target_s=SafeString("their") if self_acted else format_html("{}", _possessive(target.name)),
    )
    if target.url and not self_acted:
        values["target_s"] = format_html('<a href="{}">{}</a>', target.url, _possessive(target.name))
    phrase = PHRASES.get(entry.action)
    if phrase is not None:
        fields = {name for _, name, _, _ in FORMATTER.parse(phrase) if name}
        if fields <= values.keys():
            return format_html(phrase, **{name: values[name] for name in fields})
    what = _words(entry.action.replace(".", " "))
    if entry.target_type:
        return format_html("{}: {} ({})", actor.html(), what, target.html())
    return format_html("{}: {}", actor.html(), what)
