"""Static charts laid out at build time and drawn as inline SVG, each with its data as a table."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Callable

from markupsafe import Markup

from .catalog import Catalog
from .render import escape_text
from .tracking import read_value

WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 56, 24, 20, 44
TIMELINE_LEFT = 215  # room for the longest organization name


@dataclass(frozen=True)
class Point:
    model_id: str
    label: str
    x: float
    y: float
    x_value: str
    y_value: str
    as_of: str
    anchor: str = "start"
    """Where the label sits: 'start' (right of the point) or 'end' (left of it, near the right edge)."""


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    title: str
    description: str
    x_label: str
    y_label: str
    points: tuple[Point, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    rows: tuple[tuple[float, str], ...] = ()
    """Row guides for the timeline: (y, organization name)."""
    width: int = WIDTH
    height: int = HEIGHT


def _scale(value: float, low: float, high: float, start: float, end: float) -> float:
    if high == low:
        return (start + end) / 2
    return start + (value - low) / (high - low) * (end - start)


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high == low:
        return [low]
    step = (high - low) / (count - 1)
    return [low + i * step for i in range(count)]


def price_vs_score(catalog: Catalog) -> Chart | None:
    """Blended price against the benchmark group that covers the most priced models."""
    priced = {m: d.cheapest for m, d in catalog.derived.items() if d.cheapest}
    best = None
    for bench_id, groups in catalog.facets.leaderboards.items():
        for group in groups:
            covered = [e for e in group.entries if e.model_id in priced]
            unique = {e.model_id: e for e in reversed(covered)}  # one point per model: its best score
            key = (len(unique), bench_id, group.setting)
            if unique and (best is None or key[0] > best[0][0]):
                best = (key, bench_id, group, unique)
    if best is None:
        return None
    _, bench_id, group, entries = best
    bench = catalog.benchmarks[bench_id]
    xs = [priced[m].blended for m in entries]
    x_low, x_high = 0.0, max(xs) * 1.1 or 1.0
    y_low, y_high = bench.min, bench.max
    points = tuple(sorted((
        Point(m, catalog.models[m].name,
              _scale(priced[m].blended, x_low, x_high, LEFT, WIDTH - RIGHT),
              _scale(e.score.score, y_low, y_high, HEIGHT - BOTTOM, TOP),
              f"${priced[m].blended:,.2f}", f"{e.score.score!r}", str(priced[m].offer.as_of),
              "end" if priced[m].blended > x_high * 0.6 else "start")
        for m, e in entries.items()), key=lambda p: p.model_id))
    return Chart(
        title=f"Blended price against {bench.name} ({group.setting})",
        description=(f"{len(points)} models with both a dated price and a {bench.name} {group.setting} score. "
                     "Price is (3 × input + output) ÷ 4 in US dollars per million tokens, from each model's "
                     "cheapest standard offer; each point's as-of date is in the table below."),
        x_label="Blended price, $ per million tokens", y_label=f"{bench.name} score",
        points=points,
        x_ticks=tuple(Tick(_scale(v, x_low, x_high, LEFT, WIDTH - RIGHT), f"${v:,.2f}") for v in _ticks(x_low, x_high)),
        y_ticks=tuple(Tick(_scale(v, y_low, y_high, HEIGHT - BOTTOM, TOP), f"{v:g}") for v in _ticks(y_low, y_high)),
    )


def release_timeline(catalog: Catalog) -> Chart | None:
    """Every model on a time axis, one row per organization."""
    if not catalog.models:
        return None
    # Each model's three fields are recorded as read one by one (tracking.read_value), not its
    # whole file: the timeline, kept between builds as a section (render.SECTIONS), is drawn
    # again when one of them changes, not on every edit of a model file.
    models = {m: (read_value(catalog, ("models", m, "released")), read_value(catalog, ("models", m, "name")),
                  read_value(catalog, ("models", m, "organization"))) for m in catalog.models}
    dates = {m: released.earliest() for m, (released, _, _) in models.items()}
    low, high = min(dates.values()), max(dates.values())
    org_names = {o: catalog.organizations[o].name for o in {organization for _, _, organization in models.values()}}
    orgs = sorted(org_names, key=lambda o: org_names[o].lower())
    height = TOP + BOTTOM + 28 * len(orgs)
    row_y = {o: TOP + 14 + 28 * i for i, o in enumerate(orgs)}
    left = TIMELINE_LEFT
    first, last = low.toordinal(), high.toordinal()
    points = tuple(
        Point(m, name, _scale(dates[m].toordinal(), first, last, left, WIDTH - RIGHT),
              row_y[organization], str(released), org_names[organization], "")
        for m, (released, name, organization) in ((m, models[m]) for m in catalog.facets.newest_first))
    years = range(low.year, high.year + 2)
    ticks = tuple(Tick(_scale(datetime.date(y, 1, 1).toordinal(), first, last, left, WIDTH - RIGHT), str(y))
                  for y in years if low <= datetime.date(y, 1, 1) <= high)
    return Chart(
        title="Release timeline of the catalog",
        description=f"{len(points)} models by release date, one row per organization, from {low} to {high}.",
        x_label="Release date", y_label="Organization", points=points, x_ticks=ticks, y_ticks=(),
        rows=tuple((row_y[o], org_names[o]) for o in orgs), height=height,
    )


# --- drawing ------------------------------------------------------------------------------------
# The charts page draws every model of the catalog twice (a point and a table row), so these are
# Python rather than Jinja loops: at 10,000 models the page took 1.1 s to render in Jinja, and
# a score edit renders it again (it was the slowest page of a one-model edit).

def _figure(chart: Chart, chart_id: str, axis: str, points: str, caption: str) -> Markup:
    return Markup(
        '<figure class="chart">\n'
        f'<svg viewBox="0 0 {chart.width} {chart.height}" aria-labelledby="{escape_text(chart_id)}-title '
        f'{escape_text(chart_id)}-desc" xmlns="http://www.w3.org/2000/svg">\n'
        f'<title id="{escape_text(chart_id)}-title">{escape_text(chart.title)}</title>\n'
        f'<desc id="{escape_text(chart_id)}-desc">{escape_text(chart.description)}</desc>\n'
        f'<g class="axis">\n{axis}</g>\n{points}</svg>\n'
        f'<figcaption>{caption}</figcaption>\n</figure>')


def scatter_svg(chart: Chart, chart_id: str, url: Callable[[str], str]) -> Markup:
    """The price-against-score chart: axes, then each point with its label beside it."""
    width, height = chart.width, chart.height
    axis = "".join(
        f'<line x1="56" x2="{width - 24}" y1="{t.position:.1f}" y2="{t.position:.1f}" class="grid"/>'
        f'<text x="50" y="{t.position + 4:.1f}" text-anchor="end">{escape_text(t.label)}</text>' for t in chart.y_ticks)
    axis += "".join(f'<text x="{t.position:.1f}" y="{height - 24}" text-anchor="middle">{escape_text(t.label)}</text>'
                    for t in chart.x_ticks)
    axis += (f'<text x="{width / 2}" y="{height - 4}" text-anchor="middle" class="axis-label">'
             f'{escape_text(chart.x_label)}</text>\n')
    points = "".join(
        f'<a href="{escape_text(url("/models/" + p.model_id + "/"))}"><circle cx="{p.x:.1f}" cy="{p.y:.1f}" r="5" '
        f'class="point"/><text x="{p.x + (8 if p.anchor == "start" else -8):.1f}" y="{p.y + 4:.1f}" '
        f'text-anchor="{escape_text(p.anchor)}" class="point-label">{escape_text(p.label)}</text></a>\n' for p in chart.points)
    return _figure(chart, chart_id, axis, points, escape_text(chart.description))


def timeline_svg(chart: Chart, chart_id: str, url: Callable[[str], str]) -> Markup:
    """The release timeline: a row per organization, a year per tick, a point per model."""
    width, height = chart.width, chart.height
    axis = "".join(f'<line x1="215" x2="{width - 24}" y1="{y}" y2="{y}" class="grid"/>'
                   f'<text x="209" y="{y + 4}" text-anchor="end">{escape_text(name)}</text>' for y, name in chart.rows)
    axis += "".join(
        f'<line x1="{t.position:.1f}" x2="{t.position:.1f}" y1="20" y2="{height - 40}" class="grid"/>'
        f'<text x="{t.position:.1f}" y="{height - 24}" text-anchor="middle">{escape_text(t.label)}</text>'
        for t in chart.x_ticks)
    points = "".join(
        f'<a href="{escape_text(url("/models/" + p.model_id + "/"))}"><circle cx="{p.x:.1f}" cy="{p.y:.1f}" r="5" '
        f'class="point"><title>{escape_text(p.label)} ({escape_text(p.x_value)})</title></circle></a>\n' for p in chart.points)
    caption = f"{escape_text(chart.description)} Hover or focus a point for its name; the table below lists every model."
    return _figure(chart, chart_id, axis, points, caption)


def scatter_rows(chart: Chart, url: Callable[[str], str]) -> Markup:
    """The rows of the table under the scatter chart: its data, readable without the picture."""
    return Markup("".join(
        f'<tr><th scope="row"><a href="{escape_text(url("/models/" + p.model_id + "/"))}">{escape_text(p.label)}</a></th>'
        f'<td class="num">{escape_text(p.x_value)}</td><td><time datetime="{escape_text(p.as_of)}">{escape_text(p.as_of)}</time></td>'
        f'<td class="num">{escape_text(p.y_value)}</td></tr>' for p in chart.points))


def timeline_rows(chart: Chart, url: Callable[[str], str]) -> Markup:
    """The rows of the table under the timeline."""
    return Markup("".join(
        f'<tr><td><time datetime="{escape_text(p.x_value)}">{escape_text(p.x_value)}</time></td><th scope="row">'
        f'<a href="{escape_text(url("/models/" + p.model_id + "/"))}">{escape_text(p.label)}</a></th><td>{escape_text(p.y_value)}</td></tr>'
        for p in chart.points))
