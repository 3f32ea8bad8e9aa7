"""Charts as inline SVG drawn on the server: no chart library, no script, no CDN.

Each chart is an ``img`` with a title and a description that points to the table of the
same figures beside it (the text alternative). Series differ by colour and also by line
pattern and marker shape, so colour is never the only cue; every colour has at least 3:1
contrast with the white background (WCAG 2.2 non-text contrast).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

_COLOURS = ("#1d70b8", "#b3261e", "#00703c", "#4c2c92", "#6e5a00", "#0b0c0c")
_DASHES = ("", "8 4", "2 3", "10 3 2 3", "4 4", "1 2")
_WIDTH = 640
_INK = "#0b0c0c"
_GRID = "#b1b4b6"


@dataclass(frozen=True)
class Series:
    """One named row of figures; None is a gap (not answered), never drawn as 0."""

    name: str
    values: tuple[float | None, ...]


def _ticks(top: float) -> list[float]:
    step = max(1.0, top / 4)
    return [round(i * step, 2) for i in range(5)]


def _text(x: float, y: float, text: str, anchor: str = "start", size: int = 14) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{_INK}" '
            f'text-anchor="{anchor}">{escape(text)}</text>')


def _frame(chart_id: str, title: str, height: float, body: list[str]) -> Markup:
    desc = f"{title}. The same figures are in the table that follows the chart."
    return Markup(  # noqa: S704 - every text and attribute value above is escaped
        f'<svg class="chart" id="{escape(chart_id)}" role="img" viewBox="0 0 {_WIDTH} '
        f'{height:.0f}" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'font-family="system-ui, Arial, sans-serif">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>{"".join(body)}</svg>')


def _legend(series: Sequence[Series], *, lines: bool) -> tuple[list[str], float]:
    """The key, wrapped to the chart's width; and the height it takes."""
    parts, x, y = [], 10.0, 20.0
    for i, s in enumerate(series):
        colour = _COLOURS[i % len(_COLOURS)]
        if x > 10 and x + 40 + 7.5 * len(s.name) > _WIDTH:
            x, y = 10.0, y + 22
        if lines:
            parts.append(f'<line x1="{x}" y1="{y - 5}" x2="{x + 24}" y2="{y - 5}" '
                         f'stroke="{colour}" stroke-width="3" '
                         f'stroke-dasharray="{_DASHES[i % len(_DASHES)]}"/>')
            parts.append(_marker(i, x + 12, y - 5, colour))
        else:
            parts.append(f'<rect x="{x}" y="{y - 13}" width="14" height="14" fill="{colour}"/>')
        parts.append(_text(x + 30, y, s.name))
        x += 40 + 7.5 * len(s.name)
    return parts, y + 20


def bar_chart(chart_id: str, title: str, categories: Sequence[str],
              series: Sequence[Series]) -> Markup:
    """Horizontal grouped bars: one group a category, one bar a series, its value beside it."""
    label_w, bar_h, gap = 190.0, 18.0, 14.0
    body, top = _legend(series, lines=False)
    area = _WIDTH - label_w - 50
    most = max([v for s in series for v in s.values if v is not None] + [1.0])
    group_h = bar_h * len(series) + gap
    height = top + group_h * len(categories) + 30
    for tick in _ticks(most):
        x = label_w + area * tick / most
        body.append(f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 24:.1f}" '
                    f'stroke="{_GRID}" stroke-width="1"/>')
        body.append(_text(x, height - 8, f"{tick:g}", "middle", 13))
    for c, category in enumerate(categories):
        y0 = top + c * group_h
        label = category if len(category) <= 26 else category[:25] + "…"
        body.append(_text(label_w - 8, y0 + group_h / 2 - 2, label, "end"))
        for i, s in enumerate(series):
            value = s.values[c] if c < len(s.values) else None
            y = y0 + i * bar_h
            w = area * (value or 0) / most
            body.append(f'<rect x="{label_w}" y="{y:.1f}" width="{w:.1f}" '
                        f'height="{bar_h - 3}" fill="{_COLOURS[i % len(_COLOURS)]}"/>')
            body.append(_text(label_w + w + 4, y + bar_h - 6,
                              "-" if value is None else f"{value:g}", size=13))
    return _frame(chart_id, title, height, body)


def _marker(i: int, x: float, y: float, colour: str) -> str:
    shape = i % 3
    if shape == 0:
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{colour}"/>'
    if shape == 1:
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}"/>'
    return (f'<path d="M{x:.1f} {y - 5:.1f}L{x + 5:.1f} {y + 4:.1f}L{x - 5:.1f} {y + 4:.1f}Z" '
            f'fill="{colour}"/>')


def line_chart(chart_id: str, title: str, x_labels: Sequence[str], series: Sequence[Series],
               y_max: float) -> Markup:
    """Lines over evenly spaced points (one per x label), 0 to ``y_max`` on the y axis."""
    body, top = _legend(series, lines=True)
    top += 10
    left, right, bottom = 44.0, 20.0, 44.0
    height = top + 216 + bottom
    plot_w, plot_h = _WIDTH - left - right, height - top - bottom

    def xy(index: int, value: float) -> tuple[float, float]:
        x = left + (plot_w * index / (len(x_labels) - 1) if len(x_labels) > 1 else plot_w / 2)
        return x, top + plot_h * (1 - value / y_max)

    for tick in _ticks(y_max):
        _, y = xy(0, tick)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{_WIDTH - right}" y2="{y:.1f}" '
                    f'stroke="{_GRID}" stroke-width="1"/>')
        body.append(_text(left - 6, y + 4, f"{tick:g}", "end", 13))
    for i, label in enumerate(x_labels):  # the outer labels kept inside the frame
        x, _ = xy(i, 0)
        anchor = ("start" if i == 0 else "end" if i == len(x_labels) - 1 else "middle"
                  ) if len(x_labels) > 1 else "middle"
        body.append(_text(x, height - bottom + 22, label, anchor, 13))
    for i, s in enumerate(series):
        colour = _COLOURS[i % len(_COLOURS)]
        points = [(n, v) for n, v in enumerate(s.values) if v is not None]
        path, previous = [], -2
        for n, v in points:  # a gap (not answered) breaks the line
            x, y = xy(n, v)
            path.append(f"{'L' if n == previous + 1 else 'M'}{x:.1f} {y:.1f}")
            previous = n
        if path:
            body.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" '
                        f'stroke-width="3" stroke-dasharray="{_DASHES[i % len(_DASHES)]}"/>')
        body += [_marker(i, *xy(n, v), colour) for n, v in points]
    return _frame(chart_id, title, height, body)
