"""Celery tasks: handoff."""
