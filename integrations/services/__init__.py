"""Writes of the integrations domain: `webhooks` (endpoints), `outbox` (events → deliveries),
`delivery` (sending), `idempotency` and `zapier` (actions)."""
