"""Parsing Plex, plex.tv, Jellyfin and Tautulli answers, external ids, and the domain guess."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from recommendarr.shared.domain import jellyfin_api, plex_api, tautulli_api
from recommendarr.shared.domain.events import PlaybackEvent
from recommendarr.shared.domain.json_shapes import MalformedResponse, iso_time
from recommendarr.shared.domain.media_server import (
    ALL,
    ExternalIds,
    Library,
    LibraryItem,
    external_ids,
    guess_domain,
    library_domain,
)
from recommendarr.shared.domain.webhooks import parse_webhook
from tests.conftest import fixture_bytes


def load(name: str) -> Any:
    return json.loads(fixture_bytes(name))


@pytest.mark.parametrize(
    ("guids", "expected"),
    [
        (["imdb://tt1375666", "tmdb://27205", "tvdb://97"], ExternalIds(27205, "tt1375666", 97)),
        (["com.plexapp.agents.imdb://tt0137523?lang=en"], ExternalIds(None, "tt0137523", None)),
        (["com.plexapp.agents.themoviedb://550?lang=en"], ExternalIds(550, None, None)),
        (["themoviedb://1396"], ExternalIds(1396, None, None)),
        (["com.plexapp.agents.thetvdb://81189/5/14?lang=en"], ExternalIds(None, None, 81189)),
        (["plex://movie/5d7768ba96b655001fdc0408", "local://38211"], ExternalIds()),
        (["tmdb://0", "imdb://nm0000138", "tmdb://abc"], ExternalIds()),
    ],
)
def test_external_ids_from_new_and_legacy_guids(guids: list[str], expected: ExternalIds) -> None:
    assert external_ids(guids) == expected


def test_plex_sections_keep_string_keys_and_read_hidden_as_a_flag() -> None:
    payload = load("plex/library_sections.json")
    payload["MediaContainer"]["Directory"][1]["hidden"] = 1
    sections = plex_api.parse_sections(payload)
    assert [(s.key, s.name, s.kind, s.hidden) for s in sections] == [
        ("1", "Movies", "movie", False),
        ("2", "TV Shows", "show", True),
    ]
    assert sections[0].language == "en-US" and sections[0].holds_titles


def test_plex_movie_listing_reads_guids_sizes_and_times() -> None:
    page = plex_api.parse_items_page(load("plex/library_section_all_movies.json"))
    inception, dune = page.items
    assert page.total == 1432 and page.returned == 2
    assert (inception.rating_key, inception.media_type, inception.tmdb_id) == (
        "38211",
        "movie",
        27205,
    )
    assert inception.imdb_id == "tt1375666" and inception.genres == ("Action", "Science Fiction")
    assert inception.added_at == datetime.fromtimestamp(1700012345, UTC)
    assert inception.file_size == 11811160064
    assert inception.media_info["videoResolution"] == "1080"
    assert dune.tmdb_id == 693134 and dune.year == 2024


def test_plex_listing_without_include_guids_or_on_a_legacy_agent_has_no_tmdb_id() -> None:
    payload = load("plex/library_section_all_shows.json")
    bad, bebop = plex_api.parse_items_page(payload).items
    assert (bad.media_type, bad.tmdb_id, bad.tvdb_id, bad.user_rating) == ("tv", 1396, 81189, 9.0)
    assert (bebop.title, bebop.tmdb_id, bebop.tvdb_id) == ("Cowboy Bebop", None, 79168)
    for entry in payload["MediaContainer"]["Metadata"]:
        entry.pop("Guid", None)
    assert [i.tmdb_id for i in plex_api.parse_items_page(payload).items] == [None, None]


def test_plex_listing_skips_entries_that_are_not_titles() -> None:
    payload = load("plex/library_section_all_movies.json")
    payload["MediaContainer"]["Metadata"].append({"ratingKey": "9", "type": "collection"})
    page = plex_api.parse_items_page(payload)
    assert page.returned == 3 and len(page.items) == 2


def test_plex_server_info_and_owner_account() -> None:
    info = plex_api.parse_server_info(load("plex/root.json"))
    assert (info.kind, info.machine_id, info.name) == (
        "plex",
        "5b4e9c1a7d3f2e8b6a0c9d1e2f3a4b5c6d7e8f90",
        "Basement",
    )
    owner = plex_api.parse_account(load("plex/plex_tv_user.json"))
    assert (owner.key, owner.username, owner.friendly_name, owner.is_owner) == (
        "27185324",
        "alice",
        "Alice",
        True,
    )


def test_shared_servers_give_each_friend_exactly_the_shared_sections() -> None:
    shared = plex_api.parse_shared_servers(fixture_bytes("plex/shared_servers.xml").decode())
    bob, carol = shared
    assert (bob.user.key, bob.user.username, bob.user.is_owner) == ("31690025", "bob_p", False)
    assert bob.access.library_keys == frozenset({"2"})
    assert bob.access.allows("2") and not bob.access.allows("1")
    # allLibraries="1": everything, including libraries added later.
    assert carol.user.key == "40211876" and carol.access.library_keys is ALL


@pytest.mark.parametrize("body", ["<html>sign in</html", "<Error>nope</Error>"])
def test_shared_servers_that_are_not_the_documented_xml_are_malformed(body: str) -> None:
    with pytest.raises(MalformedResponse):
        plex_api.parse_shared_servers(body)


def test_plex_metadata_is_the_raw_first_entry() -> None:
    entry = plex_api.parse_metadata(load("plex/library_metadata_episode.json"))
    assert entry is not None and entry["grandparentRatingKey"] == "40275"
    assert plex_api.parse_metadata({"MediaContainer": {"size": 0}}) is None


def test_jellyfin_users_access_from_policy_and_normalized_ids() -> None:
    alice, kids = jellyfin_api.parse_users(load("jellyfin/users.json"))
    assert alice.user.key == "5f1d6a9e2c7b4a31b8e0d4c2a9f7e6b1" and alice.access.library_keys is ALL
    assert kids.access.library_keys == frozenset({"f137a2dd21bbc1b99aa5c0f6bf02a805"})
    assert alice.user.is_owner and not kids.user.is_owner


def test_jellyfin_disabled_user_opens_nothing_and_hyphenated_guids_compare_equal() -> None:
    users = load("jellyfin/users.json")
    users[1]["Id"] = "9a8b7c6d-5e4f-4031-2a1b-0c9d8e7f6a5b"
    users[1]["Policy"]["EnabledFolders"] = ["F137A2DD-21BB-C1B9-9AA5-C0F6BF02A805"]
    kids = jellyfin_api.parse_users(users)[1]
    assert kids.user.key == "9a8b7c6d5e4f40312a1b0c9d8e7f6a5b"
    assert kids.access.library_keys == frozenset({"f137a2dd21bbc1b99aa5c0f6bf02a805"})
    users[1]["Policy"]["IsDisabled"] = True
    assert jellyfin_api.parse_users(users)[1].access.library_keys == frozenset()


def test_jellyfin_items_and_folders() -> None:
    page = jellyfin_api.parse_items_page(load("jellyfin/items.json"))
    movie, series = page.items
    assert (movie.media_type, movie.tmdb_id, movie.imdb_id) == ("movie", 27205, "tt1375666")
    assert (series.media_type, series.tmdb_id, series.tvdb_id) == ("tv", 1396, 81189)
    assert movie.added_at == datetime(2023, 11, 14, 23, 19, 5, tzinfo=UTC)
    folders = jellyfin_api.parse_virtual_folders(load("jellyfin/virtual_folders.json"))
    assert [(f.name, f.kind, f.holds_titles) for f in folders] == [
        ("Movies", "movie", True),
        ("Shows", "show", True),
        ("Music", "music", False),
    ]


def test_jellyfin_activity_keeps_only_finished_plays() -> None:
    page = jellyfin_api.parse_activity_page(load("jellyfin/activity_log_entries.json"))
    [row] = page.rows
    assert (row.ref, row.item_key, row.user_key) == (
        "8812",
        "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "5f1d6a9e2c7b4a31b8e0d4c2a9f7e6b1",
    )
    assert page.returned == 3 and page.total == 8812


def test_iso_time_reads_seven_fraction_digits_and_offsets() -> None:
    assert iso_time("2025-03-15T21:59:00.5113250Z") == datetime(
        2025, 3, 15, 21, 59, 0, 511325, tzinfo=UTC
    )
    assert iso_time("2025-03-15T22:59:00+01:00") == datetime(2025, 3, 15, 21, 59, tzinfo=UTC)
    assert iso_time("yesterday") is None


def test_tautulli_unwrap_reports_errors_and_odd_shapes() -> None:
    assert tautulli_api.unwrap(load("tautulli/api_get_users.json"))[1]["username"] == "alice"
    with pytest.raises(tautulli_api.TautulliError, match="Invalid apikey"):
        tautulli_api.unwrap({"response": {"result": "error", "message": "Invalid apikey"}})
    with pytest.raises(MalformedResponse):
        tautulli_api.unwrap({"result": "success"})


def test_tautulli_history_rows_types_and_watched_state() -> None:
    data = tautulli_api.unwrap(load("tautulli/api_get_history.json"))
    page = tautulli_api.parse_history_page(data)
    episode, movie = page.rows
    assert page.total == 2
    assert (episode.user_key, episode.item_key, episode.watched) == ("31690025", "40294", True)
    assert (movie.item_key, movie.parent_rating_key, movie.watched) == ("38211", "", False)
    assert episode.ref == "001742159102:9312"
    assert tautulli_api.ref_stopped_at(episode.ref) == datetime.fromtimestamp(1742159102, UTC)


def test_tautulli_history_skips_sessions_still_playing() -> None:
    data = tautulli_api.unwrap(load("tautulli/api_get_history.json"))
    data["data"][0]["state"] = "playing"
    assert [r.item_key for r in tautulli_api.parse_history_page(data).rows] == ["38211"]


def test_tautulli_metadata_uses_the_shows_ids_for_an_episode() -> None:
    movie = tautulli_api.parse_metadata(tautulli_api.unwrap(load("tautulli/api_get_metadata.json")))
    episode_payload = load("tautulli/api_get_metadata_episode.json")
    episode = tautulli_api.parse_metadata(tautulli_api.unwrap(episode_payload))
    assert movie is not None and movie.ids == ExternalIds(27205, "tt1375666", 97)
    assert episode is not None and episode.ids == ExternalIds(1396, "tt0903747", 81189)
    assert (episode.section_id, episode.library_name) == ("2", "TV Shows")
    assert tautulli_api.parse_metadata({}) is None


def test_tautulli_users_skip_local_and_libraries_keep_string_ids() -> None:
    users = tautulli_api.parse_users(tautulli_api.unwrap(load("tautulli/api_get_users.json")))
    assert [(u.key, u.is_owner, a.library_keys) for u, a in users] == [
        ("27185324", True, frozenset({"1", "2", "3"})),
        ("31690025", False, frozenset({"2"})),
    ]
    libraries = tautulli_api.parse_libraries(
        tautulli_api.unwrap(load("tautulli/api_get_libraries.json"))
    )
    assert [(lib.key, lib.kind) for lib in libraries] == [("1", "movie"), ("2", "show")]
    identity = tautulli_api.unwrap(load("tautulli/api_get_server_identity.json"))
    assert tautulli_api.parse_server_identity(identity).startswith("5b4e9c1a")
    assert tautulli_api.parse_server_identity([identity]) == tautulli_api.parse_server_identity(
        identity
    )


def test_history_row_renders_as_the_webhook_it_stands_for() -> None:
    """Rendered from the history row, the body reads like the real 'watched' webhook of the
    same play (webhook_watched.json) in everything the recommender uses."""
    history = tautulli_api.unwrap(load("tautulli/api_get_history.json"))
    row = tautulli_api.parse_history_page(history).rows[0]
    facts = tautulli_api.parse_metadata(
        tautulli_api.unwrap(load("tautulli/api_get_metadata_episode.json"))
    )
    assert facts is not None
    body = tautulli_api.webhook_body(row, facts, "5b4e9c1a7d3f2e8b6a0c9d1e2f3a4b5c6d7e8f90")
    webhook = load("tautulli/webhook_watched.json")
    same = [
        "action",
        "timestamp",
        "server_id",
        "user_id",
        "username",
        "user",
        "media_type",
        "library_name",
        "section_id",
        "rating_key",
        "parent_rating_key",
        "grandparent_rating_key",
        "title",
        "show_name",
        "season_num",
        "episode_num",
        "year",
        "guid",
        "plex_id",
        "imdb_id",
        "themoviedb_id",
        "thetvdb_id",
        "genres",
        "progress_percent",
        "duration_ms",
        "duration",
        "stream_duration_sec",
    ]
    assert {k: body[k] for k in same} == {k: webhook[k] for k in same}
    assert all(isinstance(v, str) for v in body.values())


def test_history_bodies_parse_under_their_own_source() -> None:
    history = tautulli_api.unwrap(load("tautulli/api_get_history.json"))
    row = tautulli_api.parse_history_page(history).rows[1]
    facts = tautulli_api.parse_metadata(tautulli_api.unwrap(load("tautulli/api_get_metadata.json")))
    assert facts is not None
    body = json.dumps(tautulli_api.webhook_body(row, facts, "machine")).encode()
    event = parse_webhook("tautulli_history", body)
    assert isinstance(event, PlaybackEvent)
    assert (event.source, event.action, event.title.tmdb_id) == ("tautulli_history", "stop", 27205)
    assert event.progress == pytest.approx(0.79)
    assert event.occurred_at == datetime.fromtimestamp(1742079540, UTC)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"kind": "movie", "name": "Movies"}, "movies"),
        ({"kind": "show", "name": "TV Shows"}, "tv"),
        ({"kind": "show", "name": "Anime"}, "anime"),
        ({"kind": "movie", "name": "Anime Movies"}, "anime"),
        (
            {"kind": "show", "name": "Cartoons", "genres": ["Animation"], "language": "ja-JP"},
            "anime",
        ),
        ({"kind": "show", "name": "Cartoons", "genres": ["Animation"], "language": "en"}, "tv"),
        ({"kind": "movie", "name": "Films", "keywords": ["Anime"]}, "anime"),
        ({"kind": "show", "name": "Animeland"}, "tv"),
        ({"kind": "show", "name": "Anime", "override": "tv"}, "tv"),
        ({"kind": "movie", "name": "Movies", "override": "bogus"}, "movies"),
    ],
)
def test_guess_domain(args: dict[str, Any], expected: str) -> None:
    assert guess_domain(**args) == expected


def test_library_domain_follows_what_most_of_its_titles_are() -> None:
    library = Library("5", "Cartoons", "show", language="ja")

    def title(genres: tuple[str, ...]) -> LibraryItem:
        return LibraryItem("1", "tv", 1, None, None, "x", 2000, genres, None)

    mostly_anime = [title(("Animation", "Action")), title(("Animation",)), title(("Drama",))]
    assert library_domain(library, mostly_anime, None) == "anime"
    assert library_domain(library, [title(("Drama",)), title(("Animation",))], None) == "anime"
    assert library_domain(library, [title(("Drama",))] * 3, None) == "tv"
    assert library_domain(library, mostly_anime, "tv") == "tv"
