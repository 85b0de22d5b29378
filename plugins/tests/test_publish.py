"""Staff publish plugin packages: every problem listed in one 400, nothing stored for a broken one,
the checksum kept and checked again when the code loads."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import AuditLog
from plugins.models import Plugin, PluginVersion, VersionStatus
from plugins.sandbox import SandboxError
from plugins.services.sandbox import plugin_code_run
from plugins.tests.conftest import build_package, manifest

pytestmark = pytest.mark.django_db


def upload(client, data: bytes, **fields):
    return client.post(
        "/api/v1/admin/plugins",
        {"package": SimpleUploadedFile("echo.zip", data, content_type="application/zip"), **fields},
        format="multipart",
    )


def test_staff_upload_a_package_it_waits_for_review_and_its_checksum_is_kept(client_for, client_admin, super_admin):
    # given a valid package
    data = build_package()
    # when staff upload it
    response = upload(client_for(super_admin), data)
    # then it is stored with its checksum, audited, and waits for review: tenants do not see it
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["plugin_id"], body["version"]) == ("echo", None)
    version = PluginVersion.objects.get()
    assert version.status == VersionStatus.PENDING_REVIEW
    assert version.sha256 == hashlib.sha256(data).hexdigest()
    assert bytes(version.package) == data
    assert AuditLog.objects.filter(action="plugin.uploaded").count() == 1
    assert client_for(client_admin).get("/api/v1/plugins").json()["results"] == []
    assert client_for(client_admin).get("/api/v1/plugins/echo").status_code == 404
    # and the same bytes again answer the stored version without a second row
    again = upload(client_for(super_admin), data)
    assert again.status_code == 201
    assert PluginVersion.objects.count() == 1
    # when staff publish it after review
    published = client_for(super_admin).patch(
        "/api/v1/admin/plugins/echo/versions/1.0.0", {"status": "published"}, format="json"
    )
    # then tenants see it, with what it asks for
    assert published.status_code == 200, published.json()
    listed = client_for(client_admin).get("/api/v1/plugins").json()["results"]
    assert [(row["plugin_id"], row["version"]) for row in listed] == [("echo", "1.0.0")]
    assert {p["permission"] for p in listed[0]["permissions"]} == set(manifest()["permissions"])
    assert AuditLog.objects.filter(action="plugin.version_published").count() == 1


def test_staff_may_publish_at_upload(client_for, super_admin):
    response = upload(client_for(super_admin), build_package(), publish="true")
    assert response.status_code == 201, response.json()
    assert response.json()["version"] == "1.0.0"
    assert PluginVersion.objects.get().status == VersionStatus.PUBLISHED
    bad = upload(client_for(super_admin), build_package(manifest(version="1.0.1")), publish="maybe")
    assert bad.status_code == 400
    assert bad.json()["details"] == {"publish": ["Must be true or false."]}
    assert PluginVersion.objects.count() == 1


def test_other_bytes_under_a_published_version_are_refused(client_for, super_admin):
    upload(client_for(super_admin), build_package())
    changed = build_package(
        files={"echo_plugin.py": "from skybot_plugin_sdk import AgentPlugin\nclass Echo(AgentPlugin): pass\n"}
    )
    response = upload(client_for(super_admin), changed)
    assert response.status_code == 409
    assert response.json()["code"] == "version_exists"
    assert PluginVersion.objects.count() == 1


def test_a_broken_package_lists_every_problem_and_stores_nothing(client_for, super_admin):
    # given a manifest with several mistakes at once
    broken = manifest(version="1.0", category="GAMES", permissions=["contacts:read", "root:everything"])
    broken["surprise"] = True
    response = upload(client_for(super_admin), build_package(broken))
    # then one 400 names each of them
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_package"
    problems = " ".join(body["details"]["package"])
    for expected in ("version", "category", "root:everything", "surprise"):
        assert expected in problems, problems
    assert len(body["details"]["package"]) >= 4
    # and nothing was stored
    assert not Plugin.objects.exists()
    assert not PluginVersion.objects.exists()


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"other.py": "x = 1\n"}, "echo_plugin"),  # the entrypoint's module is not in the archive
        ({"echo_plugin.py": "class Echo: pass\n"}, "AgentPlugin"),  # not a plugin class
        ({"echo_plugin.py": "raise RuntimeError('at import')\n"}, "at import"),  # fails to import
        ({"echo_plugin.py": "import django\n"}, "django"),  # imports outside the sandbox's allow-list
    ],
)
def test_an_entrypoint_that_does_not_load_in_the_sandbox_is_refused(client_for, super_admin, files, expected):
    response = upload(client_for(super_admin), build_package(files=files))
    assert response.status_code == 400
    assert expected in " ".join(response.json()["details"]["package"])
    assert not PluginVersion.objects.exists()


def test_not_a_zip_and_a_missing_field_are_clear_400s(client_for, super_admin):
    response = upload(client_for(super_admin), b"this is not a zip")
    assert response.status_code == 400
    assert response.json()["details"]["package"]
    missing = client_for(super_admin).post("/api/v1/admin/plugins", {}, format="multipart")
    assert missing.status_code == 400
    assert missing.json()["details"] == {"package": ["This field is required."]}


def test_only_platform_staff_publish(client_for, client_admin, api_client):
    data = build_package()
    assert upload(client_for(client_admin), data).status_code == 403
    assert upload(api_client, data).status_code == 401
    assert not PluginVersion.objects.exists()


def test_the_checksum_is_checked_again_when_the_code_loads(echo_version):
    # given the stored package was changed behind the platform's back
    tampered = bytearray(echo_version.package)
    tampered[-30] ^= 0xFF
    PluginVersion.objects.filter(pk=echo_version.pk).update(package=bytes(tampered))
    echo_version.refresh_from_db()
    # when its code is run, it is refused before any of it runs
    with pytest.raises(SandboxError) as caught:
        plugin_code_run(
            plugin=echo_version.plugin,
            version=echo_version,
            op="execute",
            payload={"input": {"message": "hi", "metadata": {}}, "context": {"account_id": 1, "config": {}}},
            capabilities=None,
        )
    assert caught.value.code == "checksum_mismatch"


def test_publish_command(tmp_path, capsys):
    path = tmp_path / "echo.zip"
    path.write_bytes(build_package())
    call_command("plugin_publish", str(path))
    assert "Stored (Pending review): echo 1.0.0" in capsys.readouterr().out
    assert PluginVersion.objects.get().status == VersionStatus.PENDING_REVIEW
    call_command("plugin_publish", str(path), "--publish")
    assert "Published: echo 1.0.0" in capsys.readouterr().out
    assert PluginVersion.objects.get().status == VersionStatus.PUBLISHED
    bad = tmp_path / "bad.zip"
    bad.write_bytes(build_package(manifest(id="Bad Id!")))
    with pytest.raises(CommandError, match="id"):
        call_command("plugin_publish", str(bad))


def test_an_id_that_names_a_platform_route_is_refused(client_for, super_admin):
    response = upload(client_for(super_admin), build_package(manifest(id="installed")))
    assert response.status_code == 400
    assert "id: 'installed' is reserved by the platform; choose another." in response.json()["details"]["package"]
    assert not PluginVersion.objects.exists()
