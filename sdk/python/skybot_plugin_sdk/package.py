"""Plugin packages: `pack` zips a plugin directory the same way every time; `inspect_package` checks
an uploaded zip without trusting it and lists every problem.

What `pack` ships: every file of the plugin directory except its `tests/` and `dist/` folders, hidden
files and folders (`.git`, `.venv`...), `__pycache__`, compiled `*.pyc`/`*.pyo` and `*.egg-info`. Tests
stay out because the platform never runs them and they often carry fixtures; `samples.json` and the
README stay in (small, and useful to whoever reviews the package).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skybot_plugin_sdk.manifest import (
    MANIFEST_NAME,
    ManifestError,
    entrypoint_problems,
    load_manifest,
    validate_manifest,
)

MAX_PACKAGE_BYTES = 1_000_000
MAX_UNPACKED_BYTES = 5_000_000
MAX_FILES = 200

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip can hold: no build time leaks in
EXCLUDED_TOP_LEVEL = frozenset({"tests", "dist"})
EXCLUDED_NAMES = frozenset({"__pycache__"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".egg-info")
ACCEPTED_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_READ_CHUNK = 64 * 1024
_ENTRYPOINT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class PackResult:
    path: Path
    sha256: str
    size: int


@dataclass(frozen=True)
class PackageReport:
    """What `inspect_package` found. `manifest` is the parsed plugin.json when it is a JSON object
    (even an invalid one); the package is acceptable only when `problems` is empty."""

    manifest: dict[str, Any] | None
    problems: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    sha256: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


class PackageError(Exception):
    """A plugin directory that cannot be packed; `problems` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# --- packing ----------------------------------------------------------------------------------------


def package_files(plugin_dir: str | Path) -> list[str]:
    """The paths (relative, with /) `pack` puts in the zip, sorted. Raises `PackageError` for a
    symbolic link, which a package cannot hold."""
    root = Path(plugin_dir)
    names: list[str] = []
    links: list[str] = []
    for current, dirs, files in os.walk(root):
        here = Path(current)
        dirs[:] = [d for d in dirs if _shipped(here / d, root, is_dir=True)]
        links += [str((here / d).relative_to(root)) for d in dirs if (here / d).is_symlink()]
        for name in files:
            path = here / name
            if not _shipped(path, root, is_dir=False):
                continue
            if path.is_symlink():
                links.append(str(path.relative_to(root)))
            else:
                names.append(path.relative_to(root).as_posix())
    if links:
        raise PackageError([f"{link}: a symbolic link; copy the file in instead." for link in sorted(links)])
    return sorted(names)


def _shipped(path: Path, root: Path, *, is_dir: bool) -> bool:
    relative = path.relative_to(root)
    name = path.name
    if name.startswith(".") or name in EXCLUDED_NAMES or name.endswith(EXCLUDED_SUFFIXES):
        return False
    return not (is_dir and len(relative.parts) == 1 and name in EXCLUDED_TOP_LEVEL)


def build_zip(plugin_dir: str | Path, names: list[str]) -> bytes:
    """A zip of `names` under `plugin_dir` whose bytes depend only on the files' paths and contents."""
    root = Path(plugin_dir)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(names):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever machine packs it
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, (root / name).read_bytes(), compresslevel=9)
    return buffer.getvalue()


def pack(plugin_dir: str | Path, out_dir: str | Path | None = None) -> PackResult:
    """Validate the plugin in `plugin_dir` and write `<id>-<version>.zip` to `out_dir` (default
    `plugin_dir/dist`). Raises `PackageError` listing every problem (nothing is written then)."""
    root = Path(plugin_dir)
    try:
        manifest = load_manifest(root, validate=False)
    except ManifestError as exc:
        raise PackageError(exc.problems) from None
    problems = validate_manifest(manifest)
    try:
        names = package_files(root)
    except PackageError as exc:
        problems += exc.problems
        names = []
    if problems:
        raise PackageError(problems)
    data = build_zip(root, names)
    report = inspect_package(data)
    if report.problems:
        raise PackageError(report.problems)
    target_dir = Path(out_dir) if out_dir is not None else root / "dist"
    target_dir.mkdir(parents=True, exist_ok=True)
    path = target_dir / f"{manifest['id']}-{manifest['version']}.zip"
    path.write_bytes(data)
    return PackResult(path=path, sha256=report.sha256, size=len(data))


# --- inspecting an upload ---------------------------------------------------------------------------


def inspect_package(
    data: bytes,
    *,
    max_bytes: int = MAX_PACKAGE_BYTES,
    max_unpacked_bytes: int = MAX_UNPACKED_BYTES,
    max_files: int = MAX_FILES,
) -> PackageReport:
    """Check a package's bytes without extracting anything to disk; never raises. Reports every
    problem: size, zip safety (links, paths, duplicates, encryption, bombs), the manifest, the files
    it names."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        return _inspect(bytes(data), digest, max_bytes, max_unpacked_bytes, max_files)
    except Exception as exc:  # noqa: BLE001 - hostile input must come back as a problem, never a crash
        return PackageReport(None, [f"The package cannot be read as a zip archive: {exc}."], [], digest)


def _inspect(data: bytes, digest: str, max_bytes: int, max_unpacked_bytes: int, max_files: int) -> PackageReport:
    if len(data) > max_bytes:
        return PackageReport(None, [f"The package is {len(data)} bytes; at most {max_bytes} are accepted."], [], digest)
    if not data.startswith(b"PK\x03\x04"):
        return PackageReport(None, ["The package is not a zip archive."], [], digest)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        return PackageReport(None, [f"The package is not a readable zip archive ({exc})."], [], digest)
    with archive:
        infos = archive.infolist()
        problems = _entry_problems(infos, max_files, max_unpacked_bytes)
        contents, read_problems = _read_entries(archive, infos, max_unpacked_bytes)
    problems += read_problems
    files = sorted(info.filename for info in infos if not info.is_dir())
    manifest, manifest_problems = _manifest(contents, files)
    problems += manifest_problems
    if manifest is not None:
        problems += named_file_problems(manifest, set(files))
    return PackageReport(manifest, problems, files, digest)


def _entry_problems(infos: list[zipfile.ZipInfo], max_files: int, max_unpacked_bytes: int) -> list[str]:
    problems: list[str] = []
    if len(infos) > max_files:
        problems.append(f"The package holds {len(infos)} entries; at most {max_files} are accepted.")
    declared = sum(info.file_size for info in infos)
    if declared > max_unpacked_bytes:
        problems.append(f"The package unpacks to {declared} bytes; at most {max_unpacked_bytes} are accepted.")
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        problems += [f"{name!r}: {problem}" for problem in _name_problems(name)]
        if name in seen:
            problems.append(f"{name!r}: appears more than once in the archive.")
        seen.add(name)
        kind = stat.S_IFMT(info.external_attr >> 16)
        if kind == stat.S_IFLNK:
            problems.append(f"{name!r}: a symbolic link; a package holds only regular files.")
        elif kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            problems.append(f"{name!r}: not a regular file.")
        if info.flag_bits & 0x1:
            problems.append(f"{name!r}: encrypted; a package must not be password-protected.")
        if info.compress_type not in ACCEPTED_COMPRESSION:
            problems.append(
                f"{name!r}: compression method {info.compress_type} (only stored and deflate are accepted)."
            )
    return problems


def _name_problems(name: str) -> list[str]:
    problems = []
    if "\\" in name:
        problems.append("a backslash in the path; use / between folders.")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        problems.append("an absolute path; paths must be relative to the package's root.")
    parts = name.rstrip("/").split("/")
    if ".." in parts:
        problems.append("a path with '..'; it would point outside the package.")
    if any(ord(char) < 32 for char in name):
        problems.append("a control character in the path.")
    if "" in parts[1:] or "." in parts:
        problems.append("an unusual path (empty or '.' parts).")
    return problems


def _read_entries(
    archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], max_unpacked_bytes: int
) -> tuple[dict[str, bytes], list[str]]:
    """Read every regular entry with a cap on the bytes actually inflated (a header may lie about the
    size); checks each entry's CRC on the way. Answers {name: bytes} of the entries read whole."""
    contents: dict[str, bytes] = {}
    problems: list[str] = []
    budget = max_unpacked_bytes
    for info in infos:
        if info.is_dir() or info.flag_bits & 0x1 or info.compress_type not in ACCEPTED_COMPRESSION:
            continue
        if stat.S_IFMT(info.external_attr >> 16) not in (0, stat.S_IFREG):
            continue
        chunks: list[bytes] = []
        try:
            with archive.open(info) as stream:
                while chunk := stream.read(min(_READ_CHUNK, budget + 1)):
                    chunks.append(chunk)
                    budget -= len(chunk)
                    if budget < 0:
                        break
        except Exception as exc:  # noqa: BLE001 - zlib, CRC, header mismatch... all mean "corrupt"
            problems.append(f"{info.filename!r}: cannot be read ({exc}).")
            continue
        if budget < 0:
            problems.append(
                f"The package unpacks to more than {max_unpacked_bytes} bytes (stopped at {info.filename!r})."
            )
            break
        contents[info.filename] = b"".join(chunks)
    return contents, problems


def _manifest(contents: dict[str, bytes], files: list[str]) -> tuple[dict[str, Any] | None, list[str]]:
    raw = contents.get(MANIFEST_NAME)
    if raw is None:
        if MANIFEST_NAME in files:
            return None, [f"{MANIFEST_NAME}: cannot be read."]
        nested = [name for name in files if name.endswith("/" + MANIFEST_NAME)]
        hint = f" (found {nested[0]}: zip the plugin's contents, not its folder)" if nested else ""
        return None, [f"{MANIFEST_NAME}: missing at the archive's root{hint}."]
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, [f"{MANIFEST_NAME}: not valid JSON ({exc})."]
    if not isinstance(data, dict):
        return None, [f"{MANIFEST_NAME}: must be a JSON object."]
    return data, validate_manifest(data)


def named_file_problems(manifest: dict[str, Any], files: set[str]) -> list[str]:
    """The files the manifest names (the entrypoint's module, the icon) that `files` lacks."""
    problems = []
    entrypoint = manifest.get("entrypoint")
    if isinstance(entrypoint, str) and _ENTRYPOINT.match(entrypoint):
        problems += entrypoint_problems(entrypoint, files)
    icon = manifest.get("icon")
    if isinstance(icon, str) and icon not in files:
        problems.append(f"icon: {icon!r} is not in the package.")
    return problems
