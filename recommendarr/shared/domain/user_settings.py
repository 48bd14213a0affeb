"""A user's taste settings: how much of their history shapes their picks, and from which domains."""

from __future__ import annotations

from dataclasses import dataclass

HISTORY_WINDOWS = (3, 6, 12)
DEFAULT_WINDOW_MONTHS = 12
# The mean Gregorian month, so twelve months is a year to within a day.
DAYS_PER_MONTH = 30.44


@dataclass(frozen=True)
class TasteSettings:
    """`history_window_months` None means all of the history; `cross_domain_blend` lets the
    movies, tv and anime histories all shape every domain's picks."""

    history_window_months: int | None = DEFAULT_WINDOW_MONTHS
    cross_domain_blend: bool = False

    def __post_init__(self) -> None:
        if self.history_window_months not in (*HISTORY_WINDOWS, None):
            raise ValueError(
                f"history_window_months must be 3, 6, 12 or None, "
                f"got {self.history_window_months!r}"
            )

    def window_days(self) -> float | None:
        """How many days back the history counts, or None for all of it."""
        if self.history_window_months is None:
            return None
        return self.history_window_months * DAYS_PER_MONTH
