"""Group night: the titles that suit everyone in a room, ranked by the least happy member.

Each member's happiness for a title is their own percentile for it (rank_user stores it for
every title of their pool). A title counts only when every member may be offered it; the least
happy member decides (nobody sits through a film they would hate), the mean breaks ties, then
how well known the title is, then its id. Each member's reason is the one their own ranking
wrote for the title when it was among the few hundred it refined; otherwise it is said from
what their profile holds about the title's genres.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import reduce

import numpy as np

from recommendarr.shared.domain.explain import PickContext, explain
from recommendarr.shared.domain.ranking import genre_affinity
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


def member_reason(stored: str | None, facts: TitleFacts, profile: TasteProfile | None) -> str:
    """The reason the member's own ranking gave, when it refined the title; otherwise what can
    be said from their profile: the title's genres they lean towards, or that it fits overall."""
    if stored:
        return stored
    profile = profile or TasteProfile(domain="movies", centroid=None, anti_profile=None)
    signals = {"genre_affinity": genre_affinity(facts, profile.genre_weights)}
    return explain(facts, [], signals, profile, PickContext("group"))
