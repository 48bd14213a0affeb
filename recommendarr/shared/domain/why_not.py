"""Why a title is not among a user's picks: every signal that holds it back, or that is missing,
in plain words and as data. Only stored facts and small arithmetic: no model is called.

Hard reasons (not visible, already seen, feedback, blocks) come first, then the soft ones in the
order they weigh in the score. Each text names only titles from the user's own history, and a
title outside the user's libraries is described without naming any library.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from recommendarr.shared.domain.adjustments import (
    Override,
    fold,
    hidden_penalty,
    matching,
    override_notes,
)
from recommendarr.shared.domain.ranking import genre_affinity
from recommendarr.shared.domain.taste import (
    TasteProfile,
    TitleFacts,
    TitleHistory,
    rating_term,
)

# Below these a model signal counts as weak enough to mention.
WEAK_CONTENT = 0.3
WEAK_GENRE = 0.5
MENTION_ANTI = 0.1
RARELY_FINISHED = 0.5
# Feedback that keeps a title out of the candidates altogether.
EXCLUDING_FEEDBACK = ("down", "dismiss", "hide")


@dataclass(frozen=True)
class Signal:
    signal: str
    value: float
    text: str
    until: datetime | None = None


@dataclass(frozen=True)
class FeedbackFact:
    kind: str
    until: datetime | None


@dataclass(frozen=True)
class CandidateScore:
    score: float | None  # None: among the user's candidates, but not one their ranking refined
    happiness: float


@dataclass(frozen=True)
class WhyNotInputs:
    """Everything stored about one user and one title."""

    item_id: int
    key: str  # 'movie:603'
    facts: TitleFacts
    domain: str
    enriched: bool
    vector: np.ndarray | None
    visible: bool
    titles: Sequence[TitleHistory]  # the user's whole history, summarized
    known: Mapping[int, TitleFacts]  # facts of the titles in `titles` and of hidden titles
    vectors: Mapping[int, np.ndarray]  # vectors of disliked and hidden titles
    profile: TasteProfile | None  # the user's profile for `domain`
    feedback: Sequence[FeedbackFact]  # the user's active feedback on this title
    hidden: Mapping[int, datetime | None]  # other titles the user hid, and until when
    overrides: Sequence[Override]
    candidate: CandidateScore | None
    scored_candidates: int  # rows the last ranking scored for this user
    rank: int | None
    typical_content: float | None  # mean content similarity of the user's current picks
    now: datetime


@dataclass(frozen=True)
class WhyNot:
    signals: list[Signal]
    rank: int | None
    happiness: float | None
    can_override: bool
    summary: str


@dataclass(frozen=True)
class GenreRecord:
    started: int
    finished: int
    abandoned: int


def why_not(inputs: WhyNotInputs) -> WhyNot:
    history = next((t for t in inputs.titles if t.item_id == inputs.item_id), None)
    signals = [
        *visibility(inputs),
        *viewing_signals(inputs.facts.title, history),
        *feedback_signals(inputs.facts.title, inputs.feedback, inputs.now),
        *override_signals(inputs),
        *data_signals(inputs),
        *model_signals(inputs),
        *score_signals(inputs, history),
    ]
    allowed = any(
        o.kind == "title" and o.key == inputs.key and o.action == "allow" for o in inputs.overrides
    )
    happiness = None if inputs.candidate is None else round(inputs.candidate.happiness, 4)
    return WhyNot(
        signals=signals,
        rank=inputs.rank,
        happiness=happiness,
        can_override=not allowed,
        summary=summary(inputs, signals, allowed),
    )


def summary(inputs: WhyNotInputs, signals: Sequence[Signal], allowed: bool) -> str:
    if inputs.rank is not None:
        return f"{inputs.facts.title} is #{inputs.rank} in your picks."
    if allowed:
        return f"You asked for {inputs.facts.title} anyway: it will lead your next picks."
    if signals:
        return signals[0].text
    return f"Nothing holds {inputs.facts.title} back; it should appear after your next ranking."


def visibility(inputs: WhyNotInputs) -> list[Signal]:
    if inputs.visible:
        return []
    return [Signal("not_in_your_libraries", 0.0, "It is not in any library you can see")]


def percent(value: float) -> str:
    return f"{round(value * 100)}%"


def viewing_signals(title: str, history: TitleHistory | None) -> list[Signal]:
    if history is None:
        return []
    signals = []
    if history.finished:
        times = "" if history.completions == 1 else f" {history.completions} times"
        signals.append(
            Signal("finished", float(history.completions), f"You finished {title}{times}")
        )
    elif history.abandoned:
        signals.append(
            Signal(
                "abandoned",
                round(history.max_progress, 4),
                f"You abandoned {title} at {percent(history.max_progress)}",
            )
        )
    elif history.max_progress > 0:
        signals.append(
            Signal(
                "started",
                round(history.max_progress, 4),
                f"You already started {title} (got to {percent(history.max_progress)})",
            )
        )
    else:
        signals.append(Signal("started", 0.0, f"You already played {title}"))
    if history.rating is not None and rating_term(history.rating) < 0:
        signals.append(
            Signal("rated_low", history.rating, f"You rated {title} {history.rating:g}/10")
        )
    return signals


def day(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


def feedback_signals(title: str, feedback: Sequence[FeedbackFact], now: datetime) -> list[Signal]:
    signals = []
    for fact in feedback:
        if fact.kind == "down":
            signals.append(Signal("thumbs_down", -1.0, f"You gave {title} a thumbs down"))
        elif fact.kind == "dismiss":
            signals.append(Signal("dismissed", -1.0, f"You dismissed {title}"))
        elif fact.kind == "hide":
            if fact.until is None:
                signals.append(Signal("hidden", -1.0, f"You hid {title}"))
                continue
            days = round(max(0.0, (fact.until - now).total_seconds() / 86400.0), 1)
            signals.append(
                Signal("hidden", days, f"You hid {title} until {day(fact.until)}", fact.until)
            )
    return signals


OVERRIDE_VERBS = {"block": "blocked", "suppress": "turned down"}


def override_signals(inputs: WhyNotInputs) -> list[Signal]:
    signals = []
    for override in matching(inputs.key, inputs.facts, inputs.overrides):
        if override.action not in OVERRIDE_VERBS:
            continue
        value = override_notes([override])[f"{override.action}_{override.kind}"]
        if override.kind == "title":
            what = inputs.facts.title
        elif override.kind == "genre":
            what = override.key.lower()
        else:
            what = override.key
        text = f"You {OVERRIDE_VERBS[override.action]} {what}"
        if override.action == "suppress":
            text += f" ({value:+g} on its score)"
        signals.append(Signal(f"{override.action}_{override.kind}", value, text))
    return signals


def data_signals(inputs: WhyNotInputs) -> list[Signal]:
    signals = []
    if not inputs.enriched:
        signals.append(
            Signal(
                "not_enriched", 0.0, "Its details (genres, people) are not fetched from TMDB yet"
            )
        )
    if inputs.vector is None:
        signals.append(
            Signal(
                "no_vector",
                0.0,
                "It has no embedding yet, so it cannot be compared with what you watch",
            )
        )
    if inputs.profile is None or inputs.profile.centroid is None:
        signals.append(
            Signal(
                "no_profile",
                0.0,
                f"You have no {domain_name(inputs.domain)} taste profile yet: "
                f"finish a few {domain_name(inputs.domain)} titles first",
            )
        )
    return signals


def domain_name(domain: str) -> str:
    return {"movies": "movie", "tv": "TV", "anime": "anime"}.get(domain, domain)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return 0.0 if norm == 0.0 else float(np.dot(a, b) / norm)


def model_signals(inputs: WhyNotInputs) -> list[Signal]:
    profile, vector = inputs.profile, inputs.vector
    signals = []
    if vector is not None and profile is not None and profile.centroid is not None:
        signals += content_signal(cosine(vector, profile.centroid), inputs.typical_content)
    if vector is not None and profile is not None and profile.anti_profile is not None:
        signals += anti_signal(inputs, vector, profile, cosine(vector, profile.anti_profile))
    if vector is not None:
        signals += hidden_signal(inputs, vector)
    if profile is not None and profile.genre_weights and inputs.facts.genres:
        signals += genre_signal(inputs, profile)
    return signals


def content_signal(similarity: float, typical: float | None) -> list[Signal]:
    weak = similarity < typical if typical is not None else similarity < WEAK_CONTENT
    if not weak:
        return []
    text = f"Content similarity {similarity:.2f} to what you finish"
    if typical is not None:
        text += f" (your current picks average {typical:.2f})"
    return [Signal("content_similarity", round(similarity, 4), text)]


def anti_signal(
    inputs: WhyNotInputs, vector: np.ndarray, profile: TasteProfile, similarity: float
) -> list[Signal]:
    if similarity <= MENTION_ANTI:
        return []
    text = f"Anti-profile similarity {similarity:.2f}: close to what you abandon or rate low"
    nearest = nearest_of(vector, profile.abandoned, inputs.vectors, exclude=inputs.item_id)
    if nearest is not None and nearest[0] in inputs.known:
        item_id, closeness = nearest
        how = next(
            (
                "abandoned" if t.abandoned else "rated low"
                for t in inputs.titles
                if t.item_id == item_id
            ),
            "disliked",
        )
        text += f", like {inputs.known[item_id].title} ({closeness:.2f}), which you {how}"
    return [Signal("anti_similarity", round(similarity, 4), text)]


def nearest_of(
    vector: np.ndarray,
    item_ids: Mapping[int, object] | Sequence[int],
    vectors: Mapping[int, np.ndarray],
    exclude: int,
) -> tuple[int, float] | None:
    best: tuple[int, float] | None = None
    for item_id in item_ids:
        if item_id == exclude or item_id not in vectors:
            continue
        similarity = cosine(vector, vectors[item_id])
        if best is None or similarity > best[1]:
            best = (item_id, similarity)
    return best


def hidden_signal(inputs: WhyNotInputs, vector: np.ndarray) -> list[Signal]:
    nearest = nearest_of(vector, inputs.hidden, inputs.vectors, exclude=inputs.item_id)
    if nearest is None:
        return []
    item_id, similarity = nearest
    penalty = hidden_penalty(similarity)
    if penalty >= 0:
        return []
    title = inputs.known[item_id].title if item_id in inputs.known else "a title"
    until = inputs.hidden[item_id]
    when = f" until {day(until)}" if until is not None else ""
    return [
        Signal(
            "hidden_similarity",
            round(similarity, 4),
            f"Similar ({similarity:.2f}) to {title}, which you hid{when} "
            f"({penalty:+.2f} on its score)",
            until,
        )
    ]


def genre_records(
    titles: Sequence[TitleHistory], known: Mapping[int, TitleFacts], domain: str
) -> dict[str, GenreRecord]:
    """Per genre (folded), how many of the domain's titles the user started, finished, abandoned."""
    counts: dict[str, list[int]] = {}
    for title in titles:
        facts = known.get(title.item_id)
        if title.domain != domain or facts is None:
            continue
        for genre in {fold(g) for g in facts.genres}:
            record = counts.setdefault(genre, [0, 0, 0])
            record[0] += 1
            record[1] += int(title.finished)
            record[2] += int(title.abandoned)
    return {g: GenreRecord(*c) for g, c in counts.items()}


def genre_signal(inputs: WhyNotInputs, profile: TasteProfile) -> list[Signal]:
    match = genre_affinity(inputs.facts, profile.genre_weights)
    if match >= WEAK_GENRE:
        return []
    records = genre_records(inputs.titles, inputs.known, inputs.domain)
    weak = [g for g in inputs.facts.genres if profile.genre_weights.get(g, 0.0) < WEAK_GENRE]
    # A genre the user starts and drops says more than one they never tried.
    reasons = sorted(genre_reason(g, records.get(fold(g))) for g in weak)
    why = "; ".join(text for _, text in reasons[:2])
    return [Signal("genre_match", round(match, 4), f"Genre match {match:.2f}: {why}")]


def genre_reason(genre: str, record: GenreRecord | None) -> tuple[int, str]:
    """How the user treats one genre, with how telling that is (lower is more telling)."""
    name = genre.lower()
    if record is None or record.started == 0:
        return 1, f"you have not watched any {name}"
    if record.finished / record.started < RARELY_FINISHED:
        return 0, f"you rarely finish {name} ({record.finished} of {record.started} started)"
    count = "title" if record.started == 1 else "titles"
    return 2, f"{name} is a small part of what you watch ({record.started} {count})"


def score_signals(inputs: WhyNotInputs, history: TitleHistory | None) -> list[Signal]:
    if inputs.candidate is not None:
        happiness = inputs.candidate.happiness
        if happiness < 0.5:
            text = (
                f"Predicted happiness {happiness:.2f}: below {percent(1 - happiness)} "
                "of the titles you could be offered"
            )
        else:
            text = (
                f"Predicted happiness {happiness:.2f}: above {percent(happiness)} "
                "of the titles you could be offered"
            )
            if inputs.rank is None:
                text += ", but not high enough for your current picks"
        return [Signal("happiness", round(happiness, 4), text)]
    excluded = any(f.kind in EXCLUDING_FEEDBACK for f in inputs.feedback)
    if history is not None or excluded or not inputs.visible or inputs.vector is None:
        return []  # already explained: it cannot be a candidate as things stand
    if inputs.scored_candidates == 0:
        return [Signal("not_scored", 0.0, "Your titles have not been scored yet")]
    return [
        Signal(
            "not_scored",
            0.0,
            f"Not among the {inputs.scored_candidates} titles scored for you: it arrived after "
            "your last ranking",
        )
    ]
