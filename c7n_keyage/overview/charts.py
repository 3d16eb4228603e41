"""The page's two charts as inline SVG: stale keys by age, and the trend. Pure.

Each chart has a title and a description (its figures in words); the page gives each a
table too. No label overlaps another: the y axis leaves room for its widest tick label
before its title, and the trend's date labels are placed only where the previous one has
ended.
"""

from __future__ import annotations

from datetime import date
from html import escape

# Sequential, light to dark with age (ColorBrewer OrRd), one per bucket; each bar is outlined.
BAR_COLOURS = ("#fdd49e", "#fdbb84", "#fc8d59", "#e34a33", "#b30000")
WIDTH, HEIGHT, TOP_PAD, BOTTOM, RIGHT_PAD = 640, 260, 24, 56, 24
# Width of a character at the charts' 13 px, an upper bound for digits, commas and dashes.
CHAR_PX = 7.6
TITLE_X = 16  # the y axis title's centre line; its glyphs reach about 10 px left of it
TITLE_REACH = 4  # and this far right of it
GAP = 8  # between the axis title and the tick labels, and between two date labels
TICK_GAP = 6  # between a tick label and the plot, or a bar and its value
BASELINE = 4  # a label's baseline below the line it names, to centre it on the line
LABEL_DROP = 20  # a date's or a bucket's label, below the axis
TITLE_RISE = 8  # the x axis title, above the chart's bottom edge
LAST_LABEL_ROOM = 16  # the trend ends this far in, so that its last date label fits
BAR_MARGIN, BAR_WIDTH = 0.15, 0.7  # of each bucket's slot
POINTS_DRAWN = 60  # beyond this many dates the line alone is drawn: the dots would merge


def n(value: int) -> str:
    return f"{value:,}"


def nice_top(value: int) -> tuple[int, int]:
    """A round axis maximum >= value and its tick step (1, 2 or 5 times a power of ten)."""
    value = max(value, 1)  # an axis of nothing still goes up to one
    step = 1
    while True:
        for factor in (1, 2, 5):
            candidate = step * factor
            if value / candidate <= 5:
                return candidate * -(-value // candidate), candidate
        step *= 10


def text_px(label: str) -> float:
    return len(label) * CHAR_PX


def plot_left(top: int) -> int:
    """Where the plot starts: after the axis title, a gap, the widest tick label, a gap."""
    widest = text_px(n(top))  # the top tick has the most digits
    return round(TITLE_X + TITLE_REACH + GAP + widest + TICK_GAP)


def _svg(chart_id: str, title: str, desc: str, body: str) -> str:
    return (
        f'<svg role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>{body}</svg>'
    )


def y_axis(top: int, step: int, left: int) -> str:
    y0, plot_h = HEIGHT - BOTTOM, HEIGHT - BOTTOM - TOP_PAD
    middle = y0 - plot_h / 2
    parts = [
        f'<text x="{TITLE_X}" y="{middle:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 {TITLE_X} {middle:.0f})">stale keys</text>'
    ]
    for tick in range(0, top + 1, step):
        y = y0 - plot_h * tick / top
        parts.append(
            f'<line class="grid" x1="{left}" x2="{WIDTH - RIGHT_PAD}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text x="{left - TICK_GAP}" y="{y + BASELINE:.1f}" text-anchor="end">'
            f"{n(tick)}</text>"
        )
    return "".join(parts)


def x_axis(left: int, title: str) -> str:
    y0 = HEIGHT - BOTTOM
    return (
        f'<line class="axis" x1="{left}" x2="{WIDTH - RIGHT_PAD}" y1="{y0}" y2="{y0}"/>'
        f'<text x="{(left + WIDTH - RIGHT_PAD) / 2:.0f}" '
        f'y="{HEIGHT - TITLE_RISE}" text-anchor="middle">{escape(title)}</text>'
    )


def age_chart(buckets: dict[str, int]) -> str:
    """Bars of stale keys by age bucket."""
    top, step = nice_top(max(buckets.values()))
    left = plot_left(top)
    y0, plot_h = HEIGHT - BOTTOM, HEIGHT - BOTTOM - TOP_PAD
    slot = (WIDTH - RIGHT_PAD - left) / len(buckets)
    body = [y_axis(top, step, left)]
    for i, (label, count) in enumerate(buckets.items()):
        x, bar_h = left + i * slot + slot * BAR_MARGIN, plot_h * count / top
        centre = x + slot * BAR_WIDTH / 2
        body.append(
            f'<rect class="bar" x="{x:.1f}" y="{y0 - bar_h:.1f}" width="{slot * BAR_WIDTH:.1f}" '
            f'height="{bar_h:.1f}" fill="{BAR_COLOURS[i]}">'
            f"<title>{escape(label)} days: {n(count)} keys</title></rect>"
            f'<text x="{centre:.1f}" y="{y0 - bar_h - TICK_GAP:.1f}" '
            f'text-anchor="middle">{n(count)}</text>'
            f'<text x="{centre:.1f}" y="{y0 + LABEL_DROP}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    body.append(x_axis(left, "days since last use (or since creation, if never used)"))
    desc = "; ".join(f"{label} days: {n(count)} keys" for label, count in buckets.items())
    return _svg("ages", "Stale keys by days since last use", desc, "".join(body))


def date_labels(xs: list[float], labels: list[str]) -> list[int]:
    """Which dates get a label: the first, then each that starts after the previous one
    ends, and always the last (dropping the one before it if they would touch)."""
    kept: list[int] = []
    for i, x in enumerate(xs):
        half = text_px(labels[i]) / 2
        if not kept or x - half >= xs[kept[-1]] + text_px(labels[kept[-1]]) / 2 + GAP:
            kept.append(i)
    last = len(xs) - 1
    if kept[-1] != last:
        while kept and xs[last] - text_px(labels[last]) / 2 < (
            xs[kept[-1]] + text_px(labels[kept[-1]]) / 2 + GAP
        ):
            kept.pop()
        kept.append(last)
    return kept


def trend_chart(runs: list[dict]) -> str:
    """A line of stale keys per run date (two or more), dates placed by time so gaps show."""
    days = [date.fromisoformat(r["date"]) for r in runs]
    span = (days[-1] - days[0]).days  # one point per date: at least a day
    top, step = nice_top(max(r["stale_keys"] for r in runs))
    left = plot_left(top)
    right = WIDTH - RIGHT_PAD - LAST_LABEL_ROOM
    y0, plot_h = HEIGHT - BOTTOM, HEIGHT - BOTTOM - TOP_PAD
    points = [
        (
            left + (right - left) * (days[i] - days[0]).days / span,
            y0 - plot_h * r["stale_keys"] / top,
        )
        for i, r in enumerate(runs)
    ]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    body = [y_axis(top, step, left), f'<polyline class="line" points="{line}"/>']
    if len(runs) <= POINTS_DRAWN:
        body += [
            f'<circle class="point" cx="{points[i][0]:.1f}" cy="{points[i][1]:.1f}" r="4">'
            f"<title>{r['date']}: {n(r['stale_keys'])} stale keys</title></circle>"
            for i, r in enumerate(runs)
        ]
    year = days[0].year
    one_year = days[-1].year == year
    labels = [r["date"][5:] if one_year else r["date"] for r in runs]
    xs = [x for x, _ in points]
    body += [
        f'<text x="{xs[i]:.1f}" y="{y0 + LABEL_DROP}" text-anchor="middle">{labels[i]}</text>'
        for i in date_labels(xs, labels)
    ]
    body.append(x_axis(left, f"run date{f', {year}' if one_year else ''} (UTC)"))
    desc = (
        f"From {n(runs[0]['stale_keys'])} stale keys on {runs[0]['date']} to "
        f"{n(runs[-1]['stale_keys'])} on {runs[-1]['date']}, over {len(runs)} run dates."
    )
    return _svg("trend", "Stale keys per run date", desc, "".join(body))
