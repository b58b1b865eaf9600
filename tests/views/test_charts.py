"""Charts drawn for staff pages."""

from __future__ import annotations

from mp_mailer.views.charts import letters_per_day_chart


def test_chart_says_so_when_there_are_no_letters() -> None:
    assert "No letters in this period" in letters_per_day_chart([])
