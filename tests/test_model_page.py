"""The model page: the seed model pinned by a golden outline, and the diagram drawn from data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from site_builder.build import build_site

from conftest import BUILD_DATE, DATA_DATE, REPO
from htmltree import outline, parse

GOLDEN = Path(__file__).parent / "golden" / "llama-3.1-405b-instruct.txt"
SECTIONS = ["Cost", "Speed", "Why people cared", "Architecture", "Specs", "Benchmarks", "Recommended use cases",
            "Available quantizations", "Notable innovations", "Known limitations", "Lineage",
            "Providers and pricing", "Hardware requirements", "License terms", "Capabilities", "Lifecycle",
            "Recommended inference settings", "Where sources disagree", "Sources"]


@pytest.fixture(scope="module")
def real_site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "_site"
    build_site(REPO / "data", out, today=DATA_DATE)
    return out


@pytest.fixture
def fixture_site(catalog_dir):
    out = catalog_dir.parent / "_site"
    build_site(catalog_dir, out, today=BUILD_DATE)
    return out


def page(site: Path, model_id: str):
    return parse((site / "models" / model_id / "index.html").read_text())


def test_seed_page_matches_golden(real_site):
    main = page(real_site, "llama-3.1-405b-instruct").find("main")
    actual = "\n".join(outline(main)) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(actual)
    assert actual == GOLDEN.read_text(), "model page changed; review it and run UPDATE_GOLDEN=1 pytest"


def test_seed_page_sections_in_order(real_site):
    tree = page(real_site, "llama-3.1-405b-instruct")
    headings = [h.text() for h in tree.find("main").iter("h2")]
    assert headings == SECTIONS


def test_every_citation_links_to_a_listed_source(real_site):
    tree = page(real_site, "llama-3.1-405b-instruct")
    anchors = {li.attrs["id"] for li in tree.find("ol", **{"class": "sources"}).iter("li")}
    cites = [a.attrs["href"][1:] for a in tree.iter("a") if (a.attrs.get("href") or "").startswith("#source-")]
    assert cites and set(cites) <= anchors
    assert len(anchors) == 10
    for li in tree.find("ol", **{"class": "sources"}).iter("li"):
        assert li.find("time") is not None, li.text()  # every source shows its date


def test_seed_facts_and_disagreements(real_site):
    tree = page(real_site, "llama-3.1-405b-instruct")
    header = tree.find("header", **{"class": "model-header"})
    assert header.find("span", **{"class": "badge badge-source-available"}).text() == "Source-available"
    specs = {div.find("dt").text(): div.find("dd").text() for div in tree.find("section", id="specs").find_all("div", **{"class": "spec"})}
    assert specs["Total params"].startswith("405B (405,000,000,000)")
    assert specs["Context window"].startswith("131,072 tokens")
    assert specs["Pretraining tokens"].startswith("15.6T")
    assert "sources disagree" in specs["Total params"]
    hardware = tree.find("section", id="hardware").text()
    assert "810 GB" in hardware and "405 GB" in hardware and "202.5 GB" in hardware
    assert "405,000,000,000 parameters × 2 bytes" in hardware
    disagreements = tree.find("section", id="disagreements").text()
    for fragment in ("406B", "130815", "15T+", "sft, rlhf", "fp8 (model id)"):
        assert fragment in disagreements
    rows = [list(tr.find_all("td")) for tr in tree.find("section", id="benchmarks").iter("tr")][1:]
    humaneval = [r for r in rows if r[0].text() == "HumanEval"][0]
    assert humaneval[3].text() == "89.0%" and humaneval[4].text() == "2024-07-23"


def test_missing_values_say_not_reported(real_site):
    tree = page(real_site, "llama-3.1-405b-instruct")
    speed = tree.find("section", **{"aria-label": "Cost and speed"}).text()
    assert "not reported tok/sec output" in speed


def diagram_text(tree) -> str:
    return tree.find("figure", **{"class": "diagram"}).text()


def test_diagram_is_accessible_svg_with_linked_labels(fixture_site):
    tree = page(fixture_site, "tiny-dense")
    svg = tree.find("svg")
    assert svg.attrs["aria-labelledby"] == "diagram-title diagram-desc" and svg.find("title") and svg.find("desc")
    assert "Grouped-Query Attention" in diagram_text(tree) and "Dense MLP" in diagram_text(tree)
    linked = [a for a in svg.iter("a") if a.attrs["href"].startswith("#source-")]
    assert linked, "labels link to their sources"
    assert tree.find("g", **{"class": "experts"}) is None


def test_moe_and_mla_draw_differently(fixture_site):
    tree = page(fixture_site, "tiny-moe")
    text = diagram_text(tree)
    assert "Multi-head Latent Attention" in text and "latent rank 512" in text
    assert "Mixture of experts" in text and "64 experts, 6 active per token" in text and "+ 2 shared" in text
    assert "2.5B active of 16B parameters" in text
    cells = list(tree.find("g", **{"class": "experts"}).iter("rect"))
    assert len(cells) == 32 and sum(c.has_class("expert-on") for c in cells) == 6
    badges = tree.find("p", **{"class": "badges"}).text()
    assert "Open source" in badges and "Fully open" in badges


def test_a_sparse_architecture_draws_what_is_not_reported(catalog_dir, tmp_path):
    """Only type and parameters known: each missing part is drawn as missing, not left out."""
    import re

    model = catalog_dir / "models" / "tiny-dense.yaml"
    model.write_text(re.sub(r"\n  (context_window|attention|position_encoding|layers|hidden_size|attention_heads"
                            r"|kv_heads|vocab_size|activation): .*", "", model.read_text()))
    build_site(catalog_dir, tmp_path / "site", today=BUILD_DATE)
    tree = page(tmp_path / "site", "tiny-dense")
    text = diagram_text(tree)
    for gap in ("vocabulary not reported", "× N layers (not reported)", "Attention (type not reported)",
                "Position encoding not reported"):
        assert gap in text
    svg = tree.find("svg")
    # embedding and the three inner boxes lose their detail lines: 34 high each, the rest as before
    assert svg.attrs["viewbox"] == "0 0 400 " + str(8 + 28 + 24 + 50 + 24 + (40 + 34 * 3 + 24 + 14) + 24 + 34 + 24 + 34 + 24 + 28 + 8)
