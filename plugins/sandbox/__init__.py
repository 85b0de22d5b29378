"""The plugin sandbox: untrusted plugin code runs in a fresh, kernel-confined child per call.

- `client.run` (host side, used by `plugins.services.sandbox`) verifies the package checksum, gets a
  child from the fork server and speaks to it directly: the job goes in, capability calls and log
  lines come out, one result or error ends it.
- `forkserver` is one long-lived process per host that forks children from a warm interpreter.
- `confine` applies the layers in each child (namespaces, uid, rlimits, no_new_privs, Landlock,
  seccomp) before any plugin byte is read; `child` then loads the package from memory and runs it.
- `protocol` frames every message (4-byte length + JSON).

Nothing here imports Django: the fork server and its children load this package on their own.
See docs/plugins/security.md for the threat model and what each layer stops.
"""

from .client import SandboxConfig, SandboxError, SandboxResult, SandboxStatus, run, sandbox_status

__all__ = ["SandboxConfig", "SandboxError", "SandboxResult", "SandboxStatus", "run", "sandbox_status"]
