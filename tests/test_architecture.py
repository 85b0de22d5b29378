"""The import contracts in pyproject.toml (`make lint` runs them) hold, and really catch an upward import.

The second test lays out an empty tree of the project's packages, adds one import from a lower floor
to a higher one, and runs the same contracts over it: they must fail and name it.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def _lint(cwd: Path, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
    )


def _write_config(path: Path, importlinter: dict) -> None:
    lines = ["[tool.importlinter]", f"root_packages = {importlinter['root_packages']!r}".replace("'", '"')]
    for contract in importlinter["contracts"]:
        lines.append("[[tool.importlinter.contracts]]")
        # the empty tree has none of the project's listed exceptions
        lines.append('unmatched_ignore_imports_alerting = "none"')
        for key, value in contract.items():
            lines.append(f"{key} = {value!r}".replace("'", '"'))
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.slow
def test_the_project_keeps_its_import_contracts():
    # when the contracts run over the project as it is
    result = _lint(ROOT, ROOT / "pyproject.toml")

    # then every one is kept
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("core", "accounts"),
        ("accounts", "inbox"),
        ("inbox", "agents"),
        ("inbox", "handoff"),
        ("agents", "handoff"),
        ("handoff", "integrations"),
    ],
)
def test_an_upward_import_breaks_the_contract(tmp_path, lower, higher):
    # given an empty copy of the project's packages, under the project's own contracts
    importlinter = _config()
    for package in importlinter["root_packages"]:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    config = tmp_path / "contracts.toml"
    _write_config(config, importlinter)
    assert _lint(tmp_path, config).returncode == 0

    # when a lower floor imports a higher one
    (tmp_path / lower / "shortcut.py").write_text(f"import {higher}\n")
    result = _lint(tmp_path, config)

    # then the contracts are broken, naming the import
    assert result.returncode != 0
    assert f"{lower} is not allowed to import {higher}" in result.stdout
    assert f"{lower}.shortcut -> {higher}" in result.stdout
