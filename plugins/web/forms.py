"""Forms of the marketplace pages: the catalogue's filters, a plugin's configuration (generated from
its version's JSON Schema), a tenant's review, and accepting a new version's permissions."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django import forms
from skybot_plugin_sdk.manifest import secret_fields

from agents.models import AgentCategory
from agents.web.forms import ConfigForm
from plugins.selectors import SORT_LABELS, permission_words

KEEP_SECRET = "A value is stored: leave this empty to keep it."


class CatalogueFilterForm(forms.Form):
    """The marketplace's search and filters, as a person sets them. Only shows them: the catalogue
    selector validates the query string itself (a bad value is a 400 naming it)."""

    q = forms.CharField(
        label="Search",
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or description", "id": "market-q"}),
    )
    category = forms.ChoiceField(
        label="Category", required=False, choices=[("", "Any category"), *AgentCategory.choices]
    )
    sort = forms.ChoiceField(label="Sort by", required=False, choices=list(SORT_LABELS.items()))
    verified = forms.BooleanField(
        label="Verified authors only", required=False, widget=forms.CheckboxInput(attrs={"value": "true"})
    )
    free = forms.BooleanField(label="Free only", required=False, widget=forms.CheckboxInput(attrs={"value": "true"}))


class PluginConfigForm(ConfigForm):
    """A plugin's configuration form: `ConfigForm` with the schema's `"secret": true` fields as
    password inputs that never show a value back. `stored_secrets` names the secret fields that
    already hold a value: those may be left empty, which keeps it (the service merges them back)."""

    def __init__(self, *args: Any, stored_secrets: Collection[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in secret_fields(self.schema):
            if name not in self.fields or self.specs[name].kind != "string":
                continue
            field = self.fields[name]
            attrs = {**field.widget.attrs, "autocomplete": "new-password"}
            field.widget = forms.PasswordInput(render_value=False, attrs=attrs)
            field.initial = None
            if name in stored_secrets:
                field.required = False
                field.help_text = " ".join(filter(None, [str(field.help_text), KEEP_SECRET]))


RATINGS = [(5, "★★★★★ 5 stars"), (4, "★★★★ 4 stars"), (3, "★★★ 3 stars"), (2, "★★ 2 stars"), (1, "★ 1 star")]


class ReviewForm(forms.Form):
    prefix = "review"

    rating = forms.TypedChoiceField(
        label="Your rating", coerce=int, choices=RATINGS, widget=forms.RadioSelect, empty_value=None
    )
    text = forms.CharField(
        label="Your review",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What it does well, what it could do better. Other teams read it.",
    )


class UpgradeForm(forms.Form):
    """Tick each permission the new version adds: the upgrade goes ahead only with all of them."""

    accept_permissions = forms.MultipleChoiceField(
        label="New permissions to accept", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, added_permissions: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["accept_permissions"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(p, f"{permission_words(p)} ({p})") for p in added_permissions]
        if not added_permissions:
            del self.fields["accept_permissions"]

    def accepted(self) -> list[str]:
        return list(self.cleaned_data.get("accept_permissions") or [])


class SwitchForm(forms.Form):
    """Turn an installation on or off."""

    is_active = forms.TypedChoiceField(coerce=lambda value: value == "true", choices=[("true", "On"), ("false", "Off")])
