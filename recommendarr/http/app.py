"""create_app(settings): the thin HTTP layer. Validates, records, enqueues, reads results."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from recommendarr.http.inbox_writer import InboxWriter
from recommendarr.http.openapi import Endpoint, build_document
from recommendarr.http.routes import admin, health, jobs, recommendations, search, users, webhooks
from recommendarr.http.routes.feedback import ROUTES as FEEDBACK_ROUTES
from recommendarr.http.routes.grabs import ROUTES as GRAB_ROUTES
from recommendarr.http.routes.group import ROUTES as GROUP_ROUTES
from recommendarr.http.routes.influences import ROUTES as INFLUENCE_ROUTES
from recommendarr.http.routes.onboarding import ROUTES as ONBOARDING_ROUTES
from recommendarr.http.routes.setup import ROUTES as SETUP_ROUTES
from recommendarr.http.routes.user_settings import ROUTES as USER_SETTINGS_ROUTES
from recommendarr.http.routes.webhooks_arr import ROUTES as ARR_WEBHOOK_ROUTES
from recommendarr.http.routes.webhooks_media import ROUTES as MEDIA_WEBHOOK_ROUTES
from recommendarr.http.routes.why_not import ROUTES as WHY_NOT_ROUTES
from recommendarr.http.secret_book import SecretBook
from recommendarr.http.throttle import KeyedLimiter
from recommendarr.http.token_cache import TokenCache
from recommendarr.runtime import Runtime, start_runtime
from recommendarr.settings import Settings, load_settings
from recommendarr.shared.db import open_async_read_pool

log = logging.getLogger(__name__)
PREFIX = "/api/v1"
ROUTE_TABLE: list[tuple[Endpoint, Callable[..., Any]]] = [
    *health.ROUTES,
    *webhooks.ROUTES,
    *ARR_WEBHOOK_ROUTES,
    *MEDIA_WEBHOOK_ROUTES,
    *GRAB_ROUTES,
    *users.ROUTES,
    *USER_SETTINGS_ROUTES,
    *recommendations.ROUTES,
    *FEEDBACK_ROUTES,
    *INFLUENCE_ROUTES,
    *WHY_NOT_ROUTES,
    *GROUP_ROUTES,
    *ONBOARDING_ROUTES,
    *search.ROUTES,
    *jobs.ROUTES,
    *admin.ROUTES,
    *SETUP_ROUTES,
]


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return JSONResponse(
        {"error": {"status": exc.status_code, "message": exc.detail}},
        status_code=exc.status_code,
        headers=exc.headers,
    )


# Secrets are 256-bit: failures are typos or probes, never a guess that could succeed.
AUTH_FAILURES_PER_S = 0.5
AUTH_FAILURE_BURST = 20


def pinned_secrets(settings: Settings) -> frozenset[str]:
    """Secrets the environment sets; a rotation in the database must not override them."""
    pinned = set()
    if settings.admin_token is not None:
        pinned.add("admin")
    if settings.webhook_token is not None:
        pinned.add("webhook")
    return frozenset(pinned)


def create_app_from_env() -> Starlette:
    """The factory `serve --workers N` hands to uvicorn: each process reads its own settings."""
    return create_app(load_settings())


def create_app(settings: Settings, runtime: Runtime | None = None) -> Starlette:
    """With `runtime` given (tests, the demo), the caller owns resources and workers."""
    document = build_document([e for e, _ in ROUTE_TABLE], PREFIX)

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(document)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = runtime is None
        active = runtime or start_runtime(settings, role="serve")
        app.state.resources = active.resources
        app.state.secret_book = SecretBook(
            active.secret_hashes, active.resources.pool, pinned_secrets(settings)
        )
        app.state.webhook_limiter = KeyedLimiter(
            settings.webhook_rate_per_second, settings.webhook_burst
        )
        app.state.auth_failure_limiter = KeyedLimiter(AUTH_FAILURES_PER_S, AUTH_FAILURE_BURST)
        app.state.token_cache = TokenCache()
        app.state.async_read_pool = await open_async_read_pool(
            active.resources.database_url, settings.db_pool_size
        )
        app.state.inbox_writer = InboxWriter(active.resources)
        app.state.inbox_writer.start()
        try:
            yield
        finally:
            await app.state.inbox_writer.stop()
            await app.state.async_read_pool.close()
            if owned:
                active.stop()

    routes = [Route(f"{PREFIX}/openapi.json", openapi, methods=["GET"])]
    routes += [Route(PREFIX + e.path, handler, methods=[e.method]) for e, handler in ROUTE_TABLE]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error},
    )
