"""How the audit log names plugins, installations and reviews, and the sentence of each of its actions
(accounts/web/audit_sentences.py; registered by the app's ready())."""

from __future__ import annotations

from accounts.web.audit_sentences import TargetKind, audit_vocabulary_register, url_or_blank

KINDS = [
    TargetKind(
        "plugins.plugininstallation",
        lambda i: i.plugin.name,
        lambda i: url_or_blank("marketplace:installation", i.plugin.plugin_id),
        related=("plugin",),
    ),
    TargetKind(
        "plugins.plugin", lambda p: p.name, lambda p: url_or_blank("marketplace:detail", p.plugin_id), tenant_field=None
    ),
    TargetKind(
        "plugins.pluginreview",
        lambda r: r.plugin.name,
        lambda r: url_or_blank("marketplace:detail", r.plugin.plugin_id),
        related=("plugin",),
    ),
]

PHRASES = {
    "plugin.installed": "{actor} installed the plugin {target}",
    "plugin.uninstalled": "{actor} uninstalled the plugin {target}",
    "plugin.updated": "{actor} changed the settings of the plugin {target}",
    "plugin.upgraded": "{actor} updated the plugin {target}",
    "plugin.switched": "{actor} switched the plugin {target} on or off",
    "plugin.disabled": "The plugin {target} was turned off",
    "plugin.reviewed": "{actor} reviewed the plugin {target}",
    "plugin.review_edited": "{actor} edited a review of the plugin {target}",
    "plugin.review_deleted": "{actor} deleted a review of a plugin",
}


def register() -> None:
    audit_vocabulary_register(kinds=KINDS, phrases=PHRASES)
