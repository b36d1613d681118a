"""Markdown is rendered inert; templates escape everything."""

from __future__ import annotations

from site_builder.render import markdown_block, markdown_inline


def test_raw_html_is_escaped():
    html = str(markdown_block("<script>alert(1)</script> <iframe src=x></iframe> <b onclick=x>b</b>"))
    assert "<script>" not in html and "<iframe" not in html and "<b " not in html
    assert "&lt;script&gt;" in html


def test_unsafe_link_schemes_are_not_links():
    for url in ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html;base64,x", "vbscript:x", "file:///etc"]:
        html = str(markdown_inline(f"[x]({url})"))
        assert "<a" not in html, url


def test_safe_links_are_kept():
    assert '<a href="https://example.org">' in str(markdown_inline("[x](https://example.org)"))
    assert '<a href="mailto:a@b.c">' in str(markdown_inline("[x](mailto:a@b.c)"))
    assert '<a href="/models/x/">' in str(markdown_inline("[x](/models/x/)"))
    assert '<a href="#sources">' in str(markdown_inline("[x](#sources)"))


def test_images_are_not_rendered():
    assert "<img" not in str(markdown_block("![x](https://tracker.example/pixel.png)"))


def test_charts_drawn_in_python_escape_labels_and_link_each_point():
    """charts.scatter_svg / timeline_svg and their table rows (the charts page's loops, moved out
    of Jinja for speed) escape every text and link each point to its model page."""
    from htmltree import parse

    from site_builder.charts import Chart, Point, Tick, scatter_rows, scatter_svg, timeline_rows, timeline_svg

    points = (Point("a", 'A <b> & "c"', 100.0, 50.0, "$1.00", "88.6", "2024-12", "start"),
              Point("z", "Z", 600.0, 80.25, "$9.00", "70.1", "2025-01", "end"))
    chart = Chart("T & t", "D <d>", "x", "y", points, (Tick(100.0, "$0"),), (Tick(50.0, "0"),), rows=((34, "Org <o>"),))
    url = lambda path: "/base" + path
    for draw in (scatter_svg, timeline_svg):
        svg = parse(str(draw(chart, "c", url)))
        assert svg.find("title").text() == "T & t" and svg.find("desc").text() == "D <d>"
        assert [a.attrs["href"] for a in svg.iter("a")] == ["/base/models/a/", "/base/models/z/"]
    labels = [t for t in parse(str(scatter_svg(chart, "c", url))).iter("text") if t.attrs.get("class") == "point-label"]
    assert [(t.text(), t.attrs["x"], t.attrs["text-anchor"]) for t in labels] == [
        ('A <b> & "c"', "108.0", "start"), ("Z", "592.0", "end")]  # labels beside their points
    timeline = parse(str(timeline_svg(chart, "c", url)))
    assert any(t.text() == "Org <o>" for t in timeline.iter("text"))
    for rows in (scatter_rows, timeline_rows):
        table = parse(f"<table><tbody>{rows(chart, url)}</tbody></table>")
        assert [th.text() for th in table.iter("th")] == ['A <b> & "c"', "Z"]
