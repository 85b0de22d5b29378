"""Typed client for the SkyBot runner, the n8n-based HTTP API that runs agents as workflows.

The HTTP contract we expect from the runner is in docs/skybot-runner.md. Errors come back as our
own exceptions: `SkyBotUnavailable` when a retry may help (5xx, 408, 429, timeouts, connection
failures), `SkyBotRejected` when it will not (any other 4xx), each with the runner's message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from core.retry import status_is_retryable


class SkyBotError(Exception):
    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


class SkyBotUnavailable(SkyBotError):
    """The runner could not answer now (5xx, 408, 429, timeout, network; `core.retry`); worth retrying."""


class SkyBotRejected(SkyBotError):
    """The runner refused the request (4xx); retrying the same request will not help."""


class SkyBotNotConfigured(SkyBotError):
    """SKYBOT_API_URL is not set."""


def runner_configured() -> bool:
    """Whether this server has a SkyBot runner to deploy runner agents to (SKYBOT_API_URL)."""
    return bool(settings.SKYBOT_API_URL)


@dataclass(frozen=True)
class Workflow:
    id: str
    status: str


@dataclass(frozen=True)
class DispatchedMessage:
    execution_id: str


class SkyBotClient:
    def __init__(self, *, base_url: str | None = None, api_key: str | None = None) -> None:
        self.base_url = (base_url if base_url is not None else settings.SKYBOT_API_URL).rstrip("/")
        if not self.base_url:
            raise SkyBotNotConfigured("SKYBOT_API_URL is not set.")
        key = api_key if api_key is not None else settings.SKYBOT_API_KEY
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {key}", "Accept": "application/json"},
            timeout=httpx.Timeout(settings.SKYBOT_READ_TIMEOUT, connect=settings.SKYBOT_CONNECT_TIMEOUT),
        )

    def __enter__(self) -> SkyBotClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise SkyBotUnavailable("The SkyBot runner timed out.") from exc
        except httpx.TransportError as exc:
            raise SkyBotUnavailable(f"Could not reach the SkyBot runner ({type(exc).__name__}).") from exc
        if response.status_code >= 400:
            raise self._error(response)
        return response

    @staticmethod
    def _error(response: httpx.Response) -> SkyBotError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        status = response.status_code
        message = str(error.get("message") or f"The SkyBot runner answered HTTP {status}.")
        kind = SkyBotUnavailable if status_is_retryable(status) else SkyBotRejected
        return kind(message, status=status, code=str(error.get("code") or ""))

    @staticmethod
    def _workflow(response: httpx.Response) -> Workflow:
        try:
            data = response.json()
            return Workflow(id=str(data["id"]), status=str(data.get("status", "")))
        except (ValueError, KeyError, TypeError) as exc:
            raise SkyBotUnavailable(
                "The SkyBot runner answered without a workflow id.", status=response.status_code
            ) from exc

    def deploy_agent(self, *, idempotency_key: str, definition: dict[str, Any]) -> Workflow:
        """Create the agent's workflow; the same key always yields the same workflow."""
        response = self._request("POST", "/workflows", json=definition, headers={"Idempotency-Key": idempotency_key})
        return self._workflow(response)

    def activate_workflow(self, workflow_id: str) -> Workflow:
        return self._workflow(self._request("POST", f"/workflows/{workflow_id}/activate"))

    def deactivate_workflow(self, workflow_id: str) -> Workflow:
        return self._workflow(self._request("POST", f"/workflows/{workflow_id}/deactivate"))

    def delete_workflow(self, workflow_id: str) -> None:
        """Delete the workflow; one that is already gone (404) counts as deleted."""
        try:
            self._request("DELETE", f"/workflows/{workflow_id}")
        except SkyBotRejected as exc:
            if exc.status != 404:
                raise

    def send_message(self, workflow_id: str, *, payload: dict[str, Any], idempotency_key: str) -> DispatchedMessage:
        """Hand an inbound customer message to the agent's workflow."""
        response = self._request(
            "POST", f"/workflows/{workflow_id}/messages", json=payload, headers={"Idempotency-Key": idempotency_key}
        )
        try:
            return DispatchedMessage(execution_id=str(response.json().get("execution_id", "")))
        except (ValueError, AttributeError):
            return DispatchedMessage(execution_id="")
