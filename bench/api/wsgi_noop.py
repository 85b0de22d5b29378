"""WSGI entry point of the bare no-op (settings_noop): `gunicorn bench.api.wsgi_noop:application`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.api.settings_noop"

application = get_wsgi_application()
