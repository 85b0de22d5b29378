"""The one HTTP client for URLs a tenant chose (outgoing webhooks, Zapier REST hooks, a tenant's own
n8n router, plugin calls later), guarded against server-side request forgery.

A tenant can type any URL, so before a request leaves we resolve the host ourselves and refuse it
when any address it resolves to is private, loopback, link-local, multicast, reserved, unspecified
or otherwise not publicly routable (IPv4 and IPv6, including IPv4 addresses carried inside IPv6:
mapped, 6to4, Teredo and NAT64). The request then goes to the address we checked — the URL's host
is replaced by that IP, the `Host` header and the TLS server name (SNI, and so the certificate
check) keep the original name — so a second DNS answer cannot point it elsewhere (DNS rebinding).
Redirects are never followed, proxies from the environment are ignored, every phase has a timeout
and the response body is read up to a cap.

A tenant is told why a request was refused or failed only as a category ("Destination not allowed",
"Host not found", "Timed out", "Connection refused"...; see `failure_reason`), never which address a
name resolved to or why that address is refused: that detail goes to the server log
(`outbound_destination_blocked`), so the guard cannot be used to map the internal network. Only an
address typed in the URL itself (`https://10.0.0.8/`) is refused with its rule ("10.0.0.8 is a
private address"), which tells the tenant nothing they did not write.

`OUTBOUND_ALLOW_LOOPBACK` lets loopback through (local development and tests; off in production)
and `OUTBOUND_ALLOWED_NETWORKS` names private networks an operator wants reachable (an on-premises
n8n, for example). URLs the operator configured (`trusted=True`, such as N8N_MASTER_ROUTER_URL)
skip the address check but keep every other limit.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import structlog
from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
# However slowly a server drips its answer, we stop reading after this long.
DEFAULT_DEADLINE_SECONDS = 30.0
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "SkyBot-Inbox/1.0 (+https://github.com/skybot-inbox)"

logger = structlog.get_logger(__name__)

# What a tenant reads when a host name is refused for what it resolves to (localhost included).
DESTINATION_NOT_ALLOWED = "Destination not allowed: SkyBot Inbox only calls public internet addresses."

_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class OutboundError(Exception):
    """Base of the errors this client raises itself (transport errors stay `httpx.HTTPError`)."""


class BlockedDestination(OutboundError):
    """The URL may not be called: a scheme, form or address tenants are not allowed to reach.

    Retrying does not help; callers record it as a "blocked destination" and give up. Its message
    (`str(error)`) may be shown to the tenant; `detail` (the host, the address it resolved to and why
    that address is refused) is for the server log only.
    """

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail or message


class HostNotFound(httpx.ConnectError):
    """The URL's host name does not resolve (worth another try later, like any failure to connect)."""


def _blocked(host: str, problem: str, *, resolved: bool) -> BlockedDestination:
    """The refusal of an address, logged for the operator. The tenant is told the rule only for an
    address they typed themselves; for a name, never what it resolved to."""
    if resolved:
        detail, message = f"{host} resolves to a blocked address: {problem}", DESTINATION_NOT_ALLOWED
    else:
        detail = message = f"Destination not allowed: {problem}."
    logger.warning("outbound_destination_blocked", host=host, reason=problem, detail=detail)
    return BlockedDestination(message, detail=detail)


@dataclass(frozen=True)
class OutboundResponse:
    status_code: int
    headers: httpx.Headers
    content: bytes
    truncated: bool
    duration_ms: int

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    def text_excerpt(self, limit: int) -> str:
        return self.content[: limit * 4].decode("utf-8", errors="replace")[:limit]


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's address; the server part is a public relay
    if any(ip in network for network in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(value, strict=False) for value in settings.OUTBOUND_ALLOWED_NETWORKS]


def address_problem(ip: IPAddress) -> str | None:
    """Why `ip` may not be called, or None when it may."""
    if isinstance(ip, ipaddress.IPv6Address) and (inner := _embedded_ipv4(ip)) is not None:
        return address_problem(inner)
    if ip.is_loopback and settings.OUTBOUND_ALLOW_LOOPBACK:
        return None
    if any(ip.version == network.version and ip in network for network in _allowed_networks()):
        return None
    for flag, label in (
        ("is_unspecified", "unspecified"),
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_private", "private"),
        ("is_reserved", "reserved"),
    ):
        if getattr(ip, flag):
            return f"{ip} is a {label} address"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return None


def _literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def check_url(url: str, *, require_https: bool | None = None) -> None:
    """Refuse a URL no request should go to, without resolving its host (used when a tenant saves
    a URL): a scheme other than http(s) (https only when `require_https`, by default
    OUTBOUND_REQUIRE_HTTPS), credentials, no host, a bad port, or a literal address that is blocked.
    Raises `BlockedDestination` with a message fit to show the tenant (for a localhost name only
    "Destination not allowed"; the address it stands for is logged)."""
    if any(char.isspace() or ord(char) < 32 for char in url):
        raise BlockedDestination("Enter a valid URL.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise BlockedDestination("Enter a valid URL.") from None
    if require_https is None:
        require_https = settings.OUTBOUND_REQUIRE_HTTPS
    allowed_schemes = ("https",) if require_https else ("http", "https")
    if parts.scheme not in allowed_schemes:
        raise BlockedDestination(
            "Only https URLs are accepted." if require_https else "Only http and https URLs are accepted."
        )
    if not parts.hostname:
        raise BlockedDestination("The URL needs a host.")
    if parts.username is not None or parts.password is not None:
        raise BlockedDestination("Put no credentials in the URL.")
    literal = _literal_address(parts.hostname)
    if literal is not None and (problem := address_problem(literal)):
        raise _blocked(parts.hostname, problem, resolved=False)
    # localhost names resolve without asking DNS (RFC 6761), so they are refused as soon as typed.
    is_localhost = literal is None and parts.hostname.rstrip(".").lower().split(".")[-1] == "localhost"
    if is_localhost and (problem := address_problem(ipaddress.IPv4Address("127.0.0.1"))):
        raise _blocked(parts.hostname, problem, resolved=True)


def resolve(host: str, port: int, *, trusted: bool = False) -> list[IPAddress]:
    """Every address `host` resolves to, each one checked; `BlockedDestination` when any is blocked.

    A name that resolves to a public and a private address is refused as a whole: which one a
    client would pick is not ours to guess. A name that does not resolve is `HostNotFound`, an
    `httpx.ConnectError` (like any other failure to connect, worth another try later).
    """
    literal = _literal_address(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as exc:
            raise HostNotFound(f"{host} does not resolve ({exc})") from None
        addresses = []
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).partition("%")[0])
            if address not in addresses:
                addresses.append(address)
    if not trusted:
        for address in addresses:
            if problem := address_problem(address):
                raise _blocked(host, problem, resolved=True)
    if not addresses:
        raise HostNotFound(f"{host} does not resolve")
    return addresses


def request(
    method: str,
    url: str,
    *,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    trusted: bool = False,
    verify: ssl.SSLContext | bool = True,
) -> OutboundResponse:
    """Send one request to `url` through the guard and answer its (capped) response.

    Raises `BlockedDestination` for a URL or address tenants may not reach, and `httpx.HTTPError`
    (timeouts, refused connections, a name that does not resolve) for transport failures.
    """
    started = time.perf_counter()
    if trusted:
        if urlsplit(url).scheme not in ("http", "https"):
            raise BlockedDestination("Only http and https URLs are accepted.")
    else:
        check_url(url, require_https=False)
    try:
        target = httpx.URL(url)
        host = target.raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeError):
        raise BlockedDestination("Enter a valid URL.") from None
    port = target.port or (443 if target.scheme == "https" else 80)
    addresses = resolve(host, port, trusted=trusted)

    # identity: the body cap counts the bytes that arrive, so nothing may inflate them afterwards.
    request_headers = {"User-Agent": USER_AGENT, **(headers or {}), "Accept-Encoding": "identity"}
    request_headers["Host"] = target.netloc.decode("ascii")
    extensions = {"sni_hostname": host} if target.scheme == "https" and _literal_address(host) is None else {}
    deadline = started + deadline_seconds
    last_error: httpx.ConnectError | None = None
    with httpx.Client(trust_env=False, follow_redirects=False, timeout=timeout, verify=verify) as client:
        for address in addresses:
            pinned = target.copy_with(host=str(address))
            try:
                with client.stream(
                    method, pinned, content=content, headers=request_headers, extensions=extensions
                ) as response:
                    body, truncated = _read_capped(response, max_response_bytes, deadline)
                    return OutboundResponse(
                        status_code=response.status_code,
                        headers=response.headers,
                        content=body,
                        truncated=truncated,
                        duration_ms=int((time.perf_counter() - started) * 1000),
                    )
            except httpx.ConnectError as exc:
                # This address refused or is unreachable; the name may have another one that works.
                last_error = exc
    assert last_error is not None
    raise last_error


def post(
    url: str,
    *,
    content: bytes,
    headers: Mapping[str, str] | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    trusted: bool = False,
    verify: ssl.SSLContext | bool = True,
) -> OutboundResponse:
    """POST `content` to `url`: `request("POST", ...)`."""
    return request(
        "POST",
        url,
        content=content,
        headers=headers,
        timeout=timeout,
        max_response_bytes=max_response_bytes,
        trusted=trusted,
        verify=verify,
    )


def failure_reason(error: Exception) -> str:
    """What a tenant may be told about a request that `request` refused or that failed on its way:
    a category, never an address, nor what a name resolves to. (Log the error itself for the
    operator.)"""
    if isinstance(error, BlockedDestination):
        return str(error)
    if isinstance(error, HostNotFound):
        return "Host not found"
    if isinstance(error, httpx.TimeoutException):
        return "Timed out"
    if isinstance(error, httpx.ConnectError):
        text = str(error).lower()
        if "refused" in text:
            return "Connection refused"
        if "ssl" in text or "certificate" in text or "tls" in text:
            return "TLS handshake failed (is the certificate valid for this host?)"
        return "Could not connect"
    if isinstance(error, httpx.RemoteProtocolError):
        return "The connection closed without a valid HTTP answer"
    return "Request failed"


def _read_capped(response: httpx.Response, limit: int, deadline: float) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_raw():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], True
        if time.perf_counter() > deadline:
            raise httpx.ReadTimeout("The response took too long to arrive.")
    return b"".join(chunks), False
