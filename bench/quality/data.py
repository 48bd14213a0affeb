"""Loading ratings and item metadata for the quality benchmark.

Both files are read from wherever the caller points; nothing is copied into the
project.  The item file may lack any column (or have it empty): every metadata
field is optional.  Only ``movieId`` is needed to key it.
"""

from __future__ import annotations

import csv
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
RATING_COLUMNS = ("userId", "movieId", "rating", "timestamp")

# Columns carrying TMDB popularity/vote snapshots taken in 2025, after every
# rating in the data set was made.  Using them would leak future popularity, so
# they are dropped as soon as the file is read and no model can ever see them.
LEAKY_ITEM_COLUMNS = ("vote_average", "vote_count", "popularity")

# Metadata columns the models may use.  Anything else in the file is ignored.
ITEM_TEXT_COLUMNS = (
    "ml_title",
    "year",
    "ml_genres",
    "tmdb_genres",
    "keywords",
    "top_cast",
    "director",
    "original_language",
    "release_date",
    "belongs_to_collection",
    "collection_id",
)


@dataclass(frozen=True)
class Ratings:
    """Explicit ratings as parallel arrays (one entry per user/item pair)."""

    user_ids: np.ndarray  # int64 external user ids
    item_ids: np.ndarray  # int64 external movie ids
    ratings: np.ndarray  # float64 stars
    timestamps: np.ndarray  # float64 unix seconds

    def __len__(self) -> int:
        return int(self.user_ids.shape[0])


ItemRows = dict[int, dict[str, str]]
"""movieId -> {usable column -> text ('' when empty or absent)}."""


def load_ratings(path: Path) -> Ratings:
    """Read ``userId,movieId,rating,timestamp``; drop unusable rows and duplicates."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in RATING_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: ratings file lacks columns {missing}")
        parsed = [_rating_row(row) for row in reader]
    rows = [row for row in parsed if row is not None]
    if len(rows) < len(parsed):
        log.warning("dropped %d ratings rows with missing/invalid values", len(parsed) - len(rows))
    table = np.array(rows, dtype=np.float64).reshape(-1, 4)
    # A user holds one rating per movie; keep the latest one.
    order = np.lexsort((table[:, 3], table[:, 1], table[:, 0]))
    table = table[order]
    last_of_pair = np.ones(len(table), bool)
    if len(table) > 1:
        same_pair = (table[1:, 0] == table[:-1, 0]) & (table[1:, 1] == table[:-1, 1])
        last_of_pair[:-1] = ~same_pair
    table = table[last_of_pair]
    return Ratings(
        user_ids=table[:, 0].astype(np.int64),
        item_ids=table[:, 1].astype(np.int64),
        ratings=table[:, 2],
        timestamps=table[:, 3],
    )


def _rating_row(row: dict[str, str]) -> tuple[float, float, float, float] | None:
    try:
        user = _integer(row["userId"])
        item = _integer(row["movieId"])
        rating = float(row["rating"])
        timestamp = _timestamp_seconds(row["timestamp"])
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(v) for v in (rating, timestamp)):
        return None
    return float(user), float(item), rating, timestamp


def _integer(text: str | None) -> int:
    value = float(text or "")
    if not value.is_integer():
        raise ValueError(text)
    return int(value)


def _timestamp_seconds(text: str | None) -> float:
    """Unix seconds; ISO dates are accepted too so foreign exports still load."""
    text = (text or "").strip()
    try:
        return float(text)
    except ValueError:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()


def load_items(path: Path | None) -> ItemRows:
    """Item metadata by movieId with only the usable columns (leaky ones dropped).

    Returns an empty mapping when the path is None or the file has no
    ``movieId`` column, so the benchmark still runs on ratings alone.
    """
    if path is None:
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if "movieId" not in (reader.fieldnames or []):
            log.warning("%s has no movieId column; item metadata ignored", path)
            return {}
        items: ItemRows = {}
        for row in reader:
            try:
                movie_id = _integer(row.get("movieId"))
            except ValueError:
                continue
            # First row wins on duplicates; LEAKY_ITEM_COLUMNS never get copied.
            items.setdefault(
                movie_id, {column: (row.get(column) or "").strip() for column in ITEM_TEXT_COLUMNS}
            )
    return items
