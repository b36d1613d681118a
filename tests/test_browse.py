"""Browsing pages: every link resolves, every model is where it belongs, leaderboards stay honest."""

from __future__ import annotations

import pytest

from site_builder.build import build_site
from site_builder.catalog import load_catalog
from site_builder.facets import setting_key

from conftest import BUILD_DATE, DATA_DATE, REPO, edit
from htmltree import parse
from sitecrawl import broken_links


@pytest.fixture(scope="module")
def real_site(tmp_path_factory):
    out = tmp_path_factory.mktemp("browse") / "_site"
    build_site(REPO / "data", out, today=DATA_DATE)
    return out


def row_ids(html_file) -> list[str]:
    tree = parse(html_file.read_text())
    return [tr.attrs["data-id"] for tr in tree.iter("tr") if tr.attrs.get("data-id")]


def test_every_internal_link_anchor_and_asset_resolves(real_site):
    assert broken_links(real_site) == []


def test_every_model_appears_on_index_and_its_facet_pages(real_site):
    catalog = load_catalog(REPO / "data", DATA_DATE)
    index = row_ids(real_site / "index.html")
    assert sorted(index) == sorted(catalog.models)
    for model_id, model in catalog.models.items():
        assert model_id in row_ids(real_site / f"organizations/{model.organization}/index.html")
        assert model_id in row_ids(real_site / f"licenses/{model.license_id}/index.html")
        if model.family:
            family_page = parse((real_site / f"families/{model.family}/index.html").read_text())
            timeline = family_page.find("ol", **{"class": "timeline"})
            assert f"/models/{model_id}/" in [a.attrs["href"] for a in timeline.iter("a")]


def test_facet_indexes_list_every_entity(real_site):
    catalog = load_catalog(REPO / "data", DATA_DATE)
    for kind in ("organizations", "licenses", "families", "providers", "formats", "benchmarks"):
        tree = parse((real_site / kind / "index.html").read_text())
        linked = {a.attrs["href"] for a in tree.find("main").iter("a")}
        for entity_id in getattr(catalog, kind):
            assert f"/{kind}/{entity_id}/" in linked


def test_benchmarks_index_counts_every_score_in_the_catalog(real_site):
    catalog = load_catalog(REPO / "data", DATA_DATE)
    expected = {bench_id: 0 for bench_id in catalog.benchmarks}
    for model in catalog.models.values():
        for score in model.benchmarks:
            expected[score.benchmark] += 1
    tree = parse((real_site / "benchmarks" / "index.html").read_text())
    shown = {}
    for row in tree.find("tbody").iter("tr"):
        href = row.find("a").attrs["href"]
        shown[href.rstrip("/").rsplit("/", 1)[-1]] = int(list(row.find_all("td"))[-1].text().strip())
    assert shown == expected
    assert any(expected.values())


def test_leaderboards_never_rank_different_settings_together(real_site):
    catalog = load_catalog(REPO / "data", DATA_DATE)
    checked = 0
    for bench_id in catalog.benchmarks:
        tree = parse((real_site / f"benchmarks/{bench_id}/index.html").read_text())
        for section in tree.find_all("section", **{"class": "leaderboard"}):
            settings = {setting_key(list(tr.find_all("td"))[2].text()) for tr in section.iter("tr") if tr.find("td")}
            assert settings == {setting_key(section.attrs["data-setting"])}, (bench_id, settings)
            ranks = [int(list(tr.find_all("td"))[0].text()) for tr in section.iter("tr") if tr.find("td")]
            assert ranks == sorted(ranks) and ranks[0] == 1
            checked += 1
    assert checked > 20


def test_leaderboard_groups_by_setting_and_shares_ranks_on_ties(catalog_dir):
    path = catalog_dir / "models/tiny-moe.yaml"
    edit(path, "sources:\n", "benchmarks:\n"
         "  - {benchmark: mmlu, setting: 5-shot, score: 66.7, date: 2024-09-01, source: card}\n"
         "  - {benchmark: mmlu, setting: 0-shot CoT, score: 80.0, date: 2024-09-01, source: card}\n"
         "sources:\n")
    catalog = load_catalog(catalog_dir, BUILD_DATE)
    groups = catalog.facets.leaderboards["mmlu"]
    assert [(g.setting, [(e.model_id, e.rank) for e in g.entries]) for g in groups] == [
        ("5-shot", [("tiny-dense", 1), ("tiny-moe", 1)]),
        ("0-shot CoT", [("tiny-moe", 1)]),
    ]


def test_provider_page_lists_offers_with_dates(real_site):
    tree = parse((real_site / "providers/together/index.html").read_text())
    row = next(tr for tr in tree.find("main").iter("tr") if tr.find("th", scope="row"))
    cells = [c.text() for c in row.find_all("td")]
    assert "$3.50" in cells and any("2024-12" in c for c in cells)


def test_charts_are_accessible_svg_with_table_fallback(real_site):
    tree = parse((real_site / "charts/index.html").read_text())
    for svg in tree.iter("svg"):
        assert svg.find("title").text() and svg.find("desc").text()
    tables = list(tree.find("main").iter("table"))
    assert len(tables) == 2
    timeline_rows = [tr for tr in tables[1].iter("tr") if tr.find("th", scope="row")]
    assert len(timeline_rows) == 33


def test_pages_read_without_javascript(real_site):
    """The filter form is hidden until script enables it; the full table is in the HTML."""
    tree = parse((real_site / "index.html").read_text())
    assert "hidden" in tree.find("form", id="filters").attrs
    assert len(row_ids(real_site / "index.html")) == 33
