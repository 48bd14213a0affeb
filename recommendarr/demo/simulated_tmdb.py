"""The demo's TMDB v3: movie details (with appended sub-responses) from the catalog's facts.

Facts only, as the catalog ships them: no overview, no votes, no popularity (zeros, as TMDB
reports a title nobody rated), and a release date that only its year is true of. Appended
sub-responses sit under their endpoint name without their own id, movie keywords under
`keywords.keywords[]`. The API key travels as `api_key` or as a bearer token, as on TMDB.

The catalog has no audience, so the related lists are worked out from the facts: "similar"
as TMDB's own is, from shared keywords and genres; "recommendations" (on TMDB, what its users
watch together) from shared directors and cast first. Each is one page of at most 20 other
catalog titles, in TMDB's list-entry shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from recommendarr.demo.loopback import Reply, Request
from recommendarr.shared.domain.item_text import ItemFacts

MOVIE = re.compile(r"/3/movie/(\d+)")
# The demo world has no audience, so nothing trends: an empty page, as TMDB sends one.
TRENDING = re.compile(r"/3/trending/(movie|tv|all)/(day|week)")
JSON = "application/json;charset=utf-8"
# TMDB's own movie genre ids (GET /3/genre/movie/list).
GENRE_IDS = {
    "Action": 28,
    "Adventure": 12,
    "Animation": 16,
    "Comedy": 35,
    "Crime": 80,
    "Documentary": 99,
    "Drama": 18,
    "Family": 10751,
    "Fantasy": 14,
    "History": 36,
    "Horror": 27,
    "Music": 10402,
    "Mystery": 9648,
    "Romance": 10749,
    "Science Fiction": 878,
    "TV Movie": 10770,
    "Thriller": 53,
    "War": 10752,
    "Western": 37,
}
INVALID_KEY = (
    b'{"status_code": 7, "status_message": "Invalid API key: You must be granted a valid key.",'
    b' "success": false}'
)
NOT_FOUND = (
    b'{"success": false, "status_code": 34, '
    b'"status_message": "The resource you requested could not be found."}'
)
EMPTY_PAGE: dict[str, Any] = {"page": 1, "results": [], "total_pages": 0, "total_results": 0}
AUTHENTICATED = b'{"success": true, "status_code": 1, "status_message": "Success."}'


RELATED_PAGE = 20


class SimulatedTmdb:
    def __init__(self, api_key: str, catalog: list[ItemFacts]) -> None:
        self.api_key = api_key
        self.movies = {facts.tmdb_id: facts for facts in catalog if facts.media_type == "movie"}
        traits = [Traits.of(facts) for facts in self.movies.values()]
        self.related = {
            title.facts.tmdb_id: {
                "recommendations": related_page(title, traits, recommended_score),
                "similar": related_page(title, traits, similar_score),
            }
            for title in traits
        }

    def answer(self, request: Request) -> Reply:
        if (
            request.query.get("api_key") != self.api_key
            and request.header("Authorization") != f"Bearer {self.api_key}"
        ):
            return Reply(401, INVALID_KEY, JSON)
        if request.path == "/3/authentication":
            return Reply(200, AUTHENTICATED, JSON)
        if TRENDING.fullmatch(request.path):
            return json_body(EMPTY_PAGE)
        match = MOVIE.fullmatch(request.path)
        facts = self.movies.get(int(match.group(1))) if match else None
        if facts is None:
            return Reply(404, NOT_FOUND, JSON)
        appended = set(filter(None, request.query.get("append_to_response", "").split(",")))
        return json_body(movie_details(facts, appended, self.related[facts.tmdb_id]))


def json_body(payload: dict[str, Any]) -> Reply:
    return Reply(200, json.dumps(payload).encode(), JSON)


def movie_details(
    facts: ItemFacts, appended: set[str], related: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    details: dict[str, Any] = {
        "adult": False,
        "backdrop_path": None,
        "belongs_to_collection": None,
        "genres": [genre(name) for name in facts.genres],
        "id": facts.tmdb_id,
        "imdb_id": None,
        "original_language": facts.language,
        "overview": "",
        "popularity": 0,
        "poster_path": None,
        "release_date": release_date(facts),
        "runtime": facts.runtime or 0,
        "status": "Released",
        "title": facts.title,
        "video": False,
        "vote_average": 0,
        "vote_count": 0,
    }
    sub_responses = {
        "keywords": {"keywords": [{"name": keyword} for keyword in facts.keywords]},
        "credits": credits(facts),
        "videos": {"results": []},
        "external_ids": {"imdb_id": None, "wikidata_id": None},
        "recommendations": (related or {}).get("recommendations", EMPTY_PAGE),
        "similar": (related or {}).get("similar", EMPTY_PAGE),
    }
    details.update({name: body for name, body in sub_responses.items() if name in appended})
    return details


@dataclass(frozen=True)
class Traits:
    """What two titles may share, as sets (built once per title, compared for every pair)."""

    facts: ItemFacts
    keywords: frozenset[str]
    genres: frozenset[str]
    people: frozenset[str]

    @classmethod
    def of(cls, facts: ItemFacts) -> Traits:
        return cls(
            facts,
            frozenset(facts.keywords),
            frozenset(facts.genres),
            frozenset((*facts.directors, *facts.cast)),
        )


def similar_score(a: Traits, b: Traits) -> int:
    return 2 * len(a.keywords & b.keywords) + len(a.genres & b.genres)


def recommended_score(a: Traits, b: Traits) -> int:
    return 4 * len(a.people & b.people) + len(a.keywords & b.keywords) + len(a.genres & b.genres)


def related_page(
    title: Traits, catalog: Iterable[Traits], score: Callable[[Traits, Traits], int]
) -> dict[str, Any]:
    """The other titles that share at least a keyword or two genres with this one (or a person,
    for recommendations), best first, ties by id: one page, as TMDB sends it."""
    scored = sorted(
        (-points, other.facts.tmdb_id, other.facts)
        for other in catalog
        if other is not title and (points := score(title, other)) >= 2
    )
    results = [list_entry(facts) for _, _, facts in scored[:RELATED_PAGE]]
    return {"page": 1, "results": results, "total_pages": 1, "total_results": len(results)}


def list_entry(facts: ItemFacts) -> dict[str, Any]:
    """A title as TMDB's lists give it (no votes or popularity in this catalog)."""
    return {
        "adult": False,
        "backdrop_path": None,
        "genre_ids": [GENRE_IDS[name] for name in facts.genres if name in GENRE_IDS],
        "id": facts.tmdb_id,
        "media_type": "movie",
        "original_language": facts.language,
        "original_title": facts.title,
        "overview": "",
        "popularity": 0,
        "poster_path": None,
        "release_date": release_date(facts),
        "title": facts.title,
        "video": False,
        "vote_average": 0,
        "vote_count": 0,
    }


def release_date(facts: ItemFacts) -> str:
    """Only the year is true of it: the catalog keeps no dates."""
    return f"{facts.year}-01-01" if facts.year else ""


def genre(name: str) -> dict[str, Any]:
    known = GENRE_IDS.get(name)
    return {"id": known, "name": name} if known is not None else {"name": name}


def credits(facts: ItemFacts) -> dict[str, Any]:
    return {
        "cast": [
            {"known_for_department": "Acting", "name": name, "original_name": name, "order": n}
            for n, name in enumerate(facts.cast)
        ],
        "crew": [
            {"department": "Directing", "job": "Director", "name": name, "original_name": name}
            for name in facts.directors
        ],
    }
