"""Your profile (every role): who you are signed in as, and the time zone you read times in; and the
workspace's time zone, its people's default (Settings, CLIENT_ADMIN)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.models import Role
from accounts.services.audit import RequestContext
from accounts.services.profile import NOT_A_TIME_ZONE, user_time_zone_set
from accounts.web.common import show_service_error
from accounts.web.forms import SettingsForm
from accounts.web.pages import PageRequest, page
from core.exceptions import ApplicationError
from core.timezones import time_zone_names


class TimeZoneForm(SettingsForm):
    time_zone = forms.ChoiceField(
        label="Time zone",
        required=False,
        error_messages={"invalid_choice": NOT_A_TIME_ZONE},
        help_text="Every date and time on these pages is shown in it. Exports and the API stay in UTC.",
    )

    def __init__(self, *args: Any, empty_label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["time_zone"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", empty_label), *((name, name.replace("_", " ")) for name in time_zone_names())]


@page(role=Role.VIEWER)
@require_http_methods(["GET", "POST"])
def profile(request: PageRequest) -> HttpResponse:
    user = request.principal.user
    assert user is not None  # page() gives people a person's principal
    workspace_zone = request.account.shown_time_zone
    form = TimeZoneForm(
        request.POST or None, initial={"time_zone": user.time_zone}, empty_label=f"The workspace’s: {workspace_zone}"
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                user_time_zone_set(
                    user=user,
                    time_zone=form.cleaned_data["time_zone"],
                    actor=request.principal,
                    context=RequestContext.from_request(request),
                )
            except ApplicationError as error:
                if not show_service_error(form, error):
                    raise
                status = error.status_code
            else:
                messages.success(request, "Saved: times are now shown in your chosen time zone.")
                return redirect("profile")
    context = {
        "form": form,
        "person": user,
        "zone_now": timezone.localtime(),
        "zone_name": timezone.get_current_timezone_name(),
    }
    return render(request, "accounts/profile.html", context, status=status)
