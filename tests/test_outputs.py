"""Machine-readable outputs: Atom feed, sitemap, robots.txt, JSON API, JSON Schema, page metadata.

Every file is read with a real parser (feedparser, ElementTree, json, urllib.robotparser, the
HTML tree builder) and every JSON document is validated against the published schema.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.robotparser import RobotFileParser

import feedparser
import jsonschema
import pytest

from site_builder.build import build_site
from site_builder.catalog import load_catalog
from site_builder.feed import FEED_ENTRIES, build_feed
from site_builder.loader import load_file
from site_builder.published_schema import schema_file_names, schema_files
from site_builder.schema import ModelFile

from conftest import BUILD_DATE, BUILD_EPOCH, DATA_DATE, FIXTURE, REPO, edit
from htmltree import parse

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
COMMITTED_SCHEMA = REPO / "schema"
SCHEMA_LINE = "# yaml-language-server: $schema="


@pytest.fixture(scope="module")
def fixture_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("outputs-fixture") / "_site"
    build_site(FIXTURE, out, today=BUILD_DATE)
    return out, load_catalog(FIXTURE, BUILD_DATE)


@pytest.fixture(scope="module")
def real_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("outputs-real") / "_site"
    build_site(REPO / "data", out, today=DATA_DATE)
    return out, load_catalog(REPO / "data", DATA_DATE)


@pytest.fixture(params=["fixture_build", "real_build"])
def built(request):
    return request.getfixturevalue(request.param)


def site_file(site: Path, base_url: str, url: str) -> Path:
    """The built file an absolute url of the site points at."""
    assert url.startswith(base_url), url
    path = url[len(base_url):].lstrip("/")
    return site / (path + "index.html" if path.endswith("/") or not path else path)


def html_files(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "pagefind" not in p.parts)


def raw_text(node) -> str:
    return "".join(child for child in node.children if isinstance(child, str))


def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((COMMITTED_SCHEMA / f"{name}.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


# --- Atom feed ----------------------------------------------------------------------------

def test_feed_is_valid_atom_with_two_entries_per_model(built):
    site, catalog = built
    raw = (site / "feed.xml").read_bytes()
    parsed = feedparser.parse(raw)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert len(parsed.entries) == min(2 * len(catalog.models), FEED_ENTRIES)

    root = ET.fromstring(raw)
    assert root.tag == f"{ATOM}feed"
    # RFC 4287 4.1.1: a feed has id, title, updated, an author, and a self link.
    for required in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{required}") is not None, required
    self_link = root.find(f"{ATOM}link[@rel='self']").get("href")
    assert self_link == catalog.site.base_url.rstrip("/") + "/feed.xml"
    ids = [entry.find(f"{ATOM}id").text for entry in root.iter(f"{ATOM}entry")]
    assert len(set(ids)) == len(ids) and all(i.startswith("tag:") for i in ids)
    for entry in parsed.entries:
        assert site_file(site, catalog.site.base_url.rstrip("/"), entry.link).is_file()


def test_feed_lists_releases_newest_first_and_each_addition(fixture_build):
    site, catalog = fixture_build
    parsed = feedparser.parse((site / "feed.xml").read_bytes())
    updated = [entry.updated for entry in parsed.entries]
    assert updated == sorted(updated, reverse=True)
    released = [e for e in parsed.entries if {"term": "released", "scheme": None, "label": None} in e.tags]
    newest_first = sorted(catalog.models, key=lambda i: catalog.models[i].released, reverse=True)
    assert [e.link.rstrip("/").rsplit("/", 1)[-1] for e in released] == newest_first
    added = {e.link.rstrip("/").rsplit("/", 1)[-1]: e.updated[:10] for e in parsed.entries
             if {"term": "added", "scheme": None, "label": None} in e.tags}
    assert added == {i: str(m.added) for i, m in catalog.models.items()}


def test_feed_holds_only_the_newest_events(catalog_dir, monkeypatch):
    catalog = load_catalog(catalog_dir, BUILD_DATE)
    everything = feedparser.parse(build_feed(catalog)).entries
    assert len(everything) == 2 * len(catalog.models) > 3
    monkeypatch.setattr("site_builder.facets.FEED_ENTRIES", 3)
    newest = feedparser.parse(build_feed(load_catalog(catalog_dir, BUILD_DATE))).entries
    assert [e.id for e in newest] == [e.id for e in everything[:3]]


def test_feed_ids_survive_corrections_and_the_build_date(catalog_dir):
    before = build_feed(load_catalog(catalog_dir, BUILD_DATE))
    assert build_feed(load_catalog(catalog_dir, DATA_DATE)) == before  # the build date is not in the feed
    edit(catalog_dir / "models/tiny-dense.yaml", "name: Tiny Dense 8B", "name: Tiny Dense 8B (renamed)")
    edit(catalog_dir / "models/tiny-dense.yaml", "release_date: 2024-07-23", "release_date: 2024-07-22")
    after = build_feed(load_catalog(catalog_dir, BUILD_DATE))
    ids = lambda raw: [e.find(f"{ATOM}id").text for e in ET.fromstring(raw).iter(f"{ATOM}entry")]
    assert after != before and sorted(ids(after)) == sorted(ids(before))


def test_feed_stays_well_formed_with_markup_in_names(catalog_dir):
    edit(catalog_dir / "models/tiny-dense.yaml", "name: Tiny Dense 8B", 'name: "Tiny <Dense> & 8B"')
    raw = build_feed(load_catalog(catalog_dir, BUILD_DATE))
    parsed = feedparser.parse(raw)
    assert not parsed.bozo
    titles = [e.find(f"{ATOM}title").text for e in ET.fromstring(raw).iter(f"{ATOM}entry")]
    assert "Tiny <Dense> & 8B released" in titles


def test_every_page_links_the_feed(fixture_build):
    site, _ = fixture_build
    for file in html_files(site):
        tree = parse(file.read_text())
        alternate = tree.find("link", rel="alternate", type="application/atom+xml")
        assert alternate is not None and alternate.attrs["href"] == "/feed.xml", file
        header_links = [a.attrs.get("href") for a in tree.find("header").iter("a")]
        assert "/feed.xml" in header_links, file


# --- sitemap and robots.txt ---------------------------------------------------------------

def test_sitemap_lists_every_page_and_only_pages_that_exist(built):
    site, catalog = built
    root = ET.fromstring((site / "sitemap.xml").read_bytes())
    assert root.tag == f"{SITEMAP}urlset"
    urls = [loc.text for loc in root.iter(f"{SITEMAP}loc")]
    base = catalog.site.base_url.rstrip("/")
    assert len(urls) == len(set(urls))
    files = {site_file(site, base, url) for url in urls}
    assert all(f.is_file() for f in files)
    assert files == set(html_files(site)) - {site / "404.html"}


def test_a_base_url_with_a_path_prefixes_every_absolute_url(catalog_dir):
    """Project sites (https://host/catalog/) keep the path in sitemap, feed links and tag ids."""
    edit(catalog_dir / "site.yaml", "base_url: https://catalog.test/", "base_url: https://host.test/catalog/")
    out = catalog_dir.parent / "_site"
    build_site(catalog_dir, out, today=BUILD_DATE)
    locs = [loc.text for loc in ET.fromstring((out / "sitemap.xml").read_bytes()).iter(f"{SITEMAP}loc")]
    assert locs and all(site_file(out, "https://host.test/catalog", url).is_file() for url in locs)
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert all(site_file(out, "https://host.test/catalog", e.link).is_file() for e in feed.entries)
    assert feed.entries[0].id == "tag:host.test,2024-09-02:catalog/models/tiny-moe/added"


def test_robots_txt_allows_crawling_and_names_the_sitemap(fixture_build):
    site, catalog = fixture_build
    robots = RobotFileParser()
    robots.parse((site / "robots.txt").read_text().splitlines())
    assert robots.site_maps() == [catalog.site.base_url + "sitemap.xml"]
    assert robots.can_fetch("*", catalog.site.base_url + "models/tiny-dense/")


# --- JSON API -------------------------------------------------------------------------------

def test_every_json_file_parses_and_api_files_validate(built):
    site, catalog = built
    documents = {p.relative_to(site).as_posix(): json.loads(p.read_text()) for p in site.rglob("*.json")
                 if "pagefind" not in p.parts}
    assert "api/models.json" in documents and "api/catalog.json" in documents
    validator("api-models").validate(documents["api/models.json"])
    validator("api-catalog").validate(documents["api/catalog.json"])
    one_model = validator("api-model")
    for model_id in catalog.models:
        one_model.validate(documents[f"api/models/{model_id}.json"])


def test_api_documents_carry_version_date_and_stable_keys(fixture_build):
    site, catalog = fixture_build
    listing = json.loads((site / "api/models.json").read_text())
    assert (listing["version"], listing["as_of"]) == (2, BUILD_DATE.isoformat())
    assert [m["id"] for m in listing["models"]] == sorted(catalog.models)
    whole = json.loads((site / "api/catalog.json").read_text())
    for summary in listing["models"]:
        single = json.loads((site / f"api/models/{summary['id']}.json").read_text())
        assert list(single) == ["version", "as_of", "id", "url", "json_url", "model", "references", "derived"]
        assert list(single["model"]) == list(ModelFile.model_fields)
        assert single["json_url"] == summary["json_url"] == catalog.site.base_url + f"api/models/{summary['id']}.json"
        # the brief agrees with the whole entry it points to
        model = single["model"]
        assert summary["name"] == model["name"] and summary["organization"] == model["organization"]
        assert summary["openness"] == single["derived"]["openness"]["key"]
        assert summary["benchmarks"] == sorted({s["benchmark"] for s in model["benchmarks"]})
        cheapest = single["derived"]["cheapest_offer"]
        assert summary["cheapest_blended_price"] == (cheapest["blended_price"] if cheapest else None)
        assert whole["models"][summary["id"]] == summary
    assert list(whole) == ["version", "as_of", "site", "organizations", "licenses", "providers", "benchmarks",
                           "formats", "families", "models"]
    assert list(whole["organizations"]) == list(catalog.organizations)


def test_api_entries_resolve_every_reference(built):
    site, catalog = built
    for summary in json.loads((site / "api/models.json").read_text())["models"]:
        entry = json.loads((site / f"api/models/{summary['id']}.json").read_text())
        model, refs = entry["model"], entry["references"]
        license_id = model["license"]["value"] if isinstance(model["license"], dict) else model["license"]
        assert refs["licenses"][license_id]["name"] == catalog.licenses[license_id].name
        assert model["organization"] in refs["organizations"]
        if model["family"]:
            assert model["family"] in refs["families"]
        assert {s["benchmark"] for s in model["benchmarks"]} == set(refs["benchmarks"])
        assert {o["provider"] for o in model["offers"]} == set(refs["providers"])
        if model["quantizations"]:
            assert set(model["quantizations"]["formats"]) == set(refs["formats"])
        for linked in (entry["model"]["lineage"] or {}).values():
            target = linked["value"] if isinstance(linked, dict) else linked
            if target in catalog.models:
                assert refs["models"][target]["name"] == catalog.models[target].name


def test_api_includes_the_derived_figures(fixture_build):
    site, catalog = fixture_build
    entry = json.loads((site / "api/models/tiny-dense.json").read_text())
    derived = catalog.derived["tiny-dense"]
    memory = {f["key"]: f["value"] for f in entry["derived"]["weights_memory"]}
    assert memory == {"bf16": 16e9, "fp8": 8e9, "int4": 4e9}
    assert entry["derived"]["kv_cache_per_token"]["value"] == derived.kv_per_token.value
    assert entry["derived"]["openness"]["key"] == derived.openness.key
    assert entry["derived"]["cheapest_offer"]["provider"] == derived.cheapest.offer.provider
    assert entry["derived"]["cheapest_offer"]["blended_price"] == 0.15  # (3 × 0.10 + 0.30) / 4, no float noise
    assert entry["model"]["architecture"]["total_params"] == 8_000_000_000  # "8B", stored exactly


# --- JSON Schema --------------------------------------------------------------------------

def test_committed_schema_is_up_to_date():
    """Fails when a pydantic model changed without `make schema` (site-builder schema)."""
    committed = {p.name: p.read_bytes() for p in COMMITTED_SCHEMA.glob("*.schema.json")}
    generated = schema_files()
    stale = sorted(n for n in generated.keys() | committed.keys() if committed.get(n) != generated.get(n))
    assert not stale, f"stale schema/ files {stale}: run 'make schema'"


def test_published_schema_is_the_committed_schema(fixture_build):
    site, _ = fixture_build
    published = {p.name: p.read_bytes() for p in (site / "schema").iterdir()}
    assert published == {p.name: p.read_bytes() for p in COMMITTED_SCHEMA.glob("*.schema.json")}
    assert schema_file_names() == list(schema_files())
    for document in published.values():
        jsonschema.Draft202012Validator.check_schema(json.loads(document))


def catalog_yaml_files(data_dir: Path) -> list[Path]:
    return sorted(data_dir.glob("*.yaml")) + sorted((data_dir / "models").glob("*.yaml"))


def test_every_data_file_names_its_committed_schema():
    """Editors (the YAML language server) find the schema through the first line."""
    for file in catalog_yaml_files(REPO / "data"):
        first = file.read_text().splitlines()[0]
        assert first.startswith(SCHEMA_LINE), file
        schema_path = (file.parent / first[len(SCHEMA_LINE):]).resolve()
        expected = "model" if file.parent.name == "models" else file.stem
        assert schema_path == COMMITTED_SCHEMA / f"{expected}.schema.json", first
        assert schema_path.is_file(), first


@pytest.mark.parametrize("data_dir", [REPO / "data", FIXTURE], ids=["data", "fixture"])
def test_schema_accepts_every_file_the_builder_accepts(data_dir):
    """An editor shows no false errors: each valid file validates against its schema."""
    for file in catalog_yaml_files(data_dir):
        name = "model" if file.parent.name == "models" else file.stem
        errors = list(validator(name).iter_errors(load_file(file).data))
        assert not errors, f"{file}: {errors[0].json_path}: {errors[0].message}"


def test_field_docstrings_become_descriptions():
    model = json.loads((COMMITTED_SCHEMA / "model.schema.json").read_text())
    assert model["properties"]["added"]["description"] == ModelFile.model_fields["added"].description
    architecture = model["$defs"]["Architecture"]["properties"]["total_params"]
    assert architecture["description"] == "All parameters, as the publisher states them (405B, 671B)."
    assert "site_builder" not in json.dumps(model)  # readable definition names only


def test_shared_file_schema_refuses_what_the_builder_refuses():
    organizations = validator("organizations")
    good = {"acme": {"name": "Acme", "url": "https://acme.test"}}
    assert organizations.is_valid(good)
    assert not organizations.is_valid({"Acme Inc": good["acme"]})  # not an id
    assert not organizations.is_valid({"acme": {**good["acme"], "homepage": "https://acme.test"}})
    assert not organizations.is_valid({"acme": {"name": "Acme", "url": "http://acme.test"}})


def test_schema_command_writes_and_checks(tmp_path, run):
    folder = tmp_path / "schema"
    assert run("schema", "--check", "--out", str(folder)).exit_code == 1
    result = run("schema", "--out", str(folder))
    assert result.exit_code == 0, result.output
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == schema_files()
    assert run("schema", "--check", "--out", str(folder)).exit_code == 0
    (folder / "model.schema.json").write_text("{}")
    (folder / "retired.schema.json").write_text("{}")
    result = run("schema", "--check", "--out", str(folder))
    assert result.exit_code == 1 and "model.schema.json: stale" in result.output
    run("schema", "--out", str(folder))
    assert {p.name for p in folder.iterdir()} == set(schema_files())


# --- page metadata ------------------------------------------------------------------------

def test_every_page_has_title_description_canonical_and_opengraph(fixture_build):
    site, catalog = fixture_build
    base = catalog.site.base_url.rstrip("/")
    for file in html_files(site):
        tree = parse(file.read_text())
        head = tree.find("head")
        title = head.find("title").text()
        description = head.find("meta", name="description").attrs["content"]
        assert title and description, file
        canonical = head.find("link", rel="canonical").attrs["href"]
        if file.name == "index.html":
            assert site_file(site, base, canonical) == file
        assert head.find("meta", property="og:title").attrs["content"] == title
        assert head.find("meta", property="og:description").attrs["content"] == description
        assert head.find("meta", property="og:url").attrs["content"] == canonical


def test_model_pages_carry_schema_org_json_ld(fixture_build):
    site, catalog = fixture_build
    for model_id, model in catalog.models.items():
        tree = parse((site / f"models/{model_id}/index.html").read_text())
        data = json.loads(raw_text(tree.find("script", type="application/ld+json")))
        assert data["@context"] == "https://schema.org" and data["@type"] == "SoftwareApplication"
        assert data["name"] == model.name
        assert data["url"] == tree.find("link", rel="canonical").attrs["href"]
        assert data["datePublished"] == str(model.released)
        assert data["creator"]["name"] == catalog.organizations[model.organization].name
        assert "**" not in data["description"]  # markdown reduced to its words


def test_json_ld_cannot_close_its_script(catalog_dir):
    edit(catalog_dir / "models/tiny-dense.yaml", "summary: A small **dense** model for tests.",
         'summary: "A model </script><script>alert(1)</script> for tests."')
    out = catalog_dir.parent / "_site"
    build_site(catalog_dir, out, today=BUILD_DATE)
    tree = parse((out / "models/tiny-dense/index.html").read_text())
    scripts = [s for s in tree.iter("script") if not s.attrs.get("src")]
    assert len(scripts) == 1
    assert json.loads(raw_text(scripts[0]))["description"] == "A model </script><script>alert(1)</script> for tests."


# --- determinism ----------------------------------------------------------------------------

def test_rebuilds_are_byte_identical_across_hash_seeds(tmp_path):
    """Same input, same bytes, even with Python's hash randomization set differently."""
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"site-{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed, "SOURCE_DATE_EPOCH": BUILD_EPOCH}
        subprocess.run([sys.executable, "-m", "site_builder.cli", "build", "--data", str(FIXTURE),
                        "--out", str(out), "--no-search"], check=True, env=env, cwd=REPO, capture_output=True)
        outputs.append({p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()})
    assert outputs[0] == outputs[1]
    assert {"feed.xml", "sitemap.xml", "robots.txt", "api/models.json", "api/catalog.json"} <= outputs[0].keys()


@pytest.mark.parametrize("models", ["all", "none"])
def test_listings_joined_from_briefs_are_the_documents_pydantic_writes(models):
    """/api/models.json and /api/catalog.json are joined from each model's brief (kept across
    builds); the bytes are those of the whole document serialized by pydantic."""
    import dataclasses

    from site_builder import api

    catalog = load_catalog(REPO / "data", DATA_DATE)
    if models == "none":
        catalog = dataclasses.replace(catalog, models={})
    brief = lambda model_id: api.summary_json(catalog, model_id)  # noqa: E731
    assert api.model_list_bytes(catalog, brief) == api.to_bytes(api.model_list_document(catalog))
    assert api.catalog_bytes(catalog, brief) == api.to_bytes(api.catalog_document(catalog))


def test_the_newest_events_are_the_first_of_every_event_sorted():
    """Picked without sorting them all, the feed's events are still the head of the full order:
    newest first, on one day a model's arrival above its release, then by model id (the real
    catalog adds every model on the same day, so ties are the rule)."""
    from site_builder.facets import Event, newest_events

    catalog = load_catalog(REPO / "data", DATA_DATE)
    everything = [Event(model_id, kind, getattr(model, kind if kind == "added" else "released"))
                  for model_id, model in catalog.models.items() for kind in ("released", "added")]
    rank = {"added": 0, "released": 1}
    everything.sort(key=lambda e: (-e.date.earliest().toordinal(), rank[e.kind], e.model_id))
    for count in (0, 1, 5, len(everything) // 2, len(everything), len(everything) + 3):
        assert list(newest_events(catalog, count)) == everything[:count]
