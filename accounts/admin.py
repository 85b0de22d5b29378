"""Django admin for platform staff: tenants, their plans' API rate limits, people, API keys (never
their secrets), the audit log (read-only).

Changes made here end sign-ins exactly as the services do (`accounts.services.sessions`): a new
password, deactivation or another role for a person, and switching a tenant off.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from accounts.models import Account, ApiKey, AuditLog, PlanRateLimit, User
from accounts.principals import Principal
from accounts.services import sessions
from accounts.services.audit import RequestContext, audit_log_record
from accounts.services.tenants import account_deactivate
from accounts.services.users import api_keys_creator_deactivated_record


def staff_principal(request: HttpRequest) -> Principal:
    """The signed-in staff member acting in the admin, as the actor services and audit rows take."""
    assert isinstance(request.user, User)  # only signed-in staff reach the admin
    return Principal.for_user(request.user)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows staff may look at but not add or change here (their changes go through the API)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AuditedAdmin(admin.ModelAdmin):
    """Changes made in the admin leave an audit row too (`<entity>.created/updated`, `via: admin`)."""

    audit_entity = ""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and not form.changed_data:
            return
        # Field names only; any password field is reported as "password", never its value.
        fields = sorted({"password" if "password" in name else name for name in form.changed_data})
        audit_log_record(
            action=f"{self.audit_entity}.{'updated' if change else 'created'}",
            actor=staff_principal(request),
            account=obj if isinstance(obj, Account) else getattr(obj, "account", None),
            target=obj,
            context=RequestContext.from_request(request),
            metadata={"fields": fields, "via": "admin"},
        )


@admin.register(Account)
class AccountAdmin(AuditedAdmin):
    audit_entity = "account"
    list_display = ("name", "slug", "plan", "is_active", "created_at")
    list_filter = ("plan", "is_active", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at", "updated_at")
    actions = ["deactivate"]

    def has_delete_permission(self, request: HttpRequest, obj: Account | None = None) -> bool:
        # A tenant is deactivated, not deleted: deleting would cascade through everything it owns.
        return False

    def save_model(self, request: HttpRequest, obj: Account, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            sessions.account_access_revoke(
                account=obj,
                reason=sessions.ACCOUNT_DEACTIVATED,
                actor=staff_principal(request),
                context=RequestContext.from_request(request),
            )

    @admin.action(description="Deactivate selected accounts (their people and keys stop working)")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Account]) -> None:
        accounts = list(queryset.filter(is_active=True))
        for account in accounts:
            account_deactivate(
                account=account, actor=staff_principal(request), context=RequestContext.from_request(request)
            )
        self.message_user(request, f"{len(accounts)} account(s) deactivated.", messages.SUCCESS)


@admin.register(PlanRateLimit)
class PlanRateLimitAdmin(AuditedAdmin):
    """API rate limits per plan. Saved limits apply within 30 seconds (`accounts.throttling`)."""

    audit_entity = "plan_rate_limit"
    list_display = (
        "plan",
        "caller_per_second",
        "caller_per_minute",
        "caller_per_hour",
        "tenant_per_second",
        "tenant_per_minute",
        "tenant_per_hour",
        "updated_at",
    )
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("plan",)}),
        (
            "Per caller: each API key or person of a tenant on this plan",
            {"fields": ("caller_per_second", "caller_per_minute", "caller_per_hour")},
        ),
        (
            "Per tenant: all its API keys and people together",
            {"fields": ("tenant_per_second", "tenant_per_minute", "tenant_per_hour")},
        ),
        ("Dates", {"fields": ("created_at", "updated_at")}),
    )

    def has_delete_permission(self, request: HttpRequest, obj: PlanRateLimit | None = None) -> bool:
        # Emptying the fields returns a plan to the defaults, and leaves an audit row saying so.
        return False


class UserAddForm(BaseUserCreationForm):
    """Email, tenant, role and a password checked by the password validators."""

    class Meta:
        model = User
        fields = ("email", "full_name", "account", "role")

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"].strip()).lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("A user with this email address already exists.")
        return email


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    audit_entity = "user"
    form = UserEditForm
    add_form = UserAddForm
    list_display = ("email", "full_name", "account", "role", "is_active", "last_login")
    list_filter = ("role", "is_active", "is_staff", "account")
    list_select_related = ("account",)
    search_fields = ("email", "full_name", "account__name", "account__slug")
    ordering = ("email",)
    readonly_fields = ("last_login", "date_joined", "updated_at")
    autocomplete_fields = ("account",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "account", "role")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined", "updated_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "account", "role", "password1", "password2"),
            },
        ),
    )

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            return
        reason = None
        if "is_active" in form.changed_data and not obj.is_active:
            reason = sessions.DEACTIVATED
        elif "role" in form.changed_data or "is_staff" in form.changed_data or "is_superuser" in form.changed_data:
            reason = sessions.ROLE_CHANGED
        if reason is not None:
            context = RequestContext.from_request(request)
            sessions.user_access_revoke(user=obj, reason=reason, actor=staff_principal(request), context=context)
            if reason == sessions.ROLE_CHANGED:
                update_session_auth_hash(request, obj)  # staff changing their own flags stay signed in here
        if reason == sessions.DEACTIVATED:
            api_keys_creator_deactivated_record(user=obj, actor=staff_principal(request), context=context)

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        self._end_sign_ins_of_deleted(request, [obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._end_sign_ins_of_deleted(request, list(queryset))
        super().delete_queryset(request, queryset)

    def _end_sign_ins_of_deleted(self, request: HttpRequest, people: list[User]) -> None:
        # Their tokens and sessions die with the row; this also closes their open live feeds.
        context = RequestContext.from_request(request)
        for person in people:
            sessions.user_access_revoke(
                user=person, reason=sessions.DELETED, actor=staff_principal(request), context=context
            )

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        """Staff setting someone's password: their other sign-ins end, like any other new password."""
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:  # the form was valid and saved
            user = self.get_object(request, unquote(id))
            if user is not None:
                sessions.user_access_revoke(
                    user=user,
                    reason=sessions.PASSWORD_CHANGED,
                    actor=staff_principal(request),
                    context=RequestContext.from_request(request),
                )
                # Staff who set their own password stay signed in here, as Django intends.
                update_session_auth_hash(request, user)
        return response


@admin.register(ApiKey)
class ApiKeyAdmin(AuditedAdmin):
    audit_entity = "api_key"
    list_display = ("name", "prefix", "account", "scopes", "is_active", "last_used_at", "expires_at")
    list_filter = ("is_active", "account")
    list_select_related = ("account",)
    search_fields = ("name", "prefix", "account__name", "account__slug")
    # The hashes never reach a form or a page; keys are created through the API so the secret is
    # shown once, to its creator.
    exclude = ("secret_hash", "previous_secret_hash")
    readonly_fields = (
        "account",
        "prefix",
        "scopes",
        "created_by",
        "last_used_at",
        "previous_valid_until",
        "revoked_at",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action", "actor_label", "account", "target", "ip_address")
    list_filter = ("action", "account", "created_at")
    list_select_related = ("account",)
    search_fields = ("action", "actor_label", "target_id", "request_id", "ip_address")
    date_hierarchy = "created_at"
    actions = None

    @admin.display(description="Target")
    def target(self, row: AuditLog) -> str:
        return f"{row.target_type}:{row.target_id}" if row.target_type else ""

    def get_readonly_fields(self, request: HttpRequest, obj: AuditLog | None = None) -> Any:
        return [field.name for field in AuditLog._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditLog | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditLog | None = None) -> bool:
        return False
