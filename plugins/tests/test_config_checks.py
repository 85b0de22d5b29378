"""The after-hours example's configuration gets the platform's checks when it is installed or
changed: a real IANA time zone, opening hours that close after they open, messages in words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from skybot_plugin_sdk.package import pack

from plugins.demo import DEMO_AFTER_HOURS_CONFIG, EXAMPLES
from plugins.models import PluginInstallation, PluginVersion
from plugins.services.packages import plugin_upload

pytestmark = pytest.mark.django_db

TIME_ZONE_REFUSED = "“Mars/Olympus” is not a time zone: use an IANA name such as Europe/Lisbon or America/Sao_Paulo."


@pytest.fixture
def after_hours(tmp_path: Path) -> PluginVersion:
    """The after-hours example, packed and published as the demo seed publishes it."""
    packed = pack(EXAMPLES / "after-hours", out_dir=tmp_path)
    return plugin_upload(data=Path(packed.path).read_bytes(), actor=None, publish=True, bundled=True)


def install(client: Any, config: dict[str, Any]) -> Any:
    return client.post("/api/v1/plugins/after-hours/install", {"config": config}, format="json")


def week(**days: Any) -> dict[str, Any]:
    return {**DEMO_AFTER_HOURS_CONFIG, "hours": {**DEMO_AFTER_HOURS_CONFIG["hours"], **days}}


@pytest.mark.parametrize(
    ("config", "details"),
    [
        ({**DEMO_AFTER_HOURS_CONFIG, "timezone": "Mars/Olympus"}, {"config.timezone": [TIME_ZONE_REFUSED]}),
        (
            week(mon={"open": "18:00", "close": "09:00"}),
            {
                "config.hours.mon.close": [
                    "The closing time (09:00) must be later than the opening time (18:00); 24:00 closes at midnight."
                ]
            },
        ),
        (
            week(tue={"open": "9am", "close": "18:00"}),
            {"config.hours.tue.open": ["Write the opening time as HH:MM (24 hours), such as 09:00."]},
        ),
        (week(wed={"open": "09:00"}), {"config.hours.wed.close": ["Closes at is required."]}),
    ],
)
def test_installing_after_hours_with_hours_no_one_means_is_a_400_in_words(
    client_for: Any, client_admin: Any, after_hours: PluginVersion, config: dict[str, Any], details: dict[str, Any]
) -> None:
    response = install(client_for(client_admin), config)

    assert response.status_code == 400
    assert response.json()["details"] == details
    assert not PluginInstallation.objects.exists()


def test_after_hours_installs_with_real_hours_closing_at_midnight(
    client_for: Any, client_admin: Any, after_hours: PluginVersion
) -> None:
    config = week(fri={"open": "09:00", "close": "24:00"}, sat=None)

    response = install(client_for(client_admin), {**config, "timezone": "America/Sao_Paulo"})

    assert response.status_code == 201, response.json()


def test_changing_an_installed_after_hours_is_checked_the_same_way(
    client_for: Any, client_admin: Any, after_hours: PluginVersion
) -> None:
    client = client_for(client_admin)
    assert install(client, DEMO_AFTER_HOURS_CONFIG).status_code == 201

    response = client.patch(
        "/api/v1/plugins/installed/after-hours",
        {"config": {**DEMO_AFTER_HOURS_CONFIG, "timezone": "Mars/Olympus"}},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["details"] == {"config.timezone": [TIME_ZONE_REFUSED]}
    assert PluginInstallation.objects.get().config["timezone"] == "Europe/Lisbon"
