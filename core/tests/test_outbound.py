"""The outbound client for tenant-chosen URLs: the SSRF guard after DNS resolution, the pinned
address, no redirects, timeouts and the capped body — against real local servers."""

from __future__ import annotations

import datetime
import ipaddress
import logging
import ssl
import time

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from core import outbound
from core.outbound import DESTINATION_NOT_ALLOWED, BlockedDestination
from core.tests.resolver import fake_dns


@pytest.fixture
def production_guard(settings):
    """The guard as production runs it: no loopback, no private network allowed."""
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    settings.OUTBOUND_REQUIRE_HTTPS = True


@pytest.fixture
def dns(monkeypatch):
    """A resolver where the test decides what some names resolve to; counts the lookups."""
    return fake_dns(monkeypatch)


# --- the guard refuses internal destinations in production mode -----------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://127.1.2.3:8080/hook",
        "http://10.0.0.5/hook",
        "http://172.16.0.1/hook",
        "http://172.31.255.255/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "http://[::1]/hook",
        "http://[::]/hook",
        "http://[fe80::1]/hook",
        "http://[fd00::1]/hook",
        "http://[ff02::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[::ffff:169.254.169.254]/hook",
        "http://[64:ff9b::a9fe:a9fe]/hook",
        "http://[2002:a00:1::]/hook",
        "http://localhost/hook",
        "http://2130706433/hook",  # 127.0.0.1 as one number
        "http://0x7f.1/hook",
    ],
)
def test_internal_destinations_are_refused_in_production(production_guard, url):
    with pytest.raises(BlockedDestination):
        outbound.post(url, content=b"{}")


def test_a_name_resolving_to_loopback_is_refused_and_nothing_arrives(production_guard, httpserver):
    # given a real server on loopback, reached by name
    httpserver.expect_request("/hook").respond_with_data("ok")
    url = httpserver.url_for("/hook")
    assert url.startswith("http://localhost:")

    # when / then: refused, without saying what the name stands for
    with pytest.raises(BlockedDestination) as refused:
        outbound.post(url, content=b"{}")
    assert str(refused.value) == DESTINATION_NOT_ALLOWED
    assert "localhost" in refused.value.detail
    assert httpserver.log == []


def test_any_name_dns_points_at_loopback_is_refused_and_nothing_arrives(production_guard, dns, httpserver):
    names, _ = dns
    names["rebind.partner.example"] = ["127.0.0.1"]
    httpserver.expect_request("/hook").respond_with_data("ok")

    with pytest.raises(BlockedDestination) as refused:
        outbound.post(f"http://rebind.partner.example:{httpserver.port}/hook", content=b"{}")
    assert str(refused.value) == DESTINATION_NOT_ALLOWED
    assert "127.0.0.1 is a loopback address" in refused.value.detail
    assert httpserver.log == []


def test_a_public_name_that_dns_points_inside_is_refused(production_guard, dns):
    names, _ = dns
    names["hooks.partner.example"] = ["169.254.169.254"]

    with pytest.raises(BlockedDestination) as refused:
        outbound.post("https://hooks.partner.example/in", content=b"{}")
    assert str(refused.value) == DESTINATION_NOT_ALLOWED
    assert "169.254.169.254 is a link-local address" in refused.value.detail


def test_a_name_with_a_public_and_a_private_address_is_refused(production_guard, dns):
    names, _ = dns
    names["mixed.partner.example"] = ["93.184.216.34", "10.1.2.3"]

    with pytest.raises(BlockedDestination) as refused:
        outbound.post("https://mixed.partner.example/in", content=b"{}")
    assert str(refused.value) == DESTINATION_NOT_ALLOWED
    assert "10.1.2.3 is a private address" in refused.value.detail


def test_the_tenant_is_not_told_what_a_name_resolves_to_but_the_server_log_is(production_guard, dns, caplog):
    # given an internal name that resolves to the machine itself
    names, _ = dns
    names["vm"] = ["127.0.0.1"]
    caplog.set_level(logging.WARNING)

    # when a request is aimed at it
    with pytest.raises(BlockedDestination) as refused:
        outbound.post("http://vm:8080/admin", content=b"")

    # then what a tenant may read names neither the address nor the resolution
    shown = str(refused.value)
    assert "127.0.0.1" not in shown
    assert "resolves" not in shown
    assert outbound.failure_reason(refused.value) == shown == DESTINATION_NOT_ALLOWED
    # and the operator's log line has both
    logged = [str(record.msg) for record in caplog.records if "outbound_destination_blocked" in str(record.msg)]
    assert len(logged) == 1
    assert "'host': 'vm'" in logged[0]
    assert "127.0.0.1 is a loopback address" in logged[0]


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e"])
def test_public_addresses_pass(production_guard, address):
    assert outbound.address_problem(ipaddress.ip_address(address)) is None


# --- what development and tests may reach ------------------------------------------------------------


def test_loopback_is_allowed_when_the_setting_says_so(settings, httpserver):
    # given the development default
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    httpserver.expect_request("/hook", method="POST").respond_with_data("thanks", status=202)

    # when
    response = outbound.post(httpserver.url_for("/hook"), content=b'{"a":1}', headers={"X-Test": "1"})

    # then the request arrived, with the name the URL gave as its Host
    assert (response.status_code, response.content, response.truncated) == (202, b"thanks", False)
    request = httpserver.log[0][0]
    assert request.headers["Host"] == f"localhost:{httpserver.port}"
    assert request.headers["X-Test"] == "1"
    assert request.get_data() == b'{"a":1}'


def test_loopback_allowed_still_refuses_private_and_link_local(settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    for url in ("http://10.0.0.5/", "http://169.254.169.254/", "http://[fe80::1]/"):
        with pytest.raises(BlockedDestination):
            outbound.post(url, content=b"")


def test_an_allowed_network_is_reachable(production_guard, settings, httpserver):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    httpserver.expect_request("/n8n").respond_with_data("ok")

    response = outbound.post(httpserver.url_for("/n8n"), content=b"")

    assert response.status_code == 200


def test_a_trusted_url_skips_the_address_check_only(production_guard, httpserver):
    httpserver.expect_request("/master").respond_with_data("ok")

    assert outbound.post(httpserver.url_for("/master"), content=b"", trusted=True).status_code == 200
    with pytest.raises(BlockedDestination):
        outbound.post("ftp://127.0.0.1/master", content=b"", trusted=True)


# --- the checked address is the one connected to -----------------------------------------------------


def test_the_request_goes_to_the_checked_address_with_one_lookup(settings, dns, httpserver):
    # given a name that resolves to the local server (loopback allowed, as in development)
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    names, lookups = dns
    names["hooks.partner.example"] = ["127.0.0.1"]
    httpserver.expect_request("/in").respond_with_data("ok")

    # when
    response = outbound.post(f"http://hooks.partner.example:{httpserver.port}/in", content=b"{}")

    # then the name was resolved once, and the server saw the original name as Host
    assert response.status_code == 200
    assert lookups == ["hooks.partner.example"]
    assert httpserver.log[0][0].headers["Host"] == f"hooks.partner.example:{httpserver.port}"


def test_an_address_that_refuses_falls_through_to_the_next(settings, dns, httpserver):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    names, _ = dns
    names["two.partner.example"] = ["::1", "127.0.0.1"]  # the server listens on IPv4 only
    httpserver.expect_request("/in").respond_with_data("ok")

    assert outbound.post(f"http://two.partner.example:{httpserver.port}/in", content=b"").status_code == 200


def _certificate(name: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


@pytest.fixture
def tls_server(tmp_path):
    """An https server on 127.0.0.1 whose certificate names hooks.partner.example."""
    cert_pem, key_pem = _certificate("hooks.partner.example")
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=server_context)
    server.start()
    client_context = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
    yield server, client_context
    server.clear()
    server.stop()


def test_https_keeps_the_server_name_for_the_certificate_check(settings, dns, tls_server):
    # given https to a name pinned to 127.0.0.1, the certificate issued for that name
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    server, trust = tls_server
    names, _ = dns
    names["hooks.partner.example"] = ["127.0.0.1"]
    server.expect_request("/in").respond_with_data("ok")

    # when
    response = outbound.post(f"https://hooks.partner.example:{server.port}/in", content=b"{}", verify=trust)

    # then TLS verified the certificate against the name, not the address
    assert response.status_code == 200
    assert server.log[0][0].headers["Host"] == f"hooks.partner.example:{server.port}"


def test_https_to_a_name_the_certificate_does_not_cover_fails(settings, dns, tls_server):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    server, trust = tls_server
    names, _ = dns
    names["other.partner.example"] = ["127.0.0.1"]

    with pytest.raises(httpx.ConnectError):
        outbound.post(f"https://other.partner.example:{server.port}/in", content=b"{}", verify=trust)
    assert server.log == []


# --- redirects, timeouts, body cap -------------------------------------------------------------------


def test_redirects_are_not_followed(settings, httpserver):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    httpserver.expect_request("/hook").respond_with_response(
        Response("", status=302, headers={"Location": httpserver.url_for("/elsewhere")})
    )

    response = outbound.post(httpserver.url_for("/hook"), content=b"")

    assert response.status_code == 302
    assert [entry[0].path for entry in httpserver.log] == ["/hook"]


def test_the_response_body_is_read_up_to_the_cap(settings, httpserver):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    httpserver.expect_request("/big").respond_with_data(b"x" * 500_000)

    response = outbound.post(httpserver.url_for("/big"), content=b"", max_response_bytes=1000)

    assert (len(response.content), response.truncated) == (1000, True)
    assert response.text_excerpt(10) == "x" * 10


def test_a_server_that_does_not_answer_in_time_times_out(settings, httpserver):
    settings.OUTBOUND_ALLOW_LOOPBACK = True

    def slow(request: Request) -> Response:
        time.sleep(1.0)
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(slow)

    with pytest.raises(httpx.ReadTimeout):
        outbound.post(httpserver.url_for("/slow"), content=b"", timeout=httpx.Timeout(0.2, connect=1.0))


def test_a_name_that_does_not_resolve_is_a_connect_error(settings, dns):
    names, _ = dns
    names["nowhere.partner.example"] = []

    with pytest.raises(httpx.ConnectError):
        outbound.post("https://nowhere.partner.example/", content=b"")


# --- checking a URL when a tenant saves it -----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://hooks.partner.example/x", "Only https"),
        ("http://hooks.partner.example/x", "Only https"),
        ("https://user:pass@hooks.partner.example/x", "credentials"),
        ("https:///x", "needs a host"),
        ("https://hooks.partner.example:99999/x", "valid URL"),
        ("https://hooks.partner.example/x y", "valid URL"),
        ("https://[zz]/x", "valid URL"),
        ("https://169.254.169.254/x", "link-local"),
        ("https://[::1]/x", "loopback"),
        ("https://localhost/x", "^Destination not allowed: SkyBot Inbox only calls public internet addresses.$"),
        ("https://api.localhost/x", "^Destination not allowed: SkyBot Inbox only calls public internet addresses.$"),
    ],
)
def test_saving_a_url_refuses_what_can_never_be_called(production_guard, url, message):
    with pytest.raises(BlockedDestination, match=message):
        outbound.check_url(url)


def test_a_url_the_client_cannot_parse_is_refused_not_raised(settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    with pytest.raises(BlockedDestination):
        outbound.post("https://[zz]/x", content=b"")


def test_saving_a_public_https_url_passes(production_guard):
    outbound.check_url("https://hooks.zapier.com/hooks/standard/123/abc/")


def test_http_is_accepted_when_https_is_not_required(settings):
    settings.OUTBOUND_REQUIRE_HTTPS = False
    outbound.check_url("http://hooks.partner.example/x")
