"""recommendarr serve | worker | clock | db init | demo | bench quality."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path

from recommendarr.settings import Settings, load_settings


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    host, port = args.host or settings.host, args.port or settings.port
    log_level = settings.log_level.lower()
    if args.workers > 1:
        if settings.embedded_broker:
            logging.getLogger(__name__).error(
                "--workers needs REDIS_URL: without it the actors run inside the one serving "
                "process, and several processes would each run their own clock"
            )
            return 2
        uvicorn.run(
            "recommendarr.http.app:create_app_from_env",
            factory=True,
            workers=args.workers,
            host=host,
            port=port,
            log_level=log_level,
        )
        return 0
    from recommendarr.http.app import create_app

    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level)
    return 0


def wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    if settings.embedded_broker:
        logging.getLogger(__name__).error(
            "`worker` needs REDIS_URL: without it, `serve` runs the actors in its own process"
        )
        return 2
    from recommendarr.runtime import start_runtime

    runtime = start_runtime(settings, role="worker")
    try:
        wait_for_signal()
    finally:
        runtime.stop()
    return 0


def cmd_clock(settings: Settings, args: argparse.Namespace) -> int:
    from recommendarr import functions as _functions  # noqa: F401 - declares every actor
    from recommendarr.clock import run_clock

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run_clock(stop)
    return 0


def cmd_db_init(settings: Settings, args: argparse.Namespace) -> int:
    from recommendarr.shared import db

    url = db.resolve_database_url(settings)
    db.apply_schema(url, settings.embedding_dim, force=True)
    print(f"schema applied to {db.describe_url(url)}")
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from recommendarr.demo.run import run_demo

    # The demo household gets a database of its own, never the one a real install uses.
    data_dir = Path(args.data_dir) if args.data_dir else settings.data_dir / "demo"
    update: dict[str, object] = {
        "port": args.port if args.port is not None else settings.port,
        "data_dir": data_dir,
    }
    return run_demo(settings.model_copy(update=update), once=args.once, limit=args.limit)


WEBHOOK_SOURCES = ("tautulli", "plex", "jellyfin", "radarr", "sonarr")


def cmd_secret_rotate(settings: Settings, args: argparse.Namespace) -> int:
    """Store a new secret's hash and print the secret once; running processes pick it up."""
    from recommendarr.shared import db
    from recommendarr.shared.store import secrets

    name = args.name
    allowed = {"admin", "webhook", *(f"webhook:{s}" for s in WEBHOOK_SOURCES)}
    if name not in allowed:
        print(f"unknown secret {name!r}; one of: {', '.join(sorted(allowed))}")
        return 2
    pinned = {"admin": settings.admin_token, "webhook": settings.webhook_token}.get(name)
    if pinned is not None:
        print(f"{name} is set in the environment; change it there (the environment wins)")
        return 2
    url = db.resolve_database_url(settings)
    db.apply_schema(url, settings.embedding_dim)
    token = secrets.new_token("")
    with db.connect(url) as conn:
        secrets.rotate(conn, name, token)
    print(f"New {name} secret (shown only now; running servers use it within 10 s):\n  {token}")
    return 0


BENCHMARKS = {
    "quality": "bench.quality.cli",
    "webhooks": "bench.webhooks",
    "reads": "bench.reads",
    "freshness": "bench.freshness",
    "pickup": "bench.pickup",
    "vectors": "bench.vectors",
    "replay": "bench.replay",
    "rank": "bench.rank",
    "chaos": "bench.chaos",
}


def cmd_bench(settings: Settings, args: argparse.Namespace) -> int:
    import importlib

    module = importlib.import_module(BENCHMARKS[args.benchmark])
    return int(module.main(list(args.bench_args)))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recommendarr", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="the HTTP API (and, without REDIS_URL, the actors)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--workers", type=int, default=1, help="HTTP processes (needs REDIS_URL when above 1)"
    )
    serve.set_defaults(run=cmd_serve)
    commands.add_parser("worker", help="run actors from Redis (needs REDIS_URL)").set_defaults(
        run=cmd_worker
    )
    commands.add_parser("clock", help="send scheduled messages (run exactly one)").set_defaults(
        run=cmd_clock
    )
    database = commands.add_parser("db", help="database commands")
    database_commands = database.add_subparsers(dest="db_command", required=True)
    database_commands.add_parser("init", help="apply schema.sql").set_defaults(run=cmd_db_init)
    demo = commands.add_parser("demo", help="serve a demo household on localhost")
    demo.add_argument("--once", action="store_true", help="print each user's picks and exit")
    demo.add_argument("--port", type=int, help="HTTP port (default 8000; 0 picks a free one)")
    demo.add_argument(
        "--data-dir", help="where the demo's embedded PostgreSQL lives (default: <data dir>/demo)"
    )
    demo.add_argument("--limit", type=int, default=10)
    demo.set_defaults(run=cmd_demo)
    secret = commands.add_parser("secret", help="secrets")
    secret_commands = secret.add_subparsers(dest="secret_command", required=True)
    rotate = secret_commands.add_parser(
        "rotate", help="replace admin, webhook or webhook:<source> (tautulli, plex, ...)"
    )
    rotate.add_argument("name")
    rotate.set_defaults(run=cmd_secret_rotate)
    bench = commands.add_parser(
        "bench", help="benchmarks: quality, webhooks, reads (each takes --help)"
    )
    bench.add_argument("benchmark", choices=sorted(BENCHMARKS))
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)
    bench.set_defaults(run=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # The embedded PostgreSQL wheel asks platformdirs for a runtime dir; on servers without a
    # login session it warns on every start although its fallback works.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", category=UserWarning)
    args = build_parser().parse_args(argv)
    settings = load_settings()
    configure_logging(settings)
    code: int = args.run(settings, args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
