"""A host without one of the sandbox's layers, reproduced for real: the operator setting
PLUGINS_SANDBOX_SKIP_LAYERS makes each child leave that layer off, as an older kernel would.

What the sandbox itself promises there: it reports the missing layer, a run that needs a complete
sandbox stops before any plugin code runs, and a run that accepts an incomplete one really does run
without that layer (which is why third-party code is refused by default)."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from plugins.sandbox import SandboxConfig, SandboxError, SandboxResult, run, sandbox_status

from .conftest import make_package
from .test_attacks import ATTACK

pytestmark = pytest.mark.slow

READ_FILE = ATTACK.format(
    attack="""
def attack(message):
    with open(message) as handle:
        return handle.read(40)
"""
)


def read_passwd(config: SandboxConfig, *, require_complete: bool) -> SandboxResult:
    package = make_package(READ_FILE)
    return run(
        package=package,
        sha256=hashlib.sha256(package).hexdigest(),
        entrypoint="agent:Agent",
        op="execute",
        payload={
            "context": {"account_id": 7, "config": {}, "permissions": []},
            "input": {"message": "/etc/passwd", "metadata": {}},
        },
        handler=lambda call, args: None,
        config=config,
        require_complete=require_complete,
    )


@pytest.mark.parametrize(
    ("skip", "named"),
    [
        (("landlock",), "landlock"),
        (("seccomp",), "seccomp"),
        (("rlimits",), "rlimits"),
        (("landlock", "seccomp"), "seccomp"),
    ],
)
def test_a_missing_layer_is_reported_and_a_run_needing_all_stops_before_plugin_code(
    sandbox_config: SandboxConfig, skip: tuple[str, ...], named: str
) -> None:
    config = replace(sandbox_config, skip_layers=skip)
    # the host's status names what is missing
    status = sandbox_status(config)
    assert not status.complete
    assert any(named in missing for missing in status.missing)
    assert len(status.missing) == len(skip)
    # a run that needs a complete sandbox fails before the package is even sent
    with pytest.raises(SandboxError) as caught:
        read_passwd(config, require_complete=True)
    assert caught.value.code == "sandbox_incomplete"
    assert named in caught.value.message
    assert caught.value.logs == []


def test_without_landlock_and_seccomp_the_layer_really_is_off(sandbox_config: SandboxConfig) -> None:
    # with every layer a plugin cannot read /etc/passwd
    assert read_passwd(sandbox_config, require_complete=False).value["response"].startswith("blocked: PermissionError")
    # with only one of the two file-guarding layers off, the other still holds
    assert (
        read_passwd(replace(sandbox_config, skip_layers=("seccomp",)), require_complete=False)
        .value["response"]
        .startswith("blocked: PermissionError")
    )
    # with both off, as on a kernel that has neither, it can: this is what a refused run is spared
    leaked = read_passwd(replace(sandbox_config, skip_layers=("landlock", "seccomp")), require_complete=False)
    assert leaked.value["response"].startswith("LEAKED: 'root:")
    assert leaked.layers["landlock"] == 0
    assert leaked.layers["seccomp"] is False
    # and the layers nobody switched off still applied
    assert leaked.layers["rlimits"] is True
    assert "net" in leaked.layers["namespaces"]


def test_the_fork_server_refuses_a_layer_name_it_does_not_know(sandbox_config: SandboxConfig) -> None:
    with pytest.raises(SandboxError) as caught:
        read_passwd(replace(sandbox_config, skip_layers=("namespaces",)), require_complete=False)
    assert caught.value.code == "unavailable"
    assert "refused the run" in caught.value.message
    assert "skip_layers must name some of landlock, rlimits, seccomp" in caught.value.message
