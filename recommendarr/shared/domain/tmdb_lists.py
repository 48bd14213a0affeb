"""TMDB list entries (trending, a title's recommendations and similar titles) as title facts.

List entries carry `genre_ids`, not genre names: the names come from TMDB's fixed genre table
(`/genre/movie/list`, `/genre/tv/list`), spelled as the details endpoint spells them, so a title
known only from a list has the same genres it will have once enriched. Like the details parser,
a missing or null field becomes an empty value, and an entry without an id or a title is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from recommendarr.shared.domain.tmdb_facts import (
    as_dict,
    as_list,
    first_text,
    non_negative_int,
    number,
    positive_int,
    text,
    year_of,
)

RelationKind = Literal["recommended", "similar"]
# The details' appended sub-response each relation comes from.
RELATION_BLOCKS: tuple[tuple[RelationKind, str], ...] = (
    ("recommended", "recommendations"),
    ("similar", "similar"),
)
# Of a library title's related titles, the ones TMDB was not yet asked about and this high in
# its list are enriched; the rest are embedded from the list's facts. Enriching them all would
# multiply TMDB calls by forty per library title for titles nobody may ever want.
RELATED_TO_ENRICH = 5
# What recording a list entry found or did: a new title (`created`); a title known only from
# lists or webhooks that gained facts it lacked (`filled`) or did not (`unasked`); a title TMDB
# was already asked about (`asked`: its details were fetched, or TMDB answered it has none).
Recorded = Literal["created", "filled", "unasked", "asked"]

MOVIE_GENRES: Mapping[int, str] = {
    28: "Action",
    12: "Adventure",
    16: "Animation",
    35: "Comedy",
    80: "Crime",
    99: "Documentary",
    18: "Drama",
    10751: "Family",
    14: "Fantasy",
    36: "History",
    27: "Horror",
    10402: "Music",
    9648: "Mystery",
    10749: "Romance",
    878: "Science Fiction",
    10770: "TV Movie",
    53: "Thriller",
    10752: "War",
    37: "Western",
}
TV_GENRES: Mapping[int, str] = {
    10759: "Action & Adventure",
    16: "Animation",
    35: "Comedy",
    80: "Crime",
    99: "Documentary",
    18: "Drama",
    10751: "Family",
    10762: "Kids",
    9648: "Mystery",
    10763: "News",
    10764: "Reality",
    10765: "Sci-Fi & Fantasy",
    10766: "Soap",
    10767: "Talk",
    10768: "War & Politics",
    37: "Western",
}


@dataclass(frozen=True)
class ListedTitle:
    """What one list entry says about a title; `position` is its 0-based place in the list."""

    tmdb_id: int
    media_type: str
    title: str
    position: int
    year: int | None = None
    genres: tuple[str, ...] = ()
    language: str | None = None
    overview: str | None = None
    poster_path: str | None = None
    vote_average: float | None = None
    vote_count: int | None = None
    popularity: float | None = None

    @property
    def key(self) -> tuple[int, str]:
        return (self.tmdb_id, self.media_type)


def sort_key(listed: ListedTitle) -> tuple[int, str]:
    """The order every transaction writes listed titles in, so that two writers sharing titles
    cannot deadlock on each other's new rows."""
    return listed.key


def genre_names(media_type: str, genre_ids: Sequence[Any]) -> tuple[str, ...]:
    """Unknown ids (TMDB adds a genre now and then) are skipped rather than guessed."""
    table = MOVIE_GENRES if media_type == "movie" else TV_GENRES
    names: dict[str, None] = {}
    for genre_id in genre_ids:
        whole = positive_int(genre_id)
        if whole is not None and whole in table:
            names.setdefault(table[whole], None)
    return tuple(names)


def parse_entry(entry: Any, default_media_type: str, position: int) -> ListedTitle | None:
    """None for people (trending "all"), adult titles and entries without an id or a title.

    `similar` and `discover` entries have no media_type: they are of the list's own type.
    """
    fields = as_dict(entry)
    media_type = text(fields.get("media_type")) or default_media_type
    tmdb_id = positive_int(fields.get("id"))
    if media_type not in ("movie", "tv") or tmdb_id is None or fields.get("adult") is True:
        return None
    is_movie = media_type == "movie"
    title = first_text(
        fields, ("title", "original_title") if is_movie else ("name", "original_name")
    )
    if title is None:
        return None
    return ListedTitle(
        tmdb_id=tmdb_id,
        media_type=media_type,
        title=title,
        position=position,
        year=year_of(fields.get("release_date" if is_movie else "first_air_date")),
        genres=genre_names(media_type, as_list(fields.get("genre_ids"))),
        language=text(fields.get("original_language")),
        overview=text(fields.get("overview")),
        poster_path=text(fields.get("poster_path")),
        vote_average=number(fields.get("vote_average")),
        vote_count=non_negative_int(fields.get("vote_count")),
        popularity=number(fields.get("popularity")),
    )


def parse_list(body: Any, default_media_type: str) -> list[ListedTitle]:
    """The titles of a `{page, results, ...}` body in TMDB's order; a repeated title keeps its
    first place. Positions count every result, so they stay TMDB's even when some are skipped."""
    titles: dict[tuple[int, str], ListedTitle] = {}
    for position, entry in enumerate(as_list(as_dict(body).get("results"))):
        listed = parse_entry(entry, default_media_type, position)
        if listed is not None:
            titles.setdefault(listed.key, listed)
    return list(titles.values())


def related_lists(
    media_type: str, tmdb_id: int, details: Mapping[str, Any]
) -> dict[RelationKind, list[ListedTitle]]:
    """The appended recommendations and similar titles, without the title itself.

    A kind whose block is missing (not requested, or an odd response) is absent from the
    result, so the relations recorded earlier for it are kept rather than wiped.
    """
    lists: dict[RelationKind, list[ListedTitle]] = {}
    for kind, block_name in RELATION_BLOCKS:
        block = details.get(block_name) if isinstance(details, Mapping) else None
        if not isinstance(block, Mapping) or not isinstance(block.get("results"), list):
            continue
        lists[kind] = [
            listed
            for listed in parse_list(block, media_type)
            if listed.key != (tmdb_id, media_type)
        ]
    return lists


def follow_ups(
    lists: Mapping[RelationKind, Sequence[ListedTitle]],
    recorded: Mapping[tuple[int, str], Recorded],
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(to enrich, to embed) among the listed titles, by what recording each one did.

    A title TMDB was not yet asked about is enriched when it is in the top RELATED_TO_ENRICH
    places of either list, whichever enrichment created it: the related titles of many library
    titles overlap, and the order they are enriched in must not decide which ones get their
    details. Every other title whose facts this recording set is embedded from what the list
    said, so that none is left without a vector that matches its facts (a missing one would
    make reconcile_derived enrich it anyway, and so crawl TMDB one hop further).
    """
    enrich: dict[tuple[int, str], None] = {}
    for titles in lists.values():
        for listed in titles:
            if listed.position < RELATED_TO_ENRICH and recorded.get(listed.key, "asked") != "asked":
                enrich.setdefault(listed.key, None)
    embed: dict[tuple[int, str], None] = {}
    for titles in lists.values():
        for listed in titles:
            if recorded.get(listed.key) in ("created", "filled") and listed.key not in enrich:
                embed.setdefault(listed.key, None)
    return list(enrich), list(embed)
