"""skybot-plugin end to end in a temporary folder: new -> test -> validate -> pack -> validate the zip."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from skybot_plugin_sdk.cli import main


def test_new_test_validate_pack(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    # given a new plugin
    assert main(["new", "hello-bot", "--dir", str(tmp_path)]) == 0
    root = tmp_path / "hello-bot"
    assert "Created" in capfd.readouterr().out
    # when its tests and samples run, then they pass and each answer is shown
    assert main(["test", str(root)]) == 0
    out = capfd.readouterr().out
    assert "2 passed" in out  # the scaffold's unit tests, through pytest
    assert "Sample 2/2: a question" in out
    assert "response: 'Hello! You wrote: Hi!'" in out
    assert "Samples: 2 passed, 0 failed." in out
    # and it validates, packs and its zip validates as the platform would check it
    assert main(["validate", str(root)]) == 0
    assert "hello-bot 0.1.0: valid." in capfd.readouterr().out
    assert main(["pack", str(root), "--out", str(tmp_path / "dist")]) == 0
    out = capfd.readouterr().out
    zip_path = tmp_path / "dist" / "hello-bot-0.1.0.zip"
    assert str(zip_path) in out
    assert "sha256: " in out
    assert "tests/test_hello_bot.py" not in zipfile.ZipFile(zip_path).namelist()
    assert main(["validate", str(zip_path)]) == 0


def test_validate_lists_every_problem_and_exits_1(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    main(["new", "hello-bot", "--dir", str(tmp_path)])
    root = tmp_path / "hello-bot"
    manifest = json.loads((root / "plugin.json").read_text())
    manifest.update(version="1.0", permissions=["messages:send", "root:all"], entrypoint="missing.module:X")
    (root / "plugin.json").write_text(json.dumps(manifest))
    capfd.readouterr()
    assert main(["validate", str(root)]) == 1
    err = capfd.readouterr().err
    assert "(4 problems)" in err
    for expected in (
        "version: '1.0'",
        "permissions[1]: 'root:all'",
        "entrypoint: 'missing.module:X' needs missing/__init__.py",
        "entrypoint: 'missing.module:X' needs missing/module.py",
    ):
        assert expected in err
    assert main(["pack", str(root)]) == 1
    assert not (root / "dist").exists()


def test_validate_and_test_catch_an_import_the_sandbox_refuses(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    main(["new", "hello-bot", "--dir", str(tmp_path)])
    root = tmp_path / "hello-bot"
    plugin = root / "hello_bot" / "plugin.py"
    plugin.write_text("import os\n" + plugin.read_text())
    capfd.readouterr()
    assert main(["validate", str(root)]) == 1
    assert "hello_bot/plugin.py: line 1: imports os, which the sandbox does not allow." in capfd.readouterr().err
    assert main(["test", str(root)]) == 1


def test_validate_a_broken_zip(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    assert main(["validate", str(bad)]) == 1
    assert "not a zip archive" in capfd.readouterr().err
    assert main(["validate", str(tmp_path / "nowhere")]) == 1


def test_a_failing_sample_and_a_failing_test_fail_the_run(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    main(["new", "hello-bot", "--dir", str(tmp_path)])
    root = tmp_path / "hello-bot"
    samples = json.loads((root / "samples.json").read_text())
    samples["samples"].append({"name": "wrong", "message": "x", "expect": {"response": "nope", "actions": ["handoff"]}})
    samples["samples"].append({"name": "refused", "message": "x", "config": {"greeting": 5}})
    (root / "samples.json").write_text(json.dumps(samples))
    (root / "tests" / "test_more.py").write_text("def test_broken():\n    assert False\n")
    capfd.readouterr()
    assert main(["test", str(root)]) == 1
    captured = capfd.readouterr()
    assert "expected a response containing 'nope'" in captured.err
    assert "expected actions ['handoff'], got []" in captured.err
    assert "REFUSED" in captured.err
    assert "Samples: 2 passed, 2 failed." in captured.out
    assert "Failed: tests, samples." in captured.err


def test_new_refuses_a_bad_id_and_a_used_folder(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "Hello Bot", "--dir", str(tmp_path)]) == 1
    assert "not a valid plugin id" in capfd.readouterr().err
    assert main(["new", "hello-bot", "--dir", str(tmp_path)]) == 0
    assert main(["new", "hello-bot", "--dir", str(tmp_path)]) == 1
    assert "already exists" in capfd.readouterr().err


@pytest.mark.parametrize("command", [[], ["new"], ["test"], ["validate"], ["pack"]])
def test_every_command_explains_itself(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main([*command, "--help"])
    assert caught.value.code == 0
    assert "usage: skybot-plugin" in capsys.readouterr().out


def test_the_console_script_runs() -> None:
    done = subprocess.run([sys.executable, "-m", "skybot_plugin_sdk.cli", "--version"], capture_output=True, text=True)
    assert done.returncode == 0
    assert done.stdout.startswith("skybot-plugin ")
