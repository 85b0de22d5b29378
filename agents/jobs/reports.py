"""Celery tasks: write report exports."""

from __future__ import annotations

from celery import shared_task

from agents.models import Report

__all__ = ["generate_report"]


@shared_task(acks_late=True)
def generate_report(report_id: int) -> None:
    """Write a requested report's CSV and email the requester; a second run does nothing."""
    from agents.services.reports import report_generate

    report = Report.objects.select_related("requested_by").filter(pk=report_id).first()
    if report is None:
        return
    report_generate(report=report)
