"""Outbound HTTP for webhooks, which cannot be aimed at Tandem's own network (SSRF).

A webhook URL is typed by a Production user or an API client, while the workers that
send deliveries sit next to PostgreSQL, Redis and a cloud's metadata service. So:

- The host is resolved once and refused unless *every* address it resolves to is
  public: not loopback, private, shared (100.64/10), link-local, multicast,
  unspecified or reserved. IPv4 carried inside IPv6 (mapped, 6to4, Teredo, NAT64) is
  judged by its IPv4 address too. Odd IPv4 spellings (2130706433, 0x7f.1, 0177.0.0.1)
  resolve to the address they stand for and are judged by it.
- Addresses inside WEBHOOK_ALLOWED_NETWORKS (set by the operator, for on-premise
  receivers) are let through.
- The connection goes to the address that was checked; nothing resolves the name a
  second time, so a DNS answer that changes in between (rebinding) cannot redirect it.
  TLS still sends the host name (SNI) and verifies the certificate for it, and the
  Host header still names it.
- Redirects are never followed: a 3xx answer is a failed attempt.
- A failure is reported as a short reason that is safe to show the endpoint's owner
  ("connection refused", "timed out", "address not allowed", ...); the details
  (addresses, errno text) go to the log only, so deliveries cannot map the network.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import ssl
from dataclasses import dataclass
from functools import lru_cache
from http import HTTPStatus
from urllib.parse import urlsplit

from django.conf import settings

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# The reasons a failed attempt records (shown to the endpoint's owner).
ADDRESS_NOT_ALLOWED = "address not allowed"
HOST_NOT_FOUND = "host name did not resolve"
CONNECTION_REFUSED = "connection refused"
TIMED_OUT = "timed out"
TLS_FAILED = "TLS handshake or certificate check failed"
CONNECTION_FAILED = "connection failed"
INVALID_RESPONSE = "invalid HTTP response"

# IPv6 prefixes that carry an IPv4 address in their last 32 bits (RFC 6052, RFC 8215).
_NAT64_PREFIXES = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


class DestinationRefused(Exception):
    """The URL's host may not be reached; `reason` is safe to show."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# --- which addresses may be reached ----------------------------------------------------


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(cidr) for cidr in cidrs)


def allowed_networks() -> tuple:
    """WEBHOOK_ALLOWED_NETWORKS, parsed (coordination/config.py validated it at start)."""
    return _networks(tuple(settings.WEBHOOK_ALLOWED_NETWORKS))


def _unmapped(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _nat64_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv6Address) and any(
        address in prefix for prefix in _NAT64_PREFIXES
    ):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _tunnelled_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    return None


def _is_public(address: IPAddress) -> bool:
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
    )


def address_allowed(address: IPAddress) -> bool:
    """A public address, or one inside WEBHOOK_ALLOWED_NETWORKS."""
    address = _unmapped(address)
    if any(address in network for network in allowed_networks()):
        return True
    translated = _nat64_ipv4(address)  # IPv6-only networks reach IPv4 hosts this way
    if translated is not None:
        return address_allowed(translated)
    if not _is_public(address):
        return False
    if isinstance(address, ipaddress.IPv6Address):
        tunnelled = _tunnelled_ipv4(address)
        return tunnelled is None or _is_public(tunnelled)
    return True


# --- where a URL points ----------------------------------------------------------------


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, in the resolver's order (an IP literal: itself).
    The one place a webhook host name is looked up; tests replace it."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # A scoped IPv6 answer ("fe80::1%eth0") is judged by its address.
    addresses = (ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos)
    return list(dict.fromkeys(_unmapped(address) for address in addresses))


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int
    target: str  # path and query, as sent in the request line
    addresses: tuple[IPAddress, ...]  # checked: every one may be reached


def destination(url: str) -> Destination:
    """Resolve and check the host of an http(s) URL. DestinationRefused unless it
    resolves and every address it resolves to is allowed."""
    parts = urlsplit(url)
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        port = None
    host = parts.hostname
    if parts.scheme not in _DEFAULT_PORTS or not host or not port:
        raise DestinationRefused(ADDRESS_NOT_ALLOWED)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError, ValueError) as exc:
        logger.info("Webhook host %r did not resolve: %s", host, exc)
        raise DestinationRefused(HOST_NOT_FOUND) from None
    if not addresses:
        raise DestinationRefused(HOST_NOT_FOUND)
    refused = [address for address in addresses if not address_allowed(address)]
    if refused:
        logger.warning(
            "Webhook host %r resolves to %s: not allowed (private, reserved or local; "
            "see WEBHOOK_ALLOWED_NETWORKS)",
            host,
            ", ".join(map(str, refused)),
        )
        raise DestinationRefused(ADDRESS_NOT_ALLOWED)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Destination(parts.scheme, host, port, target, tuple(addresses))


# --- sending ---------------------------------------------------------------------------


class _PinnedConnection(http.client.HTTPConnection):
    """Connects to `pinned_address` (already checked) while the request, the Host header
    and, for TLS, SNI and the certificate check all name the host."""

    pinned_address: str

    def connect(self):
        self.sock = socket.create_connection((self.pinned_address, self.port), self.timeout)


class _PinnedTLSConnection(http.client.HTTPSConnection, _PinnedConnection):
    # HTTPSConnection.connect() calls super().connect() (ours: the pinned socket), then
    # wraps it with server_hostname=self.host.
    pass


def tls_context() -> ssl.SSLContext:
    """Certificates verified against the system's trust store (SSL_CERT_FILE is honoured,
    for an on-premise receiver with a private CA). Tests replace it."""
    return ssl.create_default_context()


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str  # empty when delivered (a 2xx answer)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return TLS_FAILED
    if isinstance(exc, ConnectionRefusedError):
        return CONNECTION_REFUSED
    if isinstance(exc, TimeoutError):
        return TIMED_OUT
    if isinstance(exc, http.client.HTTPException):
        return INVALID_RESPONSE
    return CONNECTION_FAILED


def _status_text(code: int) -> str:
    # The standard phrase, not the receiver's own text.
    try:
        return f"HTTP {code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"HTTP {code}"


def _connection(place: Destination, address: IPAddress, timeout: float):
    if place.scheme == "https":
        connection = _PinnedTLSConnection(
            place.host, place.port, timeout=timeout, context=tls_context()
        )
    else:
        connection = _PinnedConnection(place.host, place.port, timeout=timeout)
    connection.pinned_address = str(address)
    return connection


def post(url: str, body: bytes, headers: dict, timeout: float) -> Outcome:
    """POST `body` to `url` once, safely (see the module docstring). Never raises."""
    try:
        place = destination(url)
    except DestinationRefused as refused:
        return Outcome(None, refused.reason)
    reason = CONNECTION_FAILED
    for address in place.addresses:
        connection = _connection(place, address, timeout)
        try:
            try:
                connection.connect()
            except Exception as exc:  # this address is down: the next may answer
                reason = _reason(exc)
                logger.warning("Webhook host %r at %s: %r", place.host, address, exc)
                continue
            try:
                connection.request("POST", place.target, body=body, headers=headers)
                code = connection.getresponse().status
            except Exception as exc:
                logger.warning("Webhook POST to %r at %s: %r", place.host, address, exc)
                return Outcome(None, _reason(exc))
        finally:
            connection.close()
        if 200 <= code < 300:
            return Outcome(code, "")
        if 300 <= code < 400:
            return Outcome(code, f"{_status_text(code)}: redirects are not followed")
        return Outcome(code, _status_text(code))
    return Outcome(None, reason)
