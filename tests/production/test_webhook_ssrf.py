"""Webhooks cannot be aimed at Tandem's own network: private, loopback, link-local and
reserved addresses are refused when an endpoint is registered and again at every
delivery, the connection goes to the address that was checked, redirects are not
followed, and failures are recorded without network details."""

from __future__ import annotations

import ipaddress
import shutil
import socket
import ssl
import subprocess
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from coordination import config
from production.models import WebhookDelivery, WebhookEndpoint
from production.services import webhook_transport, webhooks
from tests.api_errors import invalid
from tests.conftest import IN_CI, PUBLIC_TEST_ADDRESS
from tests.coordination.test_api_clients import bearer, make_client
from tests.production.test_api_quotas import api
from tests.production.test_webhooks import Receiver

pytestmark = pytest.mark.django_db

WEBHOOKS = "/api/v1/webhooks/"
NOT_PUBLIC = invalid({"url": [webhooks.NOT_PUBLIC]})
NOT_A_URL = invalid({"url": ["Enter an http:// or https:// URL."]})

# Every way to name a place inside the network that the issue lists, and more.
INTERNAL_URLS = [
    "http://127.0.0.1:5432",
    "http://169.254.169.254/latest/meta-data/",
    "http://localhost:6379",
    "http://[::1]/hooks",
    "http://0.0.0.0:8000/",
    "http://10.0.0.1/hooks",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://172.16.5.4/",
    "http://192.168.1.10/",
    "http://100.64.0.1/",  # carrier-grade NAT (shared address space)
    "http://224.0.0.1/",  # multicast
    "http://240.0.0.1/",  # reserved
    "http://255.255.255.255/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[ff02::1]/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6
    "http://[::ffff:a9fe:a9fe]/",  # 169.254.169.254, mapped
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "https://no-such-host.invalid/hooks",  # unresolvable: the same answer, no DNS oracle
]
# Numeric spellings of 127.0.0.1 that resolvers accept: not URLs Tandem registers.
ODD_SPELLINGS = ["2130706433", "0x7f000001", "0x7f.0.0.1", "0177.0.0.1", "127.1", "017700000001"]


def delivery_for(endpoint) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id=uuid.uuid4(),
        payload={"event": "schedule.changed", "schedule_version": 1},
        next_attempt_at=timezone.now(),
    )


def attempt(endpoint) -> WebhookDelivery:
    delivery = delivery_for(endpoint)
    webhooks.deliver(delivery.pk)
    delivery.refresh_from_db()
    return delivery


def legacy_endpoint(user, url) -> WebhookEndpoint:
    """A row written without the registration check (an old row, or the database)."""
    return WebhookEndpoint.objects.create(created_by=user, url=url)


@pytest.fixture
def plain_receiver():
    """A receiver on 127.0.0.1 with no allow-list: Tandem may not reach it."""
    server = Receiver()
    yield server
    server.close()


# --- the address rules -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        (PUBLIC_TEST_ADDRESS, True),
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("::ffff:8.8.8.8", True),  # mapped: judged by its IPv4 address
        ("127.0.0.1", False),
        ("127.255.0.9", False),
        ("10.0.0.1", False),
        ("172.31.255.255", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 (an address under test, not a bind)
        ("224.0.0.251", False),
        ("239.255.255.250", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("192.0.2.1", False),  # documentation
        ("198.18.0.1", False),  # benchmarking
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("fd12:3456::1", False),
        ("ff02::1", False),
        ("ff0e::1", False),  # global-scope multicast
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.1.2.3", False),
        ("2002:7f00:1::", False),  # 6to4 carrying 127.0.0.1
        ("2002:a00:1::", False),  # 6to4 carrying 10.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 carrying 169.254.169.254
        ("64:ff9b::808:808", True),  # NAT64 carrying 8.8.8.8
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),  # Teredo, client 127.0.0.1
    ],
)
def test_which_addresses_a_webhook_may_reach(address, allowed):
    assert webhook_transport.address_allowed(ipaddress.ip_address(address)) is allowed


def test_the_allow_list_lets_listed_networks_through_and_nothing_else(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.20.0.0/16", "fd00:1::/32", "127.0.0.1/32"]
    allowed = webhook_transport.address_allowed
    assert allowed(ipaddress.ip_address("10.20.3.4")) is True
    assert allowed(ipaddress.ip_address("10.21.0.1")) is False
    assert allowed(ipaddress.ip_address("fd00:1::5")) is True
    assert allowed(ipaddress.ip_address("fd00:2::5")) is False
    assert allowed(ipaddress.ip_address("127.0.0.1")) is True
    assert allowed(ipaddress.ip_address("::ffff:127.0.0.1")) is True
    assert allowed(ipaddress.ip_address("127.0.0.2")) is False
    assert allowed(ipaddress.ip_address("169.254.169.254")) is False


def test_the_allow_list_setting_is_read_from_the_environment_and_checked():
    env = {"WEBHOOK_ALLOWED_NETWORKS": " 10.20.0.0/16, fd00::/8 ,192.168.7.7"}
    assert config.env_networks(env, "WEBHOOK_ALLOWED_NETWORKS") == [
        "10.20.0.0/16",
        "fd00::/8",
        "192.168.7.7",
    ]
    assert config.env_networks({}, "WEBHOOK_ALLOWED_NETWORKS") == []
    for typo in ("10.20.0.0/33", "10.20.0.1/16", "intranet", "10.20.0.0/16;10.0.0.0/8"):
        with pytest.raises(ImproperlyConfigured, match="WEBHOOK_ALLOWED_NETWORKS must list"):
            config.env_networks({"WEBHOOK_ALLOWED_NETWORKS": typo}, "WEBHOOK_ALLOWED_NETWORKS")


# --- registration ----------------------------------------------------------------------


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_registering_an_internal_url_is_refused(production_user, url):
    response = api(production_user).post(WEBHOOKS, {"url": url}, format="json")
    assert (response.status_code, response.json()) == (400, NOT_PUBLIC)
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.parametrize("host", ODD_SPELLINGS)
def test_numeric_spellings_of_an_address_are_not_urls(production_user, host):
    response = api(production_user).post(WEBHOOKS, {"url": f"http://{host}/"}, format="json")
    assert (response.status_code, response.json()) == (400, NOT_A_URL)
    assert WebhookEndpoint.objects.count() == 0


def test_an_api_key_with_webhooks_write_is_refused_the_same(webhook_dns):
    _, key = make_client(name="mirror", scopes=["webhooks:write"])
    webhook_dns.records["erp.example.com"] = [PUBLIC_TEST_ADDRESS, "10.0.0.7"]
    for url in ("http://169.254.169.254/", "https://erp.example.com/hook"):
        response = bearer(key).post(WEBHOOKS, {"url": url}, format="json")
        assert (response.status_code, response.json()) == (400, NOT_PUBLIC), url
    assert WebhookEndpoint.objects.count() == 0


def test_a_public_host_is_registered_and_an_allow_listed_network_too(production_user, settings):
    client = api(production_user)
    public = client.post(WEBHOOKS, {"url": "https://erp.example.com/t"}, format="json")
    assert public.status_code == 201, public.json()
    assert client.post(WEBHOOKS, {"url": "http://10.0.0.1/t"}, format="json").status_code == 400
    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    response = client.post(WEBHOOKS, {"url": "http://10.0.0.1/t"}, format="json")
    assert response.status_code == 201, response.json()
    assert list(WebhookEndpoint.objects.order_by("id").values_list("url", flat=True)) == [
        "https://erp.example.com/t",
        "http://10.0.0.1/t",
    ]


def test_the_admin_form_refuses_an_internal_url(client, admin_user):
    endpoint = webhooks.webhook_endpoint_create(actor=admin_user, url="https://erp.example.com/h")
    client.force_login(admin_user)
    page = f"/admin/production/webhookendpoint/{endpoint.pk}/change/"
    form = {"name": "ERP", "is_active": "on", "disabled_at_0": "", "disabled_at_1": ""}
    response = client.post(page, {**form, "url": "http://169.254.169.254/latest"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"url": [webhooks.NOT_PUBLIC]}
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.name) == ("https://erp.example.com/h", "")
    response = client.post(page, {**form, "url": "https://erp.example.com/new"})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.name) == ("https://erp.example.com/new", "ERP")
    # An endpoint whose host no longer resolves (or now resolves privately) can still be
    # paused: its unchanged URL is not checked again.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url="https://gone.invalid/h")
    response = client.post(page, {**form, "is_active": "", "url": "https://gone.invalid/h"})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.is_active) == ("https://gone.invalid/h", False)


# --- delivery --------------------------------------------------------------------------


def test_a_delivery_to_this_machine_is_refused_without_the_allow_list(
    production_user, plain_receiver, settings, caplog
):
    port = plain_receiver.server.server_address[1]
    hosts = ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", *ODD_SPELLINGS]
    endpoints = [legacy_endpoint(production_user, f"http://{h}:{port}/hook") for h in hosts]
    for endpoint in endpoints:
        delivery = attempt(endpoint)
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            "pending",
            1,
            None,
        )
        assert delivery.last_error == "address not allowed"
    assert plain_receiver.requests == []
    # The details are in the log, for the operator.
    assert "'localhost' resolves to 127.0.0.1: not allowed" in caplog.text

    # The same rows reach it once the operator allows the network: the refusal above
    # was the address check, nothing else.
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    for endpoint in endpoints:
        assert attempt(endpoint).status == "delivered"
    assert len(plain_receiver.requests) == len(hosts)


def test_a_name_that_resolves_to_a_private_address_by_delivery_time_is_refused(
    production_user, plain_receiver, webhook_dns
):
    port = plain_receiver.server.server_address[1]
    webhook_dns.records["hooks.example"] = [PUBLIC_TEST_ADDRESS]
    endpoint = webhooks.webhook_endpoint_create(
        actor=production_user, url=f"http://hooks.example:{port}/hook"
    )
    # The name now answers with this machine (DNS rebinding), or with a mix.
    for answer in (["127.0.0.1"], [PUBLIC_TEST_ADDRESS, "127.0.0.1"], ["10.1.1.1"]):
        webhook_dns.records["hooks.example"] = answer
        assert attempt(endpoint).last_error == "address not allowed"
    assert plain_receiver.requests == []


def test_the_connection_goes_to_the_checked_address_and_names_the_host(
    production_user, plain_receiver, webhook_dns, settings, monkeypatch
):
    """One lookup per delivery; the socket opens on the address that lookup gave (no
    second resolution a rebinding DNS could answer differently); Host names the host."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    port = plain_receiver.server.server_address[1]
    webhook_dns.records["hooks.example"] = ["127.0.0.1"]
    endpoint = webhooks.webhook_endpoint_create(
        actor=production_user, url=f"http://hooks.example:{port}/hook?team=erp"
    )
    system_lookups = []
    system_getaddrinfo = socket.getaddrinfo

    def recording_getaddrinfo(host, *args, **kwargs):
        system_lookups.append(host)
        return system_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", recording_getaddrinfo)
    webhook_dns.lookups.clear()
    assert attempt(endpoint).status == "delivered"
    assert webhook_dns.lookups == ["hooks.example"]
    assert system_lookups == ["127.0.0.1"]  # the socket's own, of the literal address
    (request,) = plain_receiver.requests
    assert request["path"] == "/hook?team=erp"
    assert request["headers"]["Host"] == f"hooks.example:{port}"


def test_a_redirect_is_not_followed(production_user, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    first, elsewhere = Receiver(), Receiver()
    try:
        first.statuses = [302]
        first.redirect_to = elsewhere.url
        endpoint = webhooks.webhook_endpoint_create(actor=production_user, url=first.url)
        delivery = attempt(endpoint)
        assert len(first.requests) == 1
        assert elsewhere.requests == []
        assert (delivery.status, delivery.last_status_code, delivery.last_error) == (
            "pending",
            302,
            "HTTP 302 Found: redirects are not followed",
        )
        # Every redirect status is a failed attempt.
        first.statuses = [301, 307, 308]
        assert [attempt(endpoint).last_status_code for _ in range(3)] == [301, 307, 308]
        assert elsewhere.requests == []
    finally:
        first.close()
        elsewhere.close()


@pytest.fixture
def silent_url():
    """A port that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    sock.close()


def test_failures_are_recorded_without_network_details(
    production_user, settings, silent_url, monkeypatch, caplog
):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.3)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    cases = [
        (f"http://127.0.0.1:{closed_port}/hook", "connection refused"),
        (silent_url, "timed out"),
        ("http://10.9.9.9/hook", "address not allowed"),
        ("https://gone.invalid/hook", "host name did not resolve"),
    ]
    endpoints = [legacy_endpoint(production_user, url) for url, _ in cases]
    assert [attempt(endpoint).last_error for endpoint in endpoints] == [r for _, r in cases]

    for endpoint in endpoints:
        body = api(production_user).get(f"{WEBHOOKS}{endpoint.pk}/deliveries/").content.decode()
        # Not a bare "111" (the errno): ids and timestamps in the body may contain it.
        for detail in ("127.0.0.1", "10.9.9.9", "Errno", "Error", "Connection refused"):
            assert detail not in body
    assert "ConnectionRefusedError" in caplog.text
    assert "10.9.9.9: not allowed" in caplog.text


# --- TLS -------------------------------------------------------------------------------


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch, webhook_dns, settings):
    """An HTTPS receiver on 127.0.0.1 with a certificate for hooks.example only, which
    Tandem trusts; other.example also resolves to it. Records the SNI names it saw."""
    openssl = shutil.which("openssl")
    if openssl is None:
        message = "openssl is needed to make the test certificate"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=hooks.example",
            "-addext",
            "subjectAltName=DNS:hooks.example",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    server = Receiver()
    sni_names: list[str] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: sni_names.append(name)
    server.server.socket = context.wrap_socket(server.server.socket, server_side=True)
    server.sni_names = sni_names
    server.port = server.server.server_address[1]
    monkeypatch.setattr(
        webhook_transport, "tls_context", lambda: ssl.create_default_context(cafile=cert)
    )
    webhook_dns.records["hooks.example"] = ["127.0.0.1"]
    webhook_dns.records["other.example"] = ["127.0.0.1"]
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    yield server
    server.close()


def test_tls_names_the_host_and_verifies_its_certificate(production_user, tls_receiver):
    port = tls_receiver.port
    good = webhooks.webhook_endpoint_create(
        actor=production_user, url=f"https://hooks.example:{port}/hook"
    )
    assert attempt(good).status == "delivered"
    assert tls_receiver.sni_names == ["hooks.example"]
    assert tls_receiver.requests[0]["headers"]["Host"] == f"hooks.example:{port}"

    # The same address under a name the certificate does not cover is refused.
    wrong = webhooks.webhook_endpoint_create(
        actor=production_user, url=f"https://other.example:{port}/hook"
    )
    delivery = attempt(wrong)
    assert (delivery.status, delivery.last_status_code, delivery.last_error) == (
        "pending",
        None,
        "TLS handshake or certificate check failed",
    )
    assert tls_receiver.sni_names == ["hooks.example", "other.example"]
    assert len(tls_receiver.requests) == 1
