"""Production mode refuses missing or weak secrets by name, and `check --deploy` is clean with good ones.

Each case starts a fresh interpreter: settings are read once per process.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings

BASE_DIR = Path(django_settings.BASE_DIR)

# Each case starts a Python process with production settings.
pytestmark = pytest.mark.slow

STRONG = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "k7#Qz9!vR2@mW5$eT8^yU1&iO4*pA6(sD3)fG0-hJ_lZxCvBnM",
    "JWT_SIGNING_KEY": "Jw7Tq2Lr9Xv4Nb6Ms1Kd8Fh3Gp5Zc0Ye-Ua",
    "ENCRYPTION_KEY": "k1:" + base64.urlsafe_b64encode(bytes(range(7, 39))).decode(),
    "ALLOWED_HOSTS": "inbox.example.com",
}
VARIABLES = [
    "DJANGO_ENV",
    "SECRET_KEY",
    "JWT_SIGNING_KEY",
    "ENCRYPTION_KEY",
    "ALLOWED_HOSTS",
    "DEBUG",
    "BILLING_SSO_SECRET",
    "API_KEY",
]


def _run(args: list[str], overrides: dict[str, str | None]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES and not k.startswith(("SECURE_", "SENTRY_"))}
    env.update({"DJANGO_SETTINGS_MODULE": "skybot_inbox.settings.base", "PYTHONPATH": str(BASE_DIR)})
    for key, value in {**STRONG, **overrides}.items():
        if value is not None:
            env[key] = value
    return subprocess.run([sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120)


def _start(overrides: dict[str, str | None]) -> subprocess.CompletedProcess[str]:
    return _run(["-c", "import django; django.setup(); print('started')"], overrides)


def test_strong_values_start() -> None:
    result = _start({})

    assert result.returncode == 0, result.stderr[-2000:]
    assert "started" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY must be set when DJANGO_ENV=production"),
        ({"SECRET_KEY": "too-short-secret"}, "SECRET_KEY must be at least 50 characters long"),
        ({"SECRET_KEY": "a" * 60}, "SECRET_KEY is too weak"),
        ({"SECRET_KEY": "dev-insecure-secret-key-change-me-0123456789abcdef"}, "SECRET_KEY is a public development"),
        ({"SECRET_KEY": "django-insecure-" + "x1y2z3" * 10}, "SECRET_KEY is a public development"),
        ({"JWT_SIGNING_KEY": None}, "JWT_SIGNING_KEY must be set when DJANGO_ENV=production"),
        ({"JWT_SIGNING_KEY": "only-31-characters-long-abcdefg"}, "JWT_SIGNING_KEY must be at least 32 characters"),
        ({"JWT_SIGNING_KEY": "ab" * 20}, "JWT_SIGNING_KEY is too weak"),
        ({"ENCRYPTION_KEY": None}, "ENCRYPTION_KEY must be set when DJANGO_ENV=production"),
        ({"ENCRYPTION_KEY": "not base64 !!"}, "ENCRYPTION_KEY: key 'k1' is not valid base64"),
        ({"ENCRYPTION_KEY": base64.urlsafe_b64encode(b"short").decode()}, "ENCRYPTION_KEY: key 'k1' must decode to 32"),
        (
            {"ENCRYPTION_KEY": base64.urlsafe_b64encode(b"dev-insecure-encryption-key-32b!").decode()},
            "ENCRYPTION_KEY: key 'k1' is a public or weak value",
        ),
        ({"ENCRYPTION_KEY": base64.urlsafe_b64encode(b"\0" * 32).decode()}, "ENCRYPTION_KEY: key 'k1' is a public"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS must be set when DJANGO_ENV=production"),
        (
            {"BILLING_SSO_SECRET": "only-31-characters-long-abcdefg"},
            "BILLING_SSO_SECRET must be at least 32 characters",
        ),
        ({"BILLING_SSO_SECRET": "ab" * 20}, "BILLING_SSO_SECRET is too weak"),
        ({"PLUGINS_SANDBOX_SKIP_LAYERS": "seccomp,namespaces"}, "PLUGINS_SANDBOX_SKIP_LAYERS names unknown layers"),
        (
            {"BILLING_SSO_SECRET": "dev-insecure-billing-sso-secret-0123456789"},
            "BILLING_SSO_SECRET is a public development",
        ),
        ({"API_KEY": "legacy-key-only-31-characters-x"}, "API_KEY must be at least 32 characters long"),
        ({"API_KEY": "k" * 48}, "API_KEY is too weak"),
        ({"API_KEY": "abab" * 12}, "API_KEY is too weak"),
        ({"API_KEY": "dev-insecure-legacy-platform-key-0123456789"}, "API_KEY is a public development"),
    ],
)
def test_missing_or_weak_values_stop_start_up_naming_the_variable(
    overrides: dict[str, str | None], message: str
) -> None:
    # when
    result = _start(overrides)

    # then
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr
    for secret in (v for v in overrides.values() if v and len(v) > 10):
        assert secret not in result.stderr


def test_a_long_billing_sso_secret_starts_and_billing_stays_optional() -> None:
    # billing is off without a secret (STRONG sets none); a long random one is accepted
    result = _start({"BILLING_SSO_SECRET": "Bq7Lm2Xv9Tr4Nc6Wd1Ks8Fh3Gp5Zy0Ua-Je"})

    assert result.returncode == 0, result.stderr[-2000:]


def test_the_legacy_api_key_is_optional_and_a_strong_one_starts() -> None:
    # when / then: unset (the legacy key is off) or long and random, production starts
    assert _start({"API_KEY": None}).returncode == 0
    strong = _start({"API_KEY": "Lg7Qz2Vr9Xm4Nb6Ts1Kd8Fh3Wp5Zc0Ye"})
    assert strong.returncode == 0, strong.stderr[-2000:]


def test_a_short_legacy_api_key_still_works_in_development() -> None:
    result = _run(
        ["-c", "import django; django.setup(); from django.conf import settings; print(settings.LEGACY_API_KEY)"],
        {**dict.fromkeys(STRONG), "API_KEY": "short-dev-key"},
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "short-dev-key"


def test_development_mode_starts_with_no_environment() -> None:
    result = _start(dict.fromkeys(STRONG))

    assert result.returncode == 0, result.stderr[-2000:]


def test_check_deploy_reports_no_issues_in_production_mode() -> None:
    # when
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], {})

    # then
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_security_deploy_checks_pass_in_production_mode() -> None:
    # HSTS, secure cookies, SSL redirect, referrer policy, X-Frame-Options, DEBUG off, SECRET_KEY...
    result = _run(["manage.py", "check", "--deploy", "--tag", "security", "--fail-level", "WARNING"], {})

    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "System check identified no issues" in result.stdout


def test_development_mode_is_what_check_deploy_warns_about() -> None:
    """Control: the same check does report the development defaults, so a clean run means something."""
    result = _run(["manage.py", "check", "--deploy", "--tag", "security"], dict.fromkeys(STRONG))

    assert "security.W004" in result.stdout + result.stderr  # no HSTS
    assert "security.W018" in result.stdout + result.stderr  # DEBUG on
