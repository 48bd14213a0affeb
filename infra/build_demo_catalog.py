#!/usr/bin/env python3
"""Build the Recommendarr demo catalog from the developer TMDB/MovieLens join.

Usage::

    python infra/build_demo_catalog.py \
        --items /work/shared/data/tmdb/movies_tmdb.csv \
        --out recommendarr/demo/data/catalog.json

The input is the ``movies_tmdb.csv`` join documented in ``/work/shared/data/README.md``.
The script picks about 300 well-known movies with a broad genre spread and writes
facts only (ids, titles, years, genres, keywords, people, language, runtime).
``vote_count`` is used to rank titles by how well known they are; it is never
written out, and neither are vote averages, popularity, overviews or MovieLens
ratings. The output is deterministic: same input, same bytes.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ATTRIBUTION = (
    "This product uses the TMDB API but is not endorsed or certified by TMDB. "
    "Facts (ids, titles, years, genres, keywords, people, language, runtime) from TMDB."
)

TARGET_SIZE = 300
MIN_VOTE_COUNT = 500  # "well known" threshold; only used for selection
MAX_KEYWORDS = 12
MAX_CAST = 5
MAX_PER_FRANCHISE = 2  # keep franchises from crowding out everything else

# Minimum number of titles per genre, filled round-robin (most-voted first)
# before the rest of the catalog is filled by vote count alone. A title counts
# towards every genre it has, so the quotas overlap.
GENRE_QUOTAS: dict[str, int] = {
    "Science Fiction": 50,
    "Thriller": 55,
    "Crime": 50,
    "Horror": 50,
    "Animation": 50,
    "Family": 45,
    "Comedy": 65,
    "Romance": 30,
    "Drama": 60,
    "Documentary": 10,
    "War": 15,
    "Western": 12,
    "Fantasy": 30,
    "Mystery": 20,
}

# MovieLens genre -> TMDB genre name (None: drop). Used when TMDB genres are missing.
ML_TO_TMDB_GENRE: dict[str, str | None] = {
    "Action": "Action",
    "Adventure": "Adventure",
    "Animation": "Animation",
    "Children": "Family",
    "Comedy": "Comedy",
    "Crime": "Crime",
    "Documentary": "Documentary",
    "Drama": "Drama",
    "Fantasy": "Fantasy",
    "Film-Noir": "Crime",
    "Horror": "Horror",
    "IMAX": None,
    "Musical": "Music",
    "Mystery": "Mystery",
    "Romance": "Romance",
    "Sci-Fi": "Science Fiction",
    "Thriller": "Thriller",
    "War": "War",
    "Western": "Western",
    "(no genres listed)": None,
}

# TMDB genres we do not ship ("Foreign" was retired by TMDB).
DROPPED_TMDB_GENRES = frozenset({"Foreign"})

# Not descriptions of the film: production markers, and Danish shelf-location
# tags ("cabinet under TV", "top shelf", "in front", "behind") that some TMDB
# user attached to a handful of movies.
DROPPED_KEYWORDS = frozenset(
    {
        "duringcreditsstinger",
        "aftercreditsstinger",
        "skab under tv",
        "øverste hylde",
        "foran",
        "bagved",
    }
)

# TMDB uses the non-ISO code "cn" for Cantonese; ISO 639-1 has only "zh".
LANGUAGE_FIXES: dict[str, str] = {"cn": "zh"}

# Trailing articles that MovieLens moves to the end ("Matrix, The").
_ARTICLES = (
    "The", "A", "An",
    "La", "Le", "Les", "L'", "Il", "Lo", "I", "Gli",
    "El", "Los", "Las", "Der", "Die", "Das", "Det", "Den",
)  # fmt: skip
_YEAR_SUFFIX = re.compile(r"\s*\((?:\d{4})(?:[-–]\d{0,4})?\)\s*$")
_AKA_SUFFIX = re.compile(r"\s*\((?:a\.k\.a\.|aka)\s[^()]*\)\s*$", re.IGNORECASE)
_PAREN_SUFFIX = re.compile(r"\s+\(([^()]*)\)\s*$")
_INVERTED = re.compile(
    r"^(?P<body>.+?), (?P<article>" + "|".join(re.escape(a) for a in _ARTICLES) + r")"
    r"(?P<rest>(?::| -).*)?$"
)

# Mis-decoded UTF-8 (read as cp1252). Runs of a lead byte + continuation bytes.
_CP1252_CONTINUATION = "".join(
    bytes([b]).decode("cp1252", errors="ignore") for b in range(0x80, 0xC0)
)
_MOJIBAKE_RUN = re.compile("[\u00c2-\u00f4][" + re.escape(_CP1252_CONTINUATION) + "]{1,3}")
# "Ã" whose continuation byte (0x81, undefined in cp1252) was lost: "Ãlex" -> "Álex".
_LOST_A_ACUTE = re.compile("\u00c3(?=[A-Za-z])")
# Franchise detection when TMDB's collection is unknown: "Iron Man 3", "Saw II",
# "Ice Age: The Meltdown", "The Hangover Part II", "Harry Potter and the ...".
_FRANCHISE_CUT = re.compile(r":| - | and the ")
_SEQUEL_SUFFIX = re.compile(r"(?:\s+(?:part|chapter|vol\.?|volume)?\s*(?:\d+|[ivx]+)|\s*[²³])$")
# Leftovers that mean a name is still garbled after repair: a lead byte whose
# continuation was lost (0x81/0x8D/0x8F/0x90/0x9D are undefined in cp1252), e.g.
# "RashÄd" (ā), "TetsurÅ" (ō), "Äan" (Đ). Real "Å" starts a word ("Åkerman").
_STILL_GARBLED = re.compile(r"[ÃÂ]|â€|á[º»]|Ä(?![A-ZÄÖÜ])|(?<=\w)Å|Å(?=\s|$)")


@dataclass(frozen=True)
class Movie:
    """One candidate catalog entry plus the fields used only for selection."""

    tmdb_id: int
    title: str
    year: int
    genres: tuple[str, ...]
    keywords: tuple[str, ...]
    directors: tuple[str, ...]
    cast: tuple[str, ...]
    language: str
    runtime: int
    vote_count: float  # selection only, never written
    franchises: frozenset[str]  # selection only, never written

    @property
    def complete(self) -> bool:
        return bool(self.directors and self.cast and self.keywords)

    def to_json(self) -> dict[str, Any]:
        return {
            "tmdb_id": self.tmdb_id,
            "media_type": "movie",
            "title": self.title,
            "year": self.year,
            "genres": list(self.genres),
            "keywords": list(self.keywords),
            "directors": list(self.directors),
            "cast": list(self.cast),
            "language": self.language,
            "runtime": self.runtime,
        }


class Report:
    """Collects data-quality notes printed to stderr at the end."""

    def __init__(self) -> None:
        self.repaired: set[tuple[int, str, str]] = set()
        self.dropped: set[tuple[int, str]] = set()
        self.skipped: Counter[str] = Counter()

    def print(self, tmdb_ids: set[int]) -> None:
        """Print skip counts, and name fixes for the selected titles only."""
        for reason, count in sorted(self.skipped.items()):
            print(f"skipped rows ({reason}): {count}", file=sys.stderr)
        for tmdb_id, before, after in sorted(self.repaired):
            if tmdb_id in tmdb_ids:
                print(f"{tmdb_id}: repaired name {before!r} -> {after!r}", file=sys.stderr)
        for tmdb_id, name in sorted(self.dropped):
            if tmdb_id in tmdb_ids:
                print(f"{tmdb_id}: dropped garbled name {name!r}", file=sys.stderr)


def split_pipe(value: str) -> list[str]:
    """Split a pipe-separated cell; collapse whitespace (incl. NBSP) in each part."""
    parts = (" ".join(part.split()) for part in value.split("|"))
    return [part for part in parts if part]


def dedupe(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        if value not in seen:
            seen.add(value)
            out.append(value)
    return out


def _decode_run(match: re.Match[str]) -> str:
    run = match.group(0)
    try:
        return run.encode("cp1252").decode("utf-8")
    except UnicodeError:
        return run


def repair_name(name: str, tmdb_id: int, report: Report) -> str | None:
    """Undo cp1252 mojibake in a person name; None if it cannot be repaired."""
    fixed = _MOJIBAKE_RUN.sub(_decode_run, name)
    fixed = _LOST_A_ACUTE.sub("\u00c1", fixed)
    if _STILL_GARBLED.search(fixed):
        report.dropped.add((tmdb_id, name))
        return None
    if fixed != name:
        report.repaired.add((tmdb_id, name, fixed))
    return fixed


def clean_names(value: str, limit: int | None, tmdb_id: int, report: Report) -> tuple[str, ...]:
    names: list[str] = []
    for raw in split_pipe(value):
        name = repair_name(raw, tmdb_id, report)
        if name:
            names.append(name)
    names = dedupe(names)
    return tuple(names[:limit] if limit is not None else names)


def ml_title_to_display(ml_title: str) -> str:
    """'Matrix, The (1999)' -> 'The Matrix'; drops alternate titles in parentheses."""
    title = _YEAR_SUFFIX.sub("", ml_title.strip())
    while True:
        stripped = _AKA_SUFFIX.sub("", title)
        paren = _PAREN_SUFFIX.search(stripped)
        # Foreign/alternate titles MovieLens appends: "Hate (Haine, La)".
        # Keep parentheses that are part of the real title, e.g. "Birdman: Or (...)".
        if paren and not stripped[: paren.start()].rstrip().endswith((":", " Or")):
            stripped = stripped[: paren.start()]
        if stripped == title:
            break
        title = stripped.strip()
    match = _INVERTED.match(title)
    if match:
        article = match.group("article")
        sep = "" if article.endswith("'") else " "
        title = f"{article}{sep}{match.group('body')}{match.group('rest') or ''}"
    return title


def parse_year(release_date: str, ml_year: str) -> int | None:
    """TMDB release year, falling back to the MovieLens year."""
    for candidate in (release_date[:4], ml_year):
        if candidate.isdigit() and len(candidate) == 4:
            return int(candidate)
    return None


def parse_genres(tmdb_genres: str, ml_genres: str) -> tuple[str, ...]:
    genres = [g for g in split_pipe(tmdb_genres) if g not in DROPPED_TMDB_GENRES]
    if not genres:
        mapped = (ML_TO_TMDB_GENRE.get(g, g) for g in split_pipe(ml_genres))
        genres = [g for g in mapped if g]
    return tuple(dedupe(genres))


def franchise_keys(title: str, collection_id: str) -> frozenset[str]:
    """Keys shared by entries of one franchise (TMDB collection and/or title stem)."""
    stem = _FRANCHISE_CUT.split(title.casefold(), maxsplit=1)[0].strip()
    stem = stem.removeprefix("the ")
    while True:
        shorter = _SEQUEL_SUFFIX.sub("", stem).strip()
        if shorter == stem or not shorter:
            break
        stem = shorter
    keys = {f"title:{stem}"}
    if collection_id:
        keys.add(f"collection:{collection_id}")
    return frozenset(keys)


def parse_float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def row_to_movie(row: dict[str, str], report: Report) -> Movie | None:
    tmdb_id = row["tmdbId"].strip()
    if not tmdb_id.isdigit():
        report.skipped["no tmdbId"] += 1
        return None
    year = parse_year(row["release_date"].strip(), row["year"].strip())
    runtime = parse_float(row["runtime"])
    language = row["original_language"].strip().lower()
    language = LANGUAGE_FIXES.get(language, language)
    genres = parse_genres(row["tmdb_genres"], row["ml_genres"])
    title = row["tmdb_title"].strip() or ml_title_to_display(row["ml_title"])
    if year is None or not runtime or runtime <= 0 or not genres or not title:
        report.skipped["missing year/runtime/genres/title"] += 1
        return None
    if not re.fullmatch(r"[a-z]{2}", language) or language == "xx":
        report.skipped["no ISO 639-1 language"] += 1
        return None
    keywords = [
        k for k in dedupe(split_pipe(row["keywords"])) if k.casefold() not in DROPPED_KEYWORDS
    ]
    return Movie(
        tmdb_id=int(tmdb_id),
        title=title,
        year=year,
        genres=genres,
        keywords=tuple(keywords[:MAX_KEYWORDS]),
        directors=clean_names(row["director"], None, int(tmdb_id), report),
        cast=clean_names(row["top_cast"], MAX_CAST, int(tmdb_id), report),
        language=language,
        runtime=round(runtime),
        vote_count=parse_float(row["vote_count"]) or 0.0,
        franchises=franchise_keys(title, row["collection_id"].strip()),
    )


def load_movies(path: Path, report: Report) -> list[Movie]:
    by_id: dict[int, Movie] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            movie = row_to_movie(row, report)
            if movie is None:
                continue
            known = by_id.get(movie.tmdb_id)
            if known is None or rank_key(movie) < rank_key(known):
                by_id[movie.tmdb_id] = movie
    return list(by_id.values())


def rank_key(movie: Movie) -> tuple[bool, float, int]:
    """Complete rows first, then most voted, then tmdb_id as a stable tie-break."""
    return (not movie.complete, -movie.vote_count, movie.tmdb_id)


def select(movies: Sequence[Movie], size: int) -> list[Movie]:
    ranked = sorted((m for m in movies if m.vote_count >= MIN_VOTE_COUNT), key=rank_key)
    chosen: list[Movie] = []
    chosen_ids: set[int] = set()
    genre_counts: Counter[str] = Counter()
    franchise_counts: Counter[str] = Counter()

    def eligible(movie: Movie) -> bool:
        if movie.tmdb_id in chosen_ids:
            return False
        return all(franchise_counts[k] < MAX_PER_FRANCHISE for k in movie.franchises)

    def take(movie: Movie) -> None:
        chosen.append(movie)
        chosen_ids.add(movie.tmdb_id)
        genre_counts.update(movie.genres)
        franchise_counts.update(movie.franchises)

    by_genre = {g: [m for m in ranked if g in m.genres] for g in GENRE_QUOTAS}
    progress = True
    while progress and len(chosen) < size:
        progress = False
        for genre, quota in GENRE_QUOTAS.items():
            if genre_counts[genre] >= quota or len(chosen) >= size:
                continue
            pick = next((m for m in by_genre[genre] if eligible(m)), None)
            if pick is not None:
                take(pick)
                progress = True

    for movie in ranked:
        if len(chosen) >= size:
            break
        if eligible(movie):
            take(movie)
    return sorted(chosen, key=lambda m: m.tmdb_id)


def build_catalog(items: Path, size: int) -> tuple[dict[str, Any], Report]:
    report = Report()
    movies = select(load_movies(items, report), size)
    catalog = {"attribution": ATTRIBUTION, "items": [m.to_json() for m in movies]}
    return catalog, report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--items", type=Path, required=True, help="movies_tmdb.csv")
    parser.add_argument("--out", type=Path, required=True, help="catalog.json to write")
    parser.add_argument("--size", type=int, default=TARGET_SIZE, help="number of titles")
    args = parser.parse_args(argv)

    catalog, report = build_catalog(args.items, args.size)
    report.print({item["tmdb_id"] for item in catalog["items"]})

    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(catalog, ensure_ascii=False, indent=2) + "\n"
    args.out.write_text(text, encoding="utf-8")

    genre_counts = Counter(g for item in catalog["items"] for g in item["genres"])
    print(f"wrote {len(catalog['items'])} titles to {args.out}")
    for genre, count in sorted(genre_counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {genre}: {count}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
