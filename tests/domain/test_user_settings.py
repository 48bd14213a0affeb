"""TasteSettings: the history window in days, and only the windows the API offers."""

from __future__ import annotations

import pytest

from recommendarr.shared.domain.user_settings import TasteSettings


def test_defaults_are_a_year_without_blending() -> None:
    assert TasteSettings() == TasteSettings(history_window_months=12, cross_domain_blend=False)


def test_window_days() -> None:
    assert TasteSettings(3).window_days() == pytest.approx(91.32)
    assert TasteSettings(12).window_days() == pytest.approx(365.28)
    assert TasteSettings(None).window_days() is None


@pytest.mark.parametrize("months", [0, 1, 5, 24])
def test_other_windows_are_refused(months: int) -> None:
    with pytest.raises(ValueError, match="history_window_months"):
        TasteSettings(months)
