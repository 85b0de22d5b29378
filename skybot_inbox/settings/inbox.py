"""Inbox: WhatsApp Cloud API defaults, the Graph API endpoint, and the n8n master router."""

from __future__ import annotations

from skybot_inbox.settings import env as config

WHATSAPP_APP_SECRET = config.WHATSAPP_APP_SECRET
WHATSAPP_VERIFY_TOKEN = config.WHATSAPP_VERIFY_TOKEN
GRAPH_API_BASE_URL = config.GRAPH_API_BASE_URL
GRAPH_API_TIMEOUT = config.GRAPH_API_TIMEOUT
N8N_MASTER_ROUTER_URL = config.N8N_MASTER_ROUTER_URL
N8N_MASTER_ROUTER_NAME = config.N8N_MASTER_ROUTER_NAME
N8N_MASTER_ROUTER_SECRET = config.N8N_MASTER_ROUTER_SECRET
# Free text may only be sent within this window after the customer's last message.
CUSTOMER_SERVICE_WINDOW_HOURS = 24
# The inbox search collects every matching conversation when there are at most this many, and
# otherwise reads the list in its order testing each conversation's words (inbox.selectors).
INBOX_SEARCH_COLLECT_MAX = 1000
