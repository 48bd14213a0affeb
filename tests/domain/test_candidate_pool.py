from __future__ import annotations

import numpy as np

from recommendarr.shared.domain.picks import CandidatePool
from recommendarr.shared.domain.ranking import strongest_pulls
from recommendarr.shared.domain.taste import TasteProfile


def pool() -> CandidatePool:
    return CandidatePool(
        item_ids=np.array([2, 5, 9], dtype=np.int64),
        domain_codes=np.array([0, 1, 0], dtype=np.int16),
        domain_names=("movies", "tv"),
        allowed=np.zeros(3, dtype=bool),
    )


def test_titles_asked_for_anyway_join_or_are_marked_in_order() -> None:
    merged = pool().with_allowed([(5, "movies"), (3, "anime")])
    assert merged.item_ids.tolist() == [2, 3, 5, 9]
    assert merged.allowed.tolist() == [False, True, True, False]
    assert [merged.domain_names[c] for c in merged.domain_codes] == [
        "movies",
        "anime",
        "movies",
        "movies",
    ]
    assert {d: ids.tolist() for d, ids in merged.by_domain().items()} == {
        "anime": [3],
        "movies": [2, 5, 9],
    }


def test_without_and_digest() -> None:
    assert pool().without([5, 100]).item_ids.tolist() == [2, 9]
    assert pool().digest_bytes() == pool().digest_bytes()
    assert pool().digest_bytes() != pool().with_allowed([(2, "movies")]).digest_bytes()
    assert len(CandidatePool.empty().by_domain()) == 0


def test_strongest_pulls_weigh_similarity_by_how_much_a_title_was_liked() -> None:
    profile = TasteProfile("movies", None, None, item_weights={10: 1.0, 11: 0.04, 12: 0.25})
    similarity = np.array([[0.5, 0.9, 0.6], [0.1, 0.2, 0.3]])
    # pulls: row 0 -> 0.5, 0.18, 0.3; row 1 -> 0.1, 0.04, 0.15
    # each as (column, similarity): the similarity, not the pull, is what a pick reports
    assert strongest_pulls(similarity, [10, 11, 12], profile) == [
        [(0, 0.5), (2, 0.6), (1, 0.9)],
        [(2, 0.3), (0, 0.1), (1, 0.2)],
    ]
    assert strongest_pulls(np.zeros((2, 0)), [], profile) == [[], []]
