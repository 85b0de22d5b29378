"""Report exports: ask for a CSV, follow its status, download it when ready."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import FileResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.apis.base import TenantApi
from accounts.models import Role
from accounts.services.audit import RequestContext
from agents.apis import examples
from agents.models import Agent, Report, ReportKind, ReportStatus
from agents.services.reports import report_download_url, report_request
from core.exceptions import Conflict
from core.openapi import error_response, error_responses
from core.serializers import InputSerializer

MAX_REPORT_RANGE = timedelta(days=366)


class ReportSerializer(serializers.ModelSerializer[Report]):
    download_url = serializers.SerializerMethodField(help_text="Set once the report is ready.")

    class Meta:
        model = Report
        fields = [
            "id",
            "kind",
            "agent",
            "status",
            "date_from",
            "date_to",
            "rows",
            "error",
            "created_at",
            "finished_at",
            "download_url",
        ]
        read_only_fields = fields
        ref_name = "Report"

    def get_download_url(self, report: Report) -> str | None:
        return report_download_url(report) if report.status == ReportStatus.READY else None


class ReportCreateApi(TenantApi):
    required_roles = {"POST": Role.USER}

    class ReportRequestInput(InputSerializer):
        kind = serializers.ChoiceField(choices=ReportKind.choices)
        date_from = serializers.DateTimeField(help_text="Inclusive.")
        date_to = serializers.DateTimeField(help_text="Exclusive; at most 366 days after `date_from`.")
        format = serializers.ChoiceField(choices=["csv"], required=False, default="csv")
        account = serializers.IntegerField(required=False, help_text="Platform staff only: the tenant to export.")
        agent = serializers.IntegerField(
            required=False,
            min_value=1,
            help_text="With `agent_executions`: only this agent's executions (left out: every agent's).",
        )

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if attrs["date_from"] >= attrs["date_to"]:
                raise serializers.ValidationError({"date_from": ["Must be before `date_to`."]})
            if "agent" in attrs and attrs["kind"] != ReportKind.AGENT_EXECUTIONS:
                raise serializers.ValidationError({"agent": ["Only with the kind agent_executions."]})
            if attrs["date_to"] - attrs["date_from"] > MAX_REPORT_RANGE:
                raise serializers.ValidationError({"date_to": ["A report covers at most 366 days."]})
            return attrs

    @extend_schema(
        operation_id="reports_create",
        summary="Ask for a CSV export",
        description=(
            "Answers 202 at once; a background job writes the file, and the requester gets an email "
            "with the download link when it is ready. Poll `GET /api/v1/reports/{id}` for `status`."
        ),
        request=ReportRequestInput,
        examples=examples.REPORT_CREATE,
        responses={
            202: ReportSerializer,
            **error_responses(400, field_errors={"date_to": ["A report covers at most 366 days."]}),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.validated(self.ReportRequestInput, request)
        account = self.account_for_create(data.get("account"))
        agent = None
        if "agent" in data:
            agent = Agent.objects.filter(pk=data["agent"], account=account).first()
            if agent is None:
                raise serializers.ValidationError({"agent": ["No such agent."]})
        report = report_request(
            account=account,
            agent=agent,
            kind=data["kind"],
            date_from=data["date_from"],
            date_to=data["date_to"],
            actor=self.principal,
            context=RequestContext.from_request(request),
        )
        report.refresh_from_db()  # the job may have run already (eager mode)
        return Response(ReportSerializer(report).data, status=status.HTTP_202_ACCEPTED)


class ReportDetailApi(TenantApi):
    @extend_schema(
        operation_id="reports_retrieve",
        summary="A report's status and download link",
        examples=examples.REPORT_DETAIL,
        responses={200: ReportSerializer, **error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(ReportSerializer(self.get_scoped_object(Report.objects.all(), pk=pk)).data)


class ReportDownloadApi(TenantApi):
    @extend_schema(
        operation_id="reports_download",
        summary="Download a ready report (CSV)",
        examples=examples.REPORT_DOWNLOAD,
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="The CSV file."),
            **error_responses(404),
            409: error_response(
                409,
                "The report is not ready yet; `details.status` says where it is.",
                code="report_not_ready",
                message="The report is not ready yet.",
                details={"status": "running"},
            ),
        },
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        report = self.get_scoped_object(Report.objects.all(), pk=pk)
        if report.status != ReportStatus.READY or not report.file:
            raise Conflict("The report is not ready yet.", code="report_not_ready", details={"status": report.status})
        filename = f"{report.kind}-{report.date_from:%Y%m%d}-{report.date_to:%Y%m%d}.csv"
        return FileResponse(report.file.open("rb"), as_attachment=True, filename=filename, content_type="text/csv")


urlpatterns = [
    path("reports", ReportCreateApi.as_view(), name="report-create"),
    path("reports/<int:pk>", ReportDetailApi.as_view(), name="report-detail"),
    path("reports/<int:pk>/download", ReportDownloadApi.as_view(), name="report-download"),
]
