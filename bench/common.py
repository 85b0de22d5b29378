"""Helpers the benchmarks share: psql, percentiles and wrk's figures."""

from __future__ import annotations

import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence


def psql(query: str, database: str) -> str:
    """Run one statement with psql on 127.0.0.1 and answer its unaligned output."""
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-tAc", query],
        check=True,
        text=True,
        capture_output=True,
    ).stdout.strip()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _milliseconds(value: str, unit: str) -> float:
    number = float(value)
    return number / 1000 if unit == "us" else number * 1000 if unit == "s" else number


def wrk(
    url: str,
    *,
    seconds: float,
    connections: int,
    threads: int = 2,
    script: str | None = None,
    script_args: Sequence[str] = (),
    headers: Sequence[str] = (),
    timeout: str | None = None,
) -> dict[str, float]:
    """Run `wrk --latency` against `url`: requests/s, p50/p99 (ms), requests, non-2xx/3xx answers and
    socket errors (connect, read, write, timeout together)."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in headers:
        cmd += ["-H", header]
    if timeout:
        cmd += ["--timeout", timeout]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    if script and script_args:
        cmd += ["--", *script_args]
    out = subprocess.run(cmd, check=True, text=True, capture_output=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if rate is None or total is None:
        raise RuntimeError(f"wrk printed no figures: {out}")
    figures = {"rps": float(rate.group(1)), "requests": float(total.group(1))}
    for label, key in (("50%", "p50"), ("99%", "p99")):
        match = re.search(rf"^\s+{re.escape(label)}\s+([\d.]+)(us|ms|s)", out, re.MULTILINE)
        if match:
            figures[key] = _milliseconds(match.group(1), match.group(2))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    figures["non2xx"] = float(non2xx.group(1)) if non2xx else 0.0
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    figures["errors"] = float(sum(int(n) for n in errors.groups())) if errors else 0.0
    return figures


def wait_for_http(url: str, *, seconds: float = 60) -> None:
    """Wait until `url` answers at all (any status), or raise after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
