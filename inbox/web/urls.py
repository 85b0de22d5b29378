"""Inbox pages under /inbox/: the list, a conversation, and the regions and actions of a thread.

The project mounts them in the `inbox_web` namespace together with the actions apps above the inbox
add to a thread (handoff's `<pk>/handoff`): see skybot_inbox/urls.py."""

from django.urls import path

from inbox.web import views

app_name = "inbox_web"

urlpatterns = [
    path("", views.conversations, name="conversations"),
    path("<int:pk>/", views.conversation_detail, name="conversation"),
    path("<int:pk>/messages", views.conversation_messages, name="messages"),
    path("<int:pk>/composer", views.conversation_composer, name="composer"),
    path("<int:pk>/controls", views.conversation_controls, name="controls"),
    path("<int:pk>/messages/<int:message_id>/media", views.message_media, name="media"),
    path("<int:pk>/reply", views.reply, name="reply"),
    path("<int:pk>/status", views.change_status, name="status"),
    path("<int:pk>/priority", views.change_priority, name="priority"),
    path("<int:pk>/assign", views.assign, name="assign"),
    path("<int:pk>/labels", views.change_labels, name="labels"),
    path("<int:pk>/read", views.mark_read, name="read"),
    path("<int:pk>/contact", views.edit_contact, name="contact"),
    path("<int:pk>/lead", views.save_lead, name="lead"),
]
