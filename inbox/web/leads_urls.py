"""Leads pages under /leads/: the table, its CSV export, and a lead's form."""

from django.urls import path

from inbox.web import leads

app_name = "leads_web"

urlpatterns = [
    path("", leads.lead_list, name="list"),
    path("export.csv", leads.lead_export, name="export"),
    path("new", leads.lead_new, name="new"),
    path("<int:pk>/", leads.lead_edit, name="edit"),
]
