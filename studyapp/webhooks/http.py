"""POSTing to a URL a user gave us, without letting it reach our own network.

A webhook URL is chosen by a user, so it could name the metadata service, a database or the app
itself (SSRF). The check is on the addresses the host name resolves to, not on the name (a public
name can point at 127.0.0.1), and the connection then goes to the address that was checked, so a
second DNS answer cannot swap in another one (DNS rebinding). Redirects are not followed.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from studyapp.core.errors import PermanentError, TransientError


class BlockedAddress(PermanentError):
    """The URL resolves to an address webhooks may not reach."""


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    retry_after: float | None


def is_public_address(value: str) -> bool:
    """Globally routable unicast: not loopback, private, link-local, shared, reserved or multicast.

    An IPv6 address is judged by what it reaches: IPv4-mapped, IPv4-compatible, NAT64 (64:ff9b::/96)
    and 6to4 (2002::/16) addresses carry an IPv4 address that the network delivers to, so that IPv4
    address is checked. Site-local, local-use NAT64 and Teredo addresses are refused outright.
    """
    ip = ipaddress.ip_address(value.split("%", 1)[0])
    if ip.version == 6:
        if ip.is_site_local or ip in _LOCAL_NAT64 or ip.teredo is not None:
            return False
        ip = _embedded_ipv4(ip) or ip
    return ip.is_global and not ip.is_multicast


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):  # "::" and "::1" are themselves
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def resolve(host: str, port: int, *, allow_private: bool) -> tuple:
    """The first address to connect to; every address the name resolves to must be allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TransientError(f"could not resolve {host}: {exc.strerror or exc}") from None
    if not allow_private:
        for *_, sockaddr in infos:
            if not is_public_address(sockaddr[0]):
                raise BlockedAddress(f"{host} resolves to {sockaddr[0]}, a private or local address; "
                                     "webhooks may only reach public addresses")
    family, _, _, _, sockaddr = infos[0]
    return family, sockaddr


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address resolved and checked beforehand; the Host header keeps the name."""

    def __init__(self, host, port, *, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def _open_socket(self) -> socket.socket:
        family, sockaddr = self._address
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(sockaddr)
        except OSError:
            sock.close()
            raise
        return sock

    def connect(self):
        self.sock = self._open_socket()


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, *, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    _open_socket = _PinnedHTTPConnection._open_socket

    def connect(self):
        # Certificate and SNI are checked against the host name, as with any HTTPS request.
        self.sock = self._context.wrap_socket(self._open_socket(), server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_private: bool) -> Response:
    """POST `body` to `url`. Network trouble is a TransientError; a forbidden URL a PermanentError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PermanentError(f"not an http(s) URL: {url}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = resolve(parts.hostname, port, allow_private=allow_private)
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(parts.hostname, port, address=address, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers={**headers, "Content-Length": str(len(body))})
        response = connection.getresponse()
        text = response.read(2000).decode("utf-8", "replace")
        return Response(status=response.status, body=text, retry_after=_retry_after(response.getheader("Retry-After")))
    except (OSError, http.client.HTTPException) as exc:
        raise TransientError(f"could not reach {parts.hostname}: {exc}") from None
    finally:
        connection.close()


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: the backoff decides
