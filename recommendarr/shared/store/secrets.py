"""Hashes of the admin and webhook secrets and of per-user API tokens. Never the tokens."""

from __future__ import annotations

import hashlib
import secrets

from recommendarr.shared.db import Connection

USER_TOKEN_PREFIX = "rcm_u_"  # noqa: S105 - a public prefix that marks user tokens in logs


def digest(token: str) -> bytes:
    # Tokens are 256-bit random strings, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(token.encode()).digest()


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def stored_hash(conn: Connection, name: str) -> bytes | None:
    row = conn.execute("SELECT sha256 FROM app_secrets WHERE name = %s", (name,)).fetchone()
    return None if row is None else bytes(row["sha256"])


def all_hashes(conn: Connection) -> dict[str, bytes]:
    rows = conn.execute("SELECT name, sha256 FROM app_secrets").fetchall()
    return {str(r["name"]): bytes(r["sha256"]) for r in rows}


def create_if_missing(conn: Connection, name: str, token: str) -> bool:
    row = conn.execute(
        "INSERT INTO app_secrets (name, sha256) VALUES (%s, %s) "
        "ON CONFLICT (name) DO NOTHING RETURNING name",
        (name, digest(token)),
    ).fetchone()
    return row is not None


def rotate(conn: Connection, name: str, token: str) -> None:
    conn.execute(
        "INSERT INTO app_secrets (name, sha256) VALUES (%s, %s) ON CONFLICT (name) DO UPDATE "
        "SET sha256 = EXCLUDED.sha256, created_at = now()",
        (name, digest(token)),
    )


def issue_user_token(conn: Connection, user_id: int, label: str) -> tuple[int, str]:
    token = new_token(USER_TOKEN_PREFIX)
    row = conn.execute(
        "INSERT INTO user_tokens (user_id, sha256, label) VALUES (%s, %s, %s) RETURNING id",
        (user_id, digest(token), label),
    ).fetchone()
    assert row is not None
    return int(row["id"]), token


def user_for_token(conn: Connection, token_hash: bytes) -> int | None:
    row = conn.execute(
        "SELECT user_id FROM user_tokens WHERE sha256 = %s AND revoked_at IS NULL", (token_hash,)
    ).fetchone()
    return None if row is None else int(row["user_id"])
