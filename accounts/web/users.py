"""Settings → Users and roles: the tenant's people, inviting someone, changing a role or access.

Every rule (no role above your own, always one active administrator, unique emails) is the people
service's; these views only turn its answers into notices and form errors.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role, User
from accounts.selectors import user_get, user_list
from accounts.services.audit import RequestContext
from accounts.services.invitations import user_invite
from accounts.services.users import user_create, user_update
from accounts.web.common import settings_context, show_service_error
from accounts.web.forms import ROLE_HELP, InviteForm, RoleForm, role_choices
from accounts.web.pages import PageRequest, found_or_404, page
from core.exceptions import ApplicationError


def _person(request: PageRequest, pk: int) -> User:
    """A person of the admin's tenant; another tenant's id is a 404 like a missing one."""
    return found_or_404(request, lambda: user_get(principal=request.principal, pk=pk))


@page(role=Role.CLIENT_ADMIN)
def users(request: PageRequest) -> HttpResponse:
    context = settings_context(
        "users",
        people=list(user_list(principal=request.principal)),
        role_choices=role_choices(request.principal),
        role_help=[(role.label, help_text) for role, help_text in ROLE_HELP.items()],
    )
    return render(request, "accounts/settings/users.html", context)


@page(role=Role.CLIENT_ADMIN)
@require_http_methods(["GET", "POST"])
def user_new(request: PageRequest) -> HttpResponse:
    form = InviteForm(request.POST or None, actor=request.principal)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                person = _add_person(request, form)
            except ApplicationError as error:
                if not show_service_error(form, error):
                    raise
                status = error.status_code
            else:
                if form.cleaned_data["sign_in"] == InviteForm.SIGN_IN_LINK:
                    messages.success(request, f"Invited {person.email}: we emailed them a sign-in link.")
                else:
                    messages.success(request, f"Added {person.email}. Tell them their first password.")
                return redirect("settings_web:users")
    return render(request, "accounts/settings/user_new.html", settings_context("users", form=form), status=status)


def _add_person(request: PageRequest, form: InviteForm) -> User:
    data = form.cleaned_data
    common = {
        "account": request.account,
        "email": data["email"],
        "full_name": data["full_name"],
        "role": data["role"],
        "actor": request.principal,
        "context": RequestContext.from_request(request),
    }
    if data["sign_in"] == InviteForm.SIGN_IN_LINK:
        return user_invite(**common)
    return user_create(password=data["password"], **common)


@page(role=Role.CLIENT_ADMIN)
@require_POST
def user_role(request: PageRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    form = RoleForm(request.POST, actor=request.principal)
    if not form.is_valid():
        messages.error(request, f"Choose one of the roles offered for {person.email}.")
        return redirect("settings_web:users")
    person = user_update(
        user=person,
        role=form.cleaned_data["role"],
        actor=request.principal,
        context=RequestContext.from_request(request),
    )
    if person.pk == request.user.pk:
        # A new role ends the person's sign-ins; an admin changing their own keeps this one.
        update_session_auth_hash(request, person)
    messages.success(request, f"{person.email} is now {person.get_role_display()}.")
    return redirect("settings_web:users")


@page(role=Role.CLIENT_ADMIN)
@require_POST
def user_deactivate(request: PageRequest, pk: int) -> HttpResponse:
    return _set_active(request, pk, active=False)


@page(role=Role.CLIENT_ADMIN)
@require_POST
def user_reactivate(request: PageRequest, pk: int) -> HttpResponse:
    return _set_active(request, pk, active=True)


def _set_active(request: PageRequest, pk: int, *, active: bool) -> HttpResponse:
    person = user_update(
        user=_person(request, pk),
        is_active=active,
        actor=request.principal,
        context=RequestContext.from_request(request),
    )
    if active:
        messages.success(request, f"{person.email} can sign in again.")
    else:
        messages.success(request, f"{person.email} is deactivated: signed out everywhere and can no longer sign in.")
    return redirect("settings_web:users")
