"""Prometheus metrics of the inbox."""

from prometheus_client import Counter

unknown_number_deliveries = Counter(
    "skybot_whatsapp_unknown_number_deliveries_total",
    "WhatsApp webhook deliveries naming a phone_number_id no channel has (acknowledged and ignored).",
)
