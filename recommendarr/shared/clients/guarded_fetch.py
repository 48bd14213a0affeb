"""The one way to fetch a URL a user typed (list imports, feeds): public addresses only.

A user-supplied URL must not reach the LAN, the host itself or a cloud metadata service. The
host is resolved once, every address is checked, and the connection goes to the checked address
(so a second, rebinding DNS answer cannot change the target). Each redirect is checked again.
Owner-configured service URLs (a LAN Plex) never come through here: they use the plain client.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from recommendarr.shared.errors import Permanent, Transient

MAX_REDIRECTS = 5
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_TIMEOUT_S = 10.0
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Not covered by the stdlib's is_private in every Python version: carrier-grade NAT.
CGNAT = ipaddress.ip_network("100.64.0.0/10")


class RefusedURL(Permanent):
    """The URL points somewhere a user-supplied fetch may not go."""


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    content_type: str
    body: bytes


def is_public_address(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public_address(address.ipv4_mapped)
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv4Address) and address in CGNAT)
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    )


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise RefusedURL(f"cannot resolve host {host!r}") from exc
    return sorted({str(info[4][0]) for info in infos})


@dataclass(frozen=True)
class Target:
    url: str
    host: str
    address: str


def check_url(
    url: str,
    resolve: Callable[[str, int], list[str]] = system_resolver,
    allowed: Callable[[IPAddress], bool] = is_public_address,
) -> Target:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise RefusedURL(f"only http and https URLs can be fetched, not {parts.scheme or 'none'!r}")
    if not parts.hostname:
        raise RefusedURL("the URL has no host")
    if parts.username or parts.password:
        raise RefusedURL("URLs with credentials are not fetched")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = [ipaddress.ip_address(a.split("%")[0]) for a in resolve(parts.hostname, port)]
    if not addresses:
        raise RefusedURL(f"host {parts.hostname!r} has no address")
    refused = [str(a) for a in addresses if not allowed(a)]
    if refused:
        # One private answer is enough to refuse: the OS could connect to any of them.
        raise RefusedURL(f"{parts.hostname!r} resolves to a non-public address ({refused[0]})")
    return Target(url=url, host=parts.hostname, address=str(addresses[0]))


def pinned_url(target: Target) -> str:
    """The URL with the host replaced by the checked address (brackets for IPv6)."""
    parts = urlsplit(target.url)
    host = f"[{target.address}]" if ":" in target.address else target.address
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


def fetch_public(
    client: httpx.Client,
    url: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    resolve: Callable[[str, int], list[str]] = system_resolver,
    allowed: Callable[[IPAddress], bool] = is_public_address,
) -> Fetched:
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        target = check_url(current, resolve, allowed)
        response = fetch_once(client, target, max_bytes, timeout_s)
        if isinstance(response, Fetched):
            return response
        current = urljoin(current, response)
    raise RefusedURL(f"more than {MAX_REDIRECTS} redirects")


def fetch_once(
    client: httpx.Client, target: Target, max_bytes: int, timeout_s: float
) -> Fetched | str:
    """The response, or the next URL when it is a redirect (followed by the caller, re-checked)."""
    request = client.build_request(
        "GET",
        pinned_url(target),
        headers={"Host": urlsplit(target.url).netloc.rsplit("@", 1)[-1]},
        timeout=timeout_s,
        extensions={"sni_hostname": target.host},
    )
    try:
        response = client.send(request, stream=True, follow_redirects=False)
    except httpx.TimeoutException as exc:
        raise Transient(f"{target.host} timed out") from exc
    except httpx.TransportError as exc:
        raise Transient(f"{target.host} is unreachable") from exc
    try:
        if response.is_redirect:
            location = str(response.headers.get("location", ""))
            if not location:
                raise RefusedURL("a redirect without a Location header")
            return location
        body = read_capped(response, max_bytes)
    finally:
        response.close()
    return Fetched(target.url, response.status_code, response.headers.get("content-type", ""), body)


def read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdecimal() and int(declared) > max_bytes:
        raise RefusedURL(f"the response is larger than {max_bytes} bytes")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise RefusedURL(f"the response is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
