"""`/webhooks/skybot`: signature, replay window, idempotent redelivery, tenant checks, workflow
status changes (handoffs and agent replies: handoff/tests/test_runner_webhook.py)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import AuditLog
from agents.models import AgentExecution, AgentStatus, ExecutionStatus, RunnerEvent
from agents.tests.factories import AgentFactory
from agents.tests.runner_events import SECRET, event, execution_event, post, sign
from inbox.models import ConversationStatus
from inbox.tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _runner_secret(settings: Any) -> None:
    settings.SKYBOT_WEBHOOK_SECRET = SECRET


@pytest.fixture
def agent(account):
    return AgentFactory(account=account, status=AgentStatus.ACTIVE, skybot_workflow_id="wf_acme_1")


@pytest.fixture
def other_agent(other_account):
    return AgentFactory(account=other_account, status=AgentStatus.ACTIVE, skybot_workflow_id="wf_globex_1")


@pytest.fixture
def held_conversation(agent):
    """A conversation the agent holds, with the customer waiting on its answer."""
    now = timezone.now()
    return ConversationFactory(
        account=agent.account,
        agent=agent,
        status=ConversationStatus.PENDING,
        last_inbound_at=now,
        awaiting_agent_since=now,
    )


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """POST a signed event and run what it queued after commit."""

    def run(payload: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return post(payload, **kwargs)

    return run


@pytest.fixture
def graph(httpserver, settings):
    settings.GRAPH_API_BASE_URL = httpserver.url_for("/v21.0")
    return httpserver


def warm_up() -> None:
    """One request first, so threads do not race to create the HTTP middleware's metrics."""
    post(b"{}", headers={})


def assert_nothing_stored() -> None:
    assert not RunnerEvent.objects.exists()
    assert not AgentExecution.objects.exists()


# --- authentication -----------------------------------------------------------------------------


def test_signed_event_is_applied(agent, deliver):
    # given a correctly signed execution event
    payload = execution_event(
        agent,
        "execution.succeeded",
        started_at="2025-01-01T12:00:00Z",
        finished_at="2025-01-01T12:00:02.500Z",
        input_summary="Where is my order?",
        output_summary="It ships today.",
    )

    # when the runner posts it
    response = deliver(payload)

    # then the execution is stored, with its duration computed
    assert response.status_code == 200
    assert response.json() == {"status": "processed", "id": payload["id"]}
    execution = AgentExecution.objects.get()
    assert (execution.agent, execution.account_id, execution.external_id) == (agent, agent.account_id, "exe_1")
    assert (execution.status, execution.duration_ms) == (ExecutionStatus.SUCCEEDED, 2500)
    assert (execution.input_summary, execution.output_summary) == ("Where is my order?", "It ships today.")
    assert RunnerEvent.objects.get().event_id == payload["id"]


def test_bad_signature_is_refused_and_nothing_stored(agent):
    response = post(execution_event(agent), signature="sha256=" + "0" * 64)

    assert response.status_code == 401
    assert response.json()["code"] == "signature_invalid"
    assert_nothing_stored()


def test_signature_with_non_ascii_characters_is_refused(agent):
    # when the signature header holds a character outside ASCII (headers arrive as latin-1)
    response = post(execution_event(agent), signature="sha256=\u00e9" + "0" * 63)

    # then it is refused like any wrong signature, not a 500 from the constant-time comparison
    assert response.status_code == 401
    assert response.json()["code"] == "signature_invalid"
    assert_nothing_stored()


def test_signature_with_another_secret_is_refused(agent):
    response = post(execution_event(agent), secret="not-the-secret")

    assert response.status_code == 401
    assert_nothing_stored()


def test_signature_over_another_body_is_refused(agent):
    # given a signature made for a different body (e.g. a tampered payload)
    timestamp = int(time.time())
    signature = sign(json.dumps(execution_event(agent, execution_id="exe_other")).encode(), timestamp=timestamp)

    response = post(execution_event(agent), timestamp=timestamp, signature=signature)

    assert response.status_code == 401
    assert_nothing_stored()


@pytest.mark.parametrize("missing", ["HTTP_X_SKYBOT_SIGNATURE", "HTTP_X_SKYBOT_TIMESTAMP"])
def test_missing_signature_headers_are_refused(agent, missing):
    body = json.dumps(execution_event(agent)).encode()
    timestamp = int(time.time())
    headers = {"HTTP_X_SKYBOT_TIMESTAMP": str(timestamp), "HTTP_X_SKYBOT_SIGNATURE": sign(body, timestamp=timestamp)}
    del headers[missing]

    response = post(body, headers=headers)

    assert response.status_code == 401
    assert response.json()["code"] == "signature_missing"
    assert_nothing_stored()


def test_no_configured_secret_refuses_everything(agent, settings):
    settings.SKYBOT_WEBHOOK_SECRET = ""

    response = post(execution_event(agent), secret="")

    assert response.status_code == 401
    assert_nothing_stored()


@pytest.mark.parametrize("offset", [-301, 301])
def test_replayed_or_future_timestamp_is_refused(agent, offset):
    # given a correctly signed event whose timestamp is outside the 5-minute window
    response = post(execution_event(agent), timestamp=int(time.time()) + offset)

    assert response.status_code == 401
    assert response.json()["code"] == "timestamp_expired"
    assert_nothing_stored()


def test_timestamp_inside_the_window_is_accepted(agent, deliver):
    response = deliver(execution_event(agent), timestamp=int(time.time()) - 290)

    assert response.status_code == 200


def test_only_post_is_allowed(agent):
    from django.test import Client

    assert Client().get("/webhooks/skybot").status_code == 405


# --- shape ----------------------------------------------------------------------------------------


def test_malformed_json_is_400_and_nothing_stored():
    response = post(b'{"id": "evt_1", "type": ')

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"
    assert_nothing_stored()


def test_json_nested_too_deep_to_decode_is_400_and_nothing_stored():
    # when a signed body nests arrays deeper than the JSON decoder can recurse
    response = post(b"[" * 100_000)

    # then it is malformed JSON, not a 500 from the decoder's RecursionError
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"
    assert_nothing_stored()


@pytest.mark.parametrize(
    "payload",
    [
        [1, 2, 3],
        {"type": "execution.started", "data": {}},
        {"id": "evt_x", "type": "execution.started", "data": "nope"},
    ],
)
def test_not_an_event_is_400(payload):
    response = post(payload)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_event"
    assert_nothing_stored()


def test_invalid_execution_data_is_400_and_can_be_resent(agent, deliver):
    # given an execution event without its execution id
    payload = execution_event(agent)
    del payload["data"]["execution_id"]

    response = deliver(payload)

    # then it is refused, names the field, and the event id is not burnt
    assert response.status_code == 400
    assert "execution_id" in response.json()["details"]
    assert_nothing_stored()
    payload["data"]["execution_id"] = "exe_1"
    assert deliver(payload).status_code == 200
    assert AgentExecution.objects.count() == 1


def test_unknown_event_type_is_accepted_recorded_and_ignored(agent, deliver):
    payload = event("workflow.renamed", {"workflow_id": agent.skybot_workflow_id})

    response = deliver(payload)

    assert response.status_code == 202
    assert response.json()["status"] == "ignored"
    assert RunnerEvent.objects.get().type == "workflow.renamed"
    assert not AgentExecution.objects.exists()


# --- idempotency ------------------------------------------------------------------------------


def test_redelivery_answers_200_and_changes_nothing(agent, deliver):
    # given an event already applied
    first = execution_event(agent, "execution.started", event_id="evt_same", input_summary="hi")
    assert deliver(first).status_code == 200

    # when the runner delivers the same event id again (even with a different body)
    again = execution_event(agent, "execution.failed", event_id="evt_same", error="boom")
    response = deliver(again)

    # then it answers 200 and nothing changed
    assert response.status_code == 200
    assert response.json()["status"] == "duplicate"
    execution = AgentExecution.objects.get()
    assert (execution.status, execution.error) == (ExecutionStatus.RUNNING, "")
    assert RunnerEvent.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_redeliveries_apply_once(account):
    # given one event delivered twice at the same moment (two server processes)
    agent = AgentFactory(account=account, status=AgentStatus.ACTIVE, skybot_workflow_id="wf_race")
    payload = execution_event(agent, "execution.succeeded", event_id="evt_race", finished_at="2025-01-01T12:00:01Z")
    answers: list[dict[str, Any]] = []
    barrier = threading.Barrier(2)

    def deliver_once() -> None:
        try:
            barrier.wait(timeout=5)
            answers.append(post(payload).json())
        finally:
            connection.close()

    # when both are processed concurrently
    warm_up()
    threads = [threading.Thread(target=deliver_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then exactly one applied it and the other saw a duplicate
    assert sorted(answer["status"] for answer in answers) == ["duplicate", "processed"]
    assert AgentExecution.objects.count() == 1
    assert RunnerEvent.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_started_and_finished_arriving_together_make_one_finished_execution(account):
    # given the "started" and "succeeded" events of one execution delivered at the same moment
    agent = AgentFactory(account=account, status=AgentStatus.ACTIVE, skybot_workflow_id="wf_race_2")
    events = [
        execution_event(agent, "execution.started", started_at="2025-01-01T12:00:00Z"),
        execution_event(agent, "execution.succeeded", finished_at="2025-01-01T12:00:04Z"),
    ]
    codes: list[int] = []
    barrier = threading.Barrier(2)

    def deliver_once(payload: dict[str, Any]) -> None:
        try:
            barrier.wait(timeout=5)
            codes.append(post(payload).status_code)
        finally:
            connection.close()

    warm_up()
    threads = [threading.Thread(target=deliver_once, args=(payload,)) for payload in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then both are applied to one row, which ends succeeded whatever the order
    assert codes == [200, 200]
    execution = AgentExecution.objects.get()
    assert execution.status == ExecutionStatus.SUCCEEDED
    assert execution.duration_ms == 4000


# --- tenant checks ----------------------------------------------------------------------------


def test_execution_naming_another_tenants_agent_is_refused(agent, other_agent, deliver):
    # given an event for our workflow that names another tenant's agent
    payload = execution_event(agent)
    payload["data"]["agent_id"] = other_agent.pk

    response = deliver(payload)

    # then it is refused with 422 and nothing is stored for either tenant
    assert response.status_code == 422
    assert response.json()["code"] == "unknown_agent"
    assert_nothing_stored()


def test_execution_for_unknown_workflow_is_refused(agent, deliver):
    response = deliver(execution_event(agent, workflow_id="wf_nobody"))

    assert response.status_code == 422
    assert_nothing_stored()


def test_another_tenants_conversation_and_message_are_not_linked(agent, other_account, deliver):
    # given a conversation and message of another tenant
    foreign = MessageFactory(conversation=ConversationFactory(account=other_account))

    response = deliver(execution_event(agent, conversation_id=foreign.conversation_id, message_id=foreign.pk))

    # then the execution is stored without them
    assert response.status_code == 200
    execution = AgentExecution.objects.get()
    assert (execution.conversation_id, execution.message_id) == (None, None)


def test_own_message_links_its_conversation(agent, held_conversation, deliver):
    inbound = MessageFactory(conversation=held_conversation)

    deliver(execution_event(agent, "execution.started", message_id=inbound.pk))

    execution = AgentExecution.objects.get()
    assert (execution.message, execution.conversation) == (inbound, held_conversation)


# --- workflow status --------------------------------------------------------------------------


def test_workflow_failure_marks_the_agent_failed_with_the_error(agent, deliver):
    payload = event(
        "workflow.status_changed",
        {"agent_id": agent.pk, "workflow_id": agent.skybot_workflow_id, "status": "failed", "error": "Bad token"},
    )

    response = deliver(payload)

    assert response.status_code == 200
    agent.refresh_from_db()
    assert (agent.status, agent.last_error) == (AgentStatus.FAILED, "Bad token")
    audit = AuditLog.objects.get(action="agent.runner_status")
    assert (audit.target_id, audit.metadata["from"], audit.metadata["to"]) == (str(agent.pk), "active", "failed")


def test_workflow_paused_on_the_runner_makes_the_agent_inactive(agent, deliver):
    payload = event(
        "workflow.status_changed", {"agent_id": agent.pk, "workflow_id": agent.skybot_workflow_id, "status": "inactive"}
    )

    assert deliver(payload).status_code == 200

    agent.refresh_from_db()
    assert agent.status == AgentStatus.INACTIVE


def test_workflow_status_for_a_deleted_agent_changes_nothing(agent, deliver):
    agent.status = AgentStatus.DELETED
    agent.save()
    payload = event(
        "workflow.status_changed", {"agent_id": agent.pk, "workflow_id": agent.skybot_workflow_id, "status": "active"}
    )

    response = deliver(payload)

    assert response.status_code == 200
    agent.refresh_from_db()
    assert agent.status == AgentStatus.DELETED
    assert not AuditLog.objects.filter(action="agent.runner_status").exists()


def test_workflow_status_during_a_deployment_is_left_to_the_deploy_job(agent, deliver):
    agent.status = AgentStatus.DEPLOYING
    agent.save()
    payload = event(
        "workflow.status_changed", {"agent_id": agent.pk, "workflow_id": agent.skybot_workflow_id, "status": "active"}
    )

    assert deliver(payload).status_code == 200

    agent.refresh_from_db()
    assert agent.status == AgentStatus.DEPLOYING


def test_workflow_status_must_be_known(agent, deliver):
    payload = event(
        "workflow.status_changed", {"agent_id": agent.pk, "workflow_id": agent.skybot_workflow_id, "status": "melted"}
    )

    assert deliver(payload).status_code == 400
    agent.refresh_from_db()
    assert agent.status == AgentStatus.ACTIVE


@pytest.mark.parametrize("timestamp", [10**300, -5])
def test_a_signed_but_absurd_timestamp_is_a_401_not_a_crash(agent, timestamp):
    # given an event signed correctly for a timestamp no clock produces
    response = post(execution_event(agent), timestamp=timestamp)

    assert response.status_code == 401
    assert response.json()["code"] == "timestamp_invalid"
    assert_nothing_stored()
