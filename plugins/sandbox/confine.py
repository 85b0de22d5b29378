"""Confinement of a sandboxed child, applied in the child before it reads a byte of plugin code.

The layers, in the order they are applied (each stops something the others might miss):

1. file descriptors: every inherited descriptor but the job socket is closed; 0/1/2 point at
   /dev/null; the environment is emptied and the working directory is `/`.
2. namespaces: new IPC, UTS and mount namespaces for the child; the network namespace is the fork
   server's own, empty one (no interface is up: nothing can be reached, even if a socket could be
   made). Where the server is not root, the child makes a new user namespace to get them.
3. uid: when root, the child drops every group and becomes the configured unprivileged uid.
4. rlimits: address space (current + memory_mb), CPU seconds, no new processes, no file writes,
   few descriptors, no core dumps.
5. no_new_privs and not dumpable (no ptrace of it by a sibling with the same uid).
6. Landlock: every filesystem right of the kernel's ABI is handled and only read-file/read-dir is
   granted on the stdlib, /usr/share/zoneinfo, the SDK and the sandbox's own directory; TCP bind
   and connect are handled and never granted; abstract unix sockets and signals are scoped (ABI 6).
7. seccomp: an allow-list of 55 system calls (compute, memory, clocks, read/write on descriptors
   already open); everything else fails with EPERM, so an attack ends as a PermissionError.

The Landlock ruleset and the seccomp program are built once, in the fork server (`prepare`); a
child only calls `landlock_restrict_self` on the inherited ruleset and loads the ready BPF program,
which keeps confinement well under a millisecond.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import math
import os
import resource
import signal
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_libc.unshare.argtypes = [ctypes.c_int]

# --- Landlock (include/uapi/linux/landlock.h); the syscall numbers are the same on every arch ----
SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1

FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_REMOVE_DIR = 1 << 4
FS_REMOVE_FILE = 1 << 5
FS_MAKE_CHAR = 1 << 6
FS_MAKE_DIR = 1 << 7
FS_MAKE_REG = 1 << 8
FS_MAKE_SOCK = 1 << 9
FS_MAKE_FIFO = 1 << 10
FS_MAKE_BLOCK = 1 << 11
FS_MAKE_SYM = 1 << 12
FS_REFER = 1 << 13  # ABI 2
FS_TRUNCATE = 1 << 14  # ABI 3
FS_IOCTL_DEV = 1 << 15  # ABI 5
NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1  # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1  # ABI 6

#: Landlock ABI the sandbox needs to call itself complete (TCP rules arrived in ABI 4).
LANDLOCK_MIN_ABI = 4


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is absent or disabled."""
    abi = _libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), LANDLOCK_CREATE_RULESET_VERSION)
    return max(int(abi), 0)


def _fs_rights(abi: int) -> int:
    rights = (1 << 13) - 1  # ABI 1: EXECUTE .. MAKE_SYM
    if abi >= 2:
        rights |= FS_REFER
    if abi >= 3:
        rights |= FS_TRUNCATE
    if abi >= 5:
        rights |= FS_IOCTL_DEV
    return rights


def landlock_ruleset(read_only_dirs: Iterable[str]) -> tuple[int, int]:
    """(ruleset fd, ABI) handling every right of this kernel's ABI and granting read on the dirs;
    (-1, 0) where Landlock is unavailable."""
    abi = landlock_abi()
    if abi < 1:
        return -1, 0
    attr = _RulesetAttr(handled_access_fs=_fs_rights(abi))
    size = 8
    if abi >= 4:
        attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP
        size = 16
    if abi >= 6:
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        size = 24
    ruleset_fd = int(_libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0))
    if ruleset_fd < 0:
        return -1, 0
    for path in read_only_dirs:
        try:
            dir_fd = os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            rule = _PathBeneathAttr(allowed_access=FS_READ_FILE | FS_READ_DIR, parent_fd=dir_fd)
            if _libc.syscall(SYS_LANDLOCK_ADD_RULE, ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, ctypes.byref(rule), 0):
                os.close(ruleset_fd)
                return -1, 0
        finally:
            os.close(dir_fd)
    return ruleset_fd, abi


# --- seccomp ------------------------------------------------------------------------------------
PR_SET_DUMPABLE = 4
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_MODE_FILTER = 2

#: What a child may call once confined: compute, memory, clocks, signals of its own, and I/O on the
#: descriptors it already holds (the job socket; files Landlock lets it open read-only). Anything
#: else - socket, connect, clone/fork, execve, kill, ptrace, mount, unshare, bpf, io_uring,
#: ioctl, prctl, setrlimit... - fails with EPERM.
SECCOMP_ALLOWED = (
    # I/O on open descriptors; opening is left to Landlock (read-only grants); stat is needed by
    # glibc's fstat and zoneinfo.
    "read", "readv", "pread64", "preadv", "write", "writev", "close", "lseek",
    "openat", "open", "fstat", "newfstatat", "statx", "getdents64", "fcntl",
    "sendto", "recvfrom", "shutdown", "poll", "ppoll",
    # memory
    "mmap", "munmap", "mremap", "mprotect", "brk", "madvise",
    # threads' primitives a single-threaded CPython still uses, signals of its own
    "futex", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "restart_syscall",
    "sched_yield", "sched_getaffinity",
    # time and randomness
    "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
    "getrandom", "getrusage", "times",
    # who am I (no effect on anything)
    "getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid", "getgroups", "uname", "getcwd",
    "exit", "exit_group",
)  # fmt: skip


@dataclass
class SeccompProgram:
    """A BPF program ready for PR_SET_SECCOMP (kept alive as long as the server lives)."""

    buffer: Any
    fprog: Any


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def seccomp_program() -> SeccompProgram | None:
    """The allow-list compiled once with libseccomp (pyseccomp); None where it is unavailable."""
    try:
        import pyseccomp
    except (ImportError, RuntimeError, OSError):
        return None
    try:
        rules = pyseccomp.SyscallFilter(pyseccomp.ERRNO(errno.EPERM))
        rules.set_attr(pyseccomp.Attr.ACT_BADARCH, pyseccomp.KILL_PROCESS)
        for name in SECCOMP_ALLOWED:
            try:
                rules.add_rule(pyseccomp.ALLOW, name)
            except (OSError, ValueError, RuntimeError):
                continue  # a call this architecture does not have
        memfd = os.memfd_create("skybot-seccomp", os.MFD_CLOEXEC)
        try:
            with os.fdopen(os.dup(memfd), "rb") as out:
                rules.export_bpf(out)
            size = os.lseek(memfd, 0, os.SEEK_END)
            code = os.pread(memfd, size, 0)
        finally:
            os.close(memfd)
    except OSError:
        return None
    if not code or len(code) % 8:
        return None
    buffer = ctypes.create_string_buffer(code, len(code))
    fprog = _SockFprog(len(code) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    return SeccompProgram(buffer=buffer, fprog=fprog)


# --- what the fork server prepares once ---------------------------------------------------------
CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000


def allowed_read_dirs() -> list[str]:
    """What a confined child may read: the stdlib, zoneinfo, the SDK and the sandbox itself."""
    dirs = [sysconfig.get_paths()["stdlib"], "/usr/share/zoneinfo", str(Path(__file__).resolve().parent)]
    try:
        import skybot_plugin_sdk

        dirs.append(str(Path(skybot_plugin_sdk.__file__).resolve().parent))
    except ImportError:
        pass
    return dirs


@dataclass
class Prepared:
    """Built once by the fork server and inherited by every child it forks."""

    ruleset_fd: int = -1
    landlock: int = 0
    seccomp: SeccompProgram | None = None
    #: The fork server moved itself into a new, empty network namespace.
    shared_netns: bool = False
    devnull_fd: int = -1
    is_root: bool = field(default_factory=lambda: os.geteuid() == 0)


def prepare(*, private_network: bool = True) -> Prepared:
    """Build the Landlock ruleset and the seccomp program, and leave the host's network namespace
    (root only: the server keeps listening on its unix socket, which is reached by path)."""
    prepared = Prepared()
    prepared.ruleset_fd, prepared.landlock = landlock_ruleset(allowed_read_dirs())
    prepared.seccomp = seccomp_program()
    prepared.devnull_fd = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
    if private_network and prepared.is_root and _libc.unshare(CLONE_NEWNET) == 0:
        prepared.shared_netns = True
    return prepared


# --- in the child -------------------------------------------------------------------------------
def _close_fds_except(keep: set[int]) -> None:
    low = 3
    for fd in sorted(keep):
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1
    os.closerange(low, 1 << 20)


def _vm_bytes() -> int:
    fd = os.open("/proc/self/statm", os.O_RDONLY | os.O_CLOEXEC)
    try:
        return int(os.read(fd, 256).split()[0]) * resource.getpagesize()
    finally:
        os.close(fd)


def _set_limit(which: int, value: int) -> None:
    resource.setrlimit(which, (value, value))


#: Layers an operator may switch off (PLUGINS_SANDBOX_SKIP_LAYERS) where one misbehaves on a host, or to
#: see how the platform behaves on an older kernel without it: the sandbox is then incomplete, and
#: third-party plugins are refused unless PLUGINS_ALLOW_UNSANDBOXED.
SKIPPABLE_LAYERS = ("landlock", "rlimits", "seccomp")


def confine(
    *, job_fd: int, prepared: Prepared, timeout: float, memory_mb: int, uid: int, skip: Iterable[str] = ()
) -> dict[str, Any]:
    """Apply every layer this machine allows but those in `skip`; answer which applied (see
    `layers_complete`)."""
    skipped = frozenset(skip)
    layers: dict[str, Any] = {"namespaces": [], "uid": False, "rlimits": False, "landlock": 0, "seccomp": False}
    if prepared.devnull_fd >= 0:
        for std in (0, 1, 2):
            os.dup2(prepared.devnull_fd, std, inheritable=False)
    _close_fds_except({job_fd, prepared.ruleset_fd})
    vm_bytes = _vm_bytes()
    os.environ.clear()
    os.chdir("/")

    flags = CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS
    names = ["ipc", "uts", "mnt"]
    if not prepared.shared_netns:
        flags |= CLONE_NEWNET
        names.append("net")
    if not prepared.is_root:
        flags |= CLONE_NEWUSER
        names.append("user")
    if _libc.unshare(flags) == 0:
        layers["namespaces"] = sorted(names + (["net"] if prepared.shared_netns else []))
    elif prepared.shared_netns:
        layers["namespaces"] = ["net"]

    if prepared.is_root and uid > 0:
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            layers["uid"] = os.getuid() == uid and os.geteuid() == uid
        except OSError:
            layers["uid"] = False

    if "rlimits" not in skipped:
        try:
            cpu = math.ceil(timeout) + 1
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
            _set_limit(resource.RLIMIT_AS, vm_bytes + memory_mb * 1024 * 1024)
            _set_limit(resource.RLIMIT_NPROC, 0)
            _set_limit(resource.RLIMIT_FSIZE, 0)
            _set_limit(resource.RLIMIT_NOFILE, 16)
            _set_limit(resource.RLIMIT_CORE, 0)
            _set_limit(resource.RLIMIT_MEMLOCK, 0)
            _set_limit(resource.RLIMIT_MSGQUEUE, 0)
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write over FSIZE fails (EFBIG) instead
            layers["rlimits"] = True
        except (OSError, ValueError):
            layers["rlimits"] = False

    no_new_privs = _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)

    landlock_on = no_new_privs and prepared.ruleset_fd >= 0 and "landlock" not in skipped
    if landlock_on and _libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, prepared.ruleset_fd, 0) == 0:
        layers["landlock"] = prepared.landlock
    if prepared.ruleset_fd >= 0:
        os.close(prepared.ruleset_fd)

    if no_new_privs and prepared.seccomp is not None and "seccomp" not in skipped:
        fprog = prepared.seccomp.fprog
        layers["seccomp"] = _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0) == 0
    return layers


def layers_missing(layers: dict[str, Any]) -> list[str]:
    """The layers a complete sandbox needs that did not apply."""
    missing = []
    if int(layers.get("landlock") or 0) < LANDLOCK_MIN_ABI:
        missing.append(f"landlock (ABI >= {LANDLOCK_MIN_ABI}, have {int(layers.get('landlock') or 0)})")
    if not layers.get("seccomp"):
        missing.append("seccomp")
    if not layers.get("rlimits"):
        missing.append("rlimits")
    return missing


def layers_complete(layers: dict[str, Any]) -> bool:
    return not layers_missing(layers)
