"""GET with one error policy for the media-server clients (Plex, plex.tv, Jellyfin, Tautulli).

401/403 → Permanent in plain words; 404 → NotFound; 429 → wait for Retry-After once, then
Transient; 5xx, timeouts, unreachable hosts and bodies that are not the promised format →
Transient. No message carries a token or key: they name the service and its base URL only.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

from recommendarr.shared.domain.json_shapes import MalformedResponse
from recommendarr.shared.errors import NotFound, Permanent, Transient

T = TypeVar("T")

log = logging.getLogger(__name__)
MAX_RETRY_AFTER_S = 30.0
# Query parameters that carry credentials; httpx logs every request URL at INFO.
SECRET_PARAM = re.compile(r"(?i)\b(apikey|api_key|x-plex-token|token)=[^&\s\"']+")


class RedactSecrets(logging.Filter):
    """Blanks credentials in httpx's request log lines (Tautulli's key must ride in the URL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_value(a) for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def redact(value: str) -> str:
    return SECRET_PARAM.sub(lambda m: f"{m.group(1)}=***", value)


def redact_value(value: object) -> object:
    return redact(str(value)) if isinstance(value, str | httpx.URL) else value


def install_log_redaction() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, RedactSecrets) for f in logger.filters):
        logger.addFilter(RedactSecrets())


class UpstreamHTTP:
    def __init__(
        self,
        http: httpx.Client,
        service: str,
        base_url: str,
        headers: Mapping[str, str],
        credential_hint: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        timeout_s: float | None = None,
    ) -> None:
        self.http = http
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers)
        self.credential_hint = credential_hint
        self.sleep = sleep
        self.timeout_s = timeout_s
        install_log_redaction()

    def get(
        self,
        path: str,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        response = self.send(path, params, headers)
        if response.status_code == 429:
            wait = retry_after_s(response.headers.get("retry-after"))
            if wait is None or wait > MAX_RETRY_AFTER_S:
                raise Transient(f"{self.describe()} is rate limiting us (HTTP 429)")
            log.info("%s asked us to wait %.0f s (HTTP 429)", self.service, wait)
            self.sleep(wait)
            response = self.send(path, params, headers)
            if response.status_code == 429:
                raise Transient(f"{self.describe()} is still rate limiting us (HTTP 429)")
        self.check_status(response, path)
        return response

    def get_json(
        self,
        path: str,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        response = self.get(path, params, headers)
        try:
            return json.loads(response.content)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Transient(f"{self.describe()} answered with a body that is not JSON") from exc

    def parse(self, parser: Callable[[Any], T], payload: Any) -> T:
        """Run a domain parser; a body in another shape (a proxy page, a changed API) is an
        upstream problem worth retrying, not a reason to drop the work."""
        try:
            return parser(payload)
        except MalformedResponse as exc:
            raise Transient(f"{self.describe()} answered in an unexpected shape: {exc}") from exc

    def get_text(
        self,
        path: str,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        return self.get(path, params, headers).text

    def send(
        self,
        path: str,
        params: Mapping[str, str | int] | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        url = self.base_url + path
        merged = {**self.headers, **(headers or {})}
        timeout = self.timeout_s if self.timeout_s is not None else httpx.USE_CLIENT_DEFAULT
        try:
            return self.http.get(url, params=dict(params or {}), headers=merged, timeout=timeout)
        except httpx.TimeoutException as exc:
            raise Transient(f"{self.describe()} timed out") from exc
        except httpx.TransportError as exc:
            raise Transient(f"{self.describe()} is unreachable ({type(exc).__name__})") from exc

    def check_status(self, response: httpx.Response, path: str) -> None:
        status = response.status_code
        if status < 400:
            return
        if status in (401, 403):
            raise Permanent(
                f"{self.describe()} rejected our credentials (HTTP {status}); "
                f"check {self.credential_hint}"
            )
        if status == 404:
            raise NotFound(f"{self.describe()} has nothing at {path} (HTTP 404)")
        if status >= 500:
            raise Transient(f"{self.describe()} failed with HTTP {status}")
        raise Permanent(f"{self.describe()} refused the request with HTTP {status}")

    def describe(self) -> str:
        return f"{self.service} at {self.base_url}"


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds (RFC 9110: delay-seconds or an HTTP date); None if unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdecimal():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
