"""The rules every client shares: signatures, what is worth retrying, CSV cells a spreadsheet cannot run."""

from __future__ import annotations

import pytest

from core.csv_safety import csv_safe
from core.retry import status_is_retryable
from core.signing import body_signature, signature_matches, timestamped_signature


def test_body_signature_is_metas_x_hub_signature_256():
    # sha256= and the hex HMAC-SHA256 of the raw body under the app secret, as Meta signs
    signature = body_signature(secret="app-secret", body=b'{"object":"whatsapp_business_account"}')

    assert signature == "sha256=0bf7374433906636bed1653bc7c64affb42fa5da9a39e251ab95c2e3a9c06923"


def test_timestamped_signature_is_the_runners_and_the_routers_format():
    # sha256= and the hex HMAC-SHA256 of "<timestamp>.<raw body>" (docs/skybot-webhooks.md, n8n-router.md)
    signature = timestamped_signature(secret="s3cret", timestamp="1700000000", body=b'{"id":"evt_1"}')

    assert signature == "sha256=8e6f5c9e12ccd802130a0cf337c2d90395d59605481627c32bb6c530172adf23"


def test_a_signature_is_compared_whatever_the_caller_sends():
    good = body_signature(secret="k", body=b"x")

    assert signature_matches(good, good)
    assert not signature_matches(good, good[:-1] + ("0" if good[-1] != "0" else "1"))
    # non-ASCII in a forged header is a mismatch, not an error
    assert not signature_matches(good, "sha256=é" + good[8:])


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (None, True),
        (500, True),
        (502, True),
        (503, True),
        (599, True),
        (408, True),
        (429, True),
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (409, False),
        (410, False),
        (422, False),
        (200, False),
    ],
)
def test_what_is_worth_retrying(status, retryable):
    assert status_is_retryable(status) is retryable


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ana", "Ana"),
        ("", ""),
        ("a=b", "a=b"),
        # a sign followed by anything a spreadsheet could call or look up is still a formula
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ('+1+HYPERLINK("http://x")', '\'+1+HYPERLINK("http://x")'),
        ("-1*A1", "'-1*A1"),
        ("+SUM(1)", "'+SUM(1)"),
        ("@SUM(1)", "'@SUM(1)"),
        ("=1", "'=1"),
        ("-", "'-"),
        ("+()", "'+()"),
        ("\t+15550100101", "'\t+15550100101"),
        ("\r1", "'\r1"),
        ("-1e5", "'-1e5"),
    ],
)
def test_spreadsheet_formulas_become_text(cell, written):
    assert csv_safe(cell) == written


@pytest.mark.parametrize(
    "cell",
    ["+15550100101", "+1 555 010 0101", "+1 (555) 010-0101", "+351 912 345 678", "-2", "-12.50", "+1", "-1,5"],
)
def test_numbers_and_phone_numbers_are_written_as_they_are(cell):
    assert csv_safe(cell) == cell
