"""`serve` driven over real HTTP on 127.0.0.1: rebuild on change, reload signal, error page,
and the last good site never replaced by a broken or half-written one."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from site_builder.build import build_site
from site_builder.cli import main
from site_builder.render import TEMPLATES_DIR
from site_builder.serve import EVENTS_PATH, Preview

from browser import CHROMIUM, chromium_browser
from conftest import REPO, edit
from htmltree import parse

WAIT = 15  # seconds: the bound on every wait for a rebuild


def tree_digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=WAIT) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class Events:
    """An EventSource client: reads `data:` lines from the server's event stream."""

    def __init__(self, port: int, since: str = ""):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
        self.connection.request("GET", EVENTS_PATH + (f"?since={since}" if since else ""))
        self.response = self.connection.getresponse()
        assert self.response.status == 200
        assert self.response.headers["Content-Type"] == "text/event-stream"

    def next(self) -> str:
        """The next build's token."""
        return self.next_event()["token"]

    def next_event(self) -> dict:
        """The next event: {"token", "pages"}."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            line = self.response.readline().decode().strip()
            if line.startswith("data: "):
                return json.loads(line.removeprefix("data: "))
        raise AssertionError("no event within the wait")

    def close(self) -> None:
        self.connection.close()


@pytest.fixture
def templates(tmp_path) -> Path:
    """A copy of the templates, so a test can break one."""
    target = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, target)
    return target


@pytest.fixture
def preview(catalog_dir, tmp_path, templates):
    server = Preview(catalog_dir, out_dir=tmp_path / "preview", templates_dir=templates, port=0,
                     log=lambda line: None)
    server.start()
    yield server
    server.stop()


def reload_script(page_html: bytes):
    return [s for s in parse(page_html.decode()).iter("script") if "data-serve-reload" in s.attrs]


def test_serves_the_site_with_the_reload_script_only_on_the_wire(preview):
    assert preview.url.startswith("http://127.0.0.1:")
    status, headers, body = get(preview.url + "models/tiny-dense/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert parse(body.decode()).find("h1").text() == "Tiny Dense 8B"
    [script] = reload_script(body)
    assert preview.token in script.text()
    on_disk = (preview.out_dir / "models/tiny-dense/index.html").read_bytes()
    assert reload_script(on_disk) == []  # never injected into the built site
    status, headers, _ = get(preview.url + "static/style.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css")
    status, _, body = get(preview.url + "no/such/page/")
    assert status == 404


def test_directory_without_slash_redirects(preview):
    connection = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=WAIT)
    connection.request("GET", "/models/tiny-dense")
    response = connection.getresponse()
    assert response.status == 301 and response.headers["Location"] == "/models/tiny-dense/"
    connection.close()


def test_path_traversal_is_refused(preview, tmp_path):
    (tmp_path / "secret.txt").write_text("secret")
    connection = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=WAIT)
    connection.request("GET", "/../secret.txt")
    response = connection.getresponse()
    assert response.status == 404 and b"secret" not in response.read()
    connection.close()


def test_a_data_change_is_rebuilt_and_the_reload_signal_fires(preview, catalog_dir):
    events = Events(preview.port)
    try:
        first = events.next()
        assert first == preview.token
        edit(catalog_dir / "models/tiny-dense.yaml", "It is tiny.", "It is remarkably tiny.")
        second = events.next()
        assert second != first
    finally:
        events.close()
    # The edited page may be shown first and the rest of the build announced a moment later: the
    # token served is the one current at the request, whichever of the two that was.
    before = preview.token
    _, _, body = get(preview.url + "models/tiny-dense/")
    after = preview.token
    assert "It is remarkably tiny." in parse(body.decode()).find("main").text()
    [script] = reload_script(body)
    served = re.search(r'var loaded = "([^"]+)"', script.text()).group(1)
    assert served in (before, after) and served != first  # it listens for the builds after this one


def test_invalid_data_serves_the_check_errors_and_keeps_the_last_good_site(preview, catalog_dir, run):
    good = tree_digest(preview.out_dir)
    events = Events(preview.port)
    try:
        events.next()
        edit(catalog_dir / "models/tiny-dense.yaml", "attention: gqa", "attention: gqaa")
        edit(catalog_dir / "models/tiny-moe.yaml", "license: apache-2.0", "license: apache")
        events.next()
        while len(preview.state.problems) < 2:  # two saves: one build or two
            events.next()
    finally:
        events.close()

    status, _, body = get(preview.url + "models/tiny-dense/")
    assert status == 500
    page = parse(body.decode())
    shown = [li.text() for li in page.find("ol", **{"class": "problems"}).iter("li")]
    check = run("check", "--data", "data")
    assert check.exit_code == 1
    assert shown == [line for line in check.output.splitlines() if ": error: " in line]
    assert shown[0].startswith("data/models/tiny-dense.yaml:18:14: error: architecture.attention:")
    assert preview.token in reload_script(body)[0].text()  # fixing the data reloads this page

    assert tree_digest(preview.out_dir) == good  # the broken data replaced nothing
    status, _, _ = get(preview.url + "static/style.css")
    assert status == 200

    events = Events(preview.port)
    try:
        events.next()
        edit(catalog_dir / "models/tiny-dense.yaml", "attention: gqaa", "attention: gqa")
        edit(catalog_dir / "models/tiny-moe.yaml", "license: apache", "license: apache-2.0")
        while preview.state.problems:
            events.next()
    finally:
        events.close()
    status, _, body = get(preview.url + "models/tiny-dense/")
    assert status == 200 and parse(body.decode()).find("h1").text() == "Tiny Dense 8B"


def test_a_template_error_is_shown_with_its_file_and_line(preview, templates):
    events = Events(preview.port)
    try:
        events.next()
        edit(templates / "model.html", "{% block main %}", "{% block main %}{% if %}")
        events.next()
    finally:
        events.close()
    status, _, body = get(preview.url + "models/tiny-dense/")
    assert status == 500
    [problem] = [li.text() for li in parse(body.decode()).find("ol", **{"class": "problems"}).iter("li")]
    line = next(n for n, text in enumerate((templates / "model.html").read_text().splitlines(), 1) if "{% if %}" in text)
    assert problem.startswith(f"{templates / 'model.html'}:{line}:1: error: TemplateSyntaxError:")


def test_no_request_sees_a_half_swapped_site(preview, catalog_dir, monkeypatch):
    """The swap (two renames) is made slow; requests during it must wait, not get a 404. (An
    edit of site.yaml changes every page: the new site is swapped in, not patched.)"""
    real_rename = os.rename
    swapping = threading.Event()

    def slow_rename(source, target):
        real_rename(source, target)
        if Path(source) == preview.out_dir.resolve():  # the old site is out, the new one not yet in
            swapping.set()
            time.sleep(0.5)

    monkeypatch.setattr(os, "rename", slow_rename)
    statuses: list[int] = []
    edit(catalog_dir / "site.yaml", "title: ", "title: Edited ")
    assert swapping.wait(WAIT), "no rebuild happened"
    deadline = time.monotonic() + 0.4
    while time.monotonic() < deadline:
        status, _, body = get(preview.url + "models/tiny-dense/")
        statuses.append(status)
        assert parse(body.decode()).find("h1").text() == "Tiny Dense 8B"
    assert statuses and set(statuses) == {200}


def test_a_rebuild_that_changed_few_pages_patches_the_site_while_requests_wait(preview, catalog_dir, monkeypatch):
    """Replacing the changed files is made slow; a request for a page during the patch waits
    for the whole patch, then gets the new page."""
    real_replace = os.replace
    patching = threading.Event()
    renames: list[str] = []

    def slow_replace(source, target):
        real_replace(source, target)
        if Path(target).is_relative_to(preview.out_dir.resolve()):
            renames.append(str(target))
            if not patching.is_set():
                patching.set()
                time.sleep(0.5)

    monkeypatch.setattr(os, "replace", slow_replace)
    edit(catalog_dir / "models/tiny-dense.yaml", "It is tiny.", "It is small.")
    assert patching.wait(WAIT), "no patch happened"
    asked = time.monotonic()
    status, _, body = get(preview.url + "models/tiny-dense/")
    assert time.monotonic() - asked > 0.2, "the request did not wait for the patch"
    assert status == 200 and b"It is small." in body
    assert 0 < len(renames) < 10  # only the pages that changed were replaced


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_serve_command_listens_and_stops_cleanly_on_sigterm(catalog_dir):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-m", "site_builder.cli", "serve", "--port", str(port)],
                               cwd=catalog_dir.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        line = process.stdout.readline()  # printed once the first build is served
        assert line.startswith(f"serving http://127.0.0.1:{port}/"), line + process.stderr.read()
        status, _, body = get(f"http://127.0.0.1:{port}/models/tiny-moe/")
        assert status == 200 and reload_script(body)
        process.terminate()
        assert process.wait(timeout=WAIT) == 0
        assert process.stdout.read().strip() == "stopped."
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=WAIT)


def test_a_taken_port_is_a_usage_error(catalog_dir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = CliRunner().invoke(main, ["serve", "--port", str(taken.getsockname()[1])])
    assert result.exit_code == 2
    assert "cannot listen on 127.0.0.1:" in result.output


def test_an_edited_model_shows_first_and_each_build_says_which_pages_it_changed(catalog_dir, tmp_path, templates):
    lines: list[str] = []
    preview = Preview(catalog_dir, out_dir=tmp_path / "preview", templates_dir=templates, port=0, log=lines.append)
    preview.start()
    try:
        before = preview.state.generation
        events = Events(preview.port, since=preview.token)
        try:
            assert events.next_event() == {"token": preview.token, "pages": []}  # this tab is current
            edit(catalog_dir / "models/tiny-dense.yaml", "It is tiny.", "It is remarkably tiny.")
            seen = [events.next_event()]
            while not seen[-1]["token"].endswith(f"-{before + 2}"):
                seen.append(events.next_event())
        finally:
            events.close()
        # Two builds: the edited model's own pages first, then the rest of the rebuild.
        assert any(line.startswith("showing ") and "/models/tiny-dense/" in line for line in lines), lines
        shown = preview.changed_since(before)
        rest = preview.changed_since(before + 1)
        assert shown is not None and rest is not None
        first = sorted(set(shown) - set(rest))
        assert {"/models/tiny-dense/", "/models/tiny-dense/index.html"} <= set(first)
        assert all("tiny-dense" in path for path in first)
        assert "/models/tiny-dense/" not in rest  # not announced twice: its tab reloads once
        assert "/models/tiny-moe/" not in shown  # a page the edit did not change: its tab stays
        for event in seen:
            assert event["pages"] is None or set(event["pages"]) <= set(shown)
        # and what is served is the clean build's site
        clean = tmp_path / "clean"
        build_site(catalog_dir, clean, templates)
        assert tree_digest(preview.out_dir) == tree_digest(clean)
    finally:
        preview.stop()


def test_a_tab_too_far_behind_or_from_another_server_reloads_whatever_it_shows(preview, catalog_dir):
    assert preview.changed_since(None) is None
    assert preview.changed_since(preview.state.generation) == ()
    assert preview.changed_since(preview.state.generation - 1) is None  # the first build: any page
    events = Events(preview.port, since="0000-1")  # another server's token
    try:
        assert events.next_event()["pages"] is None
    finally:
        events.close()


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_in_a_browser_only_the_tabs_whose_page_changed_reload(preview, catalog_dir):
    unchanged = preview.out_dir / "models/tiny-moe/index.html"
    before = unchanged.read_bytes()
    with chromium_browser() as browser:
        context = browser.new_context()
        edited, other = context.new_page(), context.new_page()
        edited.goto(preview.url + "models/tiny-dense/")
        other.goto(preview.url + "models/tiny-moe/")
        for tab in (edited, other):
            tab.wait_for_function("() => window.performance.getEntriesByType('navigation').length > 0")
            tab.evaluate("window.sameDocument = true")
        generation = preview.state.generation
        edit(catalog_dir / "models/tiny-dense.yaml", "It is tiny.", "It is remarkably tiny.")
        edited.wait_for_function("() => document.body.innerText.includes('It is remarkably tiny.')", timeout=WAIT * 1000)
        assert edited.evaluate("window.sameDocument === undefined")  # it reloaded
        deadline = time.monotonic() + WAIT
        while preview.state.generation < generation + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # the event reaches the other tab
        assert unchanged.read_bytes() == before, "the premise: the edit does not change this page"
        assert other.evaluate("window.sameDocument === true")  # it did not reload
        context.close()


def test_what_survives_a_build_is_frozen_without_the_garbage_it_left(catalog_dir, tmp_path):
    import gc

    from site_builder.serve import settle_memory

    preview = Preview(catalog_dir, out_dir=tmp_path / "preview", port=0, log=lambda line: None)
    preview.start()
    assert gc.get_freeze_count() > 0  # the first build's survivors are out of the collector's way
    cycle: list = []
    cycle.append(cycle)
    marker = id(cycle)
    del cycle  # garbage only the cyclic collector can free
    settle_memory()
    gc.unfreeze()
    try:
        gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection finds goes to gc.garbage instead
        gc.collect()
        assert marker not in {id(found) for found in gc.garbage}, "a cycle was frozen instead of collected"
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.freeze()
    preview.stop()
    assert gc.get_freeze_count() == 0


def test_the_collection_a_build_leaves_waits_until_the_tabs_are_told(catalog_dir, tmp_path, monkeypatch):
    """The build collects rarely (build.fewer_collections); a rebuild's tabs are told of the new
    site while that still holds, so the collection of what the build made comes after, and the
    default thresholds are back once the rebuild returns."""
    import gc

    preview = Preview(catalog_dir, out_dir=tmp_path / "preview", port=0, log=lambda line: None)
    preview.start()
    try:
        defaults = gc.get_threshold()
        told: list = []
        announce = Preview._announce
        monkeypatch.setattr(Preview, "_announce", lambda self, state: told.append(gc.get_threshold())
                            or announce(self, state))
        preview.rebuild()
        assert told and told[-1] != defaults and told[-1][0] > defaults[0]
        assert gc.get_threshold() == defaults
    finally:
        preview.stop()
