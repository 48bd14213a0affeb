from __future__ import annotations

from recommendarr.shared.domain.onboarding import (
    QuizTitle,
    canonical_genres,
    pick_quiz_titles,
    unknown_genres,
)


def title(item_id: int, votes: int, *genres: str) -> QuizTitle:
    return QuizTitle(item_id, item_id, "movie", f"t{item_id}", 2000, None, genres, votes)


def test_round_robin_over_genres_by_votes() -> None:
    titles = [
        *(title(n, 1000 - n, "Drama") for n in range(1, 11)),
        *(title(n, 500 - n, "Comedy") for n in range(11, 14)),
        title(20, 5, "Horror", "Drama"),
        title(30, 1),
    ]
    picked = [t.item_id for t in pick_quiz_titles(titles, size=7)]
    # Drama (11 titles) goes first, then Comedy (3), then Horror (1); its one title is also a
    # drama, so it is taken once.
    assert picked == [1, 11, 20, 2, 12, 3, 13]
    everything = pick_quiz_titles(titles, size=50)
    assert len(everything) == len(titles) and everything[-1].item_id == 30


def test_small_or_empty_pools() -> None:
    assert pick_quiz_titles([]) == []
    assert [t.item_id for t in pick_quiz_titles([title(1, 0)])] == [1]


def test_genre_names_are_matched_without_case() -> None:
    known = ["Comedy", "Science Fiction"]
    assert unknown_genres(["comedy", "Sci-Fi"], known) == ["Sci-Fi"]
    assert canonical_genres({"science fiction": 0.5}, known) == {"Science Fiction": 0.5}
