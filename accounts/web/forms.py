"""Forms of the Settings pages. They check the shape of the input; the services decide the rest."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from accounts.models import ApiKeyScope, Role
from accounts.principals import SCOPE_ROLES, Principal
from accounts.services.api_keys import MAX_GRACE_SECONDS

TENANT_ROLES = [Role.VIEWER, Role.USER, Role.CLIENT_ADMIN]
ROLE_HELP = {
    Role.VIEWER: "reads conversations and contacts, changes nothing",
    Role.USER: "works the inbox: replies, assigns, edits contacts and leads",
    Role.CLIENT_ADMIN: "also manages people, API keys, WhatsApp numbers and billing",
}
SCOPE_HELP = {
    ApiKeyScope.READ: "Read: reading only (acts as a Viewer)",
    ApiKeyScope.WRITE: "Write: also works the inbox (acts as a User)",
    ApiKeyScope.ADMIN: "Admin: also manages the workspace (acts as a Client admin)",
}


class SettingsForm(forms.Form):
    """A form of the Settings pages: labels without a trailing colon."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def role_choices(actor: Principal) -> list[tuple[str, str]]:
    """The tenant roles `actor` may give: nobody grants a role above their own."""
    return [(role.value, role.label) for role in TENANT_ROLES if actor.has_role(role)]


class InviteForm(SettingsForm):
    SIGN_IN_LINK = "link"
    SIGN_IN_PASSWORD = "password"

    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    full_name = forms.CharField(label="Name", max_length=200, required=False)
    role = forms.ChoiceField(help_text="What they may do; you can change it later.")
    sign_in = forms.ChoiceField(
        label="How they sign in",
        widget=forms.RadioSelect,
        initial=SIGN_IN_LINK,
        choices=[
            (SIGN_IN_LINK, "Email them a sign-in link (they can ask for a new one any time)"),
            (SIGN_IN_PASSWORD, "Set a first password now and tell them yourself"),
        ],
    )
    password = forms.CharField(
        label="First password",
        required=False,
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False),
        help_text="Only with “Set a first password”. At least 8 characters, not a common one.",
    )

    def __init__(self, *args: Any, actor: Principal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(actor)  # type: ignore[attr-defined]
        self.fields["role"].initial = Role.USER

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if cleaned.get("sign_in") == self.SIGN_IN_PASSWORD and not cleaned.get("password"):
            self.add_error("password", "Type a first password, or choose the emailed sign-in link.")
        return cleaned


class RoleForm(SettingsForm):
    role = forms.ChoiceField()

    def __init__(self, *args: Any, actor: Principal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(actor)  # type: ignore[attr-defined]


class ApiKeyCreateForm(SettingsForm):
    name = forms.CharField(max_length=100, help_text="What the key is for, e.g. “Zapier” or “CRM sync”.")
    scopes = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        help_text="The key acts with the role of its strongest scope.",
        error_messages={"required": "Choose at least one scope."},
    )
    expires_on = forms.DateField(
        label="Expires on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional. The key stops working at the end of this day; empty: until you revoke it.",
    )

    def __init__(self, *args: Any, actor: Principal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = [  # type: ignore[attr-defined]
            (scope.value, SCOPE_HELP[scope]) for scope in ApiKeyScope if actor.has_role(SCOPE_ROLES[scope.value])
        ]

    def clean_expires_on(self) -> Any:
        day = self.cleaned_data.get("expires_on")
        if day is not None and day < timezone.localdate():
            raise forms.ValidationError("Choose today or a later day.")
        return day


GRACE_CHOICES = [
    (0, "Stop the old secret now"),
    (3600, "Keep the old secret working for 1 hour"),
    (24 * 3600, "Keep the old secret working for 24 hours"),
    (MAX_GRACE_SECONDS, "Keep the old secret working for 7 days"),
]


class ApiKeyRotateForm(SettingsForm):
    grace_seconds = forms.TypedChoiceField(
        label="The old secret",
        choices=GRACE_CHOICES,
        coerce=int,
        initial=0,
        help_text="A grace period lets you deploy the new secret before the old one stops working.",
    )


class AuditFilterForm(SettingsForm):
    action = forms.ChoiceField(required=False)
    actor = forms.CharField(
        required=False,
        max_length=254,
        widget=forms.TextInput(attrs={"placeholder": "email or key prefix"}),
    )
    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, actions: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "Any action"), *((action, action) for action in actions)]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end of the range comes before its start.")
        return cleaned
