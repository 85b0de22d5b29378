"""Lead scorer: scores the customer who writes from 0 to 100 and qualifies them past a threshold.

The score adds up signals found in the message and the customer's recent messages (buying words,
a budget, urgency, a question about price), how complete their contact is, and how engaged they are.
It only changes the lead; it never answers the customer.
"""

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from skybot_plugin_sdk import Action, AgentInput, AgentOutput, AgentPlugin, PluginContext

DEFAULT_THRESHOLD = 70
BASE_SCORE = 10

# Phrases are matched on whole words, without accents or case, in English, Portuguese and Spanish.
BUYING_WORDS = (
    "buy", "purchase", "order", "quote", "proposal", "contract", "sign up", "subscribe", "demo", "trial",
    "comprar", "compra", "pedido", "proposta", "contrato", "assinar", "contratar", "cotacao",
    "cotizacion", "suscribir",
)  # fmt: skip
PRICE_WORDS = (
    "price", "pricing", "cost", "how much", "fee", "plan", "plans",
    "preco", "quanto custa", "quanto e", "valor", "precio", "cuanto cuesta", "cuanto vale",
)  # fmt: skip
BUDGET_WORDS = ("budget", "orcamento", "verba", "presupuesto")
URGENCY_WORDS = (
    "urgent", "asap", "today", "right now", "this week", "immediately",
    "urgente", "hoje", "agora", "esta semana", "hoy", "ahora", "inmediato",
)  # fmt: skip
MONEY = re.compile(
    r"(?:[$€£]|\br\$|\busd\b|\beur\b|\bbrl\b)\s*\d|\d[\d.,]*\s*(?:k\b|mil\b|usd\b|eur\b|reais\b|dolares\b)"
)

POINTS = {"buying": 25, "price": 15, "budget": 15, "urgency": 15, "email": 10, "name": 5}
ENGAGEMENT_POINTS, ENGAGEMENT_MAX = 5, 15
KEEP_STATUS = ("qualified", "won", "lost")  # never moved back, nor out of a closed deal


def normalise(text: str) -> str:
    """Lowercase, without accents, words separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.findall(r"[a-z0-9$€£.,]+", plain))


def mentions(text: str, phrases: Iterable[str]) -> list[str]:
    """The phrases found in `text` (both normalised) as whole words."""
    return [
        phrase for phrase in phrases if re.search(rf"(?<![a-z0-9]){re.escape(normalise(phrase))}(?![a-z0-9])", text)
    ]


@dataclass(frozen=True)
class Score:
    value: int
    signals: list[str]


def score_lead(
    texts: list[str], contact: Mapping[str, Any] | None, earlier_inbound: int, extra_buying_words: Iterable[str] = ()
) -> Score:
    """The score of a customer from what they wrote (`texts`), their contact and how many messages
    they sent before."""
    text = normalise(" ".join(texts))
    signals: list[str] = []
    if mentions(text, (*BUYING_WORDS, *extra_buying_words)):
        signals.append("buying")
    if mentions(text, PRICE_WORDS):
        signals.append("price")
    if mentions(text, BUDGET_WORDS) or MONEY.search(text):
        signals.append("budget")
    if mentions(text, URGENCY_WORDS):
        signals.append("urgency")
    if contact and contact.get("email"):
        signals.append("email")
    if contact and contact.get("name"):
        signals.append("name")
    engagement = min(earlier_inbound * ENGAGEMENT_POINTS, ENGAGEMENT_MAX)
    if engagement:
        signals.append(f"engaged:{earlier_inbound}")
    value = BASE_SCORE + sum(POINTS[signal] for signal in signals if signal in POINTS) + engagement
    return Score(value=min(value, 100), signals=signals)


class LeadScorer(AgentPlugin):
    def execute(self, input: AgentInput, context: PluginContext) -> AgentOutput:
        threshold = int(context.config.get("threshold", DEFAULT_THRESHOLD))
        contact = input.metadata.get("contact")
        recent = input.metadata.get("recent_messages") or []
        earlier = [message["text"] for message in recent if message.get("direction") == "in" and message.get("text")]
        score = score_lead(
            [*earlier, input.message], contact, len(earlier), context.config.get("extra_buying_words", [])
        )

        lead = self._current_lead(contact, context)
        fields: dict[str, Any] = {"score": score.value}
        current_status = lead["status"] if lead else "new"
        if score.value >= threshold and current_status not in KEEP_STATUS:
            fields["status"] = "qualified"
        if lead is None and contact and contact.get("email"):
            fields["email"] = contact["email"]
        context.logger.info(f"score {score.value} ({', '.join(score.signals) or 'no signal'}); threshold {threshold}")
        return AgentOutput(
            actions=[Action.update_lead(lead["id"] if lead else None, **fields)],
            metadata={"score": score.value, "signals": score.signals, "qualified": fields.get("status") == "qualified"},
        )

    @staticmethod
    def _current_lead(contact: Mapping[str, Any] | None, context: PluginContext) -> dict[str, Any] | None:
        """The contact's oldest lead (the one the platform updates), or None: a new one is made."""
        if not contact or contact.get("id") is None:
            return None
        leads = context.leads.for_contact(int(contact["id"]))
        return leads[0] if leads else None
