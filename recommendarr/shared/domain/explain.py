"""Explanations from templates, filled only with titles and people from the user's own history
or the candidate's own facts.

Every name or number in an explanation comes from a value passed in: a watched title (an
`Influence`), a person both the pick and a watched title share, one of the pick's genres the
user leans towards, a title in `PickContext`, or a signal's value. A template that would need a
fact nobody passed is never chosen; a plainer one is.

Which family of templates speaks is decided by the mode and, within a mode, by
`dominant_signal`. Which phrasing of that family is used is a stable hash of the candidate's
title, so a list of picks does not read as the same sentence thirty times, and the same pick
reads the same on every run.
"""

from __future__ import annotations

import functools
import hashlib
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from recommendarr.shared.domain.taste import COMPLETED_AT, TasteProfile, TitleFacts

MODES = ("tonight", "grab", "rediscover", "shuffle", "group", "cold")

# dominant_signal: below this strength no named reason is convincing enough to lead with.
MIN_STRENGTH = 0.15
# The collaborative score is a z-score: three standard deviations above the mean is as strong
# as it gets.
COLLABORATIVE_FULL_Z = 3.0
# Quality is on 0..10 and 6 is neutral, as for the user's own ratings (taste.rating_term).
QUALITY_NEUTRAL = 6.0
QUALITY_SPAN = 4.0
# "Highly rated" is only said of a Bayesian quality at least this high.
QUALITY_FLOOR = 7.0
# A rating is a reason to watch again (or a "rated highly" neighbour) from here up.
HIGH_RATING = 7.0
# A liked genre is one with at least this share of the user's positive weight.
GENRE_FLOOR = 0.4

TEMPLATES: dict[str, tuple[str, ...]] = {
    # tonight: a person the pick shares with titles the user watched. Phrasing 0 of each
    # tonight family is the canonical one explain_pick has always produced.
    "person_director": (
        "Directed by {person}: you {viewings}.",
        "From director {person}; you {viewings}.",
        "{person} directed this one, and you {viewings}.",
    ),
    "person_cast": (
        "With {person}: you {viewings}.",
        "{person} is in this, and you {viewings}.",
        "Features {person}; you {viewings}.",
    ),
    # tonight: the closest watched titles (rewatched / finished / rated highly).
    "neighbours_genre": (
        "Because you {viewings}: more {genres} in the same vein.",
        "More {genres} close to {titles}, which you {viewings_short}.",
        "You {viewings}; this is {genres} of the same kind.",
    ),
    "neighbours": (
        "Because you {viewings}.",
        "You {viewings}; this one sits close by.",
        "Close to {titles}, which you {viewings_short}.",
    ),
    "genre": (
        "Matches the {genres} you watch most.",
        "Squarely in the {genres} you keep coming back to.",
        "More of the {genres} that fills your history.",
    ),
    # Aggregate only: naming what another viewer liked would give them away in a small home.
    "collaborative": (
        "Popular with viewers on this server whose taste overlaps yours.",
        "A favourite among viewers here who share your taste.",
        "Liked by others on this server with tastes like yours.",
    ),
    "quality": (
        "Highly rated: {quality}/10.",
        "Well reviewed: {quality}/10.",
        "Scores {quality}/10 with viewers.",
    ),
    "content": (
        "Close to the overall shape of what you watch.",
        "Fits the overall pattern of your history.",
    ),
    # The user's own adjustments.
    "boost_genre": (
        "You asked for more {genre}.",
        "More {genre}, as you asked.",
    ),
    "boost_person": (
        "You asked for more from {person}.",
        "More {person}, as you asked.",
    ),
    "boost_title": (
        "You asked for more like {title}.",
        "More like {title}, as you asked.",
    ),
    "boost": (
        "Moved up by a preference you set.",
        "Ranked higher because of a preference you set.",
    ),
    "allowed": (
        "You asked to see this anyway.",
        "Shown because you asked for it.",
    ),
    # grab: worth adding to the library.
    "grab_related_seen": (
        "Similar to {related}, which you {verb}.",
        "Recommended with {related} on TMDB, and you {verb} {them}.",
        "TMDB pairs this with {related}, which you {verb}.",
    ),
    "grab_related": (
        "Similar to {related} from your history.",
        "TMDB recommends it alongside {related}, from your history.",
        "Pairs with {related} in your history.",
    ),
    "grab_trending_related": (
        "Trending this week, and similar to {related} from your history.",
        "On this week's trending list; pairs with {related} from your history.",
    ),
    "grab_trending": (
        "Trending this week.",
        "One of this week's trending titles.",
        "On this week's trending list.",
    ),
    # rediscover: a title from the user's own history.
    "rediscover_rewatched": (
        "You've finished it {times}.",
        "Seen through {times} already.",
        "A repeat favourite: finished {times}.",
    ),
    "rediscover_finished_ago": (
        "You finished it {months} ago.",
        "Last finished {months} ago.",
        "It's been {months} since you finished it.",
    ),
    "rediscover_finished": (
        "You finished it before.",
        "Already finished once; worth another look.",
    ),
    "rediscover_unfinished": (
        "You stopped at {progress} last time.",
        "Left off at {progress}: pick it back up.",
        "Unfinished: you got {progress} in.",
    ),
    "rediscover_rated": (
        "You rated it {rating}/10.",
        "Your own rating: {rating}/10.",
        "You gave it {rating}/10.",
    ),
    "rediscover_ago": (
        "Last watched {months} ago.",
        "Not watched in {months}.",
        "It's been {months} since you last watched it.",
    ),
    "rediscover_plain": (
        "One from your own history, back for another look.",
        "Already in your history and worth a revisit.",
    ),
    # cold start: the onboarding quiz and what is popular.
    "cold_quiz_close": (
        "Close to {quiz}, which you picked to get started.",
        "In the spirit of {quiz}, one of your picks when you started.",
    ),
    "cold_quiz": (
        "Because you picked {quiz} to get started.",
        "You chose {quiz} when you started; here is somewhere to go next.",
        "Picked with {quiz} in mind, from your first choices.",
    ),
    "cold_popular_genre": (
        "A popular {genres} title, from the genres you picked.",
        "Popular right now, and {genres} is what you picked.",
    ),
    "cold_genre": (
        "In the {genres} you picked to get started.",
        "Matches the {genres} you chose when you started.",
        "From the genres you picked: {genres}.",
    ),
    "cold_popular": (
        "Widely watched: a safe start while we learn your taste.",
        "A popular starting point while we learn what you like.",
        "Popular right now; rate it and the picks get sharper.",
    ),
    "cold_plain": (
        "A starting point while we learn what you like.",
        "Something to start with; what you watch next sharpens the picks.",
    ),
    # shuffle: a random draw among titles that fit, with a short why.
    "shuffle_neighbour": (
        "A wildcard near {title}.",
        "Shuffled in: close to {title} from your history.",
    ),
    "shuffle_genre": (
        "A wildcard from the {genres} you like.",
        "Shuffled in: more {genres}.",
    ),
    "shuffle_quality": (
        "A wildcard rated {quality}/10.",
        "Shuffled in: {quality}/10 with viewers.",
    ),
    "shuffle_plain": (
        "A wildcard from the titles that fit your taste.",
        "Shuffled in from the titles that suit you.",
    ),
    # group: one short clause per person, prefixed with their name by the caller's context.
    "group_person": (
        "{person} again, as in {title}",
        "more {person}, after {title}",
    ),
    "group_genre_title": (
        "more {genre} like {title}",
        "{genre} in the vein of {title}",
    ),
    "group_title": (
        "close to {title}",
        "in the vein of {title}",
    ),
    "group_genre": (
        "more {genre}",
        "another {genre} pick",
    ),
    "group_quality": (
        "rated {quality}/10",
        "{quality}/10 with viewers",
    ),
    "group_plain": (
        "a good fit overall",
        "an easy fit",
    ),
    "group_allowed": (
        "asked to see it anyway",
        "wanted it on the list",
    ),
}


def template_fields(family: str) -> frozenset[str]:
    """The placeholders a family's phrasings use (their union): every reason of that family
    provides all of them, so any phrasing can be picked."""
    return frozenset(
        name
        for phrasing in TEMPLATES[family]
        for _, name, _, _ in string.Formatter().parse(phrasing)
        if name
    )


# Not frozen, but treated as values: a ranking builds thousands of these, and a frozen
# dataclass's __init__ is about five times slower (it sets each field through object.__setattr__).
@dataclass(slots=True)
class Influence:
    item_id: int
    title: str
    similarity: float
    finished: bool
    rewatched: bool
    shared_people: tuple[str, ...] = ()
    tmdb_id: int | None = None
    media_type: str | None = None
    # The user's own rating of the watched title (0..10), when they gave one.
    rating: float | None = None


@dataclass(slots=True)
class PickContext:
    mode: str  # 'tonight' | 'grab' | 'rediscover' | 'shuffle' | 'group' | 'cold'
    months_since_watched: int | None = None  # rediscover
    last_progress: float | None = None  # rediscover: completion 0..1 of the past viewing
    times_finished: int = 0  # rediscover
    rating: float | None = None  # rediscover: the user's own rating 0..10
    # grab: titles in the user's history TMDB lists it as similar to / recommended with
    related_to: tuple[str, ...] = ()
    trending: bool = False  # grab
    quiz_liked: tuple[str, ...] = ()  # cold start: titles the user picked in the quiz
    quiz_genres: tuple[str, ...] = ()  # cold start: genres the user picked in the quiz
    allowed_by_user: bool = False  # the user asked to recommend it anyway
    # What the user boosted (genres, people, titles); only the ones this pick really has are named.
    boosted: tuple[str, ...] = ()
    member: str | None = None  # group: whose reason this is, shown as "Maya: ..."


@dataclass(slots=True)
class Reason:
    family: str
    fields: Mapping[str, str]


@functools.lru_cache(maxsize=65_536)
def stable_index(family: str, key: str, size: int) -> int:
    """The same pick gets the same phrasing on every run (Python's hash() is salted); kept for
    the titles a worker explains again at every ranking."""
    digest = hashlib.blake2b(f"{family}\x1f{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % size


def render(reason: Reason, key: str, variant: int | None = None) -> str:
    phrasings = TEMPLATES[reason.family]
    index = stable_index(reason.family, key, len(phrasings)) if variant is None else variant
    return phrasings[index].format(**reason.fields)


def join_titles(titles: Sequence[str]) -> str:
    if len(titles) <= 1:
        return "".join(titles)
    return ", ".join(titles[:-1]) + " and " + titles[-1]


def format_score(value: float) -> str:
    """8.13 -> "8.1", 9.0 -> "9"."""
    text = f"{value:.1f}"
    return text.removesuffix(".0")


def format_months(months: int) -> str:
    if months < 1:
        return "under a month"
    return "1 month" if months == 1 else f"{months} months"


def format_times(times: int) -> str:
    return {1: "once", 2: "twice"}.get(times, f"{times} times")


def verb(influence: Influence) -> str:
    if influence.rewatched:
        return "rewatched"
    return "finished" if influence.finished else "watched"


def rated_highly(influence: Influence) -> bool:
    return influence.rating is not None and influence.rating >= HIGH_RATING


def describe_viewings(influences: Sequence[Influence]) -> str:
    """ "rewatched Inception and finished Arrival": each title with what the user really did;
    a title the user rated highly says so with their rating."""
    by_verb: dict[str, list[str]] = {}
    phrases: list[str] = []
    for influence in influences:
        if rated_highly(influence) and influence.rating is not None:
            phrases.append(f"rated {influence.title} {format_score(influence.rating)}/10")
        else:
            by_verb.setdefault(verb(influence), []).append(influence.title)
    grouped = [f"{v} {join_titles(titles)}" for v, titles in by_verb.items()]
    return " and ".join(grouped + phrases)


def describe_viewings_short(influences: Sequence[Influence]) -> str:
    """What the user did with the titles, for "Close to Arrival, which you finished.": one verb
    that is true of all of them."""
    if all(rated_highly(i) for i in influences):
        return "rated highly"
    if all(i.rewatched for i in influences):
        return "rewatched"
    if all(i.finished for i in influences):
        return "finished"
    return "watched"


def shared_person(
    influences: Sequence[Influence], candidate: TitleFacts | None = None
) -> tuple[str, list[Influence]] | None:
    """A person the pick shares with at least one close watched title, with those titles.

    Given the candidate, only people really in its directors or cast count: a name an
    influence carries that the pick does not have would be an invented claim.
    """
    if not any(influence.shared_people for influence in influences):
        return None  # most picks: nobody shared, no set of the pick's people built
    own = None if candidate is None else {*candidate.directors, *candidate.cast}
    for influence in influences:
        for person in influence.shared_people:
            if own is not None and person not in own:
                continue
            sharing = [i for i in influences if person in i.shared_people]
            return person, sharing[:2]
    return None


def top_genres(candidate: TitleFacts, profile: TasteProfile) -> list[str]:
    liked = [g for g in candidate.genres if profile.genre_weights.get(g, 0.0) >= GENRE_FLOOR]
    return sorted(liked, key=lambda g: -profile.genre_weights[g])[:2]


def signal(signals: Mapping[str, float], name: str) -> float:
    return float(signals.get(name, 0.0))


def clip01(value: float) -> float:
    return max(0.0, min(1.0, value))


def quality_strength(quality: float) -> float:
    """6/10 is neutral, as for ratings; under QUALITY_FLOOR it is not "highly rated" at all."""
    if quality < QUALITY_FLOOR:
        return 0.0
    return clip01((quality - QUALITY_NEUTRAL) / QUALITY_SPAN)


def dominant_signal(
    signals: Mapping[str, float],
    *,
    person: bool = False,
    neighbours: bool = False,
    genres: bool = False,
) -> str:
    """Which reason leads. The flags say whether there is something to name for the families
    that need it: a person the pick shares with a watched title, a close watched title, one of
    the pick's genres the user leans towards. Missing signals count as 0.

    1. A user adjustment wins outright, first of 'boost_title', 'boost_person', 'boost_genre'
       that is > 0: the user asked for it, so it is the most honest reason.
    2. Otherwise each family that can be named gets a strength on 0..1:
         'person'        person_affinity                       (needs person)
         'neighbours'    neighbor_similarity                   (needs neighbours)
         'collaborative' collaborative / 3, clipped            (a z-score; 3 sd is full)
         'genre'         genre_affinity                        (needs genres)
         'quality'       (quality - 6) / 4, clipped            (0 below QUALITY_FLOOR, 7/10)
       The strongest wins if it reaches MIN_STRENGTH (0.15); a tie goes to the family listed
       first.
    3. Otherwise 'content': the pick is close to the profile as a whole.
    """
    for boost in ("boost_title", "boost_person", "boost_genre"):
        if signal(signals, boost) > 0:
            return boost
    # In family order, a later one winning only when strictly stronger (once per pick: plain
    # comparisons, no dict of strengths).
    best, strongest = "content", -1.0
    for family, strength in (
        ("person", clip01(signal(signals, "person_affinity")) if person else 0.0),
        ("neighbours", clip01(signal(signals, "neighbor_similarity")) if neighbours else 0.0),
        ("collaborative", clip01(signal(signals, "collaborative") / COLLABORATIVE_FULL_Z)),
        ("genre", clip01(signal(signals, "genre_affinity")) if genres else 0.0),
        ("quality", quality_strength(signal(signals, "quality"))),
    ):
        if strength > strongest:
            best, strongest = family, strength
    return best if strongest >= MIN_STRENGTH else "content"


@dataclass(slots=True)
class Evidence:
    """What can be named about a pick, all of it from the inputs."""

    person: tuple[str, list[Influence]] | None
    neighbours: list[Influence]
    genres: list[str]

    def dominant(self, signals: Mapping[str, float]) -> str:
        return dominant_signal(
            signals,
            person=self.person is not None,
            neighbours=bool(self.neighbours),
            genres=bool(self.genres),
        )


def gather(
    candidate: TitleFacts, influences: Sequence[Influence], profile: TasteProfile
) -> Evidence:
    return Evidence(
        person=shared_person(influences, candidate),
        neighbours=list(influences[:2]),
        genres=top_genres(candidate, profile),
    )


def genres_text(genres: Sequence[str]) -> str:
    return join_titles(genres).lower()


def person_reason(candidate: TitleFacts, person: str, sharing: Sequence[Influence]) -> Reason:
    family = "person_director" if person in candidate.directors else "person_cast"
    return Reason(family, {"person": person, "viewings": describe_viewings(sharing)})


def neighbours_reason(neighbours: Sequence[Influence], genres: Sequence[str]) -> Reason:
    fields = {
        "viewings": describe_viewings(neighbours),
        "viewings_short": describe_viewings_short(neighbours),
        "titles": join_titles([i.title for i in neighbours]),
    }
    if genres:
        return Reason("neighbours_genre", {**fields, "genres": genres_text(genres)})
    return Reason("neighbours", fields)


def boost_reason(
    dominant: str, candidate: TitleFacts, influences: Sequence[Influence], boosted: Sequence[str]
) -> Reason:
    """Names what was boosted only when the pick really has it (or is close to that title)."""
    if dominant == "boost_genre":
        named = [g for g in candidate.genres if g in boosted]
        if named:
            return Reason("boost_genre", {"genre": named[0].lower()})
    if dominant == "boost_person":
        named = [p for p in (*candidate.directors, *candidate.cast) if p in boosted]
        if named:
            return Reason("boost_person", {"person": named[0]})
    if dominant == "boost_title":
        named = [i.title for i in influences if i.title in boosted]
        if named:
            return Reason("boost_title", {"title": named[0]})
    return Reason("boost", {})


def tonight_reason(
    candidate: TitleFacts,
    influences: Sequence[Influence],
    signals: Mapping[str, float],
    evidence: Evidence,
    context: PickContext,
) -> Reason:
    dominant = evidence.dominant(signals)
    if dominant.startswith("boost_"):
        return boost_reason(dominant, candidate, influences, context.boosted)
    if dominant == "person" and evidence.person is not None:
        return person_reason(candidate, *evidence.person)
    if dominant == "neighbours":
        return neighbours_reason(evidence.neighbours, evidence.genres)
    return unnamed_reason(dominant, signals, evidence)


def unnamed_reason(dominant: str, signals: Mapping[str, float], evidence: Evidence) -> Reason:
    """The tonight families that name no watched title or person."""
    if dominant == "genre":
        return Reason("genre", {"genres": genres_text(evidence.genres)})
    if dominant == "quality":
        return Reason("quality", {"quality": format_score(signal(signals, "quality"))})
    return Reason("collaborative" if dominant == "collaborative" else "content", {})


def grab_reason(influences: Sequence[Influence], context: PickContext) -> Reason | None:
    related = list(dict.fromkeys(context.related_to))[:2]
    if context.trending and related:
        return Reason("grab_trending_related", {"related": join_titles(related)})
    by_title = {i.title: i for i in influences}
    seen = [by_title[t] for t in dict.fromkeys(context.related_to) if t in by_title][:2]
    seen = [i for i in seen if i.finished or i.rewatched]
    if seen:
        return Reason(
            "grab_related_seen",
            {
                "related": join_titles([i.title for i in seen]),
                "verb": "rewatched" if all(i.rewatched for i in seen) else "finished",
                "them": "it" if len(seen) == 1 else "them",
            },
        )
    if related:
        return Reason("grab_related", {"related": join_titles(related)})
    if context.trending:
        return Reason("grab_trending", {})
    return None


def rediscover_reasons(context: PickContext) -> list[Reason]:
    """Up to three short sentences, each from the user's own record of the title."""
    months = context.months_since_watched
    reasons: list[Reason] = []
    months_said = False
    if context.times_finished >= 2:
        reasons.append(
            Reason("rediscover_rewatched", {"times": format_times(context.times_finished)})
        )
    elif context.times_finished == 1 and months is not None:
        reasons.append(Reason("rediscover_finished_ago", {"months": format_months(months)}))
        months_said = True
    elif context.times_finished == 1:
        reasons.append(Reason("rediscover_finished", {}))
    elif context.last_progress is not None and 0 < context.last_progress < COMPLETED_AT:
        progress = f"{round(context.last_progress * 100)}%"
        reasons.append(Reason("rediscover_unfinished", {"progress": progress}))
    if context.rating is not None and context.rating >= HIGH_RATING:
        reasons.append(Reason("rediscover_rated", {"rating": format_score(context.rating)}))
    if months is not None and not months_said:
        reasons.append(Reason("rediscover_ago", {"months": format_months(months)}))
    return reasons or [Reason("rediscover_plain", {})]


def cold_reason(
    candidate: TitleFacts,
    influences: Sequence[Influence],
    signals: Mapping[str, float],
    context: PickContext,
) -> Reason:
    close = [i.title for i in influences if i.title in context.quiz_liked][:2]
    if close:
        return Reason("cold_quiz_close", {"quiz": join_titles(close)})
    picked = [g for g in candidate.genres if g in context.quiz_genres][:2]
    popular = signal(signals, "popularity") > 0
    if picked:
        family = "cold_popular_genre" if popular else "cold_genre"
        return Reason(family, {"genres": genres_text(picked)})
    if context.quiz_liked:
        quiz = list(dict.fromkeys(context.quiz_liked))[:2]
        return Reason("cold_quiz", {"quiz": join_titles(quiz)})
    if popular:
        return Reason("cold_popular", {})
    if signal(signals, "quality") >= QUALITY_FLOOR:
        return Reason("quality", {"quality": format_score(signal(signals, "quality"))})
    return Reason("cold_plain", {})


def shuffle_reason(signals: Mapping[str, float], evidence: Evidence) -> Reason:
    dominant = evidence.dominant(signals)
    if dominant in ("person", "neighbours") and evidence.neighbours:
        return Reason("shuffle_neighbour", {"title": evidence.neighbours[0].title})
    if dominant == "genre":
        return Reason("shuffle_genre", {"genres": genres_text(evidence.genres)})
    if dominant == "quality":
        return Reason("shuffle_quality", {"quality": format_score(signal(signals, "quality"))})
    return Reason("shuffle_plain", {})


def group_reason(signals: Mapping[str, float], evidence: Evidence) -> Reason:
    dominant = evidence.dominant(signals)
    if dominant == "person" and evidence.person is not None:
        person, sharing = evidence.person
        return Reason("group_person", {"person": person, "title": sharing[0].title})
    if dominant in ("neighbours", "genre") and evidence.neighbours and evidence.genres:
        genre = evidence.genres[0].lower()
        return Reason("group_genre_title", {"genre": genre, "title": evidence.neighbours[0].title})
    if dominant == "neighbours":
        return Reason("group_title", {"title": evidence.neighbours[0].title})
    if dominant == "genre":
        return Reason("group_genre", {"genre": evidence.genres[0].lower()})
    if dominant == "quality":
        return Reason("group_quality", {"quality": format_score(signal(signals, "quality"))})
    return Reason("group_plain", {})


def capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def explain_group(
    candidate: TitleFacts,
    influences: Sequence[Influence],
    signals: Mapping[str, float],
    profile: TasteProfile,
    context: PickContext,
) -> str:
    """ "Maya: more sci-fi like Arrival" - one short clause for one person of the group."""
    key = candidate.title
    clause = render(group_reason(signals, gather(candidate, influences, profile)), key)
    if context.allowed_by_user:
        clause = render(Reason("group_allowed", {}), key) + "; " + clause
    return f"{context.member}: {clause}" if context.member else capitalize(clause)


def explain(
    candidate: TitleFacts,
    influences: Sequence[Influence],
    signals: Mapping[str, float],
    profile: TasteProfile,
    context: PickContext,
) -> str:
    """The pick's explanation for its mode; see the module docstring for what may be said."""
    if context.mode not in MODES:
        raise ValueError(f"unknown mode {context.mode!r}; expected one of {', '.join(MODES)}")
    if context.mode == "group":
        return explain_group(candidate, influences, signals, profile, context)
    reasons = mode_reasons(candidate, influences, signals, profile, context)
    if context.allowed_by_user:
        reasons.insert(0, Reason("allowed", {}))
    return " ".join(render(reason, candidate.title) for reason in reasons)


def mode_reasons(
    candidate: TitleFacts,
    influences: Sequence[Influence],
    signals: Mapping[str, float],
    profile: TasteProfile,
    context: PickContext,
) -> list[Reason]:
    if context.mode == "rediscover":
        return rediscover_reasons(context)
    if context.mode == "cold":
        return [cold_reason(candidate, influences, signals, context)]
    evidence = gather(candidate, influences, profile)
    if context.mode == "shuffle":
        return [shuffle_reason(signals, evidence)]
    if context.mode == "grab":
        grab = grab_reason(influences, context)
        if grab is not None:
            return [grab]
    return [tonight_reason(candidate, influences, signals, evidence, context)]


def explain_pick(
    candidate: TitleFacts,
    influences: Sequence[Influence],
    signals: Mapping[str, float],
    profile: TasteProfile,
) -> str:
    """The 'tonight' explanation in its canonical phrasing (phrasing 0 of each family), led by
    the evidence rather than the signals: a shared person, then the closest watched titles,
    then the user's genres. Kept byte-for-byte for the lists and tests that pin it; `explain`
    with PickContext('tonight') is the varied, signal-led version."""
    evidence = gather(candidate, influences, profile)
    if evidence.person is not None:
        reason = person_reason(candidate, *evidence.person)
    elif evidence.neighbours:
        reason = neighbours_reason(evidence.neighbours, evidence.genres)
    elif evidence.genres:
        reason = Reason("genre", {"genres": genres_text(evidence.genres)})
    else:
        reason = Reason("content", {})
    return render(reason, candidate.title, variant=0)
