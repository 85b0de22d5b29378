"""The FAQ answerer through the SDK's FakeContext, as the platform would run it."""

from pathlib import Path
from typing import Any

import pytest
from skybot_plugin_sdk import AgentOutput
from skybot_plugin_sdk.testing import FakeContext, Refused, run_execute

PLUGIN_DIR = Path(__file__).resolve().parents[1]
FAQS = [
    {
        "question": "What are your opening hours?",
        "answer": "We are open Monday to Friday, 9:00 to 18:00.",
        "keywords": ["horario"],
    },
    {"question": "How do I get a refund?", "answer": "Send us your order number.", "keywords": ["reembolso"]},
]


def context(**config: Any) -> FakeContext:
    return FakeContext.for_plugin(PLUGIN_DIR, config={"faqs": FAQS, **config})


def action_types(output: AgentOutput) -> list[str]:
    return [action.type for action in output.actions]


@pytest.mark.parametrize(
    ("message", "answer"),
    [
        ("What are your opening hours?", "Monday to Friday"),  # the question itself
        ("when do you open?", "Monday to Friday"),  # other words
        ("Qual o horário de vocês?", "Monday to Friday"),  # a keyword, with an accent
        ("how do i get a refnd", "order number"),  # a typo
        ("REEMBOLSO!!!", "order number"),
    ],
)
def test_a_matching_question_is_answered(message: str, answer: str) -> None:
    output = run_execute(PLUGIN_DIR, message, context=context())
    assert answer in str(output.response)
    assert output.actions == []
    assert output.metadata["score"] >= 0.5


@pytest.mark.parametrize(
    "message",
    [
        "Can I talk to a human?",
        "I want to speak to a person",
        "Quero falar com um atendente",
        "Quiero hablar con un agente",
        "Je veux parler à un conseiller",
    ],
)
def test_asking_for_a_person_hands_over(message: str) -> None:
    output = run_execute(PLUGIN_DIR, message, context=context())
    assert action_types(output) == ["handoff"]
    assert output.actions[0].params["reason"] == "the customer asked for a person"
    assert "a person from our team" in str(output.response)


def test_paying_in_person_is_not_asking_for_one() -> None:
    output = run_execute(PLUGIN_DIR, "Can I get a refund in person?", context=context())
    assert action_types(output) == []


def test_nothing_matching_hands_over_with_the_configured_message() -> None:
    output = run_execute(PLUGIN_DIR, "Is the blue sweater wool?", context=context(handoff_message="One moment!"))
    assert output.response == "One moment!"
    assert output.actions[0].params["reason"] == "no question matched"


def test_a_higher_min_score_answers_less() -> None:
    assert action_types(run_execute(PLUGIN_DIR, "when do you open?", context=context(min_score=1.0))) == ["handoff"]


def test_an_empty_message_hands_over() -> None:
    assert action_types(run_execute(PLUGIN_DIR, "  ", context=context())) == ["handoff"]


def test_answers_are_counted_in_storage() -> None:
    ctx = context()
    run_execute(PLUGIN_DIR, "when do you open?", context=ctx)
    run_execute(PLUGIN_DIR, "when do you open?", context=ctx)
    run_execute(PLUGIN_DIR, "I want a human", context=ctx)
    assert ctx.storage.get("stats") == {
        "answered": 2,
        "handed_over": 1,
        "questions": {"What are your opening hours?": 2},
    }


def test_a_full_storage_does_not_stop_the_answer() -> None:
    ctx = FakeContext.for_plugin(PLUGIN_DIR, config={"faqs": FAQS}, storage_limit=10)
    output = run_execute(PLUGIN_DIR, "when do you open?", context=ctx)
    assert "Monday" in str(output.response)
    assert any(line.startswith("WARNING counts not kept") for line in ctx.log_lines)


def test_the_config_must_have_faqs() -> None:
    with pytest.raises(Refused, match="faqs"):
        run_execute(PLUGIN_DIR, "hi", config={})


def test_without_messages_send_the_answer_is_refused() -> None:
    ctx = FakeContext(config={"faqs": FAQS}, permissions=["conversations:write", "storage"])
    with pytest.raises(Refused, match="messages:send"):
        run_execute(PLUGIN_DIR, "when do you open?", context=ctx)
