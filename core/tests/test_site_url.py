"""One address for the site: SITE_URL, or the HOST and PORT the server was started on.

Each start-up case runs a fresh interpreter the way `make run` starts the server (settings are read
once per process) and looks at what a person sees: the API reference's server, the pages' Content
Security Policy, the Developers page's base URL and its curl example, an invitation's links.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

from skybot_inbox.settings.env import default_site_url

BASE_DIR = Path(django_settings.BASE_DIR)

# What the started process reports: its SITE_URL, the schema's servers, the CSP of the API reference,
# the Developers page's base URL as a signed-in admin sees it, and the links of an invitation email.
SCRIPT = """
import json, re, django
django.setup()
from django.conf import settings
from django.test import Client
from accounts.models import Account, Role, User

client = Client()
schema = json.loads(client.get("/api/schema/", {"format": "json"}).content)
docs = client.get("/api/docs/")
account = Account.objects.create(name="Acme", slug="acme")
admin = User.objects.create_user(email="admin@acme.test", account=account, role=Role.CLIENT_ADMIN)
client.force_login(admin)
page = client.get("/developers/").content.decode()

from django.core import mail
from accounts.principals import Principal
from accounts.services.invitations import user_invite
user_invite(account=account, email="new@acme.test", role=Role.USER, actor=Principal.for_user(admin))
print(json.dumps({
    "invitation": re.findall(r"https?://\\S+", mail.outbox[-1].body),
    "site_url": settings.SITE_URL,
    "servers": [server["url"] for server in schema["servers"]],
    "csp": docs["Content-Security-Policy"],
    "base_url": re.search(r"<dt>Base URL</dt><dd><code>([^<]+)</code>", page).group(1),
    "first_call": re.search(r"<dt>First call</dt><dd><code>([^<]+)</code>", page).group(1),
}))
"""


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite database of the module's own (each case adds its rows in a copy)."""
    path = tmp_path_factory.mktemp("site-url") / "db.sqlite3"
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=BASE_DIR,
        env=_environment({"DATABASE_URL": f"sqlite:///{path}"}),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return str(path)


def _environment(overrides: dict[str, str]) -> dict[str, str]:
    left_out = {"SITE_URL", "HOST", "PORT", "DJANGO_SETTINGS_MODULE", "DJANGO_ENV", "REDIS_URL", "DATABASE_URL"}
    env = {key: value for key, value in os.environ.items() if key not in left_out}
    env.update({"DJANGO_SETTINGS_MODULE": "skybot_inbox.settings.base", "PYTHONPATH": str(BASE_DIR)})
    env.update(overrides)
    return env


def _started_with(database: str, tmp_path: Path, **variables: str) -> dict[str, Any]:
    copy = tmp_path / "db.sqlite3"
    shutil.copyfile(database, copy)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=BASE_DIR,
        env=_environment(
            {"DATABASE_URL": f"sqlite:///{copy}", "LOG_LEVEL": "WARNING", "EMAIL_URL": "memorymail://", **variables}
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return seen


@pytest.mark.slow
def test_a_server_started_on_port_8123_names_port_8123_everywhere(database: str, tmp_path: Path) -> None:
    # when the server is started as `PORT=8123 make run` starts it, SITE_URL unset
    seen = _started_with(database, tmp_path, HOST="127.0.0.1", PORT="8123")

    # then the API reference's server, the CSP and the Developers page all name port 8123
    assert seen["site_url"] == "http://127.0.0.1:8123"
    assert seen["servers"] == ["http://127.0.0.1:8123"]
    assert "connect-src 'self' ws://127.0.0.1:8123;" in seen["csp"] + ";"
    assert seen["base_url"] == "http://127.0.0.1:8123/api/v1"
    assert seen["first_call"].endswith("http://127.0.0.1:8123/api/v1/me")
    # and so do the links of an invitation email
    assert seen["invitation"]
    assert all(link.startswith("http://127.0.0.1:8123") for link in seen["invitation"])
    assert ":8000" not in json.dumps(seen)


@pytest.mark.slow
def test_site_url_when_set_wins_over_the_port(database: str, tmp_path: Path) -> None:
    seen = _started_with(database, tmp_path, PORT="8123", SITE_URL="https://inbox.example.com/")

    assert seen["site_url"] == "https://inbox.example.com"
    assert seen["servers"] == ["https://inbox.example.com"]
    assert "wss://inbox.example.com" in seen["csp"]
    assert seen["base_url"] == "https://inbox.example.com/api/v1"
    assert all(link.startswith("https://inbox.example.com") for link in seen["invitation"])
    assert "8123" not in json.dumps(seen)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"PORT": "eighty"}, "PORT must be a port number between 1 and 65535 (got 'eighty')."),
        ({"PORT": "70000"}, "PORT must be a port number between 1 and 65535 (got '70000')."),
        ({"SITE_URL": "inbox.example.com"}, "SITE_URL must be an http(s) address such as https://inbox.example.com"),
        ({"SITE_URL": "https://inbox.example.com/app"}, "SITE_URL is the site's origin, without a path"),
    ],
)
def test_a_bad_address_stops_start_up_with_its_name(variables: dict[str, str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=BASE_DIR,
        env=_environment(variables),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.slow
def test_make_run_passes_its_host_and_port_to_the_server_and_the_seed() -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    result = subprocess.run(
        ["make", "--dry-run", "--always-make", "run", "PORT=8123", "HOST=127.0.0.1"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    runserver = [line for line in lines if "manage.py runserver" in line]
    seed = [line for line in lines if "manage.py seed_demo" in line]
    assert runserver == ["HOST=127.0.0.1 PORT=8123 .venv/bin/python manage.py runserver 127.0.0.1:8123"]
    assert seed == ["HOST=127.0.0.1 PORT=8123 .venv/bin/python manage.py seed_demo"]


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 8123, "http://127.0.0.1:8123"),
        ("localhost", 9000, "http://localhost:9000"),
        ("0.0.0.0", 9000, "http://127.0.0.1:9000"),
        ("::", 8123, "http://127.0.0.1:8123"),
        ("::1", 8123, "http://[::1]:8123"),
        ("[::1]", 8123, "http://[::1]:8123"),
    ],
)
def test_the_default_is_the_address_the_server_listens_on(host: str, port: int, url: str) -> None:
    assert default_site_url(host, port) == url
