"""sync_library against loopback Plex + plex.tv (and Jellyfin) speaking the fixtures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from recommendarr.functions.on_watch_event import on_watch_event
from recommendarr.functions.sync_library import sync_library
from recommendarr.shared import db, resources
from recommendarr.shared.errors import Permanent
from recommendarr.shared.store import users
from tests.conftest import queued, run_queued
from tests.fake_media_servers import (
    MACHINE_ID,
    MOVIES_FOLDER,
    SHOWS_FOLDER,
    FakeJellyfin,
    FakePlex,
    FakePlexTv,
    integrations_installed,
    jellyfin_client,
    plex_client,
)
from tests.helpers import record_inbox, tautulli

ALICE, BOB, CAROL = "27185324", "31690025", "40211876"


@dataclass
class Plex:
    server: FakePlex
    plex_tv: FakePlexTv


@pytest.fixture
def plex(res: resources.Resources) -> Iterator[Plex]:
    with (
        FakePlex().running() as server,
        FakePlexTv().running() as plex_tv,
        integrations_installed(res, plex=plex_client(server, plex_tv, page_size=1)),
    ):
        yield Plex(server, plex_tv)


def access_by_user(conn: db.Connection) -> dict[str, set[str]]:
    rows = conn.execute(
        "SELECT coalesce(u.plex_user_id, u.jellyfin_user_id) AS who, l.section_key "
        "FROM user_library_access a JOIN users u ON u.id = a.user_id "
        "JOIN libraries l ON l.id = a.library_id ORDER BY 1, 2"
    ).fetchall()
    found: dict[str, set[str]] = {}
    for r in rows:
        found.setdefault(str(r["who"]), set()).add(str(r["section_key"]))
    return found


def user_id(conn: db.Connection, plex_id: str) -> int:
    row = conn.execute("SELECT id FROM users WHERE plex_user_id = %s", (plex_id,)).fetchone()
    assert row is not None
    return int(row["id"])


def snapshot(conn: db.Connection) -> dict[str, list[dict[str, Any]]]:
    """Every row a sync writes; servers.synced_at (the time of the last sync) aside."""
    queries = {
        "servers": "SELECT id, kind, machine_id, name, owner_account_id FROM servers",
        "libraries": "SELECT * FROM libraries",
        "items": "SELECT * FROM items",
        "library_items": "SELECT * FROM library_items",
        "users": "SELECT * FROM users",
        "user_library_access": "SELECT * FROM user_library_access",
    }
    return {name: conn.execute(f"{sql} ORDER BY 1, 2").fetchall() for name, sql in queries.items()}


def bob_sees_nothing(xml: str) -> str:
    return xml.replace('key="2" title="TV Shows" type="show" shared="1"', 'key="2" shared="0"', 1)


def test_users_libraries_and_access_match_shared_servers(conn: db.Connection, plex: Plex) -> None:
    result = sync_library("sync_library:1")
    [summary] = result["servers"]
    assert summary == {
        "server": "plex:Basement",
        "libraries": 2,
        "titles": 3,
        "new_titles": 3,
        "unmapped": 1,
        "titles_changed": 3,
        "titles_removed": 0,
        "users": 3,
        "access_granted": 5,
        "access_revoked": 0,
        "users_with_changed_access": 3,
    }
    rows = conn.execute(
        "SELECT plex_user_id, username, is_owner FROM users ORDER BY plex_user_id"
    ).fetchall()
    assert [(r["plex_user_id"], r["username"], r["is_owner"]) for r in rows] == [
        (ALICE, "alice", True),
        (BOB, "bob_p", False),
        (CAROL, "carol.h", False),
    ]
    # The owner opens everything, bob only the section flagged shared="1", carol allLibraries.
    assert access_by_user(conn) == {ALICE: {"1", "2"}, BOB: {"2"}, CAROL: {"1", "2"}}
    libraries = conn.execute(
        "SELECT section_key, name, kind, domain FROM libraries ORDER BY section_key"
    ).fetchall()
    assert [tuple(r.values()) for r in libraries] == [
        ("1", "Movies", "movie", "movies"),
        ("2", "TV Shows", "show", "tv"),
    ]
    servers = conn.execute("SELECT kind, machine_id, name, owner_account_id FROM servers")
    assert servers.fetchall() == [
        {"kind": "plex", "machine_id": MACHINE_ID, "name": "Basement", "owner_account_id": ALICE}
    ]


def test_titles_are_mapped_by_tmdb_guid_with_their_file_facts(
    conn: db.Connection, plex: Plex
) -> None:
    sync_library("p")
    rows = conn.execute(
        "SELECT li.rating_key, i.tmdb_id, i.media_type, i.imdb_id, i.tvdb_id, li.file_size, "
        "li.media_info, extract(epoch FROM li.added_at)::bigint AS added "
        "FROM library_items li JOIN items i ON i.id = li.item_id ORDER BY li.rating_key"
    ).fetchall()
    assert [(r["rating_key"], r["tmdb_id"], r["media_type"]) for r in rows] == [
        ("38211", 27205, "movie"),
        ("38417", 693134, "movie"),
        ("40275", 1396, "tv"),
    ]
    inception, _, breaking_bad = rows
    assert inception["file_size"] == 11811160064 and inception["added"] == 1700012345
    assert inception["media_info"]["videoResolution"] == "1080"
    # A movie's TVDB id is not kept where show lookups would find it.
    assert (inception["imdb_id"], inception["tvdb_id"]) == ("tt1375666", None)
    assert (breaking_bad["imdb_id"], breaking_bad["tvdb_id"]) == ("tt0903747", 81189)


def test_title_rows_are_written_in_the_order_of_their_keys(conn: db.Connection, plex: Plex) -> None:
    """As enrich_item writes a title's related titles: a sync that adds titles while earlier
    ones are enriched takes their rows in the same order, so the two cannot deadlock."""
    sync_library("p")
    rows = conn.execute("SELECT tmdb_id, media_type FROM items ORDER BY id").fetchall()
    keys = [(r["tmdb_id"], r["media_type"]) for r in rows]
    # The server lists the movies library (27205, 693134) before the shows (1396).
    assert keys == [(1396, "tv"), (27205, "movie"), (693134, "movie")]


def test_new_titles_are_enriched_after_the_commit(conn: db.Connection, plex: Plex) -> None:
    sync_library("p")
    assert queued()["embeddings"] == 3  # enrich_item for each new title
    run_queued()
    embedded = conn.execute("SELECT count(*) AS n FROM item_embeddings").fetchone()
    assert embedded is not None and embedded["n"] == 3


def test_rerun_with_the_same_upstream_data_changes_nothing(conn: db.Connection, plex: Plex) -> None:
    sync_library("p")
    run_queued()
    before = snapshot(conn)
    result = sync_library("p2")
    assert result["servers"][0]["new_titles"] == 0
    assert result["servers"][0]["titles_changed"] == 0
    assert result["servers"][0]["access_granted"] == result["servers"][0]["access_revoked"] == 0
    assert snapshot(conn) == before
    assert queued() == {"events": 0, "embeddings": 0, "profiles": 0}


def test_a_revoked_share_deletes_access(conn: db.Connection, plex: Plex) -> None:
    sync_library("p")
    run_queued()
    plex.plex_tv.shared_servers_xml = bob_sees_nothing(plex.plex_tv.shared_servers_xml)
    result = sync_library("p2")
    assert result["servers"][0]["access_revoked"] == 1
    assert access_by_user(conn) == {ALICE: {"1", "2"}, CAROL: {"1", "2"}}
    # bob's profile and picks are rebuilt; nobody else's.
    assert queued()["profiles"] == 2
    run_queued()


def test_a_friend_removed_from_sharing_loses_everything(conn: db.Connection, plex: Plex) -> None:
    sync_library("p")
    xml = plex.plex_tv.shared_servers_xml
    start = xml.index('<SharedServer id="30001377"')
    plex.plex_tv.shared_servers_xml = xml[:start] + xml[xml.index("</SharedServer>", start) + 15 :]
    sync_library("p2")
    assert access_by_user(conn) == {ALICE: {"1", "2"}, BOB: {"2"}}


def test_access_inferred_from_playback_is_replaced_by_the_sync(
    conn: db.Connection, plex: Plex
) -> None:
    """bob played a movie (Tautulli webhook) before any sync: that granted him Movies. The
    share says TV only, so the sync removes it, and later plays no longer grant it."""
    on_watch_event(record_inbox(conn, tautulli(user_id=BOB, username="bob_p", user="Bob")))
    run_queued()
    assert access_by_user(conn)[BOB] == {"1"}
    sync_library("p")
    assert access_by_user(conn)[BOB] == {"2"}
    later = tautulli(user_id=BOB, username="bob_p", user="Bob", timestamp="1742200000")
    on_watch_event(record_inbox(conn, later))
    run_queued()
    assert access_by_user(conn)[BOB] == {"2"}


def test_the_webhook_owner_alias_becomes_the_plex_tv_owner(conn: db.Connection, plex: Plex) -> None:
    alias = users.owner_user(conn, "alice")
    conn.commit()
    sync_library("p")
    owner = conn.execute("SELECT id, plex_user_id, is_owner FROM users WHERE is_owner").fetchall()
    assert owner == [{"id": alias, "plex_user_id": ALICE, "is_owner": True}]
    assert users.owner_user(conn, "alice") == alias


def test_a_tautulli_row_for_the_owner_becomes_the_owner(conn: db.Connection, plex: Plex) -> None:
    tautulli_row = users.upsert_tautulli_user(conn, ALICE, "alice", "Alice")
    alias = users.owner_user(conn, "alice")
    conn.commit()
    sync_library("p")
    assert user_id(conn, ALICE) == tautulli_row
    assert users.owner_user(conn, "alice") == tautulli_row != alias


def test_an_operators_domain_override_survives(conn: db.Connection, plex: Plex) -> None:
    sync_library("p")
    conn.execute(
        "UPDATE libraries SET domain = 'anime', domain_overridden = true WHERE section_key = '2'"
    )
    conn.commit()
    sync_library("p2")
    row = conn.execute("SELECT domain FROM libraries WHERE section_key = '2'").fetchone()
    assert row == {"domain": "anime"}


def test_a_library_added_upstream_opens_to_the_owner_and_to_all_libraries_friends(
    conn: db.Connection, plex: Plex
) -> None:
    sync_library("p")
    anime = json.loads(json.dumps(plex.server.sections["MediaContainer"]["Directory"][1]))
    anime.update(key="7", title="Anime", type="show")
    plex.server.sections["MediaContainer"]["Directory"].append(anime)
    plex.server.section_items["7"] = plex.server.section_items["2"]
    plex.server.routes["/library/sections/7/all"] = plex.server.items_for("7")
    sync_library("p2")
    assert access_by_user(conn) == {ALICE: {"1", "2", "7"}, BOB: {"2"}, CAROL: {"1", "2", "7"}}
    row = conn.execute("SELECT domain FROM libraries WHERE section_key = '7'").fetchone()
    assert row == {"domain": "anime"}


def test_a_title_gone_upstream_leaves_the_library(conn: db.Connection, plex: Plex) -> None:
    sync_library("p")
    plex.server.section_items["1"]["MediaContainer"]["Metadata"].pop()  # Dune
    result = sync_library("p2")
    assert result["servers"][0]["titles_removed"] == 1
    keys = conn.execute("SELECT rating_key FROM library_items ORDER BY 1").fetchall()
    assert [r["rating_key"] for r in keys] == ["38211", "40275"]


def test_nothing_configured_is_a_no_op(conn: db.Connection) -> None:
    assert sync_library("p")["servers"] == []


def test_jellyfin_users_and_folders(conn: db.Connection, res: resources.Resources) -> None:
    with (
        FakeJellyfin().running() as jellyfin,
        integrations_installed(res, jellyfin=jellyfin_client(jellyfin)),
    ):
        [summary] = sync_library("p")["servers"]
    assert summary["server"] == "jellyfin:Attic" and summary["libraries"] == 2
    alice, kids = "5f1d6a9e2c7b4a31b8e0d4c2a9f7e6b1", "9a8b7c6d5e4f40312a1b0c9d8e7f6a5b"
    assert access_by_user(conn) == {alice: {MOVIES_FOLDER, SHOWS_FOLDER}, kids: {SHOWS_FOLDER}}
    owners = conn.execute("SELECT count(*) AS n FROM users WHERE is_owner").fetchone()
    assert owners == {"n": 0}  # a Jellyfin admin is not the Plex owner alias


def test_one_server_failing_does_not_stop_the_other(
    conn: db.Connection, res: resources.Resources
) -> None:
    with (
        FakePlex().running() as server,
        FakePlexTv().running() as plex_tv,
        FakeJellyfin().running() as jellyfin,
    ):
        server.authorized = lambda seen: False
        plex, jellyfin_ = plex_client(server, plex_tv), jellyfin_client(jellyfin)
        with (
            integrations_installed(res, plex=plex, jellyfin=jellyfin_),
            pytest.raises(Permanent) as caught,
        ):
            sync_library("p")
    assert "PLEX_TOKEN" in str(caught.value) and "jellyfin:Attic" in str(caught.value)
    assert set(access_by_user(conn)) == {
        "5f1d6a9e2c7b4a31b8e0d4c2a9f7e6b1",
        "9a8b7c6d5e4f40312a1b0c9d8e7f6a5b",
    }
