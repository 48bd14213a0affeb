"""Group night: the titles that suit everyone in a room, ranked by the least happy member.

Each member's happiness for a title is their own percentile for it (rank_user stores it for
every title of their pool). A title counts only when every member may be offered it; the least
happy member decides (nobody sits through a film they would hate), the mean breaks ties, then
how well known the title is, then its id. Each member's reason is the one their own ranking
wrote for the title when it was among the few hundred it refined; otherwise it is said from
their profile: the title they liked that pulls hardest towards it (as rank_user names
influences), the title's genres they lean towards, the people they follow.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import reduce

import numpy as np

from recommendarr.shared.domain.explain import MIN_STRENGTH, Influence, PickContext, explain
from recommendarr.shared.domain.ranking import (
    MAX_LIKED_INFLUENCES,
    genre_affinity,
    person_affinity,
)
from recommendarr.shared.domain.taste import TasteProfile, TitleFacts


@dataclass(frozen=True)
class MemberHappiness:
    """One member's happiness for every title of their pool (item ids ascending)."""

    user_id: int
    item_ids: np.ndarray
    happiness: np.ndarray


@dataclass(frozen=True)
class Shared:
    """A title every member may be offered: the least happy member's happiness, the mean, and
    each member's own (in the order the members were given)."""

    item_id: int
    least: float
    mean: float
    each: tuple[float, ...]


def shortlist(members: Sequence[MemberHappiness], count: int) -> list[Shared]:
    """The ``count`` best titles for everyone by (least, mean) - and every title tied with the
    last of them, so that the final order's later tie-breaks choose among all of those."""
    if not members or count <= 0:
        return []
    common = reduce(np.intersect1d, (m.item_ids for m in members))
    if not len(common):
        return []
    each = np.stack([m.happiness[np.searchsorted(m.item_ids, common)] for m in members])
    least, mean = each.min(axis=0), each.mean(axis=0)
    order = np.lexsort((common, -mean, -least))
    if len(order) > count:
        last = order[count - 1]
        tied = (least[order] == least[last]) & (mean[order] == mean[last])
        order = order[: count + int(tied[count:].sum())]
    return [
        Shared(int(common[n]), float(least[n]), float(mean[n]), tuple(each[:, n].tolist()))
        for n in order.tolist()
    ]


@dataclass(frozen=True)
class GroupTitle:
    """What the answer shows of a title, and what a reason may be said from."""

    item_id: int
    facts: TitleFacts
    domain: str  # its library's: movies, tv or anime
    year: int | None
    poster_path: str | None
    vote_count: int | None


def best_first(
    shared: Sequence[Shared], titles: Mapping[int, GroupTitle], limit: int
) -> list[tuple[Shared, GroupTitle]]:
    """The shortlisted titles that may still be offered (``titles``: those nobody has seen or
    hidden since their ranking), best first, at most ``limit``."""
    found = [(s, titles[s.item_id]) for s in shared if s.item_id in titles]
    found.sort(key=lambda pair: (-pair[0].least, -pair[0].mean, -(pair[1].vote_count or -1)))
    return found[:limit]


def liked_to_name(profile: TasteProfile) -> list[tuple[int, float]]:
    """The member's titles a reason may name, as rank_user's influences: their most liked, each
    with the square root of that liking, which weighs its pull."""
    ranked = sorted(profile.item_weights.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(item_id, math.sqrt(weight)) for item_id, weight in ranked[:MAX_LIKED_INFLUENCES]]


def closest_liked(
    asked: Sequence[tuple[int, GroupTitle]],
    liked: Mapping[tuple[int, str], Sequence[tuple[int, float]]],
    vectors: Mapping[int, np.ndarray],
) -> dict[tuple[int, int], tuple[int, float]]:
    """For each (member, title) asked, of the member's liked titles in the title's domain
    (``liked``: item id and the square root of the liking, per member and domain) the one
    pulling hardest towards it - similarity times that root, as rank_user weighs influences -
    and their similarity. A title without a vector pulls and is pulled by nothing."""
    asked_by_taste: dict[tuple[int, str], list[int]] = {}
    for user_id, title in asked:
        if title.item_id in vectors:
            asked_by_taste.setdefault((user_id, title.domain), []).append(title.item_id)
    found = {}
    for (user_id, domain), item_ids in asked_by_taste.items():
        ranked = [(i, root) for i, root in liked.get((user_id, domain), ()) if i in vectors]
        if not ranked:
            continue
        matrix = np.stack([vectors[i] for i, _ in ranked])
        similarity = np.stack([vectors[i] for i in item_ids]) @ matrix.T
        strongest = np.argmax(similarity * np.array([root for _, root in ranked]), axis=1)
        for row, item_id in enumerate(item_ids):
            column = int(strongest[row])
            found[user_id, item_id] = (ranked[column][0], float(similarity[row, column]))
    return found


def named_influence(
    candidate: TitleFacts, liked_id: int, liked: TitleFacts, similarity: float
) -> Influence | None:
    """The liked title with the strongest pull towards the candidate, when it is close enough
    to be named, with the people the two share. A group's clause names only the title and
    those people: what the member did with it is not known here and is not said."""
    if similarity < MIN_STRENGTH:
        return None
    theirs = {*liked.directors, *liked.cast[:5]}
    return Influence(
        item_id=liked_id,
        title=liked.title,
        similarity=similarity,
        finished=False,
        rewatched=False,
        shared_people=tuple(p for p in (*candidate.directors, *candidate.cast[:5]) if p in theirs),
        tmdb_id=liked.tmdb_id,
        media_type=liked.media_type,
    )


def member_reason(
    stored: str | None,
    facts: TitleFacts,
    profile: TasteProfile | None,
    closest: Influence | None = None,
) -> str:
    """The reason the member's own ranking gave, when it refined the title; otherwise what can
    be said from their profile (``closest``: the liked title pulling hardest towards it, when
    close enough to name): a title like it, the genres or people they lean towards, or that it
    fits overall."""
    if stored:
        return stored
    profile = profile or TasteProfile(domain="movies", centroid=None, anti_profile=None)
    signals = {
        "genre_affinity": genre_affinity(facts, profile.genre_weights),
        "person_affinity": person_affinity(facts, profile.person_weights)[0],
    }
    if closest is not None:
        signals["neighbor_similarity"] = closest.similarity
    influences = [closest] if closest is not None else []
    return explain(facts, influences, signals, profile, PickContext("group"))
