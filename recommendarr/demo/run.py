"""`recommendarr demo`: the all-in-one server, synced from a simulated Plex and TMDB on loopback,
with the demo household's history replayed as Tautulli webhooks through HTTP."""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass
from types import FrameType
from typing import Any

import httpx
import uvicorn
from dramatiq.brokers.stub import StubBroker
from pydantic import SecretStr

from recommendarr.broker import QUEUES, broker
from recommendarr.demo.household import (
    DemoLibrary,
    DemoUser,
    load_catalog,
    load_libraries,
    load_users,
    owner_of,
    viewing_payloads,
)
from recommendarr.demo.simulated import SimulatedUpstreams, simulated_upstreams
from recommendarr.functions.fit_taste_model import fit_taste_model
from recommendarr.http.app import create_app
from recommendarr.runtime import Runtime, start_runtime
from recommendarr.settings import Settings
from recommendarr.shared.store import secrets

log = logging.getLogger(__name__)
IDLE_TIMEOUT_S = 300
GRAB_SHOWN = 3
JOB_GAVE_UP = ("failed", "retrying")


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


def demo_settings(settings: Settings, upstreams: SimulatedUpstreams) -> Settings:
    """The simulated upstreams instead of the operator's, and fresh per-run tokens unless the
    operator configured their own."""
    update: dict[str, object] = {
        **upstreams.settings_update(),
        # The demo database must never be filled from, or send requests to, a real install.
        "tautulli_url": None,
        "jellyfin_url": None,
        "radarr": [],
        "sonarr": [],
        "seerr_url": None,
        # The demo fits the model itself once the history is in; a refit the replay asks for
        # early would otherwise hold the demo for the interval (its fits take milliseconds).
        "refit_min_interval_s": 0.0,
    }
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


def sync_library_now(client: httpx.Client, admin_token: str) -> dict[str, Any]:
    """POST /admin/sync and wait for its job: the server's summary of what it synced."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    response = client.post("/api/v1/admin/sync", headers=headers)
    response.raise_for_status()
    job_id = response.json()["job_id"]
    deadline = time.monotonic() + IDLE_TIMEOUT_S
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
        if job["state"] == "done":
            return dict(job["result"] or {})
        if job["state"] in JOB_GAVE_UP:
            # A local simulator does not fail for a while and then recover: stop and say why.
            raise RuntimeError(f"the library sync of the simulated Plex failed: {job['error']}")
        time.sleep(0.1)
    raise TimeoutError(f"the library sync did not finish in time; see GET /api/v1/jobs/{job_id}")


def describe_sync(result: dict[str, Any], libraries: list[DemoLibrary], owner: DemoUser) -> str:
    totals = {"libraries": 0, "titles": 0, "users": 0}
    for server in result.get("servers", []):
        for name in totals:
            totals[name] += int(server.get(name, 0))
    private = ", ".join(library.title for library in libraries if not library.shared)
    restriction = f" ({private}: {owner.friendly_name} only)" if private else ""
    return (
        f"Synced {totals['titles']} titles in {totals['libraries']} libraries and "
        f"{totals['users']} users from the simulated Plex{restriction}"
    )


def replay_history(
    client: httpx.Client,
    webhook_token: str,
    libraries: list[DemoLibrary],
    household: list[DemoUser],
) -> int:
    """Each viewing as Tautulli reports it, with the ids the simulated Plex gave the title."""
    shelved = {facts.tmdb_id: (facts, library) for library in libraries for facts in library.titles}
    posted = 0
    for member in household:
        for viewing in member.history:
            facts, library = shelved[viewing.tmdb_id]
            for payload in viewing_payloads(member, viewing, facts, library):
                response = client.post(
                    "/api/v1/webhooks/tautulli", params={"token": webhook_token}, json=payload
                )
                response.raise_for_status()
                posted += 1
    return posted


def wait_until_idle(client: httpx.Client, timeout_s: float = IDLE_TIMEOUT_S) -> None:
    """Until the inbox is processed and no queue holds or runs a message, twice in a row: a
    message running on one queue can send to a queue already found empty."""
    deadline = time.monotonic() + timeout_s
    quiet = 0
    while time.monotonic() < deadline:
        if isinstance(broker, StubBroker):
            # join() also waits for messages being processed, which queue depths cannot see.
            for queue in QUEUES:
                broker.join(queue, timeout=int(timeout_s * 1000), fail_fast=False)
        health = client.get("/api/v1/health").json()
        idle = health["inbox_unfinished"] == 0 and not any(health["queues"].values())
        quiet = quiet + 1 if idle and nothing_in_flight() else 0
        if quiet == 2:
            return
        time.sleep(0.2)
    raise TimeoutError("the demo household was not processed in time; see GET /api/v1/health")


def nothing_in_flight() -> bool:
    """No message queued, delayed or being processed in this process: a StubBroker's queue
    counts a message as unfinished until its worker is done with it. Workers elsewhere (a Redis
    broker) are seen only through the queue depths."""
    if not isinstance(broker, StubBroker):
        return True
    return all(queue.unfinished_tasks == 0 for queue in broker.queues.values())


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
        print_grab(client, headers, user["id"])


def print_grab(client: httpx.Client, headers: dict[str, str], user_id: int) -> None:
    """The user's best titles the server lacks: what TMDB relates to what they liked."""
    body = client.get(
        f"/api/v1/users/{user_id}/recommendations",
        params={"mode": "grab", "limit": GRAB_SHOWN},
        headers=headers,
    ).json()
    if not body["items"]:
        return
    print(
        f"  Worth adding to the server: {len(body['items'])} of "
        f"{body['meta']['total_candidates']} related titles it lacks"
    )
    for pick in body["items"]:
        print(f"    + {pick['title']} ({pick['year']}), {pick['confidence']} confidence")
        print(f"        {pick['explanation']}")


def stop_on_sigterm() -> None:
    """`docker stop`, systemd and the benchmarks end the demo with SIGTERM. Its default action
    kills the process on the spot, leaving the embedded PostgreSQL it started running; stopping
    as on Ctrl-C lets that server shut down with it."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def run_demo(settings: Settings, once: bool, limit: int = 10) -> int:
    stop_on_sigterm()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    catalog, household = load_catalog(), load_users()
    libraries = load_libraries(catalog)
    with simulated_upstreams(catalog, libraries, household) as upstreams:
        print(upstreams.describe())
        settings = demo_settings(settings, upstreams)
        assert settings.admin_token is not None and settings.webhook_token is not None
        demo = start_server(settings)
        try:
            with httpx.Client(base_url=demo.base_url, timeout=30) as client:
                admin_token = settings.admin_token.get_secret_value()
                synced = sync_library_now(client, admin_token)
                wait_until_idle(client)
                print(describe_sync(synced, libraries, owner_of(household)))
                posted = replay_history(
                    client, settings.webhook_token.get_secret_value(), libraries, household
                )
                print(
                    f"Replayed {posted} Tautulli webhooks for {len(household)} users "
                    f"over a {len(catalog)}-title catalog at {demo.base_url}"
                )
                wait_until_idle(client)
                # What the clock would do within half an hour: refit the server's taste model on
                # the whole history, which re-ranks everyone; skipped when nothing changed.
                fit_taste_model.send("demo")
                wait_until_idle(client)
                print_picks(client, admin_token, limit)
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
