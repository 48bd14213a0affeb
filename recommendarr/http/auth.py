"""Who is calling: the admin, a user (who may only see themselves), or a webhook sender."""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request

from recommendarr.http.throttle import KeyedLimiter
from recommendarr.http.token_cache import TokenCache
from recommendarr.shared.store import secrets
from recommendarr.shared.store import users as user_store


@dataclass(frozen=True)
class Principal:
    is_admin: bool
    user_id: int | None

    def may_see(self, user_id: int) -> bool:
        return self.is_admin or self.user_id == user_id


@dataclass(frozen=True)
class SecretHashes:
    """Hashes only: the tokens themselves are never kept.

    `per_source` holds the webhook secrets rotated for one source (`webhook:plex`); a source
    that has one no longer accepts the shared webhook secret.
    """

    admin: bytes
    webhook: bytes
    per_source: dict[str, bytes] = field(default_factory=dict)

    def webhook_for(self, source: str) -> bytes:
        return self.per_source.get(source, self.webhook)


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "missing bearer token: send 'Authorization: Bearer <token>'")
    return token.strip()


def authenticate(request: Request) -> Principal:
    token_hash = secrets.digest(bearer_token(request))
    hashes = current_hashes(request)
    if hmac.compare_digest(token_hash, hashes.admin):
        return Principal(is_admin=True, user_id=None)
    cache: TokenCache = request.app.state.token_cache
    user_id = cache.get(token_hash)
    if user_id is None:
        with request.app.state.resources.pool.connection() as conn:
            user_id = secrets.user_for_token(conn, token_hash)
        if user_id is None:
            raise HTTPException(401, "unknown or revoked token")
        cache.put(token_hash, user_id)
    return Principal(is_admin=False, user_id=user_id)


async def authenticate_async(request: Request) -> Principal:
    """For async handlers: the admin token and a cached user token never leave the event loop;
    anything that needs the database goes to a thread."""
    token_hash = secrets.digest(bearer_token(request))
    if not request.app.state.secret_book.fresh():
        return await run_in_threadpool(authenticate, request)
    hashes: SecretHashes = request.app.state.secret_book.hashes
    if hmac.compare_digest(token_hash, hashes.admin):
        return Principal(is_admin=True, user_id=None)
    cache: TokenCache = request.app.state.token_cache
    user_id = cache.get(token_hash)
    if user_id is None:
        return await run_in_threadpool(authenticate, request)
    return Principal(is_admin=False, user_id=user_id)


def require_admin(request: Request) -> Principal:
    principal = authenticate(request)
    if not principal.is_admin:
        raise HTTPException(403, "this endpoint needs the admin token")
    return principal


def visible_user(request: Request, user_id: int) -> dict[str, object]:
    """The user row if the caller may see it; another user's id looks exactly like a missing one."""
    principal = authenticate(request)
    if not principal.may_see(user_id):
        raise HTTPException(404, f"no user {user_id}")
    with request.app.state.resources.pool.connection() as conn:
        row = user_store.get(conn, user_id)
    if row is None:
        raise HTTPException(404, f"no user {user_id}")
    return row


def current_hashes(request: Request) -> SecretHashes:
    hashes: SecretHashes = request.app.state.secret_book.current()
    return hashes


def check_webhook_token(request: Request, source: str) -> None:
    """The source's secret (or the shared one), in constant time, within the token's budget."""
    given = (
        request.query_params.get("token")
        or request.headers.get("x-recommendarr-token")
        or basic_password(request)
    )
    if not given:
        raise HTTPException(
            401,
            "missing webhook token: add ?token=<RECOMMENDARR_WEBHOOK_TOKEN> to the URL "
            "(or send it as the HTTP Basic password)",
        )
    digest = secrets.digest(given)
    if not hmac.compare_digest(digest, current_hashes(request).webhook_for(source)):
        failures: KeyedLimiter = request.app.state.auth_failure_limiter
        failures.check(client_address(request), "failed webhook authentications")
        raise HTTPException(401, "wrong webhook token")
    budget: KeyedLimiter = request.app.state.webhook_limiter
    budget.check(digest, "webhooks for this token")


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def basic_password(request: Request) -> str | None:
    """The password of an HTTP Basic header (Radarr/Sonarr webhook credentials); any username."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    _, separator, password = decoded.partition(":")
    return password if separator and password else None
