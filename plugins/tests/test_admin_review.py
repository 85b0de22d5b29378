"""Staff review plugin versions in Django admin: the page shows what changed and what the version
may do, and the decision (publish, reject with a reason, yank) goes through the same services as
the API, audited with the staff member."""

from __future__ import annotations

import pytest

from accounts.models import AuditLog
from plugins.models import DisabledReason, Plugin, PluginInstallation, PluginReview, PluginVersion, VersionStatus
from plugins.services.packages import plugin_upload
from plugins.tests.conftest import build_package, manifest

pytestmark = pytest.mark.django_db


def review_url(version: PluginVersion) -> str:
    return f"/admin/plugins/pluginversion/{version.pk}/review/"


@pytest.fixture
def pending(echo_version) -> PluginVersion:
    data = build_package(manifest(version="1.1.0", permissions=[*echo_version.permissions, "leads:read"]))
    return plugin_upload(data=data, actor=None, changelog="Reads leads now.")


def test_the_review_page_shows_the_diff_the_new_permission_the_checksum_and_the_checks(client, super_admin, pending):
    client.force_login(super_admin)
    page = client.get(review_url(pending)).content.decode()
    assert pending.sha256 in page
    assert "<code>leads:read</code> — Read the tenant&#x27;s leads." in page
    assert "(new in this version)" in page
    assert "against 1.0.0" in page
    assert "+    &quot;leads:read&quot;" in page
    assert "sandbox import" in page
    assert "Reads leads now." in page
    assert 'value="publish"' in page
    assert 'value="reject"' in page
    assert 'value="yank"' not in page  # only a published version can be yanked


def test_a_tenant_admin_cannot_open_the_review(client, client_admin, pending):
    client.force_login(client_admin)
    response = client.get(review_url(pending))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    client.post(review_url(pending), {"decision": "publish"})
    assert PluginVersion.objects.get(pk=pending.pk).status == VersionStatus.PENDING_REVIEW


def test_staff_publish_from_the_review_page(client, super_admin, pending):
    client.force_login(super_admin)
    response = client.post(review_url(pending), {"decision": "publish"}, follow=True)
    assert "is published" in response.content.decode()
    assert PluginVersion.objects.get(pk=pending.pk).status == VersionStatus.PUBLISHED
    audit = AuditLog.objects.get(action="plugin.version_published", metadata__version="1.1.0")
    assert audit.actor_user_id == super_admin.pk


def test_rejecting_needs_a_reason(client, super_admin, pending):
    client.force_login(super_admin)
    refused = client.post(review_url(pending), {"decision": "reject", "reason": "  "}, follow=True)
    assert "Give the reason" in refused.content.decode()
    assert PluginVersion.objects.get(pk=pending.pk).status == VersionStatus.PENDING_REVIEW
    client.post(review_url(pending), {"decision": "reject", "reason": "Undeclared host."})
    version = PluginVersion.objects.get(pk=pending.pk)
    assert (version.status, version.status_reason) == (VersionStatus.REJECTED, "Undeclared host.")


def test_yanking_from_the_review_page_stops_installations(client, super_admin, echo_installation):
    client.force_login(super_admin)
    version = PluginVersion.objects.get(version="1.0.0")
    response = client.post(review_url(version), {"decision": "yank", "reason": "Leaks data."}, follow=True)
    assert "1 installation(s) stopped" in response.content.decode()
    installation = PluginInstallation.objects.get()
    assert (installation.is_active, installation.disabled_reason) == (False, DisabledReason.YANKED)


def test_staff_verify_an_author_and_hide_a_review(client, super_admin, account, echo_installation):
    client.force_login(super_admin)
    plugin = Plugin.objects.get()
    client.post("/admin/plugins/plugin/", {"action": "verify_author", "_selected_action": [plugin.pk]})
    assert Plugin.objects.get().is_verified
    assert AuditLog.objects.filter(action="plugin.verified", actor_user=super_admin).exists()
    review = PluginReview.objects.create(account=account, plugin=plugin, version="1.0.0", rating=1, text="spam")
    client.post("/admin/plugins/pluginreview/", {"action": "hide", "_selected_action": [review.pk]})
    assert PluginReview.objects.get().is_hidden
    assert Plugin.objects.get().review_count == 0
