"""A resolver where a test decides what some host names resolve to (the rest resolve as usual), for
the SSRF guard's tests and those of the features that call tenants' URLs through it."""

from __future__ import annotations

import socket
from typing import Any

import pytest

_real_getaddrinfo = socket.getaddrinfo


def fake_dns(monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, list[str]], list[str]]:
    """Answer `(names, lookups)`: after `names["vm"] = ["127.0.0.1"]` the name `vm` resolves to
    127.0.0.1 (an empty list: it does not resolve); `lookups` lists the names looked up."""
    names: dict[str, list[str]] = {}
    lookups: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in names:
            lookups.append(host)
            return [
                (
                    socket.AF_INET6 if ":" in address else socket.AF_INET,
                    socket.SOCK_STREAM,
                    socket.IPPROTO_TCP,
                    "",
                    (address, port),
                )
                for address in names[host]
            ]
        return _real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names, lookups
