"""Charts on staff pages, drawn as inline SVG by pygal from the figures the services count."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pygal
from pygal.style import Style

from mp_mailer.services.send_log.figures import DayCount

CHART_STYLE = Style(
    background="transparent",
    plot_background="#ffffff",
    foreground="#4b5563",
    foreground_strong="#1b1f24",
    foreground_subtle="#e5e2dc",
    guide_stroke_color="#e5e2dc",
    major_guide_stroke_color="#d6d3cd",
    guide_stroke_dasharray="0",
    major_guide_stroke_dasharray="0",
    font_family='system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif',
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=13,
    value_font_size=12,
    opacity=".9",
    opacity_hover="1",
    colors=("#0f7a3d", "#1d4ed8", "#b00020", "#6b7280"),
)


def letters_per_day_chart(days: Sequence[DayCount]) -> str:
    """An SVG bar chart of letters written per day, stacked by what became of them.

    Drawn by pygal, with no scripts or external style sheets so it works in any browser."""
    chart = pygal.StackedBar(
        style=CHART_STYLE,
        js=[],
        width=1200,
        height=360,
        legend_at_bottom=True,
        legend_at_bottom_columns=4,
        show_minor_x_labels=False,
        x_labels_major_every=max(1, len(days) // 10),
        truncate_label=-1,
        y_title="Letters",
        disable_xml_declaration=True,
        no_data_text="No letters in this period",
        margin=16,
        spacing=12,
    )
    chart.add_xml_filter(_without_scripts)
    chart.x_labels = [f"{day.day.day} {day.day:%b}" for day in days]
    if days:
        chart.add("Sent", [day.sent for day in days])
        chart.add("Waiting", [day.waiting for day in days])
        chart.add("Failed", [day.failed for day in days])
        chart.add("Cancelled", [day.cancelled for day in days])
    svg: str = chart.render(is_unicode=True)
    return svg


def _without_scripts(root: Any) -> Any:
    # pygal always embeds its settings in a <script> for its optional tooltips; the page needs
    # none, and a strict Content-Security-Policy would refuse it.
    for parent in list(root.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.endswith("script"):
                parent.remove(child)
    return root
