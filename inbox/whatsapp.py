"""WhatsApp Cloud API (Meta Graph API) client and webhook signature check.

The client maps Meta's answers onto `GraphApiError`, with `retryable` true for what a retry can fix
(5xx, 408, 429, timeouts, connection failures: `core.retry`) and false for every other 4xx.
`GraphApi` is what the send and media paths need of it; a sandbox number gets the platform's own
stand-in instead (`inbox.services.sandbox.graph_api_for`), which answers the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from django.conf import settings

from core.retry import status_is_retryable
from core.signing import body_signature, signature_matches


class GraphApiError(Exception):
    def __init__(
        self, message: str, *, status: int | None, retryable: bool, code: int | None = None, title: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retryable = retryable
        self.code = code
        self.title = title

    def as_error(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "message": self.message, "http_status": self.status}


def error_from_response(response: httpx.Response) -> GraphApiError:
    """The `GraphApiError` for one of Meta's error answers (`{"error": {"message", "code", ...}}`)."""
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    if not isinstance(error, dict):
        error = {}
    status = response.status_code
    return GraphApiError(
        str(error.get("message") or f"WhatsApp API answered HTTP {status}."),
        status=status,
        retryable=status_is_retryable(status),
        code=error.get("code"),
        title=str(error.get("error_user_title") or error.get("type") or ""),
    )


def signature_valid(*, body: bytes, header: str, secret: str) -> bool:
    """`X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`, compared in constant time."""
    if not secret or not header.startswith("sha256="):
        return False
    return signature_matches(body_signature(secret=secret, body=body), header)


@dataclass(frozen=True)
class SentMessage:
    wamid: str


@dataclass(frozen=True)
class PhoneNumber:
    """What Meta says about a business phone number the token can read."""

    id: str
    display_phone_number: str
    verified_name: str


class GraphApi(Protocol):
    """One number's view of the Graph API: Meta's (`WhatsAppClient`) or the sandbox's stand-in."""

    def __enter__(self) -> GraphApi: ...

    def __exit__(self, *exc: object) -> None: ...

    def send(self, *, to: str, message: dict[str, Any]) -> SentMessage: ...

    def phone_number(self) -> PhoneNumber: ...

    def media_url(self, media_id: str) -> tuple[str, str]: ...

    def download(self, url: str, *, max_bytes: int = ...) -> bytes: ...


class WhatsAppClient:
    """One channel's view of the Graph API."""

    def __init__(self, *, phone_number_id: str, access_token: str, base_url: str | None = None) -> None:
        self.phone_number_id = phone_number_id
        self.base_url = (base_url or settings.GRAPH_API_BASE_URL).rstrip("/")
        timeout = settings.GRAPH_API_TIMEOUT
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            headers={"Authorization": f"Bearer {access_token}"},
        )

    def __enter__(self) -> WhatsAppClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise GraphApiError("Timed out talking to the WhatsApp API.", status=None, retryable=True) from exc
        except httpx.TransportError as exc:
            raise GraphApiError(
                f"Could not reach the WhatsApp API ({type(exc).__name__}).", status=None, retryable=True
            ) from exc
        if response.status_code >= 400:
            raise error_from_response(response)
        return response

    def send(self, *, to: str, message: dict[str, Any]) -> SentMessage:
        """POST /{phone_number_id}/messages with a `text` or `template` message body."""
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, **message}
        response = self._request("POST", f"{self.base_url}/{self.phone_number_id}/messages", json=body)
        try:
            wamid = str(response.json()["messages"][0]["id"])
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise GraphApiError(
                "WhatsApp API answered without a message id.", status=response.status_code, retryable=False
            ) from exc
        return SentMessage(wamid=wamid)

    def phone_number(self) -> PhoneNumber:
        """GET /{phone_number_id}: answers only when the token may read this business number (Meta
        answers an unknown id, or one the token has no access to, with a 400 and error code 100,
        and a bad token with error code 190)."""
        response = self._request(
            "GET", f"{self.base_url}/{self.phone_number_id}", params={"fields": "display_phone_number,verified_name"}
        )
        try:
            data = response.json()
            return PhoneNumber(
                id=str(data["id"]),
                display_phone_number=str(data.get("display_phone_number") or ""),
                verified_name=str(data.get("verified_name") or ""),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise GraphApiError(
                "WhatsApp API answered without the phone number.", status=response.status_code, retryable=False
            ) from exc

    def media_url(self, media_id: str) -> tuple[str, str]:
        """The short-lived download URL and mime type of an inbound media object."""
        data = self._request("GET", f"{self.base_url}/{media_id}").json()
        return str(data["url"]), str(data.get("mime_type", ""))

    def download(self, url: str, *, max_bytes: int = 100 * 1024 * 1024) -> bytes:
        response = self._request("GET", url)
        if len(response.content) > max_bytes:
            raise GraphApiError("Media larger than allowed.", status=response.status_code, retryable=False)
        return response.content
