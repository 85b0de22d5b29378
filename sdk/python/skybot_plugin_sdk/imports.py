"""Which imports the platform's sandbox allows, checked statically so an author sees a refused import
at `skybot-plugin validate`/`test` time rather than when publishing.

The sandbox refuses, at import time, anything but the plugin's own modules, `skybot_plugin_sdk`
(without its tooling) and the standard modules below (docs/plugins/security.md). Keep the list in
step with `plugins/sandbox/child.py`.
"""

import ast
import sys
from collections.abc import Iterable, Mapping

ALLOWED_STDLIB = (
    "abc", "array", "base64", "binascii", "bisect", "calendar", "collections", "contextlib", "copy",
    "csv", "dataclasses", "datetime", "decimal", "difflib", "enum", "fractions", "functools",
    "hashlib", "heapq", "hmac", "html", "importlib", "io", "itertools", "json", "logging", "math",
    "numbers", "operator", "pkgutil", "pprint", "random", "re", "secrets", "statistics", "string", "struct",
    "textwrap", "time", "types", "typing", "unicodedata", "urllib.parse", "uuid", "warnings",
    "zipfile", "zoneinfo", "zlib",
)  # fmt: skip
SDK_PACKAGE = "skybot_plugin_sdk"
SDK_TOOLING = ("cli", "__main__", "package", "testing", "manifest", "scaffold", "imports")  # authors' tools


def import_allowed(name: str, plugin_modules: Iterable[str]) -> bool:
    """Whether the sandbox lets plugin code import the module `name`."""
    parts = name.split(".")
    if parts[0] in set(plugin_modules):
        return True
    if parts[0] == SDK_PACKAGE:
        return len(parts) == 1 or parts[1] not in SDK_TOOLING
    return any(name == ok or name.startswith(ok + ".") or ok.startswith(name + ".") for ok in ALLOWED_STDLIB)


def plugin_modules(files: Iterable[str]) -> set[str]:
    """The top-level modules a package provides: `x.py` at its root, or `x/__init__.py`."""
    names = set(files)
    tops = {name[:-3] for name in names if name.endswith(".py") and "/" not in name}
    tops |= {name.split("/", 1)[0] for name in names if name.count("/") == 1 and name.endswith("/__init__.py")}
    return {name for name in tops if name.isidentifier()}


def import_problems(sources: Mapping[str, str]) -> list[str]:
    """Every import in `sources` ({package path: Python source}) the sandbox would refuse, and files
    that do not parse. Imports under `if TYPE_CHECKING:` never run and are not checked."""
    own = plugin_modules(sources)
    problems = [
        f"{name}: a plugin module may not be named like a standard module (rename it)."
        for name in sorted(own)
        if name in sys.stdlib_module_names or name == SDK_PACKAGE
    ]
    for path, source in sorted(sources.items()):
        if not path.endswith(".py"):
            continue
        try:
            tree = ast.parse(source, filename=path)
        except SyntaxError as exc:
            problems.append(f"{path}: line {exc.lineno}: {exc.msg}.")
            continue
        for line, name in _imports(tree):
            if not import_allowed(name, own):
                problems.append(f"{path}: line {line}: imports {name}, which the sandbox does not allow.")
    return problems


def _imports(node: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every import below `node`, except under `if TYPE_CHECKING:`."""
    found: list[tuple[int, str]] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                found += _own_imports(other) + _imports(other)
            continue
        found += _own_imports(child) + _imports(child)
    return found


def _own_imports(node: ast.AST) -> list[tuple[int, str]]:
    if isinstance(node, ast.Import):
        return [(node.lineno, alias.name) for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        found = [(node.lineno, node.module)]
        if node.module == SDK_PACKAGE:  # `from skybot_plugin_sdk import testing` imports a submodule
            found += [(node.lineno, f"{SDK_PACKAGE}.{alias.name}") for alias in node.names if alias.name in SDK_TOOLING]
        return found
    return []


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )
