"""`recommendarr demo`: the all-in-one server with a demo household replayed through HTTP."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import httpx
import uvicorn
from dramatiq.brokers.stub import StubBroker
from pydantic import SecretStr

from recommendarr.broker import QUEUES, broker
from recommendarr.demo.household import (
    LIBRARY_NAME,
    SECTION_ID,
    SERVER_ID,
    DemoUser,
    load_catalog,
    load_users,
    rating_key,
    viewing_payloads,
)
from recommendarr.functions.embed_item import embed_item
from recommendarr.http.app import create_app
from recommendarr.runtime import Runtime, start_runtime
from recommendarr.settings import Settings
from recommendarr.shared.db import Connection
from recommendarr.shared.domain.item_text import ItemFacts
from recommendarr.shared.store import items, libraries, secrets, users

log = logging.getLogger(__name__)
IDLE_TIMEOUT_S = 300


@dataclass(frozen=True)
class DemoServer:
    base_url: str
    runtime: Runtime
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.runtime.stop()


def demo_settings(settings: Settings, port: int) -> Settings:
    """Fresh per-run tokens unless the operator configured their own."""
    update: dict[str, object] = {"port": port}
    if settings.admin_token is None:
        update["admin_token"] = SecretStr(secrets.new_token(""))
    if settings.webhook_token is None:
        update["webhook_token"] = SecretStr(secrets.new_token(""))
    return settings.model_copy(update=update)


def start_server(settings: Settings) -> DemoServer:
    runtime = start_runtime(settings, role="serve")
    app = create_app(settings, runtime=runtime)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            runtime.stop()
            raise RuntimeError(
                f"the HTTP server could not start on {settings.host}:{settings.port}"
            )
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1] if server.servers else settings.port
    return DemoServer(f"http://{settings.host}:{port}", runtime, server, thread)


def seed_library(
    conn: Connection, catalog: list[ItemFacts], household: list[DemoUser]
) -> list[int]:
    """Stands in for a library sync: the server, its Movies library, its titles and users."""
    server_id = libraries.upsert_server(conn, "plex", SERVER_ID, "Demo Plex")
    library_id = libraries.upsert_library(conn, server_id, SECTION_ID, LIBRARY_NAME, "movies")
    item_ids = []
    for facts in catalog:
        item_id = items.upsert_facts(conn, facts)
        libraries.upsert_library_item(conn, library_id, item_id, rating_key(facts.tmdb_id))
        item_ids.append(item_id)
    for member in household:
        user_id = users.upsert_tautulli_user(
            conn, member.tautulli_user_id, member.username, member.friendly_name
        )
        users.grant_library(conn, user_id, library_id, granted_by="demo-sync")
    return item_ids


def replay_history(
    client: httpx.Client, webhook_token: str, catalog: list[ItemFacts], household: list[DemoUser]
) -> int:
    by_tmdb = {f.tmdb_id: f for f in catalog}
    posted = 0
    for member in household:
        for viewing in member.history:
            for payload in viewing_payloads(member, viewing, by_tmdb[viewing.tmdb_id]):
                response = client.post(
                    "/api/v1/webhooks/tautulli", params={"token": webhook_token}, json=payload
                )
                response.raise_for_status()
                posted += 1
    return posted


def wait_until_idle(client: httpx.Client, timeout_s: float = IDLE_TIMEOUT_S) -> None:
    """Until the inbox is processed and no queue holds or runs a message."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if isinstance(broker, StubBroker):
            # join() also waits for messages being processed, which queue depths cannot see.
            for queue in QUEUES:
                broker.join(queue, timeout=int(timeout_s * 1000), fail_fast=False)
        health = client.get("/api/v1/health").json()
        if health["inbox_unfinished"] == 0 and not any(health["queues"].values()):
            return
        time.sleep(0.2)
    raise TimeoutError("the demo household was not processed in time; see GET /api/v1/health")


def print_picks(client: httpx.Client, admin_token: str, limit: int) -> None:
    headers = {"Authorization": f"Bearer {admin_token}"}
    for user in client.get("/api/v1/users", headers=headers).json()["users"]:
        body = client.get(
            f"/api/v1/users/{user['id']}/recommendations", params={"limit": limit}, headers=headers
        ).json()
        name = user["friendly_name"] or user["username"]
        meta = body["meta"]
        print(f"\n{name}: top {len(body['items'])} of {meta['total_candidates']} unseen titles")
        for pick in body["items"]:
            print(
                f"  {pick['rank']:>2}. {pick['title']} ({pick['year']})  "
                f"score {pick['score']:.3f}, {pick['confidence']} confidence"
            )
            print(f"      {pick['explanation']}")


def run_demo(settings: Settings, once: bool, limit: int = 10) -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = demo_settings(settings, settings.port)
    assert settings.admin_token is not None and settings.webhook_token is not None
    demo = start_server(settings)
    try:
        catalog, household = load_catalog(), load_users()
        with demo.runtime.resources.pool.connection() as conn, conn.transaction():
            item_ids = seed_library(conn, catalog, household)
        for item_id in item_ids:
            embed_item.send(item_id)
        with httpx.Client(base_url=demo.base_url, timeout=30) as client:
            wait_until_idle(client)
            posted = replay_history(
                client, settings.webhook_token.get_secret_value(), catalog, household
            )
            print(
                f"Replayed {posted} Tautulli webhooks for {len(household)} users "
                f"over a {len(catalog)}-title catalog at {demo.base_url}"
            )
            wait_until_idle(client)
            print_picks(client, settings.admin_token.get_secret_value(), limit)
        if not once:
            serve_forever(demo, settings)
    finally:
        demo.stop()
    return 0


def serve_forever(demo: DemoServer, settings: Settings) -> None:
    assert settings.admin_token is not None
    print(
        f"\nServing {demo.base_url}/api/v1 (OpenAPI at {demo.base_url}/api/v1/openapi.json)."
        f"\nAdmin token for this demo run: {settings.admin_token.get_secret_value()}"
        "\nPress Ctrl-C to stop."
    )
    try:
        while demo.thread.is_alive():
            demo.thread.join(timeout=1)
    except KeyboardInterrupt:
        print("\nStopping.")
