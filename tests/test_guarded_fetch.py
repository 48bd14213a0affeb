"""User-supplied URLs: every non-public address class is refused, before any connection."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from recommendarr.shared.clients.guarded_fetch import (
    IPAddress,
    RefusedURL,
    check_url,
    fetch_public,
    is_public_address,
)

REFUSED = [
    "127.0.0.1",
    "127.8.9.10",  # loopback
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.20",  # RFC 1918
    "169.254.169.254",  # link-local (cloud metadata)
    "100.64.0.1",
    "100.127.255.254",  # carrier-grade NAT
    "0.0.0.0",  # unspecified
    "224.0.0.1",  # multicast
    "::1",
    "fc00::1",
    "fd12:3456::1",  # loopback, ULA
    "fe80::1",  # link-local v6
    "::ffff:192.168.1.1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "240.0.0.1",  # reserved
]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))
    with pytest.raises(RefusedURL, match="non-public"):
        check_url("http://media.example/list", resolve=lambda host, port: [address])


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_public_addresses_pass(address: str) -> None:
    assert check_url("https://lists.example/x", resolve=lambda h, p: [address]).address == address


def test_one_private_answer_among_public_ones_is_refused() -> None:
    with pytest.raises(RefusedURL):
        check_url("http://mixed.example/", resolve=lambda h, p: ["93.184.215.14", "10.0.0.1"])


@pytest.mark.parametrize("url", ["ftp://x.example/a", "file:///etc/passwd", "gopher://x/", "//x"])
def test_only_http_and_https(url: str) -> None:
    with pytest.raises(RefusedURL):
        check_url(url, resolve=lambda h, p: ["93.184.215.14"])


def test_credentials_in_urls_are_refused() -> None:
    with pytest.raises(RefusedURL, match="credentials"):
        check_url("http://user:pw@x.example/", resolve=lambda h, p: ["93.184.215.14"])


class Upstream(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/redirect-private":
            self.send_response(302)
            self.send_header("Location", "http://10.0.0.5/secret")
            self.end_headers()
        elif self.path == "/redirect-localhost":
            self.send_response(301)
            self.send_header("Location", "http://localhost:1/admin")
            self.end_headers()
        elif self.path == "/redirect-ok":
            self.send_response(302)
            self.send_header("Location", "/list")
            self.end_headers()
        elif self.path == "/big":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"x" * 5000)
        else:
            body = b"title,year\nArrival,2016\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def upstream() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def only_test_server(address: IPAddress) -> bool:
    """Stands in for 'public' in tests: the loopback test server is the one allowed target."""
    return str(address) == "127.0.0.1"


def resolve_to_test_server(host: str, port: int) -> list[str]:
    return {"lists.example": ["127.0.0.1"], "localhost": ["127.0.0.1", "::1"]}.get(
        host, ["10.0.0.5"]
    )


def test_fetches_through_the_pinned_address(upstream: int) -> None:
    with httpx.Client() as client:
        fetched = fetch_public(
            client,
            f"http://lists.example:{upstream}/list",
            resolve=resolve_to_test_server,
            allowed=only_test_server,
        )
    assert fetched.status == 200 and fetched.body.startswith(b"title,year")


def test_redirects_are_rechecked(upstream: int) -> None:
    with httpx.Client() as client:
        ok = fetch_public(
            client,
            f"http://lists.example:{upstream}/redirect-ok",
            resolve=resolve_to_test_server,
            allowed=only_test_server,
        )
        assert ok.url.endswith("/list")
        for path in ("/redirect-private", "/redirect-localhost"):
            with pytest.raises(RefusedURL, match="non-public"):
                fetch_public(
                    client,
                    f"http://lists.example:{upstream}{path}",
                    resolve=resolve_to_test_server,
                    allowed=only_test_server,
                )


def test_size_is_capped(upstream: int) -> None:
    with httpx.Client() as client, pytest.raises(RefusedURL, match="larger than 1000"):
        fetch_public(
            client,
            f"http://lists.example:{upstream}/big",
            max_bytes=1000,
            resolve=resolve_to_test_server,
            allowed=only_test_server,
        )


def test_the_real_resolver_refuses_localhost() -> None:
    with httpx.Client() as client, pytest.raises(RefusedURL, match="non-public"):
        fetch_public(client, "http://localhost:9/")
