"""`/metrics`: Prometheus output for an allow-listed address or the bearer token, 404 for anybody else."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from prometheus_client import REGISTRY

from accounts.models import User
from core.observability import log_slow_queries

OUTSIDER = "203.0.113.5"
TOKEN = "metrics-token-0123456789abcdef"


@pytest.fixture
def metrics_access(settings: Any) -> None:
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = ["10.1.2.3"]


def _assert_hidden(response: Any) -> None:
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert b"django_http" not in response.content


@pytest.mark.django_db
def test_metrics_are_hidden_from_other_addresses(client: Client, metrics_access: None) -> None:
    _assert_hidden(client.get("/metrics", REMOTE_ADDR=OUTSIDER))


@pytest.mark.django_db
def test_metrics_are_hidden_for_a_wrong_or_empty_token(client: Client, metrics_access: None, settings: Any) -> None:
    _assert_hidden(client.get("/metrics", REMOTE_ADDR=OUTSIDER, HTTP_AUTHORIZATION="Bearer wrong"))
    _assert_hidden(client.get("/metrics", REMOTE_ADDR=OUTSIDER, HTTP_AUTHORIZATION=TOKEN))
    settings.METRICS_TOKEN = ""
    _assert_hidden(client.get("/metrics", REMOTE_ADDR=OUTSIDER, HTTP_AUTHORIZATION="Bearer "))


@pytest.mark.django_db
def test_a_forwarded_request_does_not_pass_as_the_allow_listed_proxy(client: Client, metrics_access: None) -> None:
    # given: the reverse proxy's own address is allow-listed, and it forwards an outside caller
    _assert_hidden(client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR=OUTSIDER))


@pytest.mark.django_db
def test_metrics_for_an_allow_listed_address_include_request_and_database_metrics(
    client: Client, metrics_access: None
) -> None:
    # given: some traffic and some queries
    client.get("/api/health")
    client.get("/api/v1/no-such-thing")
    User.objects.count()

    # when
    response = client.get("/metrics", REMOTE_ADDR="10.1.2.3")

    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert re.search(r'django_http_requests_total_by_view_transport_method_total\{.*view="health".*\} \d', text)
    assert re.search(r'django_http_responses_total_by_status_view_method_total\{.*status="404".*\}', text)
    assert "django_http_requests_latency_seconds_by_view_method_bucket" in text


@pytest.mark.skipif(
    not django_settings.DATABASES["default"]["ENGINE"].startswith("django_prometheus"),
    reason="the embedded test database uses the plain SQLite engine; see the multiprocess test",
)
@pytest.mark.django_db
def test_metrics_include_database_metrics(client: Client, metrics_access: None) -> None:
    User.objects.count()

    text = client.get("/metrics", REMOTE_ADDR="10.1.2.3").content.decode()

    assert re.search(r"django_db_execute_total\{.*\} \d", text)
    assert re.search(r"django_db_new_connections_total\{.*\} \d", text)


def _queries_observed(view: str) -> tuple[float, float]:
    labels = {"view": view, "method": "GET"}
    count = REGISTRY.get_sample_value("skybot_http_queries_per_request_count", labels) or 0.0
    total = REGISTRY.get_sample_value("skybot_http_queries_per_request_sum", labels) or 0.0
    return count, total


@pytest.mark.django_db
def test_each_request_observes_its_query_count_by_view(
    client_for: Any, viewer: User, metrics_access: None, client: Client
) -> None:
    # given a person reading the conversations list
    api = client_for(viewer)
    api.get("/api/v1/conversations")
    count_before, sum_before = _queries_observed("conversation-list")

    # when they read it once more, counting the queries it runs
    with CaptureQueriesContext(connection) as captured:
        assert api.get("/api/v1/conversations").status_code == 200
    ran = len(captured.captured_queries)

    # then one more observation holding exactly that number, shown on /metrics
    count_after, sum_after = _queries_observed("conversation-list")
    assert count_after == count_before + 1
    assert sum_after - sum_before == ran >= 1
    # and no request leaves anything wrapped around the connection
    wrappers = list(connection.execute_wrappers)
    api.get("/api/v1/conversations")
    assert connection.execute_wrappers == wrappers
    text = client.get("/metrics", REMOTE_ADDR="10.1.2.3").content.decode()
    assert re.search(r'skybot_http_queries_per_request_bucket\{.*view="conversation-list".*\}', text)


@pytest.mark.django_db
def test_metrics_for_the_bearer_token_from_any_address(client: Client, metrics_access: None) -> None:
    response = client.get("/metrics", REMOTE_ADDR=OUTSIDER, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 200
    assert b"django_http_requests_latency_seconds_by_view_method" in response.content


WORKER = """
import sys, django
django.setup()
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from prometheus_client import REGISTRY
client = Client()
for _ in range(int(sys.argv[1])):
    assert client.get("/api/health").status_code == 200
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SELECT 1")
if sys.argv[2] == "read":
    print(client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode())
"""


def _worker(env: dict[str, str], requests: int, mode: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", WORKER, str(requests), mode], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_multiprocess_mode_adds_up_every_worker_process(tmp_path: Path) -> None:
    # given: PROMETHEUS_MULTIPROC_DIR set, as for gunicorn with several worker processes
    multiproc_dir = tmp_path / "prometheus"
    multiproc_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "skybot_inbox.settings.base",
            "PYTHONPATH": str(django_settings.BASE_DIR),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'metrics.sqlite3'}",
            "PROMETHEUS_MULTIPROC_DIR": str(multiproc_dir),
        }
    )

    # when: two processes serve requests and a third one answers /metrics
    _worker(env, 3, "serve")
    _worker(env, 2, "serve")
    output = _worker(env, 1, "read")

    # then: the counts of all three processes are added up
    assert list(multiproc_dir.glob("*.db"))
    health_total = (
        r'django_http_requests_total_by_view_transport_method_total\{method="GET",transport="http",view="health"\}'
    )
    match = re.search(health_total + r" ([\d.]+)", output)
    assert match, output[:2000]
    assert float(match.group(1)) == 6.0
    # and the database metrics of the production engine wrapper, also added up
    db = re.search(r'django_db_execute_total\{alias="default",vendor="sqlite"\} ([\d.]+)', output)
    assert db, output[:2000]
    assert float(db.group(1)) >= 3.0


@pytest.mark.django_db(transaction=True)
def test_a_request_that_opens_the_connection_leaves_only_the_slow_query_logger_on_it(
    key_client_for: Any, account: Any
) -> None:
    api = key_client_for(account)
    # given no open database connection (a worker's first request, or one after CONN_MAX_AGE)
    for _ in range(3):
        connection.close()

        # when a request opens one and runs queries on it
        assert api.get("/api/v1/conversations").status_code == 200

        # then the connection carries the slow-query logger once, and nothing of the request
        assert connection.execute_wrappers == [log_slow_queries]
