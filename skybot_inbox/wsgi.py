"""WSGI entry point: production HTTP is served by gunicorn sync workers (see README)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skybot_inbox.settings.base")

application = get_wsgi_application()
