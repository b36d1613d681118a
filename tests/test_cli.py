"""The commands end to end: exit codes, formats, the atomic swap and reproducible output."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from conftest import edit


def tree_digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_check_passes_on_valid_catalog(catalog_dir, run):
    result = run("check", "--data", "data")
    assert result.exit_code == 0, result.output
    assert "ok: 2 models" in result.output


def test_check_reports_every_error_then_a_summary(catalog_dir, run):
    edit(catalog_dir / "models/tiny-dense.yaml", "attention: gqa", "attention: gqaa")
    edit(catalog_dir / "models/tiny-moe.yaml", "license: apache-2.0", "license: apache")
    result = run("check", "--data", "data")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0] == ("data/models/tiny-dense.yaml:18:14: error: architecture.attention: "
                        "'gqaa' is not one of mha, mqa, gqa, mla (did you mean 'gqa'?)")
    assert lines[1].startswith("data/models/tiny-moe.yaml:4:10: error: license: unknown license 'apache'")
    assert lines[-1] == "2 errors in 2 files."
    assert "Traceback" not in result.output


def test_github_annotations(catalog_dir, run):
    edit(catalog_dir / "models/tiny-dense.yaml", "attention: gqa", "attention: gqaa")
    result = run("check", "--data", "data", "--format", "github")
    assert result.exit_code == 1
    first = result.output.splitlines()[0]
    assert first.startswith("::error file=data/models/tiny-dense.yaml,line=18,col=14,title=architecture.attention::")
    assert "did you mean 'gqa'?" in first


def test_strict_turns_warnings_into_errors(catalog_dir, run, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01: the fixture's prices are stale
    assert run("check", "--data", "data").exit_code == 0
    result = run("check", "--data", "data", "--strict")
    assert result.exit_code == 1
    assert "is 549 days old (stale after 180)" in result.output


def test_usage_errors_exit_2(catalog_dir, run):
    assert run("check", "--data", "nowhere").exit_code == 2
    assert run("check", "--format", "xml").exit_code == 2
    assert run("frobnicate").exit_code == 2


def test_build_writes_the_site(catalog_dir, run):
    result = run("build", "--data", "data", "--out", "_site", "--no-search")
    assert result.exit_code == 0, result.output
    site = catalog_dir.parent / "_site"
    assert (site / "index.html").is_file()
    assert (site / "models/tiny-dense/index.html").is_file()
    assert (site / "static/style.css").is_file()
    assert "render" in result.output and "pages/s" in result.output


def test_failed_build_leaves_previous_site_untouched(catalog_dir, run):
    assert run("build", "--data", "data", "--out", "_site", "--no-search").exit_code == 0
    site = catalog_dir.parent / "_site"
    before = tree_digest(site)
    mtimes = {p: p.stat().st_mtime_ns for p in site.rglob("*")}
    edit(catalog_dir / "models/tiny-dense.yaml", "layers: 32", "layers: -32")
    result = run("build", "--data", "data", "--out", "_site", "--no-search")
    assert result.exit_code == 1
    assert "nothing was written" in result.output
    assert tree_digest(site) == before
    assert {p: p.stat().st_mtime_ns for p in site.rglob("*")} == mtimes
    assert not [p for p in site.parent.iterdir() if p.name.startswith("._site")]  # no staging left over


def test_failure_while_writing_leaves_previous_site(catalog_dir, run, monkeypatch):
    assert run("build", "--data", "data", "--out", "_site", "--no-search").exit_code == 0
    site = catalog_dir.parent / "_site"
    before = tree_digest(site)

    def broken_indexer(staging):
        raise RuntimeError("indexer crashed")

    from site_builder import build as build_module
    import pytest
    with pytest.raises(RuntimeError):
        build_module.build_site(catalog_dir, site, finish=broken_indexer)
    assert tree_digest(site) == before


def test_rebuilds_are_byte_identical_and_unchanged_files_keep_mtime(catalog_dir, run):
    assert run("build", "--data", "data", "--out", "one", "--no-search").exit_code == 0
    assert run("build", "--data", "data", "--out", "two", "--no-search").exit_code == 0
    root = catalog_dir.parent
    assert tree_digest(root / "one") == tree_digest(root / "two")
    page = root / "one/models/tiny-moe/index.html"
    mtime = page.stat().st_mtime_ns
    edit(catalog_dir / "models/tiny-dense.yaml", "It is tiny.", "It is very tiny.")
    result = run("build", "--data", "data", "--out", "one", "--no-search")
    assert "unchanged" in result.output
    assert page.stat().st_mtime_ns == mtime
    assert "very tiny" in (root / "one/models/tiny-dense/index.html").read_text()


def test_two_pages_at_one_url_is_an_error(catalog_dir):
    from site_builder.catalog import load_catalog
    from site_builder.errors import CatalogInvalid
    from site_builder.pages import Page, plan
    import pytest

    catalog = load_catalog(catalog_dir)
    clash = lambda c: [Page("/models/tiny-dense/", "model.html", {}, "data/extra.yaml")]
    from site_builder.pages import PLANNERS
    with pytest.raises(CatalogInvalid) as caught:
        plan(catalog, PLANNERS + [clash])
    assert "two pages would be written to /models/tiny-dense/" in caught.value.problems[0].message


def test_a_template_error_is_reported_by_file_and_line(catalog_dir, run, monkeypatch):
    """The command reports a broken template as file:line and exits 1 (it imports Jinja only
    when the pipeline has, so a no-op build never loads it); any other failure propagates."""
    import jinja2

    from site_builder import build

    def broken(*args, **kwargs):
        raise jinja2.TemplateSyntaxError("unexpected '}'", 12, "model.html", "templates/model.html")

    monkeypatch.setattr(build, "build_site", broken)
    result = run("build", "--data", "data", "--out", "site", "--no-search")
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == ("templates/model.html:12:1: error: TemplateSyntaxError: "
                                             "unexpected '}'")
    assert "1 error in the templates; nothing was written." in result.output

    monkeypatch.setattr(build, "build_site", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        run("build", "--data", "data", "--out", "site", "--no-search")
