"""Contacts pages under /contacts/: the table and a contact's page."""

from django.urls import path

from inbox.web import contacts

app_name = "contacts_web"

urlpatterns = [
    path("", contacts.contact_list, name="list"),
    path("<int:pk>/", contacts.contact_edit, name="edit"),
]
