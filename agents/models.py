"""AI agents: templates, a tenant's agents deployed as workflows on the SkyBot runner, the
executions the runner reports back, and report exports."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q

from accounts.models import Account, User
from agents import histogram
from core.models import TimeStampedModel


class AgentCategory(models.TextChoices):
    SALES = "SALES", "Sales"
    SUPPORT = "SUPPORT", "Support"
    INTELLIGENCE = "INTELLIGENCE", "Intelligence"
    FINANCE = "FINANCE", "Finance"
    HR = "HR", "HR"
    CUSTOM = "CUSTOM", "Custom"


class AgentRuntime(models.TextChoices):
    """Where an agent's work runs."""

    RUNNER = "runner", "SkyBot runner"  # a workflow deployed on the external runner
    PLUGIN = "plugin", "Plugin"  # an installed plugin the platform runs in its sandbox


class AgentTemplate(TimeStampedModel):
    """A kind of agent tenants can create; `config_schema` (JSON Schema) validates its config.

    Catalogue templates (`account` empty) are offered to every tenant. A tenant's own template
    (`account` set) is made by an app above this one — installing a plugin makes one — and only
    that tenant sees it."""

    key = models.SlugField(max_length=64)
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, null=True, blank=True, related_name="+", help_text="Only this tenant's."
    )
    runtime = models.CharField(max_length=16, choices=AgentRuntime.choices, default=AgentRuntime.RUNNER)
    name = models.CharField(max_length=100)
    category = models.CharField(max_length=16, choices=AgentCategory.choices)
    description = models.TextField(blank=True)
    config_schema = models.JSONField(default=dict)
    workflow = models.JSONField(default=dict, blank=True, help_text="Workflow definition sent to the runner.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["category", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=Q(account__isnull=True), name="agent_template_catalogue_key_unique"
            ),
            models.UniqueConstraint(
                fields=["account", "key"], condition=Q(account__isnull=False), name="agent_template_tenant_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AgentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    DEPLOYING = "deploying", "Deploying"
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    FAILED = "failed", "Failed"
    DELETED = "deleted", "Deleted"


class Agent(TimeStampedModel):
    """A tenant's agent: a workflow deployed on the SkyBot runner, or an installed plugin the
    platform runs itself (its template's `runtime` says which)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="agents")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=16, choices=AgentCategory.choices)
    template = models.ForeignKey(AgentTemplate, on_delete=models.PROTECT, related_name="agents")
    config = models.JSONField(default=dict, blank=True)
    channels = models.ManyToManyField("inbox.Channel", blank=True, related_name="agents")
    status = models.CharField(max_length=16, choices=AgentStatus.choices, default=AgentStatus.DRAFT)
    skybot_workflow_id = models.CharField(max_length=128, blank=True)
    # Sent with every deploy of this agent, so a retried or duplicated job never creates a second
    # workflow on the runner.
    deploy_key = models.UUIDField(default=uuid.uuid4, editable=False)
    deployed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    reply_timeout_seconds = models.PositiveIntegerField(
        default=120, help_text="Hand the conversation to the team when the agent has not answered by then."
    )
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-created_at", "-id"], name="agent_account_created_idx"),
            models.Index(fields=["account", "status"], name="agent_account_status_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class ExecutionStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class AgentExecution(models.Model):
    """One run of an agent's workflow, as the runner reported it."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="executions")
    external_id = models.CharField(max_length=128, help_text="The runner's execution id.")
    status = models.CharField(max_length=16, choices=ExecutionStatus.choices, default=ExecutionStatus.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    input_summary = models.TextField(blank=True)
    output_summary = models.TextField(blank=True)
    error = models.TextField(blank=True)
    log = models.TextField(
        blank=True, db_default="", help_text="Lines the agent logged during the run (plugin agents)."
    )
    conversation = models.ForeignKey(
        "inbox.Conversation", on_delete=models.SET_NULL, null=True, blank=True, related_name="agent_executions"
    )
    message = models.ForeignKey("inbox.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "external_id"], name="execution_unique_external_id_per_agent"),
            models.CheckConstraint(
                name="execution_finished_has_time",
                condition=Q(status="running") | Q(finished_at__isnull=False),
            ),
        ]
        indexes = [
            # Analytics scan executions by time for one agent or a whole tenant; carrying status and
            # duration in the index lets PostgreSQL answer from the index alone.
            models.Index(
                fields=["agent", "started_at"], include=["status", "duration_ms"], name="execution_agent_time_idx"
            ),
            models.Index(
                fields=["account", "started_at"], include=["status", "duration_ms"], name="execution_account_time_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id}/{self.external_id} ({self.status})"


class CountsField(models.Field):
    """A fixed-length list of counts: `integer[]` on PostgreSQL (summed element by element in SQL),
    a JSON array elsewhere (read with `json_extract`)."""

    description = "List of counts"

    def db_type(self, connection: BaseDatabaseWrapper) -> str:
        return "integer[]" if connection.vendor == "postgresql" else "text"

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> list[int] | None:
        return json.loads(value) if isinstance(value, str) else value

    def to_python(self, value: Any) -> list[int] | None:
        return json.loads(value) if isinstance(value, str) else value

    def get_prep_value(self, value: Any) -> Any:
        return None if value is None else [int(count) for count in value]

    def get_db_prep_value(self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        value = value if prepared else self.get_prep_value(value)
        if value is None or connection.vendor == "postgresql":
            return value
        return json.dumps(value, separators=(",", ":"))


class HourlyCounts(models.Model):
    """Executions started in one hour (UTC): counts by status and a duration histogram.
    `duration_bins[i]` counts the durations in bin `i` of `agents.histogram`, `duration_groups[g]`
    the sum of bins `16g..16g+15`."""

    hour = models.DateTimeField(help_text="Start of the hour (UTC) the executions started in.")
    succeeded = models.IntegerField(default=0)
    failed = models.IntegerField(default=0)
    running = models.IntegerField(default=0)
    duration_groups = CountsField(default=histogram.empty_groups)
    duration_bins = CountsField(default=histogram.empty_bins)

    class Meta:
        abstract = True

    @property
    def total(self) -> int:
        return self.succeeded + self.failed + self.running


class AgentExecutionHourly(HourlyCounts):
    """One agent's executions started in one hour.

    Written by the execution writer in the transaction that changes an execution (an atomic
    increment, so concurrent writers never lose a count) and rebuilt from the executions by
    `manage.py rebuild_execution_rollup`. The analytics read it instead of the executions.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+", db_index=False)
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        constraints = [
            # The upsert's conflict target; also serves one agent's range queries.
            models.UniqueConstraint(fields=["agent", "hour"], name="execution_hourly_agent_hour_unique"),
        ]
        indexes = [
            models.Index(fields=["account", "hour"], name="execution_hourly_account_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.hour:%Y-%m-%d %H}:00"


class AccountExecutionHourly(HourlyCounts):
    """All of one tenant's executions started in one hour: the sum of its agents'
    `AgentExecutionHourly` rows of that hour, kept beside them by the same writer and rebuilt with
    them, so a tenant's analytics read one row per hour instead of one per agent and hour."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        constraints = [
            # The upsert's conflict target; also serves the range queries.
            models.UniqueConstraint(fields=["account", "hour"], name="execution_hourly_account_hour_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.hour:%Y-%m-%d %H}:00"


class RunnerEvent(models.Model):
    """A runner webhook event we applied, by its id: redeliveries are recognised and ignored."""

    event_id = models.CharField(max_length=128, unique=True)
    type = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class ReportKind(models.TextChoices):
    AGENT_EXECUTIONS = "agent_executions", "Agent executions"
    CONVERSATIONS = "conversations", "Conversations"


class ReportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class Report(TimeStampedModel):
    """A CSV export written by a background job; the requester is emailed when it is ready."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="reports")
    requested_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=32, choices=ReportKind.choices)
    agent = models.ForeignKey(
        Agent,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reports",
        help_text="An agent executions report of this agent only; empty: of every agent of the tenant.",
    )
    date_from = models.DateTimeField()
    date_to = models.DateTimeField()
    status = models.CharField(max_length=16, choices=ReportStatus.choices, default=ReportStatus.PENDING)
    file = models.FileField(upload_to="reports/%Y/%m/", blank=True)
    rows = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} report {self.pk} ({self.status})"
