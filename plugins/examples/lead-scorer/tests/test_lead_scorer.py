"""The lead scorer through the SDK's FakeContext, as the platform would run it."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from skybot_plugin_sdk import AgentOutput, PermissionDenied
from skybot_plugin_sdk.testing import FakeContext, Refused, run_execute

PLUGIN_DIR = Path(__file__).resolve().parents[1]
ANA = {"id": 7, "name": "Ana Souza", "phone": "+5511999990000", "email": "ana@acme.example", "attributes": {}}
READY_TO_BUY = "Hi! How much is the Pro plan? We have a budget of $5k and need it this week."


def context(**kwargs: Any) -> FakeContext:
    return FakeContext.for_plugin(PLUGIN_DIR, config={"threshold": 70, **kwargs.pop("config", {})}, **kwargs)


def the_update(output: AgentOutput) -> Mapping[str, Any]:
    assert [action.type for action in output.actions] == ["update_lead"]
    return output.actions[0].params


def test_a_ready_buyer_is_scored_high_and_qualified() -> None:
    # given a known contact asking about price, with a budget and a deadline
    # when the plugin runs
    output = run_execute(PLUGIN_DIR, READY_TO_BUY, {"contact": ANA}, context=context())
    # then the lead (made by the platform: no lead yet) is qualified, and nobody is answered
    params = the_update(output)
    assert params["lead_id"] is None
    assert params["fields"]["status"] == "qualified"
    assert params["fields"]["score"] >= 70
    assert params["fields"]["email"] == "ana@acme.example"
    assert output.response is None
    assert set(output.metadata["signals"]) >= {"price", "budget", "urgency", "email", "name"}


def test_a_plain_hello_is_scored_low_and_keeps_its_status() -> None:
    output = run_execute(PLUGIN_DIR, "hello", {"contact": {**ANA, "name": "", "email": ""}}, context=context())
    fields = the_update(output)["fields"]
    assert fields == {"score": 10}


def test_the_threshold_comes_from_the_config() -> None:
    output = run_execute(PLUGIN_DIR, "What is the price?", {"contact": ANA}, context=context(config={"threshold": 30}))
    assert the_update(output)["fields"]["status"] == "qualified"


def test_extra_buying_words_count() -> None:
    plain = run_execute(PLUGIN_DIR, "I want the Skyline bundle", context=context())
    extra = run_execute(
        PLUGIN_DIR, "I want the Skyline bundle", context=context(config={"extra_buying_words": ["skyline"]})
    )
    assert the_update(extra)["fields"]["score"] > the_update(plain)["fields"]["score"]


def test_an_existing_lead_is_updated_and_a_won_deal_keeps_its_status() -> None:
    leads = {31: {"name": "Ana", "status": "won", "score": 90, "contact_id": 7}}
    output = run_execute(PLUGIN_DIR, READY_TO_BUY, {"contact": ANA}, context=context(leads=leads))
    params = the_update(output)
    assert params["lead_id"] == 31
    assert "status" not in params["fields"]


def test_earlier_messages_count_in_another_language() -> None:
    recent = [
        {"direction": "in", "text": "Oi, vocês atendem empresas?", "created_at": "2025-01-06T12:00:00+00:00"},
        {"direction": "out", "text": "Sim!", "created_at": "2025-01-06T12:01:00+00:00"},
        {"direction": "in", "text": "Qual o orçamento mínimo?", "created_at": "2025-01-06T12:02:00+00:00"},
    ]
    output = run_execute(
        PLUGIN_DIR, "Quanto custa? Quero contratar hoje.", {"recent_messages": recent}, context=context()
    )
    signals = output.metadata["signals"]
    assert {"buying", "price", "budget", "urgency", "engaged:2"} <= set(signals)


def test_without_leads_write_the_answer_is_refused() -> None:
    # given an installation that did not grant leads:write (the platform refuses the action)
    ctx = FakeContext(config={"threshold": 70}, permissions=["contacts:read", "conversations:read", "leads:read"])
    with pytest.raises(Refused, match="leads:write"):
        run_execute(PLUGIN_DIR, READY_TO_BUY, {"contact": ANA}, context=ctx)


def test_without_leads_read_looking_up_the_lead_is_denied() -> None:
    ctx = FakeContext(config={"threshold": 70}, permissions=["contacts:read", "leads:write"])
    with pytest.raises(PermissionDenied):
        run_execute(PLUGIN_DIR, READY_TO_BUY, {"contact": ANA}, context=ctx)
