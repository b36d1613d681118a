"""Incremental and parallel builds write exactly what a clean, serial build writes.

The central test edits a copy of the real catalog step by step (a model, a shared entity, a
template, a deleted model, an added model that changes another model's page) and after each
step compares the incremental output with a clean build's, byte for byte.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DATA_DATE, REPO, edit
from site_builder import cache, pages as pages_module
from site_builder.build import build_site
from site_builder.errors import CatalogInvalid
from site_builder.fingerprint import Fingerprinter, Unfingerprintable, fingerprint
from site_builder.pages import Page
from site_builder.tracking import TrackedMapping, recording, track

pytestmark = pytest.mark.slow


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def phase(report, name: str) -> str:
    return next(detail for phase_name, _, detail in report.phases if phase_name == name)


@pytest.fixture
def workspace(tmp_path: Path, request):
    """A copy of the real catalog and templates, and a builder comparing two ways of building.
    Parametrized indirectly with "memory", the incremental builds keep their records in a dict
    (as `serve` does) instead of files."""
    data, templates = tmp_path / "data", tmp_path / "templates"
    shutil.copytree(REPO / "data", data)
    shutil.copytree(REPO / "templates", templates)
    memory = {} if getattr(request, "param", None) == "memory" else None
    shown: dict[str, bytes] = {}  # what `first` found in place, by file, in the last build

    def show(files):
        for rel in files:
            shown[rel] = (tmp_path / "site" / rel).read_bytes()

    def incremental(**options):
        shown.clear()
        return build_site(data, tmp_path / "site", templates, today=DATA_DATE, cache_dir=tmp_path / "cache",
                          jobs=2, memory=memory, first=show, **options)

    def clean():
        shutil.rmtree(tmp_path / "clean", ignore_errors=True)
        build_site(data, tmp_path / "clean", templates, today=DATA_DATE, jobs=1)
        return tree(tmp_path / "clean")

    def same_as_clean():
        report = incremental()
        expected = clean()
        assert tree(tmp_path / "site") == expected
        # pages shown first were already the clean build's
        assert {rel: expected[rel] for rel in shown} == shown
        report.shown = sorted(shown)
        return report

    return data, templates, tmp_path, incremental, same_as_clean


def rendered(report) -> int:
    return int(phase(report, "render").split()[0])


@pytest.mark.parametrize("workspace", ["files", "memory"], indirect=True)
def test_incremental_output_equals_a_clean_build_after_every_edit(workspace):
    data, templates, root, incremental, same_as_clean = workspace
    first = same_as_clean()
    total = len(first.pages)
    assert rendered(first) == total  # an empty cache renders everything

    assert rendered(same_as_clean()) == 0  # nothing changed: every page is reused

    edit(data / "models/llama-3.1-8b-instruct.yaml", "name: Llama 3.1 8B Instruct",
         "name: Llama 3.1 8B Instruct (edited)")
    one_model = same_as_clean()
    assert 0 < rendered(one_model) < total / 4, phase(one_model, "render")
    assert "1 files parsed, 32 from the cache" in phase(one_model, "validate")
    assert one_model.shown == ["api/models/llama-3.1-8b-instruct.json", "models/llama-3.1-8b-instruct/index.html"]

    # An offer's price and a score: provider pages and leaderboards fingerprint these objects by
    # their model file's digest and place (reuse._with_parts), not by walking them.
    edit(data / "models/llama-3.1-405b-instruct.yaml", "input_price: 3.50", "input_price: 3.25")
    edit(data / "models/qwen2.5-72b-instruct.yaml", "score: 49.0,", "score: 49.5,")
    priced = same_as_clean()
    assert 0 < rendered(priced) < total / 2
    assert len(priced.shown) == 4  # two model files edited: both shown first
    assert b"49.5" in (root / "site/benchmarks/gpqa/index.html").read_bytes()

    edit(data / "licenses.yaml", "name: Apache License 2.0", "name: Apache License, Version 2.0")
    assert same_as_clean().shown == []  # a shared entity: nothing is shown first

    edit(templates / "partials/license_terms.html", "<dt>Attribution</dt>", "<dt>Attribution<!-- partial edited --></dt>")
    template = same_as_clean()
    assert rendered(template) < total, "pages that do not import the partial are reused"
    assert template.shown == []
    assert b"partial edited" in (root / "site/models/phi-4/index.html").read_bytes()

    (data / "models/phi-4.yaml").unlink()
    assert same_as_clean().shown == []  # a deletion: nothing is shown first
    assert not (root / "site/models/phi-4").exists()

    # A new model whose predecessor is gemma-3-27b: gemma-3-27b's own page gains a link to it.
    added = (data / "models/gemma-3-27b.yaml").read_text()
    added = added.replace("name: Gemma 3 27B IT", "name: Gemma 4 27B IT (test)")
    added = added.replace("predecessor: gemma-2-27b", "predecessor: gemma-3-27b")
    (data / "models/gemma-4-27b-test.yaml").write_text(added)
    assert "models/gemma-4-27b-test/index.html" in same_as_clean().shown  # a new model file shows first too
    assert b"Gemma 4 27B IT (test)" in (root / "site/models/gemma-3-27b/index.html").read_bytes()

    edit(data / "site.yaml", "title: ", "title: Edited ")
    assert rendered(same_as_clean()) >= total - 20  # every HTML page shows the title


def test_a_page_kind_the_cache_has_never_seen_is_tracked_too(workspace, monkeypatch):
    """A planner added later (here: one page per license listing its models, and a JSON page
    that needs the real catalog) needs nothing from the cache module."""
    data, templates, root, incremental, same_as_clean = workspace
    (templates / "by-license.html").write_text(
        "{% for model_id, model in catalog.models.items() if model.license_id == license_id %}"
        "{{ model.name }}\n{% endfor %}")

    def license_names(catalog, page, plan, brief):  # json.dumps refuses a tracked view: rendered untracked
        return json.dumps(catalog.licenses, default=lambda entity: entity.name).encode()

    def by_license(catalog):
        return [Page(f"/by-license/{lid}.txt", "by-license.html", {"license_id": lid}, "test") for lid in catalog.licenses] + [
            Page("/license-names.json", "json (test)", {"produce": license_names}, "test")]

    monkeypatch.setattr(pages_module, "PLANNERS", pages_module.PLANNERS + [by_license])
    same_as_clean()
    before = (root / "site/by-license/mit.txt").read_bytes()
    edit(data / "models/phi-4.yaml", "license: mit", "license: apache-2.0")
    report = same_as_clean()
    assert (root / "site/by-license/mit.txt").read_bytes() != before
    assert b"Phi-4" in (root / "site/by-license/apache-2.0.txt").read_bytes()
    assert rendered(report) < len(report.pages) / 2


def test_parallel_output_equals_serial_output(tmp_path):
    serial = build_site(REPO / "data", tmp_path / "serial", today=DATA_DATE, jobs=1)
    parallel = build_site(REPO / "data", tmp_path / "parallel", today=DATA_DATE, jobs=2)
    assert "2 processes" in phase(parallel, "render") and "processes" not in phase(serial, "render")
    assert tree(tmp_path / "parallel") == tree(tmp_path / "serial")


def test_a_no_op_build_is_skipped_and_a_damaged_output_is_not(workspace):
    data, templates, root, incremental, same_as_clean = workspace
    incremental(skip_if_unchanged=True)
    page = root / "site/models/phi-4/index.html"
    mtime = page.stat().st_mtime_ns
    skipped = incremental(skip_if_unchanged=True)
    assert skipped.catalog is None and [name for name, _, _ in skipped.phases] == ["check"]
    assert skipped.page_count == len(same_as_clean().pages)
    assert page.stat().st_mtime_ns == mtime

    page.unlink()
    (root / "site/stray.txt").write_text("not from the build")
    repaired = incremental(skip_if_unchanged=True)
    assert repaired.catalog is not None
    assert tree(root / "site") == tree(root / "clean")


def test_unchanged_pages_keep_their_files(workspace):
    data, templates, root, incremental, same_as_clean = workspace
    incremental()
    untouched = root / "site/models/qwq-32b/index.html"
    edited = root / "site/models/phi-4/index.html"
    before = untouched.stat().st_mtime_ns, untouched.stat().st_ino
    edit(data / "models/phi-4.yaml", "name: Phi-4", "name: Phi-4 (edited)")
    report = incremental()
    assert "patched in place" in phase(report, "write")  # only the changed files were staged
    assert (untouched.stat().st_mtime_ns, untouched.stat().st_ino) == before
    assert b"Phi-4 (edited)" in edited.read_bytes()
    assert not list(root.glob(".site.*")), "no staging folder is left behind"


def test_a_patch_records_the_output_as_it_leaves_it(workspace):
    """A patch lists the output folder once (cache.Session.outputs_now): that listing decides
    which pages are reused and which files to delete, and the record of the output is that
    listing with the patch's own changes. It must equal a fresh listing, or the next no-op
    build would not be skipped (or a damaged file would go unnoticed)."""
    data, templates, root, incremental, same_as_clean = workspace
    incremental()
    edit(data / "models/phi-4.yaml", "name: Phi-4", "name: Phi-4 (edited)")
    (root / "site/stray.txt").write_text("not from the build")  # deleted by the patch, as by a clean build
    report = same_as_clean()
    assert "patched in place" in phase(report, "write") and "1 removed" in phase(report, "write")
    slot = cache.Slot(root / "cache", data, root / "site", cache.code_fingerprint())
    recorded, listed = slot.read("inputs.pickle"), cache.list_outputs(root / "site")
    assert (recorded["outputs"], recorded["folders"]) == (listed.files, listed.folders)
    skipped = incremental(skip_if_unchanged=True)
    assert skipped.catalog is None


def test_a_no_op_build_checks_the_output_by_stat_without_listing_it_again(workspace, monkeypatch):
    data, templates, root, incremental, same_as_clean = workspace
    incremental()
    def no_listing(out_dir):
        raise AssertionError("listed the output folder again")
    monkeypatch.setattr(cache, "list_outputs", no_listing)
    assert incremental(skip_if_unchanged=True).catalog is None
    # a file added in a folder is seen all the same (here by the folder's mtime or, the build
    # being this recent, by reading the folder), and the next build lists the folder anew
    (root / "site/models/phi-4/stray.txt").write_text("not from the build")
    with pytest.raises(AssertionError, match="listed the output folder again"):
        incremental(skip_if_unchanged=True)
    monkeypatch.undo()
    assert incremental(skip_if_unchanged=True).catalog is not None
    assert not (root / "site/models/phi-4/stray.txt").exists()


def _aged_tree(root: Path) -> Path:
    """A small output folder whose files and folders were all last changed an hour ago."""
    site = root / "out"
    for rel in ("index.html", "models/a/index.html", "models/b/index.html", "api/models.json"):
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(rel)
    hour_ago = cache.time.time_ns() - 3600 * 10**9
    for path in sorted(site.rglob("*"), reverse=True) + [site]:  # contents before their folder
        os.utime(path, ns=(hour_ago, hour_ago))
    return site


def test_restat_sees_every_change_a_listing_would(tmp_path):
    site = _aged_tree(tmp_path)
    before = cache.list_outputs(site)
    assert set(before.folders) == {"", "models", "models/a", "models/b", "api"}
    again = cache.restat_outputs(site, before)
    assert again is not None and again.files == before.files and again.folders == before.folders

    (site / "models/a/index.html").write_text("changed in place")  # its own mtime and size
    changed = cache.restat_outputs(site, before)
    assert changed is not None and changed.files == cache.list_outputs(site).files != before.files

    for change in (lambda: (site / "models/b/extra.html").write_text("added"),
                   lambda: (site / "models/b/index.html").unlink(),
                   lambda: (site / "models/b/index.html").rename(site / "models/b/moved.html"),
                   lambda: (site / "models/c").mkdir(),
                   lambda: shutil.rmtree(site / "api") or (site / "api").write_text("a file now")):
        shutil.rmtree(site)
        site = _aged_tree(tmp_path)
        before = cache.list_outputs(site)
        change()
        assert cache.restat_outputs(site, before) is None
    assert cache.restat_outputs(tmp_path / "none", cache.list_outputs(tmp_path / "none")) is None


def test_restat_reads_the_folders_of_files_this_build_replaced(tmp_path):
    site = _aged_tree(tmp_path)
    before = cache.list_outputs(site)
    (site / "models/a/.new").write_text("the page again")
    os.replace(site / "models/a/.new", site / "models/a/index.html")  # as write.replace_files does
    (site / "models/c").mkdir()
    (site / "models/c/index.html").write_text("a new model's page")
    replaced = ("models/a/index.html", "models/c/index.html")
    assert cache.restat_outputs(site, before) is None  # models/ and models/a changed
    again, listed = cache.restat_outputs(site, before, replaced), cache.list_outputs(site)
    assert again is not None and (again.files, again.folders) == (listed.files, listed.folders)
    (site / "models/a/stray.html").write_text("not this build's")  # in a folder that is read
    assert cache.restat_outputs(site, before, replaced) is None


def test_a_folder_changed_within_the_mtime_tick_of_the_listing_is_read(tmp_path):
    """A change in the same mtime tick leaves the folder's mtime as it was: a folder that recent
    at the listing is read, not trusted (imitated here by putting the old mtime back)."""
    site = _aged_tree(tmp_path)
    recent = cache.time.time_ns() - 10**9
    os.utime(site / "models/b", ns=(recent, recent))
    before = cache.list_outputs(site)
    (site / "models/b/extra.html").write_text("added")
    os.utime(site / "models/b", ns=(recent, recent))
    assert cache.restat_outputs(site, before) is None
    (site / "models/b/extra.html").unlink()
    os.utime(site / "models/b", ns=(recent, recent))
    assert cache.restat_outputs(site, before) is not None


def test_an_error_in_a_cached_model_file_is_located_in_that_file(workspace):
    """Unchanged files come from the cache without their marks; they are read again to locate
    a problem that another file's edit caused."""
    data, templates, root, incremental, same_as_clean = workspace
    incremental()
    edit(data / "licenses.yaml", "\nmit:\n", "\nmit-license:\n")
    with pytest.raises(CatalogInvalid) as caught:
        incremental()
    problem = next(p for p in caught.value.errors if p.file.endswith("phi-4.yaml"))
    line = next(n for n, text in enumerate((data / "models/phi-4.yaml").read_text().splitlines(), 1)
                if text.startswith("license:"))
    assert (problem.line, problem.field) == (line, "license")
    assert "unknown license 'mit'" in problem.message


def test_a_damaged_cache_is_ignored(workspace):
    data, templates, root, incremental, same_as_clean = workspace
    incremental()
    for file in (root / "cache").rglob("*.pickle"):
        file.write_bytes(b"not a pickle")
    report = same_as_clean()
    assert rendered(report) == len(report.pages)


# --- the parts -----------------------------------------------------------------------------------

def test_tracked_views_record_what_is_read():
    catalog = {"models": {"a": ("A", 1), "b": ("B", 2)}, "site": "title"}
    view = track(catalog)
    with recording() as reads:
        assert view["models"]["a"] == ("A", 1)
    assert reads == {("value", ("models", "a"))}
    with recording() as reads:
        assert sorted(view["models"]) == ["a", "b"]
        assert "c" not in view["models"]
    assert reads == {("keys", ("models",)), ("value", ("models", "c"))}
    with pytest.raises(TypeError):
        json.dumps(view["models"])  # code that needs the real mapping fails loudly, never silently
    assert isinstance(view["models"], TrackedMapping)


def test_fingerprints_depend_on_content_only():
    assert fingerprint({"a": [1, 2.0, None]}) == fingerprint({"a": [1, 2.0, None]})
    assert fingerprint(("a", "b")) != fingerprint(("ab",)) != fingerprint(["a", "b"])
    assert fingerprint(1) != fingerprint(1.0) != fingerprint(True)
    with pytest.raises(Unfingerprintable):
        fingerprint(lambda: 1 if fingerprint else 0)
    known = object()
    assert Fingerprinter({id(known): b"digest"}).digest([known]) == Fingerprinter({id(known): b"digest"}).digest([known])


def test_set_fingerprints_do_not_follow_the_process_hash_seed():
    script = "from site_builder.fingerprint import fingerprint; print(fingerprint(frozenset({'x', 'y', 'z', 'w'})).hex())"
    seen = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3")}
    assert len(seen) == 1


def test_the_no_op_date_is_the_build_date(monkeypatch):
    from site_builder.catalog import build_date

    assert cache.build_date_key(None) == build_date().isoformat()  # SOURCE_DATE_EPOCH is set
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert cache.build_date_key(None) == build_date().isoformat()


def test_build_knows_the_templates_folder_without_importing_the_renderer():
    from site_builder import build, render

    assert build.TEMPLATES_DIR == render.TEMPLATES_DIR


def test_a_no_op_build_does_not_import_the_pipeline(workspace):
    """A skipped build is a stat of each file: it never loads pydantic, Jinja or the catalog."""
    data, templates, root, incremental, same_as_clean = workspace
    incremental()
    script = (f"import sys, datetime; from pathlib import Path; from site_builder.build import build_site; "
              f"r = build_site(Path({str(data)!r}), Path({str(root / 'site')!r}), Path({str(templates)!r}), "
              f"today=datetime.date.fromisoformat({DATA_DATE.isoformat()!r}), cache_dir=Path({str(root / 'cache')!r}), "
              f"jobs=2, skip_if_unchanged=True); "
              f"print(r.catalog is None, 'pydantic' in sys.modules, 'site_builder.render' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["True", "False", "False"]

    # nor does the command: Jinja (45 ms) and multiprocessing are imported by the pipeline only
    command = (f"import sys; from site_builder import cli\n"
               f"try:\n    cli.main(['build', '--data', {str(data)!r}, '--out', 'cli-site', '--no-search'])\n"
               f"except SystemExit:\n    pass\n"
               f"print('jinja2' in sys.modules, 'multiprocessing' in sys.modules, 'pydantic' in sys.modules)")
    dated = {**os.environ, "SOURCE_DATE_EPOCH": "1795305600"}  # DATA_DATE
    subprocess.run([sys.executable, "-c", command], capture_output=True, text=True, check=True, cwd=root, env=dated)
    result = subprocess.run([sys.executable, "-c", command], capture_output=True, text=True, check=True, cwd=root,
                            env=dated)
    assert "nothing changed" in result.stdout and result.stdout.split()[-3:] == ["False", "False", "False"]


def test_a_page_that_could_not_be_tracked_is_not_tried_tracked_again(workspace, monkeypatch):
    """/api/catalog.json hands whole mappings to pydantic, so tracking it fails and it is rendered
    untracked; the next build renders it untracked at once instead of failing first."""
    from site_builder import render

    data, templates, root, incremental, same_as_clean = workspace
    build_site(data, root / "site", templates, today=DATA_DATE, cache_dir=root / "cache", jobs=1)
    calls: list[str] = []
    real = render.render_page
    monkeypatch.setattr(render, "render_page", lambda env, page, plan=(): calls.append(page.url) or real(env, page, plan))
    edit(data / "models/phi-4.yaml", "name: Phi-4", "name: Phi-4 (edited)")
    build_site(data, root / "site", templates, today=DATA_DATE, cache_dir=root / "cache", jobs=1)
    assert calls.count("/api/catalog.json") == 1
    assert calls.count("/models/phi-4/") == 1


def test_a_template_error_in_a_worker_is_raised_as_itself_and_nothing_is_written(workspace):
    import jinja2

    data, templates, root, incremental, same_as_clean = workspace
    incremental()
    before = tree(root / "site")
    edit(templates / "partials/license_terms.html", "<dt>Attribution</dt>", "<dt>Attribution{{ no_such_variable }}</dt>")
    with pytest.raises(jinja2.UndefinedError):
        incremental()
    assert tree(root / "site") == before
    # the same when only one page changes, so that the build would patch the old site in place
    edit(templates / "partials/license_terms.html", "{{ no_such_variable }}", "")
    edit(templates / "organization.html", "{% block main %}", "{% block main %}{{ no_such_variable }}")
    with pytest.raises(jinja2.UndefinedError):
        incremental()
    assert tree(root / "site") == before


def test_a_reused_table_row_is_read_as_the_fragment_it_is(tmp_path):
    """Rows of the models table are rendered once per environment and reused by every table;
    a page that lists a row records that it read that row (fingerprinted by its text), the
    same whether the row was made here or reused, or editing the model would leave the page
    stale."""
    from site_builder.catalog import load_catalog
    from site_builder.render import make_environment

    catalog = load_catalog(REPO / "data", DATA_DATE)
    env = make_environment(track(catalog))
    model_id = next(iter(catalog.models))
    with recording() as first:
        row = env.globals["model_row"](model_id)
    with recording() as again:
        assert env.globals["model_row"](model_id) is row  # reused, not rendered again
    assert first == again == {("fragment", "row", model_id)}


def test_an_edit_that_leaves_a_models_row_alone_leaves_the_listings_alone(tmp_path, monkeypatch):
    """Early cutoff: a score is in no row of the models table and in no brief of the JSON
    listings, so the index, the model's organization and license pages and /api/models.json
    are not rendered again, nor the model's other leaderboards, nor the feed (which shows
    other models), nor the pages that link to it by name; its name is in all of them but the
    feed, and they are. (Its family page reads the
    model itself, for its release timeline: that one is rendered again, and stays the same.)"""
    from site_builder import render

    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data)
    rendered_now: list[str] = []
    real = render.render_page

    def counted(env, page, plan=()):
        rendered_now.append(page.output_path)
        return real(env, page, plan)

    monkeypatch.setattr(render, "render_page", counted)
    monkeypatch.setattr("site_builder.facets.FEED_ENTRIES", 3)  # a feed without the edited model

    def build() -> set[str]:
        rendered_now.clear()
        build_site(data, tmp_path / "site", REPO / "templates", today=DATA_DATE, cache_dir=tmp_path / "cache", jobs=1)
        return set(rendered_now)

    listings = {"index.html", "api/models.json", "organizations/alibaba/index.html",
                "licenses/qwen-license/index.html"}
    assert listings <= build()
    edit(data / "models/qwen2.5-72b-instruct.yaml", "score: 49.0,", "score: 49.5,")
    scored = build()
    assert "benchmarks/gpqa/index.html" in scored and "models/qwen2.5-72b-instruct/index.html" in scored
    assert not listings & scored, sorted(listings & scored)
    assert "families/qwen2.5/index.html" in scored
    # its other leaderboards show the same rows: not rendered again either; nor the feed; nor
    # the pages that link to it by name (a sibling's page and JSON, the compare page)
    other_boards = {"benchmarks/mmlu-pro/index.html", "benchmarks/mmlu-redux/index.html"}
    links = {"models/qwen2.5-7b-instruct/index.html", "api/models/qwen2.5-7b-instruct.json", "compare/index.html"}
    assert not other_boards & scored and "feed.xml" not in scored
    assert not links & scored, sorted(links & scored)
    edit(data / "models/qwen2.5-72b-instruct.yaml", "name: Qwen2.5 72B Instruct", "name: Qwen2.5 72B Instruct (renamed)")
    renamed = build()
    assert listings | other_boards | links <= renamed and "feed.xml" not in renamed
    from site_builder.catalog import load_catalog

    newest = load_catalog(data, DATA_DATE).facets.feed_events[0].model_id
    edit(data / f"models/{newest}.yaml", "\nname: ", "\nname: Renamed ")
    assert "feed.xml" in build()  # a model the feed shows


def test_reading_a_models_name_alone_records_that_name_present_or_absent():
    """tracking.read_value, behind `model_name(id)` in templates and the JSON API's links to
    related models: one read, of the name, which the fingerprints resolve (ABSENT once gone)."""
    from site_builder.catalog import load_catalog
    from site_builder.fingerprint import ABSENT
    from site_builder.pages import plan
    from site_builder.reuse import Fingerprints
    from site_builder.tracking import read_value

    catalog = load_catalog(REPO / "data", DATA_DATE)
    with recording() as reads:
        assert read_value(track(catalog), ("models", "phi-4", "name")) == "Phi-4"
    assert reads == {("value", ("models", "phi-4", "name"))}
    with recording() as reads, pytest.raises(KeyError):
        read_value(track(catalog), ("models", "not-a-model", "name"))
    assert reads == {("value", ("models", "not-a-model", "name"))}
    fingerprints = Fingerprints(catalog, plan(catalog), REPO / "templates", {})
    assert fingerprints.of(("value", ("models", "not-a-model", "name"))) == ABSENT
    assert fingerprints.of(("value", ("models", "phi-4", "name"))) not in (None, ABSENT)


def test_a_read_of_a_fragment_is_fingerprinted_by_its_text():
    from site_builder.catalog import load_catalog
    from site_builder.pages import plan
    from site_builder.reuse import Fingerprints

    catalog = load_catalog(REPO / "data", DATA_DATE)
    model_id = next(iter(catalog.models))
    read = ("fragment", "row", model_id)

    def fingerprint(fragments):
        fingerprints = Fingerprints(catalog, plan(catalog), REPO / "templates", {})
        assert fingerprints.of(read) is None  # before the fragments are made: no page is reused on it
        fingerprints.use_fragments(fragments)
        return fingerprints.of(read)

    same = fingerprint({("row", model_id): "<tr>a</tr>"})
    assert same is not None and same == fingerprint({("row", model_id): "<tr>a</tr>"})
    assert same != fingerprint({("row", model_id): "<tr>b</tr>"})
    assert fingerprint({}) is None  # a model removed since: the page is rendered again


def test_entities_with_the_same_fields_share_one_fields_set():
    from site_builder.catalog import load_catalog

    catalog = load_catalog(REPO / "data", DATA_DATE)
    architectures = [model.architecture for model in catalog.models.values()]
    by_fields = {}
    for arch in architectures:
        by_fields.setdefault(frozenset(arch.model_fields_set), []).append(arch)
    group = max(by_fields.values(), key=len)
    assert len(group) > 1
    assert all(arch.__pydantic_fields_set__ is group[0].__pydantic_fields_set__ for arch in group)
    assert all(arch.model_fields_set == fields for fields, group in by_fields.items() for arch in group)


def test_derived_figures_are_fingerprinted_by_what_they_are_computed_from():
    """A model's derived figures get a digest from its file, its license, site.yaml, the date
    and its relations to other models, so that editing another model's lineage still changes it."""
    import dataclasses
    from types import SimpleNamespace

    from site_builder.catalog import load_catalog
    from site_builder.reuse import derived_digests

    catalog = load_catalog(REPO / "data", DATA_DATE)
    model_id = next(iter(catalog.models))
    known = {id(catalog.models[model_id]): "ab" * 32}
    derived = catalog.derived[model_id]
    first = derived_digests(catalog, known)
    assert set(first) == {id(derived)}  # a model without a file digest is fingerprinted by walking
    related = dataclasses.replace(derived, relations=dataclasses.replace(derived.relations, siblings=("other",)))
    assert derived_digests(dataclasses.replace(catalog, derived={model_id: related}), known)[id(related)] \
        != first[id(derived)]
    later = dataclasses.replace(catalog, today=DATA_DATE.replace(year=DATA_DATE.year + 1))
    assert derived_digests(later, known)[id(derived)] != first[id(derived)]
    license_id = catalog.models[model_id].license_id
    renamed = catalog.licenses[license_id].model_copy(update={"name": "Another name"})
    relicensed = dataclasses.replace(catalog, licenses={**catalog.licenses, license_id: renamed})
    assert derived_digests(relicensed, known)[id(derived)] != first[id(derived)]
    other = dataclasses.replace(catalog, licenses={**catalog.licenses, "unused": renamed})
    assert derived_digests(other, known) == first  # another license: the digest stays


def test_the_digests_derive_all_worked_out_are_the_ones_derived_digests_would():
    """A preview's derive_all works out every model's derivation digest to look up the figures
    it kept; reuse.derived_digests takes those rather than working them out again."""
    from site_builder.catalog import load_catalog
    from site_builder.reuse import derived_digests

    loading = cache.Loading(derivations={})  # figures kept between builds, as a preview keeps them
    with cache.loading(loading):
        catalog = load_catalog(REPO / "data", DATA_DATE)
    assert loading.known and loading.derivation_digests is not None
    assert len(loading.derivation_digests) == len(catalog.models)
    assert derived_digests(catalog, loading.known, loading.derivation_digests) == derived_digests(catalog, loading.known)


def test_derived_figures_read_only_what_their_digest_covers():
    """derived_digests assumes derive_model reads the model, its license, site.yaml and the date
    (and gets its relations as an argument); reading anything else would make it unsound."""
    from site_builder.catalog import load_catalog
    from site_builder.derive import derive_model

    catalog = load_catalog(REPO / "data", DATA_DATE)
    for model_id, model in catalog.models.items():
        with recording() as reads:
            derive_model(model, track(catalog), catalog.derived[model_id].relations)
        assert ("value", ("licenses", model.license_id)) in reads  # tracking sees the reads
        assert reads <= {("value", ("licenses", model.license_id)), ("value", ("site",)), ("value", ("today",))}, reads


def test_a_cold_build_pickles_the_model_store_in_a_process_of_its_own(workspace, monkeypatch):
    """Pickling the whole store (1.2–1.9 s at 10,000 models) runs in a forked process beside the
    build's serial phases; the file is what pickling it at the end would write, an edit writes
    a delta as before, and a writer that fails costs time, not the store."""
    from site_builder import parallel

    data, templates, root, incremental, same_as_clean = workspace
    forks = []
    real = parallel.in_background

    def counted(function):
        forks.append(function)
        return real(function)

    monkeypatch.setattr(parallel, "in_background", counted)
    incremental()
    assert len(forks) == 1
    slot = cache.Slot(root / "cache", data, root / "site", cache.code_fingerprint())
    early = slot.read("models.pickle")
    assert len(early["entries"]) == 33 and slot.read("models-delta.pickle") == {
        "entries": {}, "base": early["base"], "code": slot.code}
    assert sorted(path.name for path in slot.dir.iterdir() if path.name.startswith(".")) == []

    build_site(data, root / "serial", templates, today=DATA_DATE, cache_dir=root / "serial-cache", jobs=1)
    assert len(forks) == 1  # one process: nothing forked
    late = cache.Slot(root / "serial-cache", data, root / "serial", cache.code_fingerprint()).read("models.pickle")
    assert late["entries"] == early["entries"]

    edit(data / "models/phi-4.yaml", "name: Phi-4", "name: Phi-4 (edited)")
    same_as_clean()
    assert len(forks) == 1  # an edit writes the delta only, at the end
    assert slot.read("models.pickle")["base"] == early["base"]

    monkeypatch.setattr(parallel, "in_background", lambda function: lambda: False)  # as if it had died
    shutil.rmtree(root / "cache")
    incremental()
    assert len(slot.read("models.pickle")["entries"]) == 33  # pickled at the end instead
    assert "0 files parsed, 33 from the cache" in phase(same_as_clean(), "validate")


def test_a_failed_build_leaves_no_half_saved_store(workspace):
    data, templates, root, incremental, same_as_clean = workspace
    edit(templates / "model.html", "{% block main %}", "{% block main %}{{ no_such_value }}")  # fails as it renders
    with pytest.raises(Exception, match="no_such_value"):
        incremental()
    slot = cache.Slot(root / "cache", data, root / "site", cache.code_fingerprint())
    assert not slot.dir.exists() or [path.name for path in slot.dir.iterdir() if path.is_file()] == []


def test_an_edit_writes_only_the_delta_of_the_model_store(workspace):
    """The store is pickled whole (so repeated strings stay shared) only when much changed."""
    data, templates, root, incremental, same_as_clean = workspace
    incremental()
    slot = next((root / "cache").glob("*/models.pickle")).parent
    whole = (slot / "models.pickle").read_bytes()
    edit(data / "models/phi-4.yaml", "name: Phi-4", "name: Phi-4 (edited)")
    incremental()
    assert (slot / "models.pickle").read_bytes() == whole
    delta = cache.Slot(root / "cache", data, root / "site", cache.code_fingerprint())
    assert delta.dir == slot
    assert [Path(key[0]).name for key in delta.read("models-delta.pickle")["entries"]] == ["phi-4.yaml"]
    report = same_as_clean()  # restored from the whole store and its delta
    assert "0 files parsed, 33 from the cache" in phase(report, "validate")


def test_the_model_store_is_written_whole_when_a_fifth_changed():
    store = cache.ModelStore({(f"m{i}", "d"): (None, [], True) for i in range(10)})
    for i in range(10):
        store.get(f"m{i}", "d")
    assert store.records() == (None, None)  # nothing new: nothing written
    store.put("m0", "new", (None, [], True))
    assert store.records() == (None, {"entries": {("m0", "new"): (None, [], True)}})
    store.put("m1", "new", (None, [], True))
    store.put("m2", "new", (None, [], True))
    whole, delta = store.records()
    assert len(whole["entries"]) == 13 and delta == {"entries": {}}


def test_restored_entities_share_their_repeated_strings(workspace):
    data, templates, root, incremental, same_as_clean = workspace
    incremental()
    edit(data / "site.yaml", "title: ", "title: Edited ")
    report = incremental()
    assert "0 files parsed, 33 from the cache" in phase(report, "validate")
    catalog = report.catalog
    ids = [source.id for model in catalog.models.values() for source in model.sources if source.id == "hf-config"]
    assert len(ids) > 1 and all(each is ids[0] for each in ids)


def test_warnings_in_unchanged_files_are_located_without_composing_them_again(workspace, monkeypatch):
    from site_builder.loader import Document

    data, templates, root, incremental, same_as_clean = workspace
    first = incremental().warnings
    assert first, "the catalog has stale prices at DATA_DATE"
    edit(data / "site.yaml", "title: ", "title: Edited ")

    def composed(self):
        raise AssertionError(f"{self.path} composed again")

    monkeypatch.setattr(Document, "_located", composed)
    again = incremental().warnings
    assert [(w.file, w.line, w.column, w.message) for w in again] == [(w.file, w.line, w.column, w.message)
                                                                        for w in first]


def test_entities_come_back_from_the_cache_equal_and_whole():
    import pickle

    from site_builder.catalog import load_catalog

    catalog = load_catalog(REPO / "data", DATA_DATE)
    cache.register_entity_pickling()
    for model in catalog.models.values():
        restored = pickle.loads(pickle.dumps(model, pickle.HIGHEST_PROTOCOL))
        assert restored == model and type(restored) is type(model)
        assert restored.model_dump(mode="json") == model.model_dump(mode="json")
        assert restored.model_fields_set == model.model_fields_set
        assert restored.__pydantic_extra__ is None and restored.__pydantic_private__ is None

    # A process that restores before it ever registered (the slots set by name, not descriptor)
    pickled = pickle.dumps(list(catalog.models.values()), pickle.HIGHEST_PROTOCOL)
    script = ("import pickle, sys; models = pickle.loads(sys.stdin.buffer.read()); "
              "print('|'.join(m.model_dump_json() for m in models))")
    restored = subprocess.run([sys.executable, "-c", script], input=pickled, capture_output=True, check=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)}).stdout.decode().strip()
    assert restored == "|".join(model.model_dump_json() for model in catalog.models.values())


def test_the_console_build_ends_without_tearing_down_and_loses_no_output(catalog_dir, tmp_path):
    """`site-builder build` leaves with os._exit once the site and its report are out (freeing
    the catalog object by object cost ~1 s at 10,000 models): exit code 0, every line printed,
    the site complete. Called from Python, the command returns instead (every other test)."""
    script = ("import sys; sys.argv = ['site-builder', 'build', '--no-search', '--jobs', '2']; "
              "from site_builder.cli import run; run(); print('teardown skipped: not reached')")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1].startswith("built ") and lines[-1].endswith(" pages into _site/")
    assert "teardown skipped: not reached" not in result.stdout
    assert (tmp_path / "_site" / "index.html").is_file()
    assert any(line.startswith("save ") for line in lines)


def test_the_record_table_keeps_positions_refreshes_changed_reads_and_drops_unused_ones():
    from site_builder.reuse import PageRecord, RecordTable

    class Now:  # the fingerprints of this build
        def of(self, dep):
            return {"b": b"B2"}.get(dep[1], b"same")

    previous = [(("value", "a"), b"same"), (("value", "b"), b"B1"), (("value", "c"), b"same")]
    kept = PageRecord(b"id", (0,), "digest")
    table = RecordTable(previous, Now(), changed={1})
    table.keep("kept.html", kept)
    assert table.reads[1] == (("value", "b"), b"B2")  # refreshed before any page reads it
    table.add("new.html", b"id2", [(("value", "b"), b"B2"), (("value", "d"), b"D")], "digest2")
    assert table.pages["kept.html"] is kept  # positions unchanged: nothing to re-index
    assert table.pages["new.html"].reads == (1, 3)
    record = table.as_record()  # "c" is read by no page, and is a fifth of the table: dropped
    assert [dep for dep, _ in record["reads"]] == [("value", "a"), ("value", "b"), ("value", "d")]
    assert record["pages"]["kept.html"].reads == (0,)
    assert record["pages"]["new.html"].reads == (1, 2)
    assert record["reads"][2] == (("value", "d"), b"D")


def test_offers_are_fingerprinted_by_their_model_file():
    """Scores are not: leaderboards are fingerprinted by what their rows show (below)."""
    from site_builder.catalog import load_catalog
    from site_builder.reuse import _with_parts

    catalog = load_catalog(REPO / "data", DATA_DATE)
    model = next(m for m in catalog.models.values() if m.offers and m.benchmarks)
    other = next(m for m in catalog.models.values() if m is not model)
    known = _with_parts(catalog, {id(model): b"digest"})
    assert known[id(model.offers[1])] == b"digest/offers/1"
    assert id(model.benchmarks[0]) not in known
    assert all(id(offer) not in known for offer in other.offers)  # no file digest: walked


def test_cross_file_checks_of_unchanged_models_are_taken_from_the_last_build(workspace, monkeypatch):
    """Each model's cross-file problems are kept by its file digest and a digest of what they
    read in other files; an edit re-checks the edited model only, and an edit to what the checks
    read elsewhere (an id in providers.yaml) re-checks every model."""
    from site_builder import checks
    from site_builder.errors import CatalogInvalid

    data, templates, root, incremental, same_as_clean = workspace
    first = incremental()
    walked: list[str] = []
    real_walk = checks.dates_and_citations

    def walk(value, path=()):
        if hasattr(value, "offers"):
            walked.append(value.name)
        return real_walk(value, path)

    monkeypatch.setattr(checks, "dates_and_citations", walk)
    edit(data / "models/llama-3.1-8b-instruct.yaml", "name: Llama 3.1 8B Instruct", "name: Llama 3.1 8B Instruct (x)")
    second = incremental()
    assert walked == ["Llama 3.1 8B Instruct (x)"]
    assert [w.text() for w in second.warnings] == [w.text() for w in first.warnings]

    walked.clear()
    edit(data / "providers.yaml", "together:", "together-ai:")
    with pytest.raises(CatalogInvalid) as failed:
        incremental()
    assert len(walked) == len(first.catalog.models)
    unknown = [p for p in failed.value.problems if "unknown provider 'together'" in p.message]
    assert unknown and all(p.line > 1 for p in unknown)  # located in unchanged files too


def made(report) -> tuple[int, int, int, int]:
    """(table rows, listing entries, sections) made, and fragments reused, from the fragments phase."""
    found = re.fullmatch(r"(\d+) table rows, (\d+) listing entries and (\d+) sections made, (\d+) reused",
                         phase(report, "fragments"))
    assert found, phase(report, "fragments")
    return int(found.group(1)), int(found.group(2)), int(found.group(3)), int(found.group(4))


def test_fragments_are_kept_across_builds_and_made_again_when_what_they_read_changes(workspace):
    """A model's table row and its brief in the JSON listings are kept by what they read."""
    data, templates, root, incremental, same_as_clean = workspace
    models = len(same_as_clean().catalog.models)
    every = 2 * models + 2  # and the two sections
    assert made(incremental()) == (0, 0, 0, every)

    # the name is on the timeline (and the price chart reads the models on it whole)
    edit(data / "models/llama-3.1-8b-instruct.yaml", "name: Llama 3.1 8B Instruct", "name: Llama 3.1 8B Instruct (x)")
    assert made(same_as_clean()) == (1, 1, 2, every - 4)
    assert "Llama 3.1 8B Instruct (x)" in (root / "site/index.html").read_text()
    listing = json.loads((root / "site/api/models.json").read_text())
    assert "Llama 3.1 8B Instruct (x)" in [model["name"] for model in listing["models"]]

    edit(data / "organizations.yaml", "name: Meta", "name: Meta Platforms")  # Meta's rows, and the timeline
    report = same_as_clean()
    meta = sum(model.organization == "meta" for model in report.catalog.models.values())
    assert made(report) == (meta, 0, 1, every - meta - 1)

    with open(templates / "partials/model_row.html", "a") as row:
        row.write("{# edited #}\n")
    assert made(same_as_clean()) == (models, 0, 0, models + 2)
    # Links follow base_url, which making the environment reads (and the briefs' urls): all redone.
    edit(data / "site.yaml", "base_url: https://models.example.org/", "base_url: https://models.example.org/catalog/")
    assert made(same_as_clean()) == (models, models, 2, 0)
    assert 'href="/catalog/models/llama-3.1-8b-instruct/"' in (root / "site/index.html").read_text()


@pytest.mark.parametrize("workspace", ["files", "memory"], indirect=True)
def test_fragments_that_read_the_same_shared_values_share_one_check_of_them(workspace, monkeypatch):
    """A fragment's reads of models are apart from its other reads (render.FragmentRecord), and
    fragments whose other reads are the same share one tuple of them, checked once a build: after
    a score edit, far fewer reads are fingerprinted than the kept fragments hold."""
    from site_builder import render, reuse

    data, templates, root, incremental, same_as_clean = workspace
    same_as_clean()
    real_render, real_of = render.render_fragments, reuse.Fingerprints.of
    kept: dict = {}
    asked: list = []
    checking: list = []

    def render_fragments(catalog, templates_dir, jobs, fingerprints, previous, *rest, **options):
        kept.update(previous)
        checking.append(True)
        try:
            return real_render(catalog, templates_dir, jobs, fingerprints, previous, *rest, **options)
        finally:
            checking.clear()

    monkeypatch.setattr(render, "render_fragments", render_fragments)
    monkeypatch.setattr(reuse.Fingerprints, "of", lambda self, dep: (asked.append(dep) if checking else None)
                        or real_of(self, dep))
    edit(data / "models/phi-4.yaml", "score: 84.8", "score: 84.9")
    report = same_as_clean()
    records = list(kept.values())
    assert len(records) == sum(made(report))
    assert all(not reuse.model_read(dep) for record in records for dep, _ in record.shared)
    assert all(reuse.model_read(dep) for record in records for dep, _ in record.own)
    shared = {id(record.shared): record.shared for record in records}
    assert len(shared) == len({frozenset(reads) for reads in shared.values()}) < len(records) / 2
    assert 0 < len(asked) < sum(len(record.reads) for record in records) / 2, (len(asked), sum(len(record.reads) for record in records))


@pytest.mark.parametrize("workspace", ["memory"], indirect=True)
def test_a_preview_makes_again_only_the_leaderboard_rows_that_changed(workspace, monkeypatch):
    """A preview keeps the leaderboard rows it made (render.KeptRows): after a score edit, the
    leaderboard is rendered again from the kept rows but the edited one and those whose rank
    moved; after a change of base_url, every row is made again. The output is a clean build's."""
    from site_builder import facets

    data, templates, root, incremental, same_as_clean = workspace
    same_as_clean()
    # rows made in forked workers do not come back (`serve` renders in one process): a first edit
    # renders the leaderboard again here, in this process, which keeps its rows
    edit(data / "models/phi-4.yaml", "score: 84.8", "score: 84.85")
    incremental()
    made_rows: list = []
    real = facets.row_values
    monkeypatch.setattr(facets, "row_values", lambda catalog, entry: made_rows.append(entry.model_id)
                        or real(catalog, entry))
    edit(data / "models/phi-4.yaml", "score: 84.85", "score: 84.9")
    report = incremental()
    board = report.catalog.facets.leaderboards["mmlu"]
    on_board = sum(len(group.entries) for group in board)
    assert "phi-4" in made_rows and len(made_rows) < on_board / 2, (made_rows, on_board)
    same_as_clean()
    edit(data / "models/dbrx.yaml", "score: 73.7", "score: 99.9")  # to the top: the ranks above it move
    same_as_clean()
    made_rows.clear()
    edit(data / "site.yaml", "base_url: https://models.example.org/", "base_url: https://models.example.org/catalog/")
    incremental()
    assert len(made_rows) >= on_board
    same_as_clean()


def test_compiled_templates_are_kept_for_this_code_only(workspace, monkeypatch):
    import jinja2

    data, templates, root, incremental, same_as_clean = workspace
    stale = root / "cache"
    incremental()
    folders = list(stale.glob("*/templates-*"))
    assert len(folders) == 1 and any(folders[0].iterdir())  # model.html and the others, compiled
    (folders[0].parent / "templates-0000000000000000").mkdir()  # left by other code
    loaded: list[str] = []
    real_load = jinja2.FileSystemBytecodeCache.load_bytecode

    def load_bytecode(self, bucket):
        real_load(self, bucket)
        if bucket.code is not None:
            loaded.append(bucket.key)

    monkeypatch.setattr(jinja2.FileSystemBytecodeCache, "load_bytecode", load_bytecode)
    edit(data / "models/phi-4.yaml", "name: Phi-4", "name: Phi-4 (x)")
    same_as_clean()  # jobs=2, but few pages: rendered in this process, which loads compiled code
    assert loaded
    assert [folder.name for folder in stale.glob("*/templates-*")] == [folders[0].name]


def test_fragments_made_untracked_are_not_kept(workspace, monkeypatch):
    """When the catalog cannot be tracked, a fragment's reads are unknown: it is used in this
    build but not kept for the next, which could not tell whether it is still right."""
    from site_builder import render

    data, templates, root, incremental, same_as_clean = workspace
    monkeypatch.setattr(render._RenderState, "tracked_env", lambda self: None)
    models = len(same_as_clean().catalog.models)
    assert made(same_as_clean()) == (models, models, 2, 0)


@pytest.mark.parametrize("workspace", ["files", "memory"], indirect=True)
def test_a_chart_is_drawn_again_only_when_what_it_shows_changes(workspace, monkeypatch):
    """The charts page joins two sections (render.SECTIONS) kept like a model's row: the
    release timeline reads each model's release date, name and organization, so a score edit
    leaves it as it was, and a release date edit draws it again. The page equals a clean build's."""
    from site_builder import charts

    data, templates, root, incremental, same_as_clean = workspace
    same_as_clean()
    drawn: list[str] = []
    for name in ("release_timeline", "price_vs_score"):
        real = getattr(charts, name)
        monkeypatch.setattr(charts, name, lambda catalog, real=real, name=name: drawn.append(name) or real(catalog))

    edit(data / "models/phi-4.yaml", "score: 84.8", "score: 84.9")
    report = incremental()
    assert drawn == ["price_vs_score"] and made(report)[2] == 1
    same_as_clean()
    drawn.clear()
    edit(data / "models/phi-4.yaml", "release_date: {value: 2024-12-12,", "release_date: {value: 2024-12-13,")
    assert incremental() and drawn.count("release_timeline") == 1
    same_as_clean()
    assert '<time datetime="2024-12-13">' in (root / "site/charts/index.html").read_text()



def test_records_kept_in_memory_are_not_pickled_and_entities_are_not_restored(tmp_path):
    """`serve` keeps the cache's records in a dict between rebuilds: the next build reuses the
    same validated entities (no copies), and no record file is written."""
    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data)
    memory: dict = {}

    def build():
        return build_site(data, tmp_path / "site", today=DATA_DATE, cache_dir=tmp_path / "cache", memory=memory)

    first = build()
    edit(data / "models/phi-4.yaml", "name: Phi-4", "name: Phi-4 (x)")
    second = build()
    assert "1 files parsed" in phase(second, "validate")
    unchanged = [m for m in first.catalog.models if m != "phi-4"]
    assert all(second.catalog.models[m] is first.catalog.models[m] for m in unchanged)
    assert all(second.catalog.derived[m] is first.catalog.derived[m] for m in unchanged)  # not derived again
    assert second.catalog.derived["phi-4"] is not first.catalog.derived["phi-4"]
    assert not list((tmp_path / "cache").rglob("*.pickle"))
    assert {name for _, name in memory} >= {"inputs.pickle", "pages.pickle", "models.pickle", "fragments.pickle"}

    license_id = first.catalog.models["phi-4"].license_id
    edit(data / "licenses.yaml", f"{license_id}:\n  name: ", f"{license_id}:\n  name: Edited ")
    third = build()
    for model_id, model in third.catalog.models.items():
        same = third.catalog.derived[model_id] is second.catalog.derived[model_id]
        assert same == (model.license_id != license_id), model_id


def test_a_build_keeping_its_records_in_memory_keeps_its_leaderboard_groups_and_digests(tmp_path, monkeypatch):
    """As `serve` builds: after a model edit, the leaderboard groups the model is not on are the
    last build's objects, and the derivation digests are worked out once (by derive_all, for
    the kept figures; fingerprinting takes the same)."""
    from site_builder import derive

    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data)
    memory: dict = {}

    def build():
        return build_site(data, tmp_path / "site", today=DATA_DATE, cache_dir=tmp_path / "cache", memory=memory)

    before = build().catalog.facets.leaderboards
    calls: list[int] = []
    real = derive._derivation_digests
    monkeypatch.setattr(derive, "_derivation_digests", lambda *args: calls.append(1) or real(*args))
    edit(data / "models/qwen2.5-72b-instruct.yaml", "score: 49.0,", "score: 49.5,")
    after = build().catalog.facets.leaderboards
    assert calls == [1]
    kept = made = 0
    for bench, groups in after.items():
        for group in groups:
            same = any(group is old for old in before[bench])
            assert same != any(entry.model_id == "qwen2.5-72b-instruct" for entry in group.entries)
            kept, made = kept + same, made + (not same)
    assert kept > made > 0


def test_only_the_most_recent_cache_slots_are_kept_with_their_compiled_templates(tmp_path):
    """Each (data, output) pair has a slot; the oldest go, compiled templates and all."""
    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data)
    cache_dir = tmp_path / "cache"
    for index in range(cache.KEPT_SLOTS + 2):
        build_site(data, tmp_path / f"site-{index}", today=DATA_DATE, cache_dir=cache_dir)
    slots = list(cache_dir.iterdir())
    assert len(slots) == cache.KEPT_SLOTS
    assert all(any(slot.glob("templates-*")) for slot in slots)


def test_cross_file_checks_of_files_parsed_in_this_build_run_where_they_are_validated(tmp_path, monkeypatch):
    """Given the build date, validation runs each parsed model's cross-file checks with its
    document at hand; resolving then takes them as they are instead of checking again."""
    from site_builder import catalog as catalog_module
    from site_builder.validate import validate_catalog

    validated = validate_catalog(REPO / "data", DATA_DATE)
    assert set(validated.model_checks) == set(validated.model_paths.values())
    assert any(validated.model_checks.values())  # the stale-price warnings, among others

    def checked_again(*args, **kwargs):
        raise AssertionError("checked again while resolving")

    monkeypatch.setattr(catalog_module, "model_problems", checked_again)
    problems = catalog_module.cross_file_problems(validated, DATA_DATE)
    assert sorted(problems) == sorted(p for found in validated.model_checks.values() for p in found)


def test_a_model_page_that_reads_the_groupings_is_not_shown_first(workspace):
    """The edited models' pages are shown before the groupings exist: a page that reads them
    fails there, is not shown, and the build goes on to write the clean build's site."""
    data, templates, root, incremental, same_as_clean = workspace
    edit(templates / "model.html", "{% block main %}", "{% block main %}{% if facets %}<!-- grouped -->{% endif %}")
    same_as_clean()
    edit(data / "models/phi-4.yaml", "name: Phi-4", "name: Phi-4 (edited)")
    report = same_as_clean()
    assert report.shown == [] and "first" not in [name for name, _, _ in report.phases]
    assert b"Phi-4 (edited)" in (root / "site/models/phi-4/index.html").read_bytes()


def test_the_edited_models_pages_are_shown_before_the_other_models_figures_are_derived(workspace, monkeypatch):
    """Only the edited model's figures are derived before its pages are shown; a model page
    that reads another model's figures is not shown first, and either way the build goes on
    to write the clean build's site."""
    from site_builder import build, derive

    data, templates, root, incremental, same_as_clean = workspace
    same_as_clean()
    derived: list[str] = []
    before_shown: list[list[str]] = []
    real_derive, real_show = derive.derive_model, build.show_first
    monkeypatch.setattr(derive, "derive_model", lambda model, *rest: derived.append(model.name) or real_derive(model, *rest))
    monkeypatch.setattr(build, "show_first", lambda catalog, *rest: before_shown.append(sorted(catalog.derived))
                        or real_show(catalog, *rest))
    listings: list[Path] = []
    real_listing = cache.list_outputs
    monkeypatch.setattr(cache, "list_outputs", lambda out_dir: listings.append(out_dir) or real_listing(out_dir))
    edit(data / "models/phi-4.yaml", "name: Phi-4", "name: Phi-4 (edited)")
    report = incremental()
    assert before_shown == [["phi-4"]] and derived[0] == "Phi-4 (edited)"
    assert phase(report, "first").startswith("2 pages of the edited models shown")
    # the pages shown first changed their folders' mtimes; the check reads those folders
    # rather than listing the whole output again, and the record is the output as left
    assert listings == []
    same_as_clean()
    slot = cache.Slot(root / "cache", data, root / "site", cache.code_fingerprint())
    recorded, listed = slot.read("inputs.pickle"), cache.list_outputs(root / "site")
    assert (recorded["outputs"], recorded["folders"]) == (listed.files, listed.folders)

    edit(templates / "model.html", "{% block main %}", "{% block main %}{{ catalog.derived['qwq-32b'].head_dim }}")
    same_as_clean()
    edit(data / "models/phi-4.yaml", "name: Phi-4 (edited)", "name: Phi-4")
    assert same_as_clean().shown == []


def test_an_edit_of_more_than_a_few_model_files_shows_nothing_first(workspace):
    data, templates, root, incremental, same_as_clean = workspace
    same_as_clean()
    files = sorted((data / "models").glob("*.yaml"))
    for path in files[:8]:
        edit(path, "\nname: ", "\nname: Edited ")
    assert len(same_as_clean().shown) == 16  # eight models, two pages each
    for path in files[:9]:
        edit(path, "\nname: ", "\nname: Again ")
    assert same_as_clean().shown == []  # nine: the build renders them with everything else


def test_leaderboard_groups_whose_rows_are_the_same_objects_are_kept():
    """A preview keeps the last build's leaderboard groups: a group whose models and scores are
    the same objects, and whose benchmark ranks the same way, is taken as it was; any other is
    made again, and the groupings equal those made from nothing."""
    import dataclasses

    from site_builder.catalog import load_catalog
    from site_builder.facets import compute_facets

    catalog = load_catalog(REPO / "data", DATA_DATE)
    kept: dict = {}
    first = compute_facets(catalog, None, kept)
    again = compute_facets(catalog, kept)
    assert again == first
    assert all(a is b for bench in first.leaderboards
               for a, b in zip(first.leaderboards[bench], again.leaderboards[bench]))

    # an edited model: new objects, as when its file is validated again
    model_id = "qwen2.5-72b-instruct"
    model = catalog.models[model_id]
    changed = model.benchmarks[0]
    scores = [changed.model_copy(update={"score": changed.score + 0.5})] + list(model.benchmarks[1:])
    edited = dataclasses.replace(catalog, models={**catalog.models, model_id: model.model_copy(update={"benchmarks": scores})})
    updated = compute_facets(edited, kept)
    assert updated == compute_facets(edited)
    made_again = 0
    for bench, groups in updated.leaderboards.items():
        for group in groups:
            reused = any(group is old for old in first.leaderboards.get(bench, ()))
            holds_model = any(entry.model_id == model_id for entry in group.entries)
            assert reused != holds_model, (bench, group.setting)
            made_again += not reused
    assert made_again == len({(s.benchmark, s.setting) for s in model.benchmarks}) > 1

    # the benchmark parsed again (a new object, as on every build): its groups are kept
    reparsed = catalog.benchmarks[changed.benchmark].model_copy()
    same_bench = dataclasses.replace(catalog, benchmarks={**catalog.benchmarks, changed.benchmark: reparsed})
    assert all(a is b for a, b in zip(compute_facets(same_bench, kept).leaderboards[changed.benchmark],
                                       first.leaderboards[changed.benchmark]))
    # its direction edited: its groups are made again
    bench_id = changed.benchmark
    flipped = catalog.benchmarks[bench_id].model_copy(
        update={"higher_is_better": not catalog.benchmarks[bench_id].higher_is_better})
    reversed_catalog = dataclasses.replace(catalog, benchmarks={**catalog.benchmarks, bench_id: flipped})
    assert compute_facets(reversed_catalog, kept) == compute_facets(reversed_catalog)
    assert compute_facets(reversed_catalog, kept).leaderboards[bench_id] != first.leaderboards[bench_id]


def test_a_leaderboard_group_is_fingerprinted_by_what_its_rows_show():
    """reuse._with_leaderboards digests a group from its setting and facets.row_values of each
    entry (what render.leaderboard_rows shows): equal content gives the same digest, a change
    to anything a row shows another one, and a change to what no row shows none."""
    from types import SimpleNamespace as NS

    from site_builder.facets import Entry, LeaderboardGroup, score_row_digests
    from site_builder.reuse import _with_leaderboards

    def catalog_with(setting="0-shot", rank=1, name="X", value=50.0, date="2024-09", note=None,
                     publisher="Lab", sources=("s1",), license="mit"):
        score = NS(score=value, setting=setting, date=date, note=note, source=sources[-1])
        group = LeaderboardGroup(setting, (Entry("x", score, rank),))
        model = NS(name=name, license_id=license, sources=[NS(id=i, publisher=publisher) for i in sources],
                   benchmarks=[score])
        derived = NS(source_numbers={i: n for n, i in enumerate(sources, start=1)})
        return NS(models={"x": model}, derived={"x": derived},
                  facets=NS(leaderboards={"gpqa": (group,)})), group

    def digest(**changes):
        catalog, group = catalog_with(**changes)
        found = _with_leaderboards(catalog, {}, {})[0][id(group)]  # each row worked out here
        kept = {id(score): row for score, row in zip(catalog.models["x"].benchmarks,
                                                     score_row_digests("x", catalog.models["x"]))}
        assert _with_leaderboards(catalog, {}, kept)[0][id(group)] == found  # or as the cache keeps them
        return found

    base = digest()
    assert base == digest() and base == digest(license="apache-2.0")  # not shown in a row
    changed = [digest(setting="5-shot"), digest(rank=2), digest(name="Y"), digest(value=50.5), digest(date="2024-10"),
               digest(note="self-reported"), digest(publisher="Other"), digest(sources=("s0", "s1"))]
    assert len({base, *changed}) == 1 + len(changed)


def test_a_leaderboard_group_keeps_its_digest_while_it_and_its_models_are_as_they_were():
    """With the last build's digests (a preview's), a group that is the same object, all of
    whose models have the digests they had, keeps its digest; a group another object, or with
    a model whose file or derived figures changed, is digested again."""
    import dataclasses

    from site_builder.catalog import load_catalog
    from site_builder.reuse import _with_leaderboards

    loading = cache.Loading()
    with cache.loading(loading):
        catalog = load_catalog(REPO / "data", DATA_DATE)
    digests = {model_id: (f"file of {model_id}", f"figures of {model_id}") for model_id in catalog.models}
    assert _with_leaderboards(catalog, {}, loading.score_rows, digests)[1] is None  # nothing kept
    first, kept = _with_leaderboards(catalog, {}, loading.score_rows, digests, False)
    groups = [group for groups in catalog.facets.leaderboards.values() for group in groups]
    assert len(kept[1]) == len(groups) > 10
    # rows that would digest otherwise: a group digested again shows it
    wrong = {key: b"another row" for key in loading.score_rows}
    again, kept_again = _with_leaderboards(catalog, {}, wrong, digests, kept)
    assert all(again[id(group)] == first[id(group)] for group in groups)

    edited = next(iter(catalog.models))
    copied = dataclasses.replace(groups[0])  # equal, another object
    for changed in ({**digests, edited: (f"file of {edited}", "other figures")},
                    {**digests, edited: ("another file", f"figures of {edited}")}):
        leaderboards = {bench: tuple(copied if g is groups[0] else g for g in bench_groups)
                        for bench, bench_groups in catalog.facets.leaderboards.items()}
        now = dataclasses.replace(catalog, facets=dataclasses.replace(catalog.facets, leaderboards=leaderboards))
        found, _ = _with_leaderboards(now, {}, wrong, changed, kept_again)
        redone = 0
        for bench_groups in leaderboards.values():
            for group in bench_groups:
                again = group is not copied and all(entry.model_id != edited for entry in group.entries)
                assert (found[id(group)] == first.get(id(group))) == again
                redone += not again
        assert redone > 1


def test_what_a_leaderboard_row_shows_is_kept_with_its_model_file(workspace):
    """The digests of each score's row come back from the cache equal to those worked out
    from the entities, so restored and freshly validated models fingerprint leaderboards alike."""
    from site_builder.facets import score_row_digests

    data, templates, root, incremental, same_as_clean = workspace
    incremental()
    slot = cache.Slot(root / "cache", data, root / "site", cache.code_fingerprint())
    entries = slot.read("models.pickle")["entries"]
    assert len(entries) == 33 and sum(len(rows) for _, _, _, rows in entries.values()) > 100
    for (shown, _), (model, _, _, rows) in entries.items():
        assert rows == score_row_digests(Path(shown).stem, model)


@pytest.mark.parametrize("workspace", ["files", "memory"], indirect=True)
def test_reads_of_models_settled_since_the_last_build_are_not_fingerprinted_again(workspace, monkeypatch):
    """After a one-model edit, a build fingerprints again no read of another model or of its
    derived figures (their file and derivation digests are as they were), and hashes again no
    kept fragment's text; the output is still a clean build's. An edit that changes another
    model's derived figures (a new derivative changes its base's relations) is seen."""
    from site_builder import reuse

    data, templates, root, incremental, same_as_clean = workspace
    same_as_clean()
    computed: list = []
    hashed: list = []
    compute, text_digest = reuse.Fingerprinter.digest, reuse.text_digest

    def digest(self, value):  # what was fingerprinted by walking it, by the read it was
        found = compute(self, value)
        computed.extend(dep for dep in fingerprinted_now if dep[0] != "template")
        return found

    fingerprinted_now: list = []
    of = reuse.Fingerprints._compute
    monkeypatch.setattr(reuse.Fingerprints, "_compute",
                        lambda self, dep: fingerprinted_now.clear() or fingerprinted_now.append(dep) or of(self, dep))
    monkeypatch.setattr(reuse.Fingerprinter, "digest", digest)
    monkeypatch.setattr(reuse, "text_digest", lambda text: hashed.append(text) or text_digest(text))

    edit(data / "models/llama-3.1-8b-instruct.yaml", "name: Llama 3.1 8B Instruct", "name: Llama 3.1 8B Instruct (x)")
    report = same_as_clean()
    models_read = {dep[1][1] for dep in computed
                   if dep[0] in ("value", "keys") and len(dep[1]) > 1 and dep[1][0] in ("models", "derived")}
    assert models_read == {"llama-3.1-8b-instruct"}
    # the edited model's two fragments, and the two sections showing its name (render.SECTIONS)
    assert len(hashed) == sum(made(report)[:3]) == 4

    # A model whose base is the 8B: the 8B's derived figures (its derivatives) change with it.
    base = data / "models/llama-3.1-8b-instruct.yaml"
    text = re.sub(r"(?m)^aliases: .*\n", "", base.read_text()).replace("name: Llama 3.1 8B Instruct (x)", "name: X 8B", 1)
    (data / "models/x-8b.yaml").write_text(text.replace("lineage:\n", "lineage:\n  base_model: llama-3.1-8b-instruct\n", 1))
    computed.clear()
    report = same_as_clean()
    assert report.catalog.derived["llama-3.1-8b-instruct"].relations != ()
    assert ("value", ("derived", "llama-3.1-8b-instruct")) in computed


def test_groupings_updated_by_difference_equal_those_made_from_nothing():
    """A preview updates the last build's groupings by difference (facets.update_facets); after
    every kind of edit a model file allows, alone and together, the result equals
    compute_facets', and a grouping no edited model was or is in is the same object."""
    import dataclasses

    from site_builder.catalog import load_catalog
    from site_builder.derive import all_relations, derive_model
    from site_builder.facets import MOST_CHANGED, compute_facets, keep, update_facets
    from site_builder.schema import PartialDate

    catalog = load_catalog(REPO / "data", DATA_DATE)
    relations = all_relations(catalog)
    made: dict = {}
    kept = keep(catalog, compute_facets(catalog, None, made), made)
    ids = list(catalog.models)
    assert update_facets(catalog, kept) == (kept.facets, kept.groups)

    def edited(current, changes: dict[str, dict]):
        models, derived = dict(current.models), dict(current.derived)
        for model_id, update in changes.items():
            models[model_id] = models[model_id].model_copy(update=update)
            derived[model_id] = derive_model(models[model_id], dataclasses.replace(current, models=models),
                                             relations[model_id])
        return dataclasses.replace(current, models=models, derived=derived)

    def scored(model, **change):
        first = model.benchmarks[0].model_copy(update=change)
        return {"benchmarks": [first, *model.benchmarks[1:]]}

    a, b, served = (catalog.models[m] for m in ("qwen2.5-72b-instruct", "llama-3.1-8b-instruct", "llama-3.1-405b-instruct"))
    kin = [m for m in ids if catalog.models[m].family == served.family and m != "llama-3.1-8b-instruct"]
    assert len(kin) > 1
    other_org = next(o for o in catalog.organizations if o != a.organization)
    other_provider = next(p for p in catalog.providers if p != served.offers[0].provider)
    steps = [
        {"qwen2.5-72b-instruct": scored(a, score=a.benchmarks[0].score + 0.5)},  # a rank moves
        {"qwen2.5-72b-instruct": scored(a, setting="a setting of its own")},  # a group of its own, a label
        {"qwen2.5-72b-instruct": {"benchmarks": []}},  # off every leaderboard
        {"llama-3.1-8b-instruct": {"organization": other_org, "name": "Zzz"}},
        {"llama-3.1-8b-instruct": {"family": None}, ids[-1]: {"family": b.family}},
        {ids[-1]: {"release_date": PartialDate.parse("2030-01-01"), "added": PartialDate.parse("2031-01-02")}},
        {"llama-3.1-405b-instruct": {"offers": [  # two offers at one provider, the newer first
            served.offers[0].model_copy(update={"provider": other_provider, "as_of": PartialDate.parse("2026-01")}),
            served.offers[0].model_copy(update={"provider": other_provider, "as_of": PartialDate.parse("2020-01")}),
            *served.offers[1:]]}},
        {kin[-1]: {"release_date": PartialDate.parse("2000-01-01")}},  # last of its family by id, first by date
        {"llama-3.1-8b-instruct": {"quantizations": None}},
        {m: {"name": f"{catalog.models[m].name} (again)"} for m in ids[:5]},
    ]
    current = catalog
    for changes in steps:
        current = edited(current, changes)
        updated = update_facets(current, kept)
        assert updated is not None
        made_now: dict = {}
        assert updated[0] == compute_facets(current, None, made_now), changes
        assert updated[1] == made_now
        touched = {bench for m in changes for model in (kept.models[m], current.models[m]) for bench in
                   {score.benchmark for score in model.benchmarks}}
        for bench, groups in updated[0].leaderboards.items():
            if bench not in touched:
                assert groups is kept.facets.leaderboards[bench]
        kept = keep(current, *updated)

    # what it cannot update: a model added or removed, a shared file's ids, too many models
    fewer = dataclasses.replace(current, models={m: current.models[m] for m in ids[1:]})
    assert update_facets(fewer, kept) is None
    assert update_facets(dataclasses.replace(current, formats={}), kept) is None
    many = edited(current, {m: {"name": f"{current.models[m].name}!"} for m in ids[:MOST_CHANGED + 1]})
    assert len(ids) <= MOST_CHANGED or update_facets(many, kept) is None


def test_relations_and_derivation_digests_kept_by_difference_equal_those_worked_out_again():
    """A preview keeps the last build's relations (derive.kept_relations) while the ids, their
    order and what all_relations reads of each model stay, and the derivation digests of the
    models whose file and license are as they were: after each edit, both equal what
    all_relations and derivation_digests work out from nothing."""
    import dataclasses

    from site_builder.catalog import load_catalog
    from site_builder.derive import _derivation_digests, all_relations, derivation_digests, kept_relations
    from site_builder.schema import plain

    catalog = load_catalog(REPO / "data", DATA_DATE)
    known = {id(model): f"file of {model_id}" for model_id, model in catalog.models.items()}
    ids = list(catalog.models)
    base = next(m for m in ids if catalog.models[m].lineage and catalog.models[m].lineage.predecessor)
    other = next(m for m in ids if m != base and m != plain(catalog.models[base].lineage.predecessor))
    family = next(m for m in ids if catalog.models[m].family)
    loading = cache.Loading(relations=False)  # as a preview's first build
    kept_digests = None

    def edited(current, model_id, **update):
        model = current.models[model_id].model_copy(update=update)
        known[id(model)] = f"file of {model_id}, edited {len(known)}"
        return dataclasses.replace(current, models={**current.models, model_id: model})

    lineage = catalog.models[base].lineage
    license_id = catalog.models[base].license_id
    steps = [  # (catalog, whether the relations stay the same object)
        (catalog, False),  # nothing kept yet
        (catalog, True),
        (edited(catalog, base, name="Renamed"), True),  # nothing the relations read
        (edited(catalog, base, lineage=lineage.model_copy()), True),  # another object, the same inputs
        (edited(catalog, family, family="a-family-of-its-own"), False),
        (edited(catalog, base, lineage=lineage.model_copy(update={"predecessor": other})), False),
        (dataclasses.replace(catalog, models={m: catalog.models[m] for m in ids[1:]}), False),  # removed
        (catalog, False),
        (dataclasses.replace(catalog, models=dict(reversed(catalog.models.items()))), False),  # order alone
        (catalog, False),
        (dataclasses.replace(catalog, licenses={**catalog.licenses, license_id: catalog.licenses[license_id]
                                                .model_copy(update={"name": "Another name"})}), True),
        (dataclasses.replace(catalog, today=DATA_DATE.replace(year=DATA_DATE.year + 1)), True),
    ]
    before = None
    for current, same in steps:
        with cache.loading(loading):
            relations = kept_relations(current)
        assert relations == all_relations(current)
        assert (relations is before) == same
        digests, kept_digests = _derivation_digests(current, relations, known, kept_digests)
        assert digests == derivation_digests(current, all_relations(current), known)
        before = relations
    assert len(set(digests.values())) == len(digests)


def test_a_build_keeping_its_records_in_memory_loads_only_the_shared_files_that_changed(tmp_path, monkeypatch):
    """As `serve` builds: a shared file whose digest stays is not loaded again, its entities
    are the last build's; an edited one is loaded, and its problems are reported in every
    build until it is fixed."""
    from site_builder import validate

    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data)
    memory: dict = {}
    loaded: list[str] = []
    real = validate.load_file
    monkeypatch.setattr(validate, "load_file", lambda path: loaded.append(path.name) or real(path))

    def build():
        loaded.clear()
        return build_site(data, tmp_path / "site", today=DATA_DATE, cache_dir=tmp_path / "cache", memory=memory)

    first = build()
    assert set(validate.SHARED_FILES) <= set(loaded)
    edit(data / "models/phi-4.yaml", "name: Phi-4", "name: Phi-4 (x)")
    second = build()
    assert loaded == ["site.yaml"]
    assert second.catalog.licenses["mit"] is first.catalog.licenses["mit"]
    edit(data / "licenses.yaml", "name: MIT License", "name: MIT")
    assert build().catalog.licenses["mit"].name == "MIT" and loaded == ["site.yaml", "licenses.yaml"]

    edit(data / "licenses.yaml", "name: MIT\n", "name: MIT\n  colour: blue\n")
    reported = []
    for _ in range(2):  # a build that fails keeps nothing: the file is loaded again
        with pytest.raises(CatalogInvalid) as failed:
            build()
        reported.append([problem.text() for problem in failed.value.problems])
        assert loaded == ["site.yaml", "licenses.yaml"]
    assert reported[0] == reported[1]
    assert any("licenses.yaml" in text and "colour" in text for text in reported[0]), reported[0]


def test_a_build_keeping_its_records_in_memory_keeps_the_index_of_its_reads(tmp_path, monkeypatch):
    """As `serve` builds: the table of reads is kept with its index (read → position), which
    the next build takes instead of indexing the table again; the index kept is always the
    table's. Records in files are kept without it."""
    from site_builder import reuse

    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data)
    memory: dict = {}
    indexed: list[int] = []
    real = reuse.table_index
    monkeypatch.setattr(reuse, "table_index", lambda table: indexed.append(len(table)) or real(table))

    def build(**options):
        indexed.clear()
        return build_site(data, tmp_path / "site", today=DATA_DATE, cache_dir=tmp_path / "cache", memory=memory,
                          **options)

    def kept_record():
        found = [record for key, record in memory.items() if key[1] == "pages.pickle"]
        assert len(found) == 1
        return found[0]

    build()
    for old, new in (("name: Phi-4", "name: Phi-4 (x)"), ("score: 84.8", "score: 84.9")):
        edit(data / "models/phi-4.yaml", old, new)
        build()
        assert indexed == []
        record = kept_record()
        assert record["index"] == real(record["reads"])
    build_site(data, tmp_path / "site2", today=DATA_DATE, cache_dir=tmp_path / "cache2")
    in_files = cache.Slot(tmp_path / "cache2", data, tmp_path / "site2", cache.code_fingerprint()).read("pages.pickle")
    assert in_files["reads"] and "index" not in in_files


def test_a_build_keeping_its_records_in_memory_keeps_its_plan_while_the_ids_stay(tmp_path, monkeypatch):
    """As `serve` builds: an edit inside a model file leaves every id and file as it was, so the
    pages planned and their identities are the last build's; a model added is planned again."""
    from site_builder import pages as pages_module, reuse

    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data)
    memory: dict = {}
    planned: list[int] = []
    identified: list[int] = []
    plan, identity = pages_module.plan, reuse.Fingerprints.identity
    monkeypatch.setattr(pages_module, "plan", lambda *args: planned.append(1) or plan(*args))
    monkeypatch.setattr(reuse.Fingerprints, "identity", lambda self, page: identified.append(1) or identity(self, page))

    def build():
        planned.clear(), identified.clear()
        return build_site(data, tmp_path / "site", today=DATA_DATE, cache_dir=tmp_path / "cache", memory=memory)

    first = build()
    assert planned == [1] and len(identified) == len(first.pages)
    edit(data / "models/qwen2.5-72b-instruct.yaml", "score: 49.0,", "score: 49.5,")
    again = build()
    assert again.pages is first.pages and planned == [] and identified == []
    assert again.written.written > 0  # the edit was built
    text = (data / "models/qwen2.5-72b-instruct.yaml").read_text().replace("Qwen2.5 72B Instruct", "Qwen2.5 72B Other")
    (data / "models/qwen2.5-72b-other.yaml").write_text(re.sub(r"(?m)^aliases: .*\n", "", text))
    added = build()
    assert planned == [1] and len(added.pages) == len(first.pages) + 2
    assert "models/qwen2.5-72b-other/index.html" in {page.output_path for page in added.pages}


def test_a_build_from_the_cache_files_takes_the_pages_identities_from_the_records_while_the_plan_stays(
        workspace, monkeypatch):
    """As the command line builds: an edit inside a model file plans the same pages, whose
    identities the page records hold; a model added, or a planner that has no name to record,
    fingerprints them again. The output stays the clean build's throughout."""
    from site_builder import reuse

    data, templates, root, incremental, same_as_clean = workspace
    identified: list[int] = []
    identity = reuse.Fingerprints.identity
    monkeypatch.setattr(reuse.Fingerprints, "identity", lambda self, page: identified.append(1) or identity(self, page))

    first = same_as_clean()
    assert len(identified) == len(first.pages)
    identified.clear()
    edit(data / "models/qwen2.5-72b-instruct.yaml", "score: 49.0,", "score: 49.5,")
    again = same_as_clean()
    assert identified == [] and again.written.written > 0
    text = (data / "models/qwen2.5-72b-instruct.yaml").read_text().replace("Qwen2.5 72B Instruct", "Qwen2.5 72B Other")
    (data / "models/qwen2.5-72b-other.yaml").write_text(re.sub(r"(?m)^aliases: .*\n", "", text))
    added = same_as_clean()
    assert len(identified) == len(added.pages) == len(first.pages) + 2
    identified.clear()

    def extra(catalog):  # made in here: its name does not say which function it is
        return [Page("/extra.txt", "by-license.html", {"license_id": "mit"}, "test")]

    (templates / "by-license.html").write_text("{{ license_id }}\n")
    monkeypatch.setattr(pages_module, "PLANNERS", pages_module.PLANNERS + [extra])
    assert reuse.recordable_plan_key((tuple(pages_module.PLANNERS), ())) is None
    with_extra = same_as_clean()
    identified.clear()
    edit(data / "models/qwen2.5-72b-instruct.yaml", "score: 49.5,", "score: 49.0,")
    same_as_clean()
    assert len(identified) == len(with_extra.pages)


def test_the_console_build_leaves_its_records_to_a_background_process_and_the_next_build_waits_for_them(
        catalog_dir, tmp_path):
    """`site-builder build` returns once the site is in place; a forked process writes the
    cache's records and holds the slot's lock meanwhile. The build right after (an edit here)
    reads that build's records, so it reuses pages, and its output is a clean build's."""
    script = ("import sys; sys.argv = ['site-builder', 'build', '--no-search', '--jobs', '2']; "
              "from site_builder.cli import run; run()")

    def console() -> list[str]:
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    first = console()
    assert any(line.startswith("save ") and line.endswith("written on by a background process") for line in first)
    edit(catalog_dir / "models/tiny-dense.yaml", "name: Tiny Dense", "name: Tiny Dense Edited")
    second = console()  # started at once: it waits for the first build's records
    render = next(line for line in second if line.startswith("render "))
    assert re.search(r", [1-9]\d* reused", render), render
    clean = tmp_path / "clean"
    build_site(catalog_dir, clean, jobs=1)
    assert tree(tmp_path / "_site") == tree(clean)


def test_a_session_waits_while_the_slots_records_are_being_written(tmp_path):
    import threading
    import time

    data, out = REPO / "data", tmp_path / "site"
    slot = cache.Slot(tmp_path / "cache", data, out, cache.code_fingerprint())
    held = slot.lock()
    opened = threading.Event()
    thread = threading.Thread(target=lambda: (cache.Session(tmp_path / "cache", data, out, REPO / "templates",
                                                            DATA_DATE, False), opened.set()))
    thread.start()
    time.sleep(0.3)
    assert not opened.is_set()  # waiting for the lock
    os.close(held)
    thread.join(timeout=30)
    assert opened.is_set()


def test_a_quiet_background_process_does_not_keep_a_reader_of_the_output_waiting(tmp_path):
    """The console build's record writer outlives it: it must not hold the build's stdout open
    (a caller reading it through a pipe would wait for the records too)."""
    import time

    script = ("import time; from site_builder.parallel import in_background; "
              "in_background(lambda: (time.sleep(3), print('from the writer')), quiet=True); print('parent done')")
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert time.monotonic() - started < 2.5
    assert result.stdout == "parent done\n"


def test_marks_found_where_a_file_is_validated_are_kept_under_its_cache_digest(workspace):
    """The validation worker hashes each file once and gives that digest to the loader: the
    marks its checks find are remembered under it, the digest the cache keys the file by, and
    so are kept for the next build (under any other digest they would be dropped at save)."""
    data, templates, root, incremental, same_as_clean = workspace
    assert incremental().warnings
    record = cache.unpickled(next((root / "cache").glob("*/inputs.pickle")).read_bytes())
    stamps = {stamp.digest for stamp in record["stamps"].values()}
    assert record["marks"] and {memo[1] for memo in record["marks"]} <= stamps
