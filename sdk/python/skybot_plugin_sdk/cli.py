"""`skybot-plugin`: create, test, validate and pack a plugin. docs/plugins/sdk.md is the reference."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from skybot_plugin_sdk import __version__
from skybot_plugin_sdk.errors import PluginError
from skybot_plugin_sdk.imports import import_problems
from skybot_plugin_sdk.manifest import ManifestError, load_manifest, validate_manifest
from skybot_plugin_sdk.package import PackageError, inspect_package, named_file_problems, pack, package_files
from skybot_plugin_sdk.scaffold import scaffold
from skybot_plugin_sdk.testing import FakeContext, Refused, load_plugin, run_execute
from skybot_plugin_sdk.types import AgentOutput

SAMPLES_NAME = "samples.json"
SLOW_RUN_SECONDS = 5.0  # the platform's default time limit for one run


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def complain(text: str) -> None:
    sys.stderr.write(text + "\n")


def list_problems(title: str, problems: Sequence[str]) -> None:
    complain(f"{title} ({len(problems)} problem{'s' if len(problems) != 1 else ''}):")
    for problem in problems:
        complain(f"  - {problem}")


# --- new ---------------------------------------------------------------------------------------------


def cmd_new(args: argparse.Namespace) -> int:
    try:
        root = scaffold(args.name, args.dir)
    except (ValueError, OSError) as exc:
        complain(f"Cannot create the plugin: {exc}")
        return 1
    say(f"Created {root}")
    say("Next:")
    say(f"  skybot-plugin test {root}      # run its tests and samples")
    say(f"  skybot-plugin pack {root}      # zip it for publishing")
    return 0


# --- validate ------------------------------------------------------------------------------------------


def directory_problems(root: Path) -> tuple[dict[str, Any] | None, list[str]]:
    """The manifest and every problem of a plugin directory: the manifest, the files it names (as
    they would be packed), imports the sandbox refuses, and whether the entrypoint imports as an
    AgentPlugin here."""
    try:
        manifest = load_manifest(root, validate=False)
    except ManifestError as exc:
        return None, exc.problems
    problems = validate_manifest(manifest)
    try:
        files = package_files(root)
    except PackageError as exc:
        problems += exc.problems
        files = []
    problems += named_file_problems(manifest, set(files))
    sources = {
        name: (root / name).read_text(encoding="utf-8", errors="replace") for name in files if name.endswith(".py")
    }
    problems += import_problems(sources)
    if not problems:
        try:
            load_plugin(root)
        except Exception as exc:  # noqa: BLE001 - whatever the import raises is the author's problem to see
            problems.append(f"entrypoint: {manifest['entrypoint']} does not load: {type(exc).__name__}: {exc}")
    return manifest, problems


def cmd_validate(args: argparse.Namespace) -> int:
    target = Path(args.path)
    if target.is_file():
        report = inspect_package(target.read_bytes())
        manifest, problems, what = report.manifest, report.problems, f"{target} ({len(report.files)} files)"
    elif target.is_dir():
        manifest, problems = directory_problems(target)
        what = str(target)
    else:
        complain(f"{target}: no such plugin directory or zip file.")
        return 1
    name = f"{manifest.get('id')} {manifest.get('version')}" if manifest else what
    if problems:
        list_problems(f"{name} is not valid", problems)
        return 1
    say(f"{name}: valid.")
    return 0


# --- pack ----------------------------------------------------------------------------------------------


def cmd_pack(args: argparse.Namespace) -> int:
    root = Path(args.dir)
    manifest, problems = directory_problems(root)
    if problems or manifest is None:
        list_problems(f"{root} cannot be packed", problems)
        return 1
    try:
        result = pack(root, args.out)
    except PackageError as exc:
        list_problems(f"{root} cannot be packed", exc.problems)
        return 1
    say(f"Packed {manifest['id']} {manifest['version']}")
    say(f"  file:   {result.path} ({result.size:,} bytes)")
    say(f"  sha256: {result.sha256}")
    say("Upload it (platform staff): manage.py plugin_publish PATH.zip, or POST /api/v1/admin/plugins.")
    return 0


# --- test ----------------------------------------------------------------------------------------------


def run_unit_tests(root: Path) -> bool:
    """Run `root/tests` with pytest (unittest discovery without it); True when they pass."""
    tests = root / "tests"
    if not tests.is_dir():
        say("No tests/ folder: no tests to run.")
        return True
    if importlib.util.find_spec("pytest") is not None:
        say("Running tests/ with pytest...")
        command = [
            sys.executable,
            "-m",
            "pytest",
            "tests",
            "-q",
            "-c",
            os.devnull,
            "--rootdir",
            ".",
            "--confcutdir",
            ".",
        ]
        command += ["-p", "no:cacheprovider", "-p", "no:django"]
    else:
        say("Running tests/ with unittest (install pytest for nicer output)...")
        command = [sys.executable, "-m", "unittest", "discover", "-s", "tests", "-v"]
    code = subprocess.run(command, cwd=root, check=False).returncode  # noqa: S603 - our own interpreter
    if code == 5:  # pytest: no tests collected
        say("tests/ holds no tests.")
        return True
    return code == 0


def load_samples(root: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(default config, samples) from samples.json: {"config": {...}, "samples": [{...}, ...]}."""
    path = root / SAMPLES_NAME
    if not path.exists():
        return {}, []
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("samples", []), list):
        raise ValueError(f'{path}: expected {{"config": {{...}}, "samples": [...]}}.')
    return dict(data.get("config") or {}), list(data.get("samples") or [])


def sample_context(root: Path, sample: dict[str, Any], config: dict[str, Any], storage: dict[str, Any]) -> FakeContext:
    fake = dict(sample.get("context") or {})
    context = FakeContext.for_plugin(
        root,
        config={**config, **(sample.get("config") or {})},
        storage=storage,
        contacts=fake.get("contacts"),
        leads=fake.get("leads"),
        conversations=fake.get("conversations"),
        analytics=fake.get("analytics"),
    )
    for answer in fake.get("http") or []:
        context.http.add(
            answer.get("method", "GET"),
            answer["url"],
            json=answer.get("json"),
            text=answer.get("text", ""),
            status=answer.get("status", 200),
        )
    return context


def expectation_problems(expect: dict[str, Any], output: AgentOutput) -> list[str]:
    """`expect` is {"response": "text it contains" | null, "actions": ["update_lead", ...]}."""
    problems = []
    if "response" in expect:
        wanted = expect["response"]
        if wanted is None and output.response:
            problems.append(f"expected no response, got {output.response!r}")
        elif wanted is not None and wanted.lower() not in (output.response or "").lower():
            problems.append(f"expected a response containing {wanted!r}, got {output.response!r}")
    if "actions" in expect:
        got = [action.type for action in output.actions]
        if got != list(expect["actions"]):
            problems.append(f"expected actions {expect['actions']}, got {got}")
    return problems


def show_output(output: AgentOutput) -> None:
    say(f"  response: {output.response!r}" if output.response else "  response: (none)")
    if not output.actions:
        say("  actions:  (none)")
    for action in output.actions:
        say(f"  action:   {action.type} {json.dumps(dict(action.params), ensure_ascii=False)}")
    if output.metadata:
        say(f"  metadata: {json.dumps(dict(output.metadata), ensure_ascii=False)}")


def run_samples(root: Path) -> bool:
    """Run `execute` on every sample in order (they share one installation's storage); True if all pass."""
    try:
        config, samples = load_samples(root)
    except (ValueError, OSError) as exc:
        complain(f"Cannot read {SAMPLES_NAME}: {exc}")
        return False
    if not samples:
        say(f"No {SAMPLES_NAME} samples to run.")
        return True
    storage: dict[str, Any] = {}
    failed = 0
    for number, sample in enumerate(samples, start=1):
        say(f"\nSample {number}/{len(samples)}: {sample.get('name') or str(sample.get('message', ''))[:40]}")
        say(f"  message:  {sample.get('message', '')!r}")
        context = sample_context(root, sample, config, storage)
        if not run_sample(root, sample, context):
            failed += 1
        storage = context.storage.data
    say(f"\nSamples: {len(samples) - failed} passed, {failed} failed.")
    return failed == 0


def run_sample(root: Path, sample: dict[str, Any], context: FakeContext) -> bool:
    """Run one sample, print what happened; True if it passed."""
    started = time.monotonic()
    try:
        output = run_execute(root, str(sample.get("message", "")), sample.get("metadata"), context=context)
    except Refused as exc:
        list_problems("  REFUSED", exc.problems)
        return False
    except PluginError as exc:
        complain(f"  FAILED: {type(exc).__name__} ({exc.code}): {exc.message}")
        return False
    except Exception:  # noqa: BLE001 - show the author their traceback, then go on with the next sample
        complain("  FAILED with an exception:\n" + traceback.format_exc())
        return False
    finally:
        for line in context.log_lines:
            say(f"  log:      {line}")
    elapsed = time.monotonic() - started
    show_output(output)
    problems = expectation_problems(dict(sample.get("expect") or {}), output)
    if problems:
        list_problems("  FAILED", problems)
        return False
    if elapsed > SLOW_RUN_SECONDS:
        say(f"  ok, but slow: {elapsed:.1f} s (the platform stops a run after {SLOW_RUN_SECONDS:.0f} s)")
    else:
        say(f"  ok ({elapsed * 1000:.0f} ms)")
    return True


def cmd_test(args: argparse.Namespace) -> int:
    root = Path(args.dir)
    _, problems = directory_problems(root)
    if problems:
        list_problems(f"{root} is not valid", problems)
        return 1
    tests_ok = run_unit_tests(root)
    samples_ok = run_samples(root)
    say("")
    if tests_ok and samples_ok:
        say("All good.")
        return 0
    complain(f"Failed: {', '.join(name for name, ok in (('tests', tests_ok), ('samples', samples_ok)) if not ok)}.")
    return 1


# --- the parser ----------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skybot-plugin",
        description="Create, test, validate and pack SkyBot Inbox agent plugins.",
        epilog="The ten-minute path: new -> test -> pack -> publish (docs/plugins/quickstart.md).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    new = commands.add_parser(
        "new",
        help="create a new plugin directory",
        description="Create NAME/ with plugin.json, a package holding an AgentPlugin subclass, "
        "tests/ using FakeContext, samples.json and a README. NAME is the plugin's id.",
    )
    new.add_argument("name", metavar="NAME", help="the plugin's id: lowercase letters, digits, dashes (lead-scorer)")
    new.add_argument("--dir", default=".", help="the folder to create it in (default: the current one)")
    new.set_defaults(handler=cmd_new)

    test = commands.add_parser(
        "test",
        help="run the plugin's tests, then execute every sample",
        description="Check the manifest, run tests/ (with pytest if installed, else unittest), then run "
        "execute on each sample of samples.json with a FakeContext holding the manifest's permissions, "
        "printing each answer and refusing what the platform would refuse. Exits 1 on any failure.",
    )
    test.add_argument("dir", nargs="?", default=".", metavar="DIR", help="the plugin directory (default: .)")
    test.set_defaults(handler=cmd_test)

    validate = commands.add_parser(
        "validate",
        help="list every problem with a plugin directory or zip",
        description="Check a plugin directory (manifest, the files it names, that the entrypoint imports) "
        "or a packed zip (exactly what the platform checks on upload). Prints every problem; exits 1 if any.",
    )
    validate.add_argument("path", nargs="?", default=".", metavar="DIR_OR_ZIP", help="default: the current folder")
    validate.set_defaults(handler=cmd_validate)

    pack_parser = commands.add_parser(
        "pack",
        help="validate the plugin and zip it for publishing",
        description="Validate, then write <id>-<version>.zip (the same bytes every time for the same files; "
        "tests/, dist/, hidden files and __pycache__ left out) and print its path and sha256.",
    )
    pack_parser.add_argument("dir", nargs="?", default=".", metavar="DIR", help="the plugin directory (default: .)")
    pack_parser.add_argument("--out", default=None, help="where to write the zip (default: DIR/dist)")
    pack_parser.set_defaults(handler=cmd_pack)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
