"""Celery tasks: deploy."""
