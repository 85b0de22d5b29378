"""Forms of the hand-off action on an inbox thread."""

from __future__ import annotations

from django import forms

from inbox.web.forms import Form


class HandoffForm(Form):
    reason = forms.CharField(required=False, max_length=500)
