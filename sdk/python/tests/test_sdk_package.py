"""pack is deterministic and ships only the plugin; inspect_package refuses hostile zips without raising."""

import hashlib
import io
import json
import stat
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from skybot_plugin_sdk.package import PackageError, inspect_package, pack, package_files
from skybot_plugin_sdk.scaffold import scaffold

MANIFEST = {
    "id": "echo",
    "name": "Echo",
    "version": "1.0.0",
    "author": "Ada",
    "description": "Echoes.",
    "category": "CUSTOM",
    "entrypoint": "echo_plugin:Echo",
    "config_schema": {"type": "object"},
    "permissions": ["messages:send"],
    "min_platform_version": "1.0.0",
}
SOURCE = b"from skybot_plugin_sdk import AgentPlugin\nclass Echo(AgentPlugin): pass\n"


def build(
    entries: Sequence[tuple[str | zipfile.ZipInfo, str | bytes]], manifest: dict[str, Any] | None = MANIFEST
) -> bytes:
    """A zip of [(name or ZipInfo, bytes)], plugin.json first unless manifest is None."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if manifest is not None:
            archive.writestr("plugin.json", json.dumps(manifest))
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def problems_of(data: bytes, **limits: int) -> str:
    report = inspect_package(data, **limits)
    assert report.sha256 == hashlib.sha256(data).hexdigest()
    return " | ".join(report.problems)


def test_a_good_package_passes() -> None:
    report = inspect_package(build([("echo_plugin.py", SOURCE)]))
    assert report.problems == []
    assert report.ok
    assert report.manifest is not None
    assert report.manifest["id"] == "echo"
    assert report.files == ["echo_plugin.py", "plugin.json"]


def test_a_package_entrypoint_and_icon_are_found() -> None:
    manifest = {**MANIFEST, "entrypoint": "echo.plugin:Echo", "icon": "icon.svg"}
    files = [("echo/__init__.py", b""), ("echo/plugin/__init__.py", SOURCE), ("icon.svg", b"<svg/>")]
    assert inspect_package(build(files, manifest)).ok
    # the sandbox imports only real packages: each level needs its __init__.py
    assert "needs echo/__init__.py" in problems_of(build(files[1:], manifest))


@pytest.mark.parametrize("data", [b"", b"not a zip at all", b"PK\x03\x04garbage" * 10, b"\x00" * 100])
def test_not_a_zip(data: bytes) -> None:
    report = inspect_package(data)
    assert report.manifest is None
    assert report.problems


def test_too_big_compressed() -> None:
    assert "at most 100 are accepted" in problems_of(build([("echo_plugin.py", SOURCE)]), max_bytes=100)


def test_a_zip_bomb_is_refused_by_its_declared_size_and_by_reading_with_a_cap() -> None:
    data = build([("echo_plugin.py", SOURCE), ("bomb.bin", b"\0" * 6_000_000)])
    assert len(data) < 20_000
    problems = problems_of(data)
    assert "unpacks to 6000325 bytes; at most 5000000" in problems  # declared
    assert "more than 5000000 bytes (stopped at 'bomb.bin')" in problems  # and read no further than the cap
    # a header lying about the size: declared small, inflating to much more
    lying = _patch_sizes(data, "bomb.bin", 100)
    assert "'bomb.bin': cannot be read (Bad CRC-32" in problems_of(lying)


def _patch_sizes(data: bytes, name: str, size: int) -> bytes:
    """Rewrite `name`'s uncompressed size in the local header and the central directory."""
    patched = bytearray(data)
    encoded = name.encode()
    for signature, size_offset, name_offset in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = 0
        while (start := patched.find(signature, start)) != -1:
            if patched[start + name_offset : start + name_offset + len(encoded)] == encoded:
                patched[start + size_offset : start + size_offset + 4] = size.to_bytes(4, "little")
            start += 4
    return bytes(patched)


def test_the_unpacked_cap_holds_even_when_every_header_lies() -> None:
    data = _patch_sizes(build([("echo_plugin.py", SOURCE), ("big.bin", b"\0" * 200_000)]), "big.bin", 10)
    report = inspect_package(data, max_unpacked_bytes=50_000)
    assert report.problems  # refused, and inspect_package did not raise


def test_too_many_files() -> None:
    assert "at most 3 are accepted" in problems_of(build([(f"f{i}.py", b"") for i in range(5)]), max_files=3)


def test_a_symbolic_link_is_refused() -> None:
    link = zipfile.ZipInfo("echo_plugin.py")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    assert "a symbolic link" in problems_of(build([(link, "/etc/passwd")]))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../evil.py", "'..'"),
        ("a/../../evil.py", "'..'"),
        ("/etc/cron.d/evil", "an absolute path"),
        ("C:/evil.py", "an absolute path"),
        ("a\\..\\evil.py", "a backslash"),
        ("a//b.py", "unusual path"),
    ],
)
def test_unsafe_paths_are_refused(name: str, expected: str) -> None:
    assert expected in problems_of(build([("echo_plugin.py", SOURCE), (name, b"x")]))


def test_a_duplicate_name_is_refused() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate it writes
        data = build([("echo_plugin.py", SOURCE), ("echo_plugin.py", b"import os")])
    assert "appears more than once" in problems_of(data)


def test_an_encrypted_entry_is_refused() -> None:
    data = bytearray(build([("echo_plugin.py", SOURCE)]))
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            data[start + flag_offset] |= 0x1
            start += 4
    assert "encrypted" in problems_of(bytes(data))


def test_missing_manifest_entrypoint_and_icon() -> None:
    assert "plugin.json: missing at the archive's root" in problems_of(build([("echo_plugin.py", SOURCE)], None))
    nested = build([("echo/plugin.json", json.dumps(MANIFEST)), ("echo/echo_plugin.py", SOURCE)], None)
    assert "zip the plugin's contents, not its folder" in problems_of(nested)
    problems = problems_of(build([("other.py", SOURCE)], {**MANIFEST, "icon": "icon.png"}))
    assert "entrypoint: 'echo_plugin:Echo' needs echo_plugin.py" in problems
    assert "icon: 'icon.png' is not in the package." in problems


def test_an_invalid_manifest_lists_all_its_problems() -> None:
    report = inspect_package(build([("echo_plugin.py", SOURCE)], {**MANIFEST, "version": "1.0", "category": "X"}))
    assert report.manifest is not None
    assert len(report.problems) == 2
    assert inspect_package(build([], None) + b"").problems
    assert "not valid JSON" in problems_of(build([("plugin.json", b"{nope")], None))


# --- pack ------------------------------------------------------------------------------------------


def test_pack_is_deterministic_and_leaves_out_tests_and_caches(tmp_path: Path) -> None:
    root = scaffold("hello-bot", tmp_path)
    (root / "hello_bot" / "__pycache__").mkdir()
    (root / "hello_bot" / "__pycache__" / "plugin.cpython-311.pyc").write_bytes(b"\0")
    (root / ".env").write_text("SECRET=1")
    first = pack(root, tmp_path / "one")
    (root / "hello_bot" / "plugin.py").touch()  # a newer mtime changes nothing
    second = pack(root, tmp_path / "two")
    assert first.sha256 == second.sha256
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.path.name == "hello-bot-0.1.0.zip"
    assert first.size == len(first.path.read_bytes())
    names = zipfile.ZipFile(first.path).namelist()
    assert names == ["README.md", "hello_bot/__init__.py", "hello_bot/plugin.py", "plugin.json", "samples.json"]
    assert inspect_package(first.path.read_bytes()).ok


def test_pack_writes_to_dist_by_default_and_not_into_the_next_zip(tmp_path: Path) -> None:
    root = scaffold("hello-bot", tmp_path)
    result = pack(root)
    assert result.path == root / "dist" / "hello-bot-0.1.0.zip"
    assert pack(root).sha256 == result.sha256


def test_pack_refuses_an_invalid_plugin_and_a_symlink(tmp_path: Path) -> None:
    root = scaffold("hello-bot", tmp_path)
    (root / "link.py").symlink_to("/etc/passwd")
    manifest = json.loads((root / "plugin.json").read_text())
    (root / "plugin.json").write_text(json.dumps({**manifest, "version": "0.1"}))
    with pytest.raises(PackageError) as caught:
        pack(root)
    assert any("version" in problem for problem in caught.value.problems)
    assert any("link.py: a symbolic link" in problem for problem in caught.value.problems)
    assert not (root / "dist").exists()
    (root / "link.py").unlink()
    assert "link.py" not in package_files(root)
