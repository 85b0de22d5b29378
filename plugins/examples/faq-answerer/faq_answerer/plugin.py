"""FAQ answerer: answers a customer's question from the tenant's list, or hands over to a person.

A message matches a question by shared words (typos forgiven), by overall likeness, or by one of
the question's keywords. No match, or a customer asking for a person, sends a short hand-over line
and gives the conversation to the team. Counts of answered and handed-over messages are kept in storage.
"""

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from skybot_plugin_sdk import Action, AgentInput, AgentOutput, AgentPlugin, PluginContext, StorageFull

DEFAULT_MIN_SCORE = 0.5
DEFAULT_HANDOFF_MESSAGE = "Let me get a person from our team to help you. They will answer here shortly."
STATS_KEY = "stats"
STATS_QUESTION_CHARS = 40  # counts are kept per question, under its first characters

STOPWORDS_BY_LANGUAGE = {
    "en": "a an the is are was do does did i you we my your our to of in on at for with and or it this that can how "
    "what when where which who me be have has please hi hello",
    "pt": "o os as um uma de do da dos das em no na e ou que eu voce meu minha para por com como qual quando onde "
    "oi ola",
    "es": "el la los las un una del en y es que yo mi para por con como cual cuando donde hola",
}
STOPWORDS = frozenset(word for words in STOPWORDS_BY_LANGUAGE.values() for word in words.split())
# Asking for a person, in English, Portuguese, Spanish and French (matched on whole words).
HUMAN_WORDS = (
    "human", "person", "agent", "operator", "representative", "talk to someone", "talk to a", "speak to a",
    "speak with a", "humano", "pessoa", "atendente", "falar com", "persona", "agente", "operador",
    "hablar con", "humain", "conseiller", "parler a",
)  # fmt: skip
NOT_ASKING_FOR_A_PERSON = ("in person", "em pessoa", "en persona", "pessoa fisica", "pessoa juridica")


def normalise(text: str) -> str:
    """Lowercase, without accents or punctuation, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.findall(r"[a-z0-9]+", plain))


def content_words(text: str) -> set[str]:
    return {word for word in normalise(text).split() if len(word) > 1 and word not in STOPWORDS}


def has_phrase(normalised_text: str, phrases: Iterable[str]) -> bool:
    padded = f" {normalised_text} "
    return any(f" {normalise(phrase)} " in padded for phrase in phrases)


def asks_for_a_person(message: str) -> bool:
    text = normalise(message)
    for phrase in NOT_ASKING_FOR_A_PERSON:
        text = f" {text} ".replace(f" {normalise(phrase)} ", " ").strip()
    return has_phrase(text, HUMAN_WORDS)


def match_score(message: str, faq: Mapping[str, Any]) -> float:
    """How well `message` matches `faq`, from 0 to 1: a keyword is a sure match; otherwise the larger
    of the share of the question's words the message has (typos forgiven) and the texts' likeness."""
    text = normalise(message)
    if has_phrase(text, faq.get("keywords") or []):
        return 1.0
    question = str(faq["question"])
    message_words, question_words = content_words(message), content_words(question)
    shared = [word for word in question_words if difflib.get_close_matches(word, message_words, n=1, cutoff=0.8)]
    overlap = len(shared) / len(question_words) if question_words else 0.0
    likeness = difflib.SequenceMatcher(None, text, normalise(question)).ratio()
    return max(overlap, likeness)


@dataclass(frozen=True)
class Match:
    faq: Mapping[str, Any] | None
    score: float


def best_match(message: str, faqs: Iterable[Mapping[str, Any]]) -> Match:
    best = Match(None, 0.0)
    for faq in faqs:
        score = match_score(message, faq)
        if score > best.score:
            best = Match(faq, score)
    return best


class FaqAnswerer(AgentPlugin):
    def execute(self, input: AgentInput, context: PluginContext) -> AgentOutput:
        config = context.config
        if not input.message.strip():
            return self._hand_over(context, "no text to answer (a photo or an audio?)", 0.0)
        if asks_for_a_person(input.message):
            return self._hand_over(context, "the customer asked for a person", 0.0)
        match = best_match(input.message, config.get("faqs") or [])
        min_score = float(config.get("min_score", DEFAULT_MIN_SCORE))
        if match.faq is None or match.score < min_score:
            return self._hand_over(context, "no question matched", match.score)
        question = str(match.faq["question"])
        context.logger.info(f"answered {question!r} (score {match.score:.2f})")
        self._count(context, "answered", question)
        return AgentOutput(
            response=str(match.faq["answer"]), metadata={"faq": question, "score": round(match.score, 2)}
        )

    def _hand_over(self, context: PluginContext, reason: str, score: float) -> AgentOutput:
        context.logger.info(f"handing over: {reason}")
        self._count(context, "handed_over")
        return AgentOutput(
            response=str(context.config.get("handoff_message") or DEFAULT_HANDOFF_MESSAGE),
            actions=[Action.handoff(reason)],
            metadata={"handoff": reason, "best_score": round(score, 2)},
        )

    @staticmethod
    def _count(context: PluginContext, outcome: str, question: str | None = None) -> None:
        """Keep {"answered": n, "handed_over": n, "questions": {question: n}}; a full storage only logs."""
        stats = context.storage.get(STATS_KEY) or {"answered": 0, "handed_over": 0, "questions": {}}
        stats[outcome] = stats.get(outcome, 0) + 1
        if question is not None:
            key = question[:STATS_QUESTION_CHARS]
            stats["questions"][key] = stats["questions"].get(key, 0) + 1
        try:
            context.storage.set(STATS_KEY, stats)
        except StorageFull as exc:
            context.logger.warning(f"counts not kept: {exc.message}")
