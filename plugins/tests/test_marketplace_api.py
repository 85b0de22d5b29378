"""The marketplace through the API: the catalogue's filters, sorting and pages; a plugin's details;
staff review of versions (publish, reject, yank); upgrades that must not gain permissions silently;
reviews that only installers write, one per tenant, with exact figures; every route scoped to the
tenant and role-checked."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from accounts.models import AuditLog
from accounts.principals import Principal
from agents.models import AgentExecution
from plugins.models import DisabledReason, Plugin, PluginInstallation, PluginReview, PluginVersion, VersionStatus
from plugins.services.packages import plugin_upload
from plugins.services.versions import manifest_diff, version_reject, version_yank
from plugins.tests.conftest import build_package, manifest
from plugins.tests.test_runs import customer_writes, last_reply

pytestmark = pytest.mark.django_db


def listed(client, query: str = "") -> list[str]:
    response = client.get(f"/api/v1/plugins{query}")
    assert response.status_code == 200, response.json()
    return [row["plugin_id"] for row in response.json()["results"]]


def upload(manifest_data, *, publish=True, changelog=""):
    return plugin_upload(data=build_package(manifest_data), actor=None, publish=publish, changelog=changelog)


@pytest.fixture
def shelf(db):
    """Four published plugins with different figures, and one waiting for review."""
    upload(manifest(id="alpha", name="Alpha", description="Scores leads.", category="SALES"))
    upload(manifest(id="bravo", name="Bravo", description="Answers questions.", category="SUPPORT"))
    upload(manifest(id="charlie", name="Charlie", description="Reports on sales.", category="INTELLIGENCE"))
    upload(manifest(id="delta", name="Delta", description="Answers in Portuguese.", category="SUPPORT"))
    upload(manifest(id="pending", name="Pending", description="Waits for review."), publish=False)
    Plugin.objects.filter(plugin_id="alpha").update(downloads=50, rating_average=Decimal("3.50"), is_verified=True)
    Plugin.objects.filter(plugin_id="bravo").update(downloads=500, rating_average=Decimal("4.90"), price=Decimal("9"))
    Plugin.objects.filter(plugin_id="charlie").update(downloads=5, rating_average=Decimal("4.20"))
    Plugin.objects.filter(plugin_id="delta").update(downloads=70, rating_average=Decimal("1.00"), is_verified=True)


# --- catalogue ---------------------------------------------------------------------------------------


def test_the_catalogue_lists_published_plugins_most_installed_first(client_for, viewer, shelf):
    assert listed(client_for(viewer)) == ["bravo", "delta", "alpha", "charlie"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?sort=rating", ["bravo", "charlie", "alpha", "delta"]),
        ("?sort=name", ["alpha", "bravo", "charlie", "delta"]),
        ("?sort=newest", ["delta", "charlie", "bravo", "alpha"]),
        ("?category=SUPPORT", ["bravo", "delta"]),
        ("?q=answers", ["bravo", "delta"]),
        ("?q=SALES", ["charlie"]),  # in the description, any case
        ("?q=alph", ["alpha"]),
        ("?verified=true", ["delta", "alpha"]),
        ("?free=true", ["delta", "alpha", "charlie"]),
        ("?free=false", ["bravo"]),
        ("?category=SUPPORT&verified=true&sort=name", ["delta"]),
        ("?q=nothing-like-this", []),
    ],
)
def test_the_catalogue_filters_and_sorts(client_for, member, shelf, query, expected):
    assert listed(client_for(member), query) == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [("?sort=price", "sort"), ("?verified=maybe", "verified"), ("?category=TOYS", "category"), ("?cursor=x", "cursor")],
)
def test_a_bad_filter_value_is_a_400_naming_it(client_for, member, shelf, query, field):
    response = client_for(member).get(f"/api/v1/plugins{query}")
    assert response.status_code == 400
    assert field in response.json()["details"]


def test_the_catalogue_pages_with_a_cursor(client_for, member, shelf):
    client = client_for(member)
    seen: list[str] = []
    url = "/api/v1/plugins?sort=rating&page_size=3"
    while url:
        page = client.get(url).json()
        seen += [row["plugin_id"] for row in page["results"]]
        url = page["next"]
    assert seen == ["bravo", "charlie", "alpha", "delta"]


def test_a_card_carries_the_marketplace_figures(client_for, member, shelf):
    bravo = next(
        row for row in client_for(member).get("/api/v1/plugins").json()["results"] if row["plugin_id"] == "bravo"
    )
    assert bravo["installs"] == 500
    assert bravo["price"] == "9.00"
    assert bravo["rating"] == {"average": 4.9, "count": 0}
    assert bravo["is_verified"] is False
    assert bravo["published_at"] is not None


def test_the_catalogue_answers_in_constant_queries(client_for, member, shelf, django_assert_num_queries):
    client = client_for(member)
    client.get("/api/v1/plugins")
    with django_assert_num_queries(3):  # the person, the page of plugins, their published versions
        client.get("/api/v1/plugins")
    for n in range(10):
        upload(manifest(id=f"more-{n}", name=f"More {n}"))
        upload(manifest(id=f"more-{n}", name=f"More {n}", version="1.1.0"))
    with django_assert_num_queries(3):
        assert len(client.get("/api/v1/plugins").json()["results"]) == 14


def test_details_show_versions_changelogs_histogram_and_whether_installed(
    client_for, client_admin, other_admin, echo_installation, account
):
    upload(manifest(version="1.1.0"), changelog="Faster.")
    upload(manifest(version="1.2.0"), publish=False, changelog="Not reviewed yet.")
    PluginReview.objects.create(account=account, plugin=echo_installation.plugin, version="1.0.0", rating=4)
    body = client_for(client_admin).get("/api/v1/plugins/echo").json()
    assert [(v["version"], v["changelog"]) for v in body["versions"]] == [("1.1.0", "Faster."), ("1.0.0", "")]
    assert body["rating_histogram"] == {"5": 0, "4": 1, "3": 0, "2": 0, "1": 0}
    assert body["installed"] is True
    assert client_for(other_admin).get("/api/v1/plugins/echo").json()["installed"] is False
    assert client_for(client_admin).get("/api/v1/plugins/pending-nothing").status_code == 404


# --- staff review of versions --------------------------------------------------------------------------


def test_a_rejected_version_is_never_offered_and_says_why(client_for, super_admin, client_admin, echo_installation):
    upload(manifest(version="1.1.0"), publish=False)
    staff = client_for(super_admin)
    no_reason = staff.patch("/api/v1/admin/plugins/echo/versions/1.1.0", {"status": "rejected"}, format="json")
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()["details"]
    rejected = staff.patch(
        "/api/v1/admin/plugins/echo/versions/1.1.0",
        {"status": "rejected", "reason": "Calls an undeclared host."},
        format="json",
    )
    assert rejected.status_code == 200
    version = PluginVersion.objects.get(version="1.1.0")
    assert (version.status, version.status_reason) == (VersionStatus.REJECTED, "Calls an undeclared host.")
    assert client_for(client_admin).get("/api/v1/plugins/installed/echo").json()["update_available"] is None
    # a rejected version cannot be published any more
    again = staff.patch("/api/v1/admin/plugins/echo/versions/1.1.0", {"status": "published"}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "version_state"
    assert AuditLog.objects.filter(action="plugin.version_rejected").count() == 1


def test_only_staff_review_versions(client_for, client_admin, echo_version):
    response = client_for(client_admin).patch(
        "/api/v1/admin/plugins/echo/versions/1.0.0", {"status": "yanked", "reason": "x"}, format="json"
    )
    assert response.status_code == 403
    assert PluginVersion.objects.get().status == VersionStatus.PUBLISHED


def test_the_review_shows_the_manifest_diff_and_added_permissions(echo_version):
    pending = upload(manifest(version="1.1.0", permissions=[*echo_version.permissions, "leads:read"]), publish=False)
    diff = manifest_diff(pending)
    assert diff["previous"] == "1.0.0"
    assert diff["added_permissions"] == ["leads:read"]
    assert '+    "leads:read"' in diff["diff"]
    assert '-  "version": "1.0.0"' in diff["diff"]


def test_yanking_stops_running_installations_at_once_and_tells_their_admins(
    client_for,
    super_admin,
    client_admin,
    held_by_plugin,
    plugin_agent,
    echo_installation,
    django_capture_on_commit_callbacks,
):
    # when staff yank the version the tenant runs
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(super_admin).patch(
            "/api/v1/admin/plugins/echo/versions/1.0.0",
            {"status": "yanked", "reason": "Leaks customers' numbers."},
            format="json",
        )
    assert response.status_code == 200, response.json()
    # then the installation is off, saying why, and the tenant's admins were emailed
    installation = PluginInstallation.objects.get()
    assert (installation.is_active, installation.disabled_reason) == (False, DisabledReason.YANKED)
    assert client_admin.email in mail.outbox[-1].to
    assert "Leaks customers' numbers." in mail.outbox[-1].body
    # and the next customer message goes to the team without running the plugin
    customer_writes(held_by_plugin, "hello")
    assert last_reply(held_by_plugin) is None
    held_by_plugin.refresh_from_db()
    assert held_by_plugin.agent_id is None
    assert not AgentExecution.objects.filter(agent=plugin_agent).exists()
    # and no run of a yanked version starts, even when asked to try it
    PluginInstallation.objects.filter(pk=installation.pk).update(is_active=True)
    tried = client_for(client_admin).post("/api/v1/plugins/echo/execute", {"message": "hi"}, format="json").json()
    assert tried["ok"] is False
    assert tried["error"]["code"] == "plugin_unavailable"
    # and a plugin with no published version left leaves the catalogue
    assert listed(client_for(client_admin)) == []


def test_after_a_yank_the_way_out_is_the_previous_version(client_for, client_admin, echo_installation):
    # given 1.1.0 published, installed, then yanked
    newer = upload(manifest(version="1.1.0"))
    client = client_for(client_admin)
    assert client.post("/api/v1/plugins/echo/upgrade", {}, format="json").status_code == 200
    version_yank(version=newer, reason="Broken.", actor=None)
    # then 1.0.0 is offered, and taking it starts the installation again
    offered = client.get("/api/v1/plugins/installed/echo").json()
    assert (offered["is_active"], offered["update_available"]["version"]) == (False, "1.0.0")
    moved = client.post("/api/v1/plugins/echo/upgrade", {}, format="json")
    assert moved.status_code == 200, moved.json()
    assert (moved.json()["version"], moved.json()["is_active"]) == ("1.0.0", True)


def test_a_version_in_review_cannot_be_yanked(echo_version):
    pending = upload(manifest(version="1.1.0"), publish=False)
    with pytest.raises(Exception) as caught:
        version_yank(version=pending, reason="x", actor=None)
    assert getattr(caught.value, "code", "") == "version_state"
    version_reject(version=pending, reason="Not this one.", actor=None)
    assert PluginVersion.objects.get(pk=pending.pk).status == VersionStatus.REJECTED


# --- installs and upgrades -------------------------------------------------------------------------------


def test_installs_are_counted_exactly(client_for, client_admin, other_admin, echo_version):
    for admin in (client_admin, other_admin):
        response = client_for(admin).post("/api/v1/plugins/echo/install", {"config": {"greeting": "Hi"}}, format="json")
        assert response.status_code == 201
    assert client_for(client_admin).get("/api/v1/plugins/echo").json()["installs"] == 2
    # a refused second install counts nothing
    assert (
        client_for(client_admin).post("/api/v1/plugins/echo/install", {"config": {"greeting": "Hi"}}, format="json")
    ).status_code == 409
    assert client_for(client_admin).delete("/api/v1/plugins/echo/uninstall").status_code == 204
    assert Plugin.objects.get().downloads == 1


def test_an_upgrade_asking_for_more_permissions_needs_them_accepted_by_name(
    client_for, client_admin, echo_installation
):
    upload(
        manifest(version="1.1.0", permissions=[*echo_installation.granted_permissions, "leads:read", "analytics:read"]),
        changelog="Reads your leads.",
    )
    client = client_for(client_admin)
    # the installed plugin shows the update and what it would add
    offered = client.get("/api/v1/plugins/installed/echo").json()["update_available"]
    assert offered["version"] == "1.1.0"
    assert offered["changelog"] == "Reads your leads."
    assert [p["permission"] for p in offered["added_permissions"]] == ["analytics:read", "leads:read"]
    # upgrading without accepting them is refused, naming them, and changes nothing
    refused = client.post("/api/v1/plugins/echo/upgrade", {"accept_permissions": ["leads:read"]}, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "permissions_not_accepted"
    assert refused.json()["details"] == {"accept_permissions": ["analytics:read"]}
    installation = PluginInstallation.objects.select_related("version").get()
    assert installation.version.version == "1.0.0"
    assert "leads:read" not in installation.granted_permissions
    # accepting both upgrades, grants them, and is audited
    done = client.post(
        "/api/v1/plugins/echo/upgrade", {"accept_permissions": ["leads:read", "analytics:read"]}, format="json"
    )
    assert done.status_code == 200, done.json()
    assert done.json()["version"] == "1.1.0"
    assert done.json()["update_available"] is None
    assert {"leads:read", "analytics:read"} <= {p["permission"] for p in done.json()["permissions"]}
    audit = AuditLog.objects.get(action="plugin.upgraded")
    assert audit.metadata["added_permissions"] == ["analytics:read", "leads:read"]
    # and there is nothing newer now
    assert client.post("/api/v1/plugins/echo/upgrade", {}, format="json").json()["code"] == "up_to_date"


def test_an_upgrade_checks_the_config_against_the_new_schema(client_for, client_admin, echo_installation):
    schema = {**manifest()["config_schema"], "required": ["greeting", "threshold"]}
    upload(manifest(version="1.1.0", config_schema=schema))
    client = client_for(client_admin)
    missing = client.post("/api/v1/plugins/echo/upgrade", {}, format="json")
    assert missing.status_code == 400
    assert PluginInstallation.objects.select_related("version").get().version.version == "1.0.0"
    done = client.post("/api/v1/plugins/echo/upgrade", {"config": {"threshold": 40}}, format="json")
    assert done.status_code == 200, done.json()
    assert done.json()["config"]["threshold"] == 40
    # the secret kept its value through the upgrade
    tried = client.post("/api/v1/plugins/echo/execute", {"message": "secret"}, format="json").json()
    assert tried["output"]["response"] == "token=s3cret-token-value"


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_only_admins_upgrade_and_review(request, client_for, role, echo_installation):
    upload(manifest(version="1.1.0"))
    client = client_for(request.getfixturevalue(role))
    assert client.post("/api/v1/plugins/echo/upgrade", {}, format="json").status_code == 403
    assert client.post("/api/v1/plugins/echo/reviews", {"rating": 5}, format="json").status_code == 403
    assert client.get("/api/v1/plugins/echo/reviews").status_code == 200  # everybody reads reviews
    assert PluginInstallation.objects.select_related("version").get().version.version == "1.0.0"
    assert not PluginReview.objects.exists()


def test_another_tenants_installation_and_review_are_not_found(
    client_for, client_admin, other_admin, echo_installation
):
    upload(manifest(version="1.1.0"))
    assert (
        client_for(client_admin).post("/api/v1/plugins/echo/reviews", {"rating": 5}, format="json").status_code == 201
    )
    other = client_for(other_admin)
    assert other.post("/api/v1/plugins/echo/upgrade", {}, format="json").status_code == 404
    assert other.patch("/api/v1/plugins/echo/reviews", {"rating": 1}, format="json").status_code == 404
    assert other.delete("/api/v1/plugins/echo/reviews").status_code == 404
    assert PluginReview.objects.get().rating == 5
    assert PluginInstallation.objects.select_related("version").get().version.version == "1.0.0"


def test_a_disabled_tenant_reaches_no_marketplace_route(client_for, client_admin, account, echo_installation):
    account.is_active = False
    account.save()
    client = client_for(client_admin)
    for response in (
        client.get("/api/v1/plugins"),
        client.get("/api/v1/plugins/echo"),
        client.get("/api/v1/plugins/echo/reviews"),
        client.post("/api/v1/plugins/echo/reviews", {"rating": 5}, format="json"),
        client.post("/api/v1/plugins/echo/upgrade", {}, format="json"),
    ):
        assert response.status_code == 401
    assert not PluginReview.objects.exists()


# --- reviews -----------------------------------------------------------------------------------------------


def test_only_a_tenant_that_installed_the_plugin_reviews_it_once(
    client_for, client_admin, other_admin, echo_installation
):
    # a tenant without the plugin cannot review it
    stranger = client_for(other_admin).post("/api/v1/plugins/echo/reviews", {"rating": 1}, format="json")
    assert stranger.status_code == 403
    assert stranger.json()["code"] == "not_installed"
    # the installer can, once
    client = client_for(client_admin)
    first = client.post("/api/v1/plugins/echo/reviews", {"rating": 5, "text": "Great."}, format="json")
    assert first.status_code == 201, first.json()
    assert (first.json()["version"], first.json()["is_yours"]) == ("1.0.0", True)
    second = client.post("/api/v1/plugins/echo/reviews", {"rating": 1}, format="json")
    assert second.status_code == 409
    assert second.json()["code"] == "already_reviewed"
    assert PluginReview.objects.count() == 1
    assert AuditLog.objects.filter(action="plugin.reviewed").count() == 1


@pytest.mark.parametrize("rating", [0, 6, -1, "five", None])
def test_a_rating_outside_one_to_five_is_refused(client_for, client_admin, echo_installation, rating):
    response = client_for(client_admin).post("/api/v1/plugins/echo/reviews", {"rating": rating}, format="json")
    assert response.status_code == 400
    assert "rating" in response.json()["details"]
    assert not PluginReview.objects.exists()


def test_the_average_and_count_stay_exact(
    client_for, client_admin, other_admin, other_account, echo_installation, install
):
    install(other_account)
    mine, theirs = client_for(client_admin), client_for(other_admin)
    mine.post("/api/v1/plugins/echo/reviews", {"rating": 5}, format="json")
    theirs.post("/api/v1/plugins/echo/reviews", {"rating": 2}, format="json")
    assert mine.get("/api/v1/plugins/echo").json()["rating"] == {"average": 3.5, "count": 2}
    assert mine.patch("/api/v1/plugins/echo/reviews", {"rating": 4}, format="json").json()["edited_at"] is not None
    assert mine.get("/api/v1/plugins/echo").json()["rating"] == {"average": 3.0, "count": 2}
    assert theirs.delete("/api/v1/plugins/echo/reviews").status_code == 204
    body = mine.get("/api/v1/plugins/echo").json()
    assert body["rating"] == {"average": 4.0, "count": 1}
    assert body["rating_histogram"] == {"5": 0, "4": 1, "3": 0, "2": 0, "1": 0}


def test_a_review_hidden_by_staff_is_not_listed_or_counted(client_for, client_admin, echo_installation):
    from plugins.services.reviews import review_hide

    client = client_for(client_admin)
    client.post("/api/v1/plugins/echo/reviews", {"rating": 1, "text": "Spam spam spam"}, format="json")
    review_hide(review=PluginReview.objects.get(), hidden=True, actor=Principal.platform_key())
    assert client.get("/api/v1/plugins/echo/reviews").json()["results"] == []
    assert client.get("/api/v1/plugins/echo").json()["rating"] == {"average": 0.0, "count": 0}


def test_a_review_names_its_author_briefly_and_never_by_email(client_for, client_admin, other_admin, echo_installation):
    client_admin.full_name = "Marta Sousa Ribeiro"
    client_admin.save()
    client_for(client_admin).post("/api/v1/plugins/echo/reviews", {"rating": 5, "text": "Good"}, format="json")
    seen = client_for(other_admin).get("/api/v1/plugins/echo/reviews")
    row = seen.json()["results"][0]
    assert row["author"] == "Marta R."
    assert row["is_yours"] is False
    assert client_admin.email not in seen.content.decode()


def test_staff_act_for_a_tenant_they_name(client_for, super_admin, account, echo_installation):
    staff = client_for(super_admin)
    unnamed = staff.post("/api/v1/plugins/echo/reviews", {"rating": 4}, format="json")
    assert unnamed.status_code == 400
    assert "account" in unnamed.json()["details"]
    named = staff.post(f"/api/v1/plugins/echo/reviews?account={account.pk}", {"rating": 4}, format="json")
    assert named.status_code == 201, named.json()
    assert PluginReview.objects.get().account_id == account.pk
    assert staff.post(f"/api/v1/plugins/echo/upgrade?account={account.pk}", {}, format="json").json()["code"] == (
        "up_to_date"
    )
