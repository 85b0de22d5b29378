"""WSGI entry point: production HTTP is served by gunicorn sync workers (see README).

WhatsApp notifications (`POST /webhooks/whatsapp`) take a fast path that skips Django's middleware;
every other request is Django's (inbox/fastpath.py explains why).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skybot_inbox.settings.base")

django_application = get_wsgi_application()

from inbox.fastpath import WhatsAppWebhookFastPath  # noqa: E402 - needs Django set up first

application = WhatsAppWebhookFastPath(django_application)
