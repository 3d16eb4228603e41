"""The charts' geometry: round axes, room for the widest tick label before the axis title,
date labels that never touch, and every label, bar and point inside the chart. (Chromium
measures the real glyphs in tests/e2e/overview/test_browser.py.)"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from c7n_keyage.overview.charts import (
    BAR_COLOURS,
    CHAR_PX,
    HEIGHT,
    TITLE_X,
    WIDTH,
    age_chart,
    date_labels,
    nice_top,
    plot_left,
    trend_chart,
)
from tests.support.page import parse


@pytest.mark.parametrize(
    "value, top",
    [(0, (1, 1)), (-3, (1, 1)), (1, (1, 1)), (5, (5, 1)), (7, (8, 2)), (10, (10, 2)),
     (11, (15, 5)), (50, (50, 10)), (51, (60, 20)), (99_999, (100_000, 20_000))],
)  # fmt: skip
def test_the_axis_top_is_round_and_has_at_most_six_ticks(value, top):
    assert nice_top(value) == top
    found, step = top
    assert found >= value and found % step == 0 and found // step <= 5


def test_the_plot_starts_after_the_title_and_the_widest_tick():
    assert plot_left(100_000) == round(TITLE_X + 4 + 8 + len("100,000") * CHAR_PX + 6)
    assert plot_left(5) == round(TITLE_X + 4 + 8 + CHAR_PX + 6)


def test_date_labels_never_touch_and_the_last_is_always_there():
    xs = [100 + 10 * i for i in range(30)]
    labels = ["11-04"] * 30
    kept = date_labels(xs, labels)
    assert kept[0] == 0 and kept[-1] == 29
    width = len("11-04") * CHAR_PX
    assert all(xs[b] - xs[a] >= width + 8 for a, b in zip(kept, kept[1:], strict=False))
    assert date_labels([100, 200], ["a", "b"]) == [0, 1]
    assert date_labels([100, 101], ["2026-11-04", "2026-11-05"]) == [1]


def boxes(svg: str) -> list[tuple[str, float, float, float, float]]:
    """Each text's box, from its anchor and CHAR_PX; the rotated title's from its centre."""
    found = []
    for node in parse(svg).iter("text"):
        x, y, label = float(node.attrs["x"]), float(node.attrs["y"]), node.text()
        width = len(label) * CHAR_PX
        if "transform" in node.attrs:  # rotated -90 about (x, y): glyphs left of x
            found.append((label, x - 10, x + 3, y - width / 2, y + width / 2))
            continue
        left = {"middle": x - width / 2, "end": x - width}.get(node.attrs["text-anchor"], x)
        found.append((label, left, left + width, y - 10, y + 3))
    return found


def overlaps(svg: str) -> list[tuple[str, str]]:
    found = boxes(svg)
    return [
        (a[0], b[0])
        for i, a in enumerate(found)
        for b in found[i + 1 :]
        if a[1] < b[2] and b[1] < a[2] and a[3] < b[4] and b[3] < a[4]
    ]


def inside(svg: str) -> bool:
    return all(0 <= b[1] and b[2] <= WIDTH and 0 <= b[3] and b[4] <= HEIGHT for b in boxes(svg))


@pytest.mark.parametrize("top", [0, 9, 95, 9_500, 95_000])
def test_no_label_of_the_age_chart_overlaps_another(top):
    svg = age_chart({"0-90": 0, "91-180": top // 3, "181-365": top, "366-730": 1, "731+": 7})
    assert overlaps(svg) == [] and inside(svg)
    bars = list(parse(svg).iter("rect"))
    assert len(bars) == 5 and all(float(b.attrs["y"]) >= 24 for b in bars)


@pytest.mark.parametrize("dates, top", [(2, 10), (5, 140), (40, 1_500), (365, 99_000)])
def test_no_label_of_the_trend_overlaps_another(dates, top):
    first = date(2026, 1, 1)
    runs = [
        {"date": (first + timedelta(days=d)).isoformat(), "stale_keys": top - d}
        for d in range(dates)
    ]
    svg = trend_chart(runs)
    assert overlaps(svg) == [] and inside(svg)
    points = parse(svg).find("polyline").attrs["points"].split()
    assert len(points) == dates
    assert len(list(parse(svg).iter("circle"))) == (dates if dates <= 60 else 0)


def test_a_trend_over_two_years_labels_dates_in_full():
    runs = [{"date": "2025-12-30", "stale_keys": 3}, {"date": "2026-01-02", "stale_keys": 4}]
    texts = [t.text() for t in parse(trend_chart(runs)).iter("text")]
    assert "2025-12-30" in texts and "run date (UTC)" in texts
    one_year = [{"date": "2026-12-01", "stale_keys": 3}, {"date": "2026-12-02", "stale_keys": 4}]
    texts = [t.text() for t in parse(trend_chart(one_year)).iter("text")]
    assert "12-01" in texts and "run date, 2026 (UTC)" in texts


def plotted(svg: str) -> list[tuple[float, float]]:
    line = parse(svg).find("polyline").attrs["points"].split()
    return [tuple(map(float, point.split(","))) for point in line]


def test_the_trend_places_dates_by_time_and_keys_by_height_inside_the_plot():
    runs = [
        {"date": "2026-11-01", "stale_keys": 40},
        {"date": "2026-11-02", "stale_keys": 10},
        {"date": "2026-11-05", "stale_keys": 0},
    ]
    svg = trend_chart(runs)
    (x0, y0), (x1, y1), (x2, y2) = plotted(svg)
    assert x2 - x1 == pytest.approx(3 * (x1 - x0), abs=0.3)  # three days, then one
    lines = list(parse(svg).iter("line"))
    grid = [float(line.attrs["y1"]) for line in lines if line.attrs["class"] == "grid"]
    axis_y, top_y = max(grid), min(grid)
    assert y2 == axis_y and y0 == top_y and top_y < y1 < axis_y  # 40 is the axis top
    assert y1 == pytest.approx(axis_y - (axis_y - top_y) / 4, abs=0.15)
    lefts = {float(line.attrs["x1"]) for line in lines}
    assert lefts == {x0}  # the line starts at the axis
    assert x2 < WIDTH and [c.attrs["cx"] for c in parse(svg).iter("circle")] == [
        f"{x:.1f}" for x in (x0, x1, x2)
    ]


def test_a_trend_across_new_year_names_the_dates_in_full():
    runs = [{"date": d, "stale_keys": 1} for d in ("2025-12-30", "2025-12-31", "2026-01-02")]
    texts = [t.text() for t in parse(trend_chart(runs)).iter("text")]
    assert "2026-01-02" in texts and "run date (UTC)" in texts


def test_a_label_just_clear_of_the_previous_one_is_kept():
    width = 5 * CHAR_PX  # "11-04"
    clear = width + 8  # the previous one's half, the gap, this one's half
    assert date_labels([100, 100 + clear, 100 + 2 * clear], ["11-04"] * 3) == [0, 1, 2]
    assert date_labels([100, 100 + clear - 0.1, 100 + 2 * clear], ["11-04"] * 3) == [0, 2]
    # The last is always labelled; the one before it goes when they would touch.
    assert date_labels([100, 100 + clear, 100 + clear + 1], ["11-04"] * 3) == [0, 2]
    assert date_labels([100, 100 + 2 * clear - 0.1], ["11-04"] * 2) == [0, 1]
    # The last, at its label's width past the first, stands with it once the middle goes.
    assert date_labels([100, 100 + clear, 100 + clear], ["11-04"] * 3) == [0, 2]


def test_the_trend_draws_a_dot_per_date_up_to_60_dates():
    first = date(2026, 1, 1)
    for dates, dots in ((60, 60), (61, 0)):
        runs = [{"date": (first + timedelta(d)).isoformat(), "stale_keys": 5} for d in range(dates)]
        assert len(list(parse(trend_chart(runs)).iter("circle"))) == dots


def geometry(svg: str) -> dict:
    page = parse(svg)
    lines = list(page.iter("line"))
    grid = [ln for ln in lines if ln.attrs["class"] == "grid"]
    (axis,) = [ln for ln in lines if ln.attrs["class"] == "axis"]
    texts = list(page.iter("text"))
    return {"grid": grid, "axis": axis, "texts": texts, "page": page}


@pytest.mark.parametrize("top", [3, 5, 9, 95, 95_000])
def test_the_y_axis_labels_each_grid_line_before_the_plot(top):
    svg = age_chart({"0-90": top, "91-180": 1, "181-365": 0, "366-730": 2, "731+": 1})
    found = geometry(svg)
    axis_top, step = nice_top(top)
    assert len(found["grid"]) == axis_top // step + 1
    left = float(found["grid"][0].attrs["x1"])
    ticks = [t for t in found["texts"] if t.attrs.get("text-anchor") == "end"]
    assert [t.text() for t in ticks] == [f"{v:,}" for v in range(0, axis_top + 1, step)]
    for line, tick in zip(found["grid"], ticks, strict=True):
        assert float(line.attrs["x2"]) == WIDTH - 24 and float(line.attrs["x1"]) == left
        assert float(tick.attrs["x"]) == left - 6  # ends before the plot, right-aligned
        assert float(tick.attrs["y"]) - float(line.attrs["y1"]) == pytest.approx(4, abs=0.11)
    (title,) = [t for t in found["texts"] if "transform" in t.attrs]
    lowest, highest = (float(found["grid"][i].attrs["y1"]) for i in (0, -1))
    assert float(title.attrs["y"]) == pytest.approx((lowest + highest) / 2, abs=0.6)
    assert title.text() == "stale keys"


def test_the_x_axis_lies_on_zero_with_its_title_centred_below():
    for svg in (age_chart(dict.fromkeys(("a", "b"), 3)), trend_chart([
        {"date": "2026-11-01", "stale_keys": 3}, {"date": "2026-11-02", "stale_keys": 1}
    ])):  # fmt: skip
        found = geometry(svg)
        axis, zero = found["axis"], found["grid"][0]
        assert (axis.attrs["y1"], axis.attrs["x1"]) == (f"{float(zero.attrs['y1']):g}",
                                                         zero.attrs["x1"])  # fmt: skip
        assert float(axis.attrs["x2"]) == WIDTH - 24
        title = found["texts"][-1]
        middle = (float(axis.attrs["x1"]) + float(axis.attrs["x2"])) / 2
        assert abs(float(title.attrs["x"]) - middle) <= 0.5
        assert HEIGHT - 12 < float(title.attrs["y"]) < HEIGHT


def test_each_bar_stands_on_the_axis_in_its_own_slot_with_its_count_above():
    buckets = {"0-90": 0, "91-180": 12, "181-365": 40, "366-730": 7, "731+": 25}
    svg = age_chart(buckets)
    found = geometry(svg)
    bars = list(found["page"].iter("rect"))
    axis_y, left = float(found["axis"].attrs["y1"]), float(found["axis"].attrs["x1"])
    right = float(found["axis"].attrs["x2"])
    edges = [(float(b.attrs["x"]), float(b.attrs["x"]) + float(b.attrs["width"])) for b in bars]
    assert left < edges[0][0] and edges[-1][1] < right
    assert all(a[1] < b[0] for a, b in zip(edges, edges[1:], strict=False))  # apart
    assert [b.attrs["fill"] for b in bars] == list(BAR_COLOURS)
    counts = {str(v) for v in buckets.values()}
    values = [
        t
        for t in found["texts"]
        if t.attrs["text-anchor"] == "middle"
        and float(t.attrs["y"]) < axis_y
        and "transform" not in t.attrs
    ]
    assert {v.text() for v in values} <= counts
    for bar, value, (start, end) in zip(bars, values, edges, strict=True):
        top = float(bar.attrs["y"])
        assert top + float(bar.attrs["height"]) == pytest.approx(axis_y, abs=0.11)
        assert float(value.attrs["x"]) == pytest.approx((start + end) / 2, abs=0.11)
        assert float(value.attrs["y"]) < top
    assert [v.text() for v in values] == ["0", "12", "40", "7", "25"]


def test_the_charts_say_what_they_show():
    ages = parse(age_chart({"0-90": 1, "91-180": 2}))
    assert ages.find("title").text() == "Stale keys by days since last use"
    assert ages.find("desc").text() == "0-90 days: 1 keys; 91-180 days: 2 keys"
    assert ages.find("svg").attrs["aria-labelledby"] == "ages-title ages-desc"
    assert list(ages.iter("text"))[-1].text() == (
        "days since last use (or since creation, if never used)"
    )
    trend = parse(trend_chart([{"date": "2026-11-01", "stale_keys": 1234},
                               {"date": "2026-11-03", "stale_keys": 5}]))  # fmt: skip
    assert trend.find("title").text() == "Stale keys per run date"
    assert trend.find("desc").text() == (
        "From 1,234 stale keys on 2026-11-01 to 5 on 2026-11-03, over 2 run dates."
    )
    assert trend.find("svg").attrs["aria-labelledby"] == "trend-title trend-desc"
