"""import_problems: the imports the platform's sandbox refuses, found before publishing."""

import pytest
from skybot_plugin_sdk.imports import import_allowed, import_problems, plugin_modules


@pytest.mark.parametrize(
    "name",
    ["json", "urllib.parse", "urllib", "collections.abc", "zoneinfo", "skybot_plugin_sdk", "skybot_plugin_sdk.types"],
)
def test_allowed(name: str) -> None:
    assert import_allowed(name, [])


@pytest.mark.parametrize(
    "name", ["os", "sys", "socket", "subprocess", "ctypes", "requests", "__future__", "skybot_plugin_sdk.testing"]
)
def test_refused(name: str) -> None:
    assert not import_allowed(name, [])


def test_the_plugins_own_modules_are_allowed() -> None:
    files = ["helpers.py", "pkg/__init__.py", "pkg/sub/__init__.py", "nopkg/x.py", "README.md"]
    assert plugin_modules(files) == {"helpers", "pkg"}
    sources = {
        "pkg/__init__.py": "",
        "pkg/plugin.py": "import helpers\nfrom pkg import sub\nfrom . import sub\nimport pkg.sub\n",
        "helpers.py": "",
    }
    assert import_problems(sources) == []


def test_every_refused_import_is_listed_with_its_line() -> None:
    sources = {
        "a.py": (
            "from __future__ import annotations\n"
            "import json, os\n"
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n"
            "    import socket\n"
            "def f():\n"
            "    import subprocess\n"
            "from skybot_plugin_sdk import testing, AgentPlugin\n"
        ),
        "b.py": "def broken(:\n",
    }
    assert import_problems(sources) == [
        "a.py: line 1: imports __future__, which the sandbox does not allow.",
        "a.py: line 2: imports os, which the sandbox does not allow.",
        "a.py: line 7: imports subprocess, which the sandbox does not allow.",
        "a.py: line 8: imports skybot_plugin_sdk.testing, which the sandbox does not allow.",
        "b.py: line 1: invalid syntax.",
    ]


def test_a_module_named_like_a_standard_one_is_refused() -> None:
    assert import_problems({"json.py": ""}) == [
        "json: a plugin module may not be named like a standard module (rename it)."
    ]
