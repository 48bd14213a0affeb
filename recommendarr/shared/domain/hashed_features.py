"""The built-in embedding: signed feature hashing of a title's facts.

It needs no model download and is deterministic, so every install (and every test) gets the same
vectors. Weights favour the facts that best separate tastes: people and keywords over language.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from recommendarr.shared.domain.item_text import ItemFacts

FEATURE_WEIGHTS = {
    "genre": 1.0,
    "keyword": 0.7,
    "director": 1.2,
    "cast": 0.6,
    "decade": 0.5,
    "language": 0.4,
    "term": 0.25,
}
TERM_PATTERN = re.compile(r"[a-z][a-z']{3,}")
STOPWORDS = frozenset(
    (
        "that",
        "this",
        "with",
        "from",
        "their",
        "they",
        "them",
        "into",
        "have",
        "when",
        "what",
        "where",
        "which",
        "while",
        "about",
        "after",
        "before",
        "being",
        "other",
        "there",
        "these",
        "those",
        "were",
        "will",
        "would",
        "could",
        "should",
        "your",
        "through",
    )
)


def item_features(item: ItemFacts) -> list[tuple[str, float]]:
    features: list[tuple[str, float]] = []
    features += [(f"genre:{g.lower()}", FEATURE_WEIGHTS["genre"]) for g in item.genres]
    features += [(f"keyword:{k.lower()}", FEATURE_WEIGHTS["keyword"]) for k in item.keywords]
    features += [(f"director:{d.lower()}", FEATURE_WEIGHTS["director"]) for d in item.directors]
    # Billing order matters: the lead shapes a film more than the fifth name.
    features += [
        (f"cast:{c.lower()}", FEATURE_WEIGHTS["cast"] / (1 + 0.25 * i))
        for i, c in enumerate(item.cast)
    ]
    if item.year:
        features.append((f"decade:{item.year // 10 * 10}", FEATURE_WEIGHTS["decade"]))
    if item.language:
        features.append((f"language:{item.language.lower()}", FEATURE_WEIGHTS["language"]))
    if item.overview:
        terms = {t for t in TERM_PATTERN.findall(item.overview.lower()) if t not in STOPWORDS}
        features += [(f"term:{t}", FEATURE_WEIGHTS["term"]) for t in sorted(terms)]
    return features


def hashed_vector(item: ItemFacts, dim: int) -> np.ndarray:
    vector = np.zeros(dim, dtype=np.float32)
    for name, weight in item_features(item):
        digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
        bucket = int.from_bytes(digest[:4], "little") % dim
        sign = 1.0 if digest[4] & 1 else -1.0
        vector[bucket] += sign * weight
    norm = float(np.linalg.norm(vector))
    if norm == 0.0:
        # A title with no facts at all still needs a valid, non-zero unit vector.
        vector[0] = 1.0
        return vector
    return vector / norm
