"""Small inline SVG charts for the coaching pages: drawn on the server, so they need no
script, print well, and carry their numbers as titles for screen readers and tooltips."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
HEIGHT = 180
LEFT = 36
BOTTOM = 24
TOP = 10
PALETTE = ("#1f6f8b", "#e07a5f", "#3d405b", "#81b29a", "#f2cc8f", "#9c6644", "#6d597a", "#b56576")


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]
    """One value per column; None where there is nothing to show."""


def _plot_height() -> int:
    return HEIGHT - TOP - BOTTOM


def _frame(title: str, labels: Sequence[str], top_value: float, unit: str) -> list[str]:
    step = (WIDTH - LEFT) / max(1, len(labels))
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for fraction in (0, 0.5, 1):
        y = TOP + _plot_height() * (1 - fraction)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">'
            f"{_number(top_value * fraction)}{escape(unit)}</text>"
        )
    for index, label in enumerate(labels):
        x = LEFT + step * (index + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 8}" font-size="10" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    return parts


def _number(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def stacked_bars(
    title: str, labels: Sequence[str], series: Sequence[Series], unit: str = ""
) -> Markup:
    """Columns of stacked counts, e.g. findings per week by rule."""
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(labels))]
    top_value = max([1.0, *totals])
    step = (WIDTH - LEFT) / max(1, len(labels))
    parts = _frame(title, labels, top_value, unit)
    for index, label in enumerate(labels):
        base = 0.0
        for colour, item in zip(_colours(len(series)), series, strict=True):
            value = item.values[index] or 0
            if not value:
                continue
            height = _plot_height() * value / top_value
            y = TOP + _plot_height() * (1 - (base + value) / top_value)
            parts.append(
                f'<rect x="{LEFT + step * index + step * 0.2:.1f}" y="{y:.1f}" '
                f'width="{step * 0.6:.1f}" height="{height:.1f}" fill="{colour}">'
                f"<title>{escape(label)}: {escape(item.label)} {_number(value)}</title></rect>"
            )
            base += value
    parts.append("</svg>")
    return Markup("".join(parts))


def line(
    title: str, labels: Sequence[str], series: Series, top_value: float, unit: str = ""
) -> Markup:
    """One line over the columns, with a dot and a title at each known value."""
    step = (WIDTH - LEFT) / max(1, len(labels))
    parts = _frame(title, labels, top_value, unit)
    points: list[str] = []
    dots: list[str] = []
    for index, value in enumerate(series.values):
        if value is None:
            continue
        x = LEFT + step * (index + 0.5)
        y = TOP + _plot_height() * (1 - value / top_value)
        points.append(f"{x:.1f},{y:.1f}")
        dots.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{PALETTE[0]}">'
            f"<title>{escape(labels[index])}: {_number(value)}{escape(unit)}</title></circle>"
        )
    if len(points) > 1:
        # Drawn before the dots so that they stay on top.
        parts.append(
            f'<polyline fill="none" stroke="{PALETTE[0]}" stroke-width="2" '
            f'points="{" ".join(points)}"/>'
        )
    parts.extend(dots)
    parts.append("</svg>")
    return Markup("".join(parts))


def _colours(count: int) -> list[str]:
    return [PALETTE[index % len(PALETTE)] for index in range(count)]


def legend(series: Sequence[Series]) -> Markup:
    items = "".join(
        f'<li><span class="swatch" style="background:{colour}"></span>{escape(item.label)}</li>'
        for colour, item in zip(_colours(len(series)), series, strict=True)
    )
    return Markup(f'<ul class="legend">{items}</ul>')
