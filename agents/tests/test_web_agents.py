"""The agents pages: the list, creating an agent from a template through the generated form, editing
it, and the lifecycle buttons of an agent's page, with the API's role and tenant rules."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Account, AuditLog, User
from agents.models import Agent, AgentStatus, AgentTemplate
from agents.tests.factories import AgentExecutionFactory, AgentFactory
from agents.tests.fake_runner import FakeRunner
from core.tests.html import assert_no_inline_code
from inbox.tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _runner_configured(settings: Any) -> None:
    """Runner templates are offered only when a runner is configured (tests that deploy use `runner`)."""
    settings.SKYBOT_API_URL = "http://127.0.0.1:9"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def field_error(page: str, field: str, message: str) -> bool:
    """Whether `page` shows `message` under the field, in the list its control's aria-describedby names."""
    shown = rf'id="id_{field}_errors"><ul class="errorlist" id="id_{field}_error"><li>{message}'
    return re.search(shown, page) is not None


def html(response: Any) -> str:
    return response.content.decode()


def template(key: str) -> AgentTemplate:
    return AgentTemplate.objects.get(key=key)


def sales_form(**overrides: str) -> dict[str, str]:
    """What a person fills in on the Sales assistant form."""
    return {
        "name": "Shoe seller",
        "description": "Sells shoes",
        "reply_timeout_seconds": "90",
        "config-greeting": "Hi! Looking for shoes?",
        "config-language": "en",
        "config-product_catalog_url": "https://shop.example.com/catalogue.json",
        "config-max_discount_percent": "15",
        "config-currency": "EUR",
        "config-qualifying_questions": "What size?\n\n  What colour?  \n",
        **overrides,
    }


# --- list -------------------------------------------------------------------------------------------


def test_the_list_shows_each_agent_with_template_status_last_execution_and_success_rate(
    account: Account, viewer: User
) -> None:
    # given an active agent with 3 succeeded and 1 failed executions this week, and an older one
    agent = AgentFactory(account=account, name="Support desk", template=template("support-agent"), status="active")
    now = timezone.now()
    for minutes, status in ((50, "succeeded"), (40, "succeeded"), (30, "failed"), (20, "succeeded")):
        AgentExecutionFactory(agent=agent, status=status, started_at=now - timedelta(minutes=minutes))
    AgentExecutionFactory(agent=agent, status="failed", started_at=now - timedelta(days=20))
    AgentFactory(account=account, name="Idle draft", template=template("sales-assistant"))

    # when a viewer opens the list
    response = signed_in(viewer).get("/agents/")

    # then each agent is listed with its template and status; the success rate counts this week's
    assert response.status_code == 200
    assert_no_inline_code(response)
    page = html(response)
    row = re.search(rf'<tr data-agent="{agent.pk}">(.*?)</tr>', page, re.S)
    assert row is not None
    assert "Support desk" in row[1]
    assert "Customer support" in row[1]
    assert '<span class="badge active">Active</span>' in row[1]
    assert "75%" in row[1]
    assert "4 finished" in row[1]
    assert '<span class="badge succeeded">Succeeded</span>' in row[1]  # the latest execution
    assert "Idle draft" in page
    assert "None yet" in page
    # and a viewer is offered no way to create one
    assert "Create an agent" not in page
    assert "data-live-events" not in page or "skybot:agent.status" in page
    assert "skybot:agent.status from:body" in page


def test_an_empty_list_points_an_admin_to_creating_an_agent(client_admin: User, viewer: User) -> None:
    admin_page = html(signed_in(client_admin).get("/agents/"))
    assert "No agents yet" in admin_page
    assert 'href="/agents/new/"' in admin_page

    viewer_page = html(signed_in(viewer).get("/agents/"))
    assert "No agents yet" in viewer_page
    assert "Ask an admin" in viewer_page
    assert 'href="/agents/new/"' not in viewer_page


def test_the_list_shows_no_agent_of_another_tenant_and_no_deleted_one(
    account: Account, other_account: Account, viewer: User
) -> None:
    AgentFactory(account=other_account, name="Globex bot")
    AgentFactory(account=account, name="Gone bot", status=AgentStatus.DELETED)
    AgentFactory(account=account, name="Acme bot")

    page = html(signed_in(viewer).get("/agents/"))

    assert "Acme bot" in page
    assert "Globex bot" not in page
    assert "Gone bot" not in page


def test_the_list_filters_by_status_and_refuses_an_unknown_one(account: Account, viewer: User) -> None:
    AgentFactory(account=account, name="Running bot", status=AgentStatus.ACTIVE)
    AgentFactory(account=account, name="Paused bot", status=AgentStatus.INACTIVE)
    client = signed_in(viewer)

    page = html(client.get("/agents/", {"status": "inactive"}))
    assert "Paused bot" in page
    assert "Running bot" not in page

    partial = client.get("/agents/", {"status": "active"}, **HTMX)
    assert "Running bot" in html(partial)
    assert "<html" not in html(partial)

    bad = client.get("/agents/", {"status": "sleeping"})
    assert bad.status_code == 400
    assert "Select a valid choice" in html(bad)


def test_the_list_query_count_does_not_grow_with_agents(
    account: Account, viewer: User, django_assert_num_queries: Any
) -> None:
    client = signed_in(viewer)
    client.get("/agents/")  # session and user loaded once

    def fill(count: int) -> None:
        for _ in range(count):
            agent = AgentFactory(account=account, status=AgentStatus.ACTIVE)
            AgentExecutionFactory.create_batch(2, agent=agent)

    fill(2)
    # ...the page's agents with their latest execution, then their week's outcomes from the roll-up
    with django_assert_num_queries(7) as few:
        assert client.get("/agents/").status_code == 200
    fill(10)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get("/agents/")
    assert html(response).count("<tr data-agent=") == 12


# --- create -----------------------------------------------------------------------------------------


def test_the_catalogue_offers_every_active_template_to_an_admin(client_admin: User) -> None:
    AgentTemplate.objects.filter(key="hr-recruiter").update(is_active=False)

    response = signed_in(client_admin).get("/agents/new/")

    assert response.status_code == 200
    assert_no_inline_code(response)
    page = html(response)
    assert 'href="/agents/new/sales-assistant/"' in page
    assert "Customer support" in page
    assert "/agents/new/hr-recruiter/" not in page


def test_without_a_runner_the_catalogue_offers_plugin_templates_and_says_why_runner_ones_are_missing(
    client_admin: User, account: Account, settings: Any
) -> None:
    # given a server with no SkyBot runner, and a plugin the tenant installed
    settings.SKYBOT_API_URL = ""
    AgentTemplate.objects.create(
        key="faq-plugin", account=account, runtime="plugin", name="FAQ answerer", category="SUPPORT"
    )
    runner_templates = AgentTemplate.objects.filter(account__isnull=True, is_active=True, runtime="runner").count()
    client = signed_in(client_admin)

    # when an admin opens the catalogue
    page = html(client.get("/agents/new/"))

    # then only the plugin is offered, and the page says how many runner templates are left out and why
    assert 'href="/agents/new/faq-plugin/"' in page
    assert "/agents/new/sales-assistant/" not in page
    assert f"{runner_templates} templates run on the SkyBot runner, which this server has not configured" in page
    assert "SKYBOT_API_URL" in page
    # and a runner template's form is not offered either, while the plugin's is
    assert client.get("/agents/new/sales-assistant/").status_code == 404
    assert client.post("/agents/new/sales-assistant/", sales_form()).status_code == 404
    assert not Agent.objects.filter(name="Shoe seller").exists()
    assert client.get("/agents/new/faq-plugin/").status_code == 200


@pytest.mark.parametrize("path", ["/agents/new/", "/agents/new/sales-assistant/"])
def test_a_user_or_viewer_may_not_open_the_create_pages(path: str, member: User, viewer: User) -> None:
    assert signed_in(member).get(path).status_code == 403
    assert signed_in(viewer).get(path).status_code == 403


def test_the_form_is_generated_from_the_templates_json_schema(client_admin: User) -> None:
    client = signed_in(client_admin)

    # when an admin opens the Sales assistant's form
    response = client.get("/agents/new/sales-assistant/")

    # then each schema property is a labelled control of its type, required ones marked, defaults filled
    assert response.status_code == 200
    assert_no_inline_code(response)
    page = html(response)
    assert re.search(r'<textarea name="config-greeting"[^>]*maxlength="500" required', page)  # long text
    assert "First message to a new contact." in page  # the description as help text
    assert re.search(r'<input type="url" name="config-product_catalog_url"[^>]*required', page)
    assert re.search(
        r'<input type="number" name="config-max_discount_percent" value="0"[^>]*min="0"[^>]*max="40"', page
    )
    assert re.search(r'<input type="text" name="config-currency" value="USD"', page)
    assert re.search(r'<textarea name="config-qualifying_questions"', page)
    assert "One per line." in page
    assert re.search(
        r'<label for="id_config-greeting">Greeting</label> <span class="req" aria-hidden="true">\(required\)', page
    )
    assert "Product catalog URL" in page

    # and the other shapes: boolean, enum, array of enums, nested object, array of objects
    page = html(client.get("/agents/new/market-intelligence/"))
    assert re.search(r'<input type="checkbox" name="config-sentiment_analysis"[^>]*checked', page)
    assert re.search(r'<option value="weekly" selected>weekly</option>', page)
    page = html(client.get("/agents/new/support-agent/"))
    assert "<legend>Business hours" in page
    assert re.search(r'<input type="checkbox" name="config-business_hours__days" value="mon"', page)
    assert "human\nagent\ncomplaint" in page  # an array's default, one per line
    page = html(client.get("/agents/new/hr-recruiter/"))
    assert re.search(r'<textarea name="config-open_positions"', page)
    assert 'Written as JSON, for example [{"title": "…", "location": "…", "remote": false}]' in unescape(page)
    # required fields first, in the schema's `required` order, then the others by name
    names = re.findall(r'name="config-([a-z_]+)"', page)
    assert list(dict.fromkeys(names)) == [
        "greeting",
        "company_name",
        "open_positions",
        "collect_fields",
        "interview_booking_url",
        "language",
    ]
    assert re.search(r'<input type="checkbox" name="config-collect_fields" value="cv_url"[^>]*checked', page)


def test_an_unknown_or_switched_off_template_is_404(client_admin: User) -> None:
    AgentTemplate.objects.filter(key="hr-recruiter").update(is_active=False)
    client = signed_in(client_admin)
    assert client.get("/agents/new/no-such-template/").status_code == 404
    assert client.post("/agents/new/hr-recruiter/", {"name": "x"}).status_code == 404


def test_submitting_the_form_creates_the_agent_and_deploys_it(
    client_admin: User, account: Account, runner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given the SkyBot runner and a channel of the tenant
    fake = FakeRunner(runner)
    channel = ChannelFactory(account=account)

    # when an admin fills in the Sales assistant form
    client = signed_in(client_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/agents/new/sales-assistant/", sales_form(channels=str(channel.pk)))

    # then the agent exists with the typed configuration, and its workflow was deployed
    agent = Agent.objects.get(account=account, name="Shoe seller")
    assert response.status_code == 302
    assert response["Location"] == f"/agents/{agent.pk}/"
    assert agent.config == {
        "greeting": "Hi! Looking for shoes?",
        "language": "en",
        "product_catalog_url": "https://shop.example.com/catalogue.json",
        "max_discount_percent": 15,
        "currency": "EUR",
        "qualifying_questions": ["What size?", "What colour?"],
    }
    assert (agent.description, agent.reply_timeout_seconds) == ("Sells shoes", 90)
    assert list(agent.channels.all()) == [channel]
    assert agent.created_by == client_admin
    assert fake.created == 1
    assert fake.definitions["wf-1"]["config"] == agent.config
    agent.refresh_from_db()
    assert (agent.status, agent.skybot_workflow_id) == (AgentStatus.ACTIVE, "wf-1")
    # and the agent's page says so
    page = html(client.get(response["Location"]))
    assert "Agent “Shoe seller” created. Its deployment to the runner has started." in page


def test_the_schemas_verdict_is_shown_next_to_each_field_and_nothing_is_created(
    client_admin: User, runner: Any
) -> None:
    fake = FakeRunner(runner)

    # when the discount is above the template's maximum and the catalogue is not a web address
    response = signed_in(client_admin).post(
        "/agents/new/sales-assistant/",
        sales_form(**{"config-max_discount_percent": "90", "config-product_catalog_url": "ftp://files"}),
    )

    # then 400, the form again with what was typed and jsonschema's message under each field
    assert response.status_code == 400
    assert_no_inline_code(response)
    page = html(response)
    assert "Please correct the errors below." in page
    assert field_error(page, "config-max_discount_percent", "Max discount percent must be at most 40.")
    assert field_error(page, "config-product_catalog_url", "Write a web address that starts with http:// or https://.")
    assert 'value="Shoe seller"' in page
    assert not Agent.objects.exists()
    assert fake.requests() == []


def test_missing_required_fields_and_bad_numbers_are_caught_before_the_service(client_admin: User) -> None:
    response = signed_in(client_admin).post(
        "/agents/new/sales-assistant/",
        sales_form(name="", **{"config-greeting": "  ", "config-max_discount_percent": "ten"}),
    )

    assert response.status_code == 400
    page = html(response)
    assert field_error(page, "name", "This field is required.")
    assert field_error(page, "config-greeting", "This field is required.")
    assert field_error(page, "config-max_discount_percent", "Enter a whole number.")
    assert not Agent.objects.exists()


def test_a_partly_filled_group_and_bad_json_are_errors_on_their_fields(client_admin: User) -> None:
    client = signed_in(client_admin)

    # a support agent whose business hours miss the closing time
    response = client.post(
        "/agents/new/support-agent/",
        {
            "name": "Helper",
            "reply_timeout_seconds": "120",
            "config-greeting": "Hello",
            "config-business_hours__timezone": "Europe/Lisbon",
            "config-business_hours__days": ["mon", "tue"],
            "config-business_hours__open": "09:00",
        },
    )
    assert response.status_code == 400
    assert field_error(html(response), "config-business_hours__close", "Closes at is required.")

    # a recruiter whose open positions are not JSON
    response = client.post(
        "/agents/new/hr-recruiter/",
        {
            "name": "Recruiter",
            "reply_timeout_seconds": "120",
            "config-greeting": "Hi",
            "config-company_name": "Acme",
            "config-open_positions": "[{title: Cook}]",
        },
    )
    assert response.status_code == 400
    assert field_error(html(response), "config-open_positions", "Enter valid JSON.")
    assert not Agent.objects.exists()


def test_a_nested_group_and_json_list_are_sent_as_the_schema_expects(
    client_admin: User, account: Account, runner: Any
) -> None:
    FakeRunner(runner)
    client = signed_in(client_admin)

    client.post(
        "/agents/new/hr-recruiter/",
        {
            "name": "Recruiter",
            "reply_timeout_seconds": "120",
            "config-greeting": "Hi",
            "config-company_name": "Acme",
            "config-open_positions": '[{"title": "Cook", "remote": false}]',
            "config-collect_fields": ["name", "email"],
        },
    )
    client.post(
        "/agents/new/market-intelligence/",
        {
            "name": "Listener",
            "reply_timeout_seconds": "120",
            "config-topics": "price\ndelivery",
            "config-digest_frequency": "daily",
        },
    )

    assert Agent.objects.get(name="Recruiter").config == {
        "greeting": "Hi",
        "company_name": "Acme",
        "open_positions": [{"title": "Cook", "remote": False}],
        "collect_fields": ["name", "email"],
    }
    # an unticked box is false
    assert Agent.objects.get(name="Listener").config == {
        "topics": ["price", "delivery"],
        "sentiment_analysis": False,
        "digest_frequency": "daily",
    }


def test_a_user_may_not_create_an_agent_whatever_the_page_shows(member: User) -> None:
    response = signed_in(member).post("/agents/new/sales-assistant/", sales_form())

    assert response.status_code == 403
    assert not Agent.objects.exists()


def test_creating_is_limited_like_the_api(client_admin: User, runner: Any, settings: Any) -> None:
    FakeRunner(runner)
    settings.AGENT_CREATE_RATE = "1/m"
    client = signed_in(client_admin)
    client.post("/agents/new/sales-assistant/", sales_form(name="First"))

    response = client.post("/agents/new/sales-assistant/", sales_form(name="Second"), follow=True)

    assert "Too many agents created" in html(response)
    assert list(Agent.objects.values_list("name", flat=True)) == ["First"]


# --- edit -------------------------------------------------------------------------------------------


def test_editing_the_configuration_redeploys_the_agent(
    account: Account, client_admin: User, runner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    fake = FakeRunner(runner)
    fake.add_workflow("wf-old")
    agent = AgentFactory(
        account=account,
        template=template("custom-agent"),
        config={"system_prompt": "Be kind and brief.", "temperature": 0.3},
        status=AgentStatus.ACTIVE,
        skybot_workflow_id="wf-old",
    )
    client = signed_in(client_admin)
    form = html(client.get(f"/agents/{agent.pk}/edit/"))
    assert "Be kind and brief." in form
    assert 'value="0.3"' in form

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/agents/{agent.pk}/edit/",
            {
                "name": agent.name,
                "reply_timeout_seconds": "120",
                "config-system_prompt": "Be kind, brief and funny.",
                "config-temperature": "0.5",
            },
        )

    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.config == {"system_prompt": "Be kind, brief and funny.", "temperature": 0.5}
    assert (agent.status, agent.skybot_workflow_id) == (AgentStatus.ACTIVE, "wf-1")
    assert fake.deleted == ["wf-old"]


def test_an_invalid_edit_changes_nothing(account: Account, client_admin: User, member: User) -> None:
    agent = AgentFactory(account=account, template=template("custom-agent"), config={"system_prompt": "Be kind."})
    body = {"name": agent.name, "reply_timeout_seconds": "120", "config-system_prompt": "short"}

    response = signed_in(client_admin).post(f"/agents/{agent.pk}/edit/", body)
    assert response.status_code == 400
    assert "System prompt must be at least 10 characters long." in html(response)
    assert (
        signed_in(member)
        .post(f"/agents/{agent.pk}/edit/", {**body, "config-system_prompt": "Long enough!"})
        .status_code
        == 403
    )

    agent.refresh_from_db()
    assert agent.config == {"system_prompt": "Be kind."}


# --- an agent's page: status and lifecycle -----------------------------------------------------------


def test_the_agent_page_shows_status_and_configuration_to_a_viewer_without_controls(
    account: Account, viewer: User
) -> None:
    agent = AgentFactory(
        account=account,
        name="Support desk",
        template=template("support-agent"),
        config={"greeting": "Hello!", "escalation_keywords": ["human", "refund"], "business_hours": {"open": "09:00"}},
        status=AgentStatus.ACTIVE,
        skybot_workflow_id="wf-9",
    )

    response = signed_in(viewer).get(f"/agents/{agent.pk}/")

    assert response.status_code == 200
    assert_no_inline_code(response)
    page = html(response)
    assert '<span class="badge big active" id="agent-status-badge">Active</span>' in page
    assert "wf-9" in page
    assert "<dt>Escalation keywords</dt><dd>human, refund</dd>" in page
    assert "<dt>Business hours</dt><dd>Open: 09:00</dd>" in page
    assert f'data-live-events="agent.status" data-live-agent="{agent.pk}"' in page
    for control in ("Deactivate", "Redeploy", ">Delete<", "Edit configuration", "Export executions"):
        assert control not in page


@pytest.mark.parametrize(
    ("status", "offered", "not_offered"),
    [
        (AgentStatus.DRAFT, ["Deploy", "Delete"], ["Activate", "Deactivate", "Redeploy"]),
        (AgentStatus.DEPLOYING, ["Delete"], ["Activate", "Deactivate", "Deploy"]),
        (AgentStatus.ACTIVE, ["Redeploy", "Deactivate", "Delete"], ["Activate"]),
        (AgentStatus.INACTIVE, ["Redeploy", "Activate", "Delete"], ["Deactivate"]),
        (AgentStatus.FAILED, ["Redeploy", "Delete"], ["Activate", "Deactivate"]),
    ],
)
def test_an_admin_is_offered_only_the_transitions_the_status_allows(
    status: str, offered: list[str], not_offered: list[str], account: Account, client_admin: User
) -> None:
    agent = AgentFactory(account=account, status=status, last_error="Runner said no" if status == "failed" else "")

    page = html(signed_in(client_admin).get(f"/agents/{agent.pk}/status/", **HTMX))

    buttons = re.findall(r'<button type="submit"[^>]*>([^<]+)</button>', page)
    for label in offered:
        assert label in buttons
    for label in not_offered:
        assert label not in buttons
    if status == "failed":
        assert "Runner said no" in page


def test_another_tenants_or_a_deleted_agent_is_404_on_every_page(
    account: Account, other_account: Account, client_admin: User
) -> None:
    foreign = AgentFactory(account=other_account)
    deleted = AgentFactory(account=account, status=AgentStatus.DELETED)
    client = signed_in(client_admin)
    for agent in (foreign, deleted):
        for path in ("", "status/", "executions/", "analytics/", "edit/"):
            assert client.get(f"/agents/{agent.pk}/{path}").status_code == 404, path
        assert client.post(f"/agents/{agent.pk}/deactivate/").status_code == 404
        assert client.post(f"/agents/{agent.pk}/delete/").status_code == 404
    assert client.get("/agents/99999999999999999999/").status_code == 404
    # a live part of an open page whose agent was deleted meanwhile says so in a notice
    gone = client.get(f"/agents/{deleted.pk}/status/", **HTMX)
    assert (gone.status_code, gone["HX-Retarget"]) == (404, "#toasts")
    assert "This agent does not exist (any more)." in html(gone)
    foreign.refresh_from_db()
    assert foreign.status == AgentStatus.DRAFT


def test_deactivating_from_the_page_asks_the_runner_and_answers_the_new_status(
    account: Account, client_admin: User, runner: Any
) -> None:
    fake = FakeRunner(runner)
    fake.add_workflow("wf-1", "active")
    agent = AgentFactory(account=account, status=AgentStatus.ACTIVE, skybot_workflow_id="wf-1")

    response = signed_in(client_admin).post(f"/agents/{agent.pk}/deactivate/", **HTMX)

    assert response.status_code == 200
    page = html(response)
    assert '<span class="badge big inactive" id="agent-status-badge">Inactive</span>' in page
    assert ">Activate</button>" in page
    assert fake.status["wf-1"] == "inactive"
    agent.refresh_from_db()
    assert agent.status == AgentStatus.INACTIVE
    assert AuditLog.objects.filter(action="agent.deactivated", actor_user=client_admin).exists()


def test_a_transition_the_status_no_longer_allows_is_a_409_notice(
    account: Account, client_admin: User, runner: Any
) -> None:
    fake = FakeRunner(runner)
    agent = AgentFactory(account=account, status=AgentStatus.ACTIVE, skybot_workflow_id="wf-1")

    # when the page still offered Activate but the agent is active meanwhile
    response = signed_in(client_admin).post(f"/agents/{agent.pk}/activate/", **HTMX)

    # then a notice in the toast area, the runner untouched, nothing changed
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#toasts"
    assert "An agent cannot go from active to active." in html(response)
    assert fake.requests() == []
    agent.refresh_from_db()
    assert agent.status == AgentStatus.ACTIVE


def test_without_a_runner_an_action_says_so_and_changes_nothing(
    account: Account, client_admin: User, settings: Any
) -> None:
    settings.SKYBOT_API_URL = ""
    agent = AgentFactory(account=account, status=AgentStatus.ACTIVE, skybot_workflow_id="wf-1")
    client = signed_in(client_admin)

    response = client.post(f"/agents/{agent.pk}/deactivate/", HTTP_REFERER=f"http://testserver/agents/{agent.pk}/")

    assert response.status_code == 302
    page = html(client.get(response["Location"]))
    assert "The SkyBot runner is not configured" in page
    agent.refresh_from_db()
    assert agent.status == AgentStatus.ACTIVE


def test_a_user_or_viewer_may_not_change_an_agent(account: Account, member: User, viewer: User) -> None:
    agent = AgentFactory(account=account, status=AgentStatus.DRAFT)
    for user in (member, viewer):
        client = signed_in(user)
        assert client.post(f"/agents/{agent.pk}/deploy/").status_code == 403
        assert client.post(f"/agents/{agent.pk}/delete/").status_code == 403
    agent.refresh_from_db()
    assert agent.status == AgentStatus.DRAFT


def test_an_unknown_action_is_404_and_a_get_changes_nothing(account: Account, client_admin: User) -> None:
    agent = AgentFactory(account=account, status=AgentStatus.DRAFT)
    client = signed_in(client_admin)
    assert client.post(f"/agents/{agent.pk}/explode/").status_code == 404
    assert client.get(f"/agents/{agent.pk}/deploy/").status_code == 405
    agent.refresh_from_db()
    assert agent.status == AgentStatus.DRAFT


def test_deploying_a_draft_and_deleting_an_agent(
    account: Account, client_admin: User, runner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    fake = FakeRunner(runner)
    agent = AgentFactory(account=account, name="Trial bot", status=AgentStatus.DRAFT)
    client = signed_in(client_admin)

    with django_capture_on_commit_callbacks(execute=True):
        deployed = client.post(f"/agents/{agent.pk}/deploy/")
    assert deployed.status_code == 302
    agent.refresh_from_db()
    assert agent.status == AgentStatus.ACTIVE

    deleted = client.post(f"/agents/{agent.pk}/delete/", follow=True)

    assert deleted.redirect_chain == [("/agents/", 302)]
    assert "Agent “Trial bot” deleted." in html(deleted)
    assert fake.deleted == [agent.skybot_workflow_id]
    agent.refresh_from_db()
    assert agent.status == AgentStatus.DELETED
