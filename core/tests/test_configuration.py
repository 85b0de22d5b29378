"""`.env.example` lists every variable the settings read, so operators see them all in one place."""

from __future__ import annotations

import re

from django.conf import settings


def _read_by_settings() -> set[str]:
    source = (settings.BASE_DIR / "skybot_inbox" / "settings" / "env.py").read_text()
    names = set(re.findall(r'env\.(?:str|int|bool|float|list)\(\s*"([A-Z][A-Z0-9_]+)"', source))
    names |= set(re.findall(r'(?:_secret|_rate)\(\s*"([A-Z][A-Z0-9_]+)"', source))
    return names


def test_env_example_lists_every_variable_the_settings_read():
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (settings.BASE_DIR / ".env.example").read_text(), re.MULTILINE))
    read = _read_by_settings()

    assert len(read) > 40  # the parser above still finds the reads
    assert read - listed == set(), "add these to .env.example with a one-line meaning"


def test_only_the_env_module_reads_the_environment():
    settings_dir = settings.BASE_DIR / "skybot_inbox" / "settings"
    readers = [
        path.name
        for path in settings_dir.glob("*.py")
        if path.name != "env.py" and re.search(r"\benv\.(str|int|bool|float|list|db_url|email_url)\(", path.read_text())
    ]
    assert readers == []
