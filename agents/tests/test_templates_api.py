"""The agent template catalogue: seeded, one per category at least, listed to every caller."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from accounts.models import Account, User
from agents.models import AgentCategory, AgentTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _runner(settings: Any) -> None:
    """A server with a SkyBot runner: the runner templates are offered."""
    settings.SKYBOT_API_URL = "https://runner.example.com"


def test_without_a_runner_no_runner_template_is_offered(client_for: Any, viewer: User, settings: Any) -> None:
    settings.SKYBOT_API_URL = ""
    templates = client_for(viewer).get("/api/v1/agent-templates").json()
    assert [t for t in templates if t["runtime"] == "runner"] == []


def test_every_category_has_a_seeded_template_with_a_valid_schema(client_for: Any, viewer: User) -> None:
    # given the seeded catalogue
    # when a viewer lists templates
    response = client_for(viewer).get("/api/v1/agent-templates")

    # then every category is there, each with a valid JSON Schema
    assert response.status_code == 200
    templates = response.json()
    assert {t["category"] for t in templates} == set(AgentCategory.values)
    assert set(templates[0]) == {"key", "name", "category", "description", "runtime", "config_schema"}
    for template in templates:
        Draft202012Validator.check_schema(template["config_schema"])
    sales = next(t for t in templates if t["key"] == "sales-assistant")
    assert sales["config_schema"]["properties"]["max_discount_percent"]["maximum"] == 40
    support = next(t for t in templates if t["key"] == "support-agent")
    assert support["config_schema"]["properties"]["escalation_keywords"]["type"] == "array"
    assert support["config_schema"]["properties"]["business_hours"]["type"] == "object"


def test_seeded_templates_carry_a_workflow_skeleton() -> None:
    # given / when the seeded rows
    workflows = list(AgentTemplate.objects.values_list("workflow", flat=True))

    # then each has a trigger and steps ending in a reply
    assert workflows
    for workflow in workflows:
        assert workflow["trigger"] == {"type": "message.inbound"}
        assert workflow["steps"][-1]["type"] == "reply"


def test_inactive_templates_are_not_listed(client_for: Any, viewer: User) -> None:
    # given a switched-off template
    AgentTemplate.objects.filter(key="hr-recruiter").update(is_active=False)

    # when listing
    keys = {t["key"] for t in client_for(viewer).get("/api/v1/agent-templates").json()}

    # then it is not offered
    assert "hr-recruiter" not in keys
    assert "sales-assistant" in keys


def test_api_keys_with_read_scope_may_list(key_client_for: Any, account: Account) -> None:
    response = key_client_for(account, ["read"]).get("/api/v1/agent-templates")
    assert response.status_code == 200


def test_anonymous_callers_are_refused(api_client: Any) -> None:
    response = api_client.get("/api/v1/agent-templates")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_templates_are_read_only(client_for: Any, client_admin: User) -> None:
    response = client_for(client_admin).post("/api/v1/agent-templates", {}, format="json")
    assert response.status_code in (403, 405)
    assert AgentTemplate.objects.count() == 6


def test_listing_templates_takes_constant_queries(
    client_for: Any, viewer: User, django_assert_num_queries: Any
) -> None:
    client = client_for(viewer)
    with django_assert_num_queries(2):
        assert client.get("/api/v1/agent-templates").status_code == 200
