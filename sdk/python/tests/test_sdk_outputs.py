"""output_problems: what the platform refuses in a plugin's answer, each action's permission included."""

from typing import Any

import pytest
from skybot_plugin_sdk import ACTION_PERMISSIONS, Action, AgentOutput
from skybot_plugin_sdk.outputs import output_problems

ALL = ["messages:send", "leads:write", "contacts:write", "conversations:write"]


def problems(output: Any, permissions: list[str] = ALL) -> list[str]:
    return output_problems(output, permissions=permissions)


def test_a_good_answer_has_no_problem() -> None:
    output = AgentOutput(
        response="Hi!",
        actions=[
            Action.update_lead(score=80, status="qualified", metadata={"source": "faq"}),
            Action.update_lead(12, name="Ana", email="ana@example.com", company="Acme"),
            Action.update_contact(name="Ana", attributes={"vip": True}),
            Action.add_label("vip"),
            Action.set_priority("high"),
            Action.handoff("asked for a person"),
        ],
        metadata={"score": 80},
    )
    assert problems(output) == []
    assert problems(output.to_dict()) == []
    assert problems(AgentOutput()) == []  # nothing to say is fine
    assert problems(AgentOutput(response=""), permissions=[]) == []


@pytest.mark.parametrize(
    ("action", "permission"),
    [
        (Action.update_lead(score=1), "leads:write"),
        (Action.update_contact(name="A"), "contacts:write"),
        (Action.add_label("x"), "conversations:write"),
        (Action.set_priority("low"), "conversations:write"),
        (Action.handoff(), "conversations:write"),
    ],
)
def test_each_action_needs_its_permission(action: Action, permission: str) -> None:
    assert ACTION_PERMISSIONS[action.type] == permission
    others = [p for p in ALL if p != permission]
    found = problems(AgentOutput(actions=[action]), permissions=others)
    assert found == [
        f"actions[0] ({action.type}): needs the {permission} permission, which the manifest does not ask for."
    ]
    assert problems(AgentOutput(actions=[action]), permissions=[permission]) == []


def test_a_response_needs_messages_send() -> None:
    assert problems(AgentOutput(response="Hi"), permissions=["leads:write"]) == [
        "response: answering the customer needs the messages:send permission."
    ]


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ([], "The answer must be an AgentOutput (got list)."),
        ({"response": 5}, "response: must be text or None (got int)."),
        ({"response": "x" * 4097}, "response: at most 4096 characters (got 4097)."),
        ({"surprise": 1}, "surprise: unknown field in the answer"),
        ({"actions": {}}, "actions: must be a list (got dict)."),
        ({"actions": [{"type": "label"}] * 21}, "actions: at most 20 (got 21)."),
        ({"actions": ["handoff"]}, "actions[0]: must be an Action (got str)."),
        ({"actions": [{"type": "delete_everything"}]}, "actions[0]: 'delete_everything' is not an action"),
        ({"actions": [{"type": "handoff", "params": [], "x": 1}]}, "actions[0] (handoff): unknown field 'x'."),
        ({"actions": [{"type": "handoff", "params": []}]}, "actions[0] (handoff): params must be an object."),
        ({"actions": [Action.update_lead(score=101).to_dict()]}, "score must be an integer from 0 to 100 (got 101)"),
        ({"actions": [Action.update_lead(score=True).to_dict()]}, "score must be an integer from 0 to 100"),
        ({"actions": [Action.update_lead(score="9").to_dict()]}, "score must be an integer from 0 to 100"),
        ({"actions": [Action.update_lead(status="hot").to_dict()]}, "status 'hot' is not one of new, qualified"),
        ({"actions": [Action.update_lead(phone="1").to_dict()]}, "fields: 'phone' is not allowed"),
        ({"actions": [Action.update_lead().to_dict()]}, "fields must be an object naming at least one field"),
        ({"actions": [{"type": "update_lead", "params": {"lead_id": "7", "fields": {"score": 1}}}]}, "lead_id must be"),
        ({"actions": [Action.update_lead(metadata=[]).to_dict()]}, "metadata must be an object"),
        ({"actions": [Action.update_lead(name="x" * 201).to_dict()]}, "name must be at most 200 characters"),
        ({"actions": [Action.update_contact(phone="1").to_dict()]}, "fields: 'phone' is not allowed"),
        ({"actions": [Action.update_contact(attributes="vip").to_dict()]}, "attributes must be an object"),
        ({"actions": [Action.update_contact(email=5).to_dict()]}, "email must be text"),
        ({"actions": [Action.add_label("").to_dict()]}, "label must be text of 1 to 50 characters"),
        ({"actions": [Action.add_label("x" * 51).to_dict()]}, "label must be text of 1 to 50 characters"),
        ({"actions": [Action.set_priority("asap").to_dict()]}, "priority 'asap' is not one of low, normal"),
        ({"actions": [Action.handoff("x" * 501).to_dict()]}, "reason must be at most 500 characters"),
        ({"metadata": [1]}, "metadata: must be an object (got list)."),
        ({"metadata": {"x": float("nan")}}, "The answer is not plain JSON"),
        ({"metadata": {"x": object()}}, "The answer is not plain JSON"),
    ],
)
def test_each_refusal_is_explained(output: Any, expected: str) -> None:
    found = problems(output)
    assert any(expected in problem for problem in found), found


def test_every_problem_is_listed() -> None:
    output = {"response": 1, "actions": [Action.set_priority("asap").to_dict(), {"type": "x"}], "metadata": []}
    assert len(problems(output, permissions=[])) == 5
