"""Evaluation protocol and loaders of the offline quality benchmark."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from bench.quality import protocol
from bench.quality.data import (
    ITEM_TEXT_COLUMNS,
    LEAKY_ITEM_COLUMNS,
    load_items,
    load_ratings,
)
from bench.quality.protocol import Interactions

Row = tuple[int, int, float, float]  # user, item, rating, timestamp


def _interactions(rows: list[Row], n_items: int | None = None) -> Interactions:
    table = np.array(rows, dtype=np.float64).reshape(-1, 4)
    users = table[:, 0].astype(np.int64)
    items = table[:, 1].astype(np.int64)
    return Interactions(
        users=users,
        items=items,
        ratings=table[:, 2],
        timestamps=table[:, 3],
        n_users=int(users.max()) + 1,
        n_items=int(items.max()) + 1 if n_items is None else n_items,
    )


def _user_history(user: int, n: int, first_item: int = 0, rating: float = 4.0) -> list[Row]:
    """``n`` ratings at timestamps 1000, 2000, ...; later items are newer."""
    return [(user, first_item + k, rating, 1000.0 * (k + 1)) for k in range(n)]


def _pairs(data: Interactions) -> set[tuple[int, int]]:
    return {(int(u), int(i)) for u, i in zip(data.users, data.items, strict=True)}


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# --------------------------------------------------------------------------
# Temporal split
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_ratings", "n_test"),
    [(1, 0), (4, 0), (5, 1), (6, 2), (10, 2), (11, 3), (23, 5)],
)
def test_split_holds_out_the_latest_ceil_fifth(n_ratings: int, n_test: int) -> None:
    rows = _user_history(0, n_ratings)
    # Shuffle so the split cannot rely on input order.
    order = np.random.default_rng(n_ratings).permutation(len(rows))
    data = _interactions([rows[k] for k in order])

    train, test = protocol.temporal_split(data)

    assert len(test) == n_test
    assert len(train) == n_ratings - n_test
    assert sorted(test.items.tolist()) == list(range(n_ratings - n_test, n_ratings))
    if n_test:
        assert test.timestamps.min() > train.timestamps.max()


def test_split_is_per_user() -> None:
    rows = _user_history(0, 10) + _user_history(1, 4, first_item=20) + _user_history(2, 5)
    train, test = protocol.temporal_split(_interactions(rows))

    per_user = np.bincount(test.users, minlength=3).tolist()
    assert per_user == [2, 0, 1]
    assert _pairs(train) | _pairs(test) == _pairs(_interactions(rows))
    assert not _pairs(train) & _pairs(test)


def test_timestamp_ties_go_to_the_highest_movie_id_whatever_the_file_order(
    tmp_path: Path,
) -> None:
    movie_ids = [50, 10, 30, 20, 40]
    rows: list[list[object]] = [[7, m, 4.0, 1_000] for m in movie_ids]
    outcomes = set()
    for attempt, permutation in enumerate(([0, 1, 2, 3, 4], [4, 2, 0, 3, 1], [3, 4, 1, 0, 2])):
        path = _write_csv(
            tmp_path / f"ratings{attempt}.csv",
            ["userId", "movieId", "rating", "timestamp"],
            [rows[k] for k in permutation],
        )
        space, data = protocol.index_ratings(load_ratings(path), np.zeros(0, np.int64))
        _, test = protocol.temporal_split(data)
        outcomes.add(tuple(int(space.item_ids[i]) for i in test.items))

    assert outcomes == {(50,)}


def test_relevant_items_are_test_items_rated_four_or_more() -> None:
    # User 0: test = items 7, 8, 9 rated 4.0, 3.5, 5.0 (the three newest of 11).
    ratings_0 = [3.0] * 8 + [4.0, 3.5, 5.0]
    rows = [(0, k, r, 1000.0 * (k + 1)) for k, r in enumerate(ratings_0)]
    # User 1: the only test item is rated 3.5, so user 1 is not evaluated.
    rows += [(1, 20 + k, 3.5 if k == 4 else 5.0, 1000.0 * (k + 1)) for k in range(5)]
    train, test = protocol.temporal_split(_interactions(rows, n_items=30))

    task = protocol.build_task(train, test, catalog_items=np.array([29]))

    assert task.users.tolist() == [0]
    assert sorted(task.relevant[0].indices.tolist()) == [8, 10]
    assert task.relevant[1].nnz == 0
    assert sorted(task.exclude[0].indices.tolist()) == list(range(8))
    # Catalog: everything rated in training plus the items-file rows.
    expected = set(range(8)) | set(range(20, 24)) | {29}
    assert set(np.flatnonzero(task.candidates).tolist()) == expected


# --------------------------------------------------------------------------
# Cold start
# --------------------------------------------------------------------------


def test_cold_folds_partition_the_evaluated_users() -> None:
    users = np.arange(3, 26)  # 23 users

    folds = protocol.cold_folds(users, seed=4)

    assert len(folds) == protocol.COLD_FOLDS == 5
    assert sorted(np.concatenate(folds).tolist()) == users.tolist()
    assert sum(f.size for f in folds) == users.size  # hence disjoint
    assert {f.size for f in folds} == {4, 5}
    again = protocol.cold_folds(users, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(folds, again, strict=True))
    other = protocol.cold_folds(users, seed=5)
    assert any(not np.array_equal(a, b) for a, b in zip(folds, other, strict=True))


def test_keep_most_recent_keeps_exactly_the_ten_newest() -> None:
    rows = _user_history(0, 25) + _user_history(1, 25) + _user_history(2, 6)
    order = np.random.default_rng(0).permutation(len(rows))
    data = _interactions([rows[k] for k in order])

    cut = protocol.keep_most_recent(data, np.array([0, 2]), keep=protocol.COLD_HISTORY)

    kept_0 = sorted(int(i) for u, i in zip(cut.users, cut.items, strict=True) if u == 0)
    assert kept_0 == list(range(15, 25))
    assert np.count_nonzero(cut.users == 1) == 25  # not in the fold: untouched
    assert np.count_nonzero(cut.users == 2) == 6  # already short: untouched
    assert protocol.COLD_HISTORY == 10


# --------------------------------------------------------------------------
# Loaders
# --------------------------------------------------------------------------


def test_ratings_loader_keeps_the_latest_duplicate_and_drops_bad_rows(tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "ratings.csv",
        ["userId", "movieId", "rating", "timestamp"],
        [
            [1, 10, 2.0, 100],
            [1, 10, 4.5, 200],  # re-rating: this one counts
            [1, 11, "", 300],  # no rating
            [2, "x", 3.0, 300],  # bad movieId
            [2, 12, 3.0, "2001-09-09T01:46:40"],  # ISO timestamp
        ],
    )

    ratings = load_ratings(path)

    assert len(ratings) == 2
    assert ratings.user_ids.tolist() == [1, 2]
    assert ratings.item_ids.tolist() == [10, 12]
    assert ratings.ratings.tolist() == [4.5, 3.0]
    assert ratings.timestamps.tolist() == [200.0, 1_000_000_000.0]


def test_ratings_loader_names_missing_columns(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "ratings.csv", ["userId", "movieId", "rating"], [[1, 2, 3.0]])
    with pytest.raises(ValueError, match="timestamp"):
        load_ratings(path)


def test_items_loader_drops_future_leaking_columns(tmp_path: Path) -> None:
    header = ["movieId", "ml_title", "vote_average", "vote_count", "popularity", "director"]
    path = _write_csv(
        tmp_path / "items.csv",
        header,
        [[1, "Heat (1995)", 7.9, 7000, 55.2, "Michael Mann"]],
    )

    items = load_items(path)

    assert set(LEAKY_ITEM_COLUMNS) == {"vote_average", "vote_count", "popularity"}
    assert set(items[1]) == set(ITEM_TEXT_COLUMNS)
    assert not set(LEAKY_ITEM_COLUMNS) & set(items[1])
    assert not {"7.9", "7000", "55.2"} & set(items[1].values())
    assert items[1]["director"] == "Michael Mann"


def test_items_loader_accepts_a_file_with_only_movie_ids(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "items.csv", ["movieId"], [[3], [1], [2]])

    items = load_items(path)

    assert sorted(items) == [1, 2, 3]
    assert all(value == "" for row in items.values() for value in row.values())


def test_items_loader_survives_empty_cells_and_bad_ids(tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "items.csv",
        ["movieId", "ml_genres", "keywords", "year"],
        [
            [1, "", "", ""],
            ["", "Drama", "heist", 1995],  # no id: skipped
            ["2.5", "Drama", "", ""],  # not an integer id: skipped
            [2, " Crime|Drama ", "", "1995"],
            [2, "Comedy", "", ""],  # duplicate id: first row wins
        ],
    )

    items = load_items(path)

    assert sorted(items) == [1, 2]
    assert items[1]["ml_genres"] == ""
    assert items[2]["ml_genres"] == "Crime|Drama"
    assert items[2]["year"] == "1995"


def test_items_loader_without_a_path_or_movie_id_column_gives_no_items(tmp_path: Path) -> None:
    assert load_items(None) == {}
    no_id = _write_csv(tmp_path / "items.csv", ["tmdbId", "title"], [[603, "The Matrix"]])
    assert load_items(no_id) == {}
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert load_items(empty) == {}


def test_a_missing_items_file_is_an_error_not_silently_no_metadata(tmp_path: Path) -> None:
    # A mistyped --items path should not quietly run a metadata-free benchmark;
    # the CLI turns this into exit code 2 (see test_quality_cli).
    with pytest.raises(FileNotFoundError):
        load_items(tmp_path / "missing.csv")


def test_index_space_includes_unrated_items_from_the_items_file(tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "ratings.csv",
        ["userId", "movieId", "rating", "timestamp"],
        [[5, 30, 4.0, 1], [9, 10, 3.0, 2]],
    )

    space, data = protocol.index_ratings(load_ratings(path), np.array([20, 30]))

    assert space.item_ids.tolist() == [10, 20, 30]
    assert space.user_ids.tolist() == [5, 9]
    assert data.n_items == 3
    assert sorted(zip(data.users.tolist(), data.items.tolist(), strict=True)) == [(0, 2), (1, 0)]
