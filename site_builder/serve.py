"""`serve`: build, serve on 127.0.0.1, rebuild on every change, reload the open tab.

- The preview is built into a folder of its own (a temporary one), never into _site/.
- A finished build replaces the served files with two renames, or, when it changed few pages
  and builds no search index, by patching the changed files in place. Either way it holds a
  lock that every request takes too, so no request sees the folder missing or half-written.
- While the data is invalid, every page is an error page listing the lines `check` prints;
  the last good build stays on disk and is served again once the data is fixed.
- Open pages reload themselves: HTML responses get a small script (added here, on the way
  out, never written into the built files) that listens to an EventSource for new builds.
  Each build says which pages it changed, and a tab reloads only when its own page is among
  them (or when the build cannot say: the first, a swap of the whole site, an error).
- An edit of a few model files shows first: the build puts those models' own pages in place
  before the rest of the rebuild (build_site's `first`), and their tabs reload at once.
"""

from __future__ import annotations

import collections
import gc
import html
import json
import mimetypes
import secrets
import shutil
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import parse_qs, unquote, urlsplit

import jinja2
import watchfiles

from .build import build_site, fewer_collections
from .errors import CatalogInvalid, format_problems, summary
from .loader import display_path
from .render import TEMPLATES_DIR

EVENTS_PATH = "/__serve/events"
KEEPALIVE_SECONDS = 15
READY_SECONDS = 120

HISTORY = 256
"""Builds remembered with the pages they changed; a tab further behind reloads whatever it shows."""

RELOAD_SCRIPT = """<script data-serve-reload>
(function () {
  var loaded = "%s";
  var events = new EventSource("%s?since=" + encodeURIComponent(loaded));
  events.onmessage = function (event) {
    var news = JSON.parse(event.data);
    if (news.token === loaded) return;
    if (news.pages === null || news.pages.indexOf(location.pathname) >= 0) {
      events.close();
      location.reload();
    } else {
      loaded = news.token;  /* this page is the same in the newer build */
    }
  };
})();
</script>
"""


@dataclass(frozen=True)
class BuildState:
    """What the last build left to serve."""

    generation: int
    problems: tuple[str, ...] = ()
    """The lines `check` prints (file:line:column: …); empty when the build succeeded."""
    summary: str = ""
    base_path: str = ""
    """The url path of base_url ('' for a site at the root), under which pages are served."""
    pages: tuple[str, ...] | None = None
    """The url paths whose content this build changed; None: any page may have changed."""


class Preview:
    """One preview server: a builder, an HTTP server and a file watcher, each on its thread."""

    def __init__(self, data_dir: Path, out_dir: Path | None = None, templates_dir: Path = TEMPLATES_DIR,
                 port: int = 8000, host: str = "127.0.0.1", search: bool = False,
                 log: Callable[[str], None] = print):
        self.data_dir, self.templates_dir = Path(data_dir), Path(templates_dir)
        # Scratch space of this preview: its build cache and, unless told otherwise, its site.
        self._scratch = Path(tempfile.mkdtemp(prefix="site-builder-serve-"))
        self.out_dir = Path(out_dir) if out_dir is not None else self._scratch / "site"
        self.host, self.port, self.search, self.log = host, port, search, log
        self._swap = threading.Lock()
        self._changed = threading.Condition()
        self._ready = threading.Event()
        self._watching = threading.Event()
        self._stop = threading.Event()
        self._instance = secrets.token_hex(4)  # a restarted server makes old tabs reload too
        self._state = BuildState(0)
        self._history: collections.deque[BuildState] = collections.deque(maxlen=HISTORY)
        self._warnings: list[str] = []
        self._memory: dict = {}  # the build cache's records, kept as objects between rebuilds
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    # --- state -----------------------------------------------------------------------------

    @property
    def state(self) -> BuildState:
        return self._state

    @property
    def token(self) -> str:
        """Changes with every build; what the reload script compares."""
        return f"{self._instance}-{self._state.generation}"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self._state.base_path}/"

    def rebuild(self) -> BuildState:
        """Build once; on success the new site is swapped in, on failure the old one stays."""
        started = time.perf_counter()
        with fewer_collections():  # the collection a build's end starts waits until the tabs are told
            problems, summary_line, base_path, changed = self._build()
            with self._changed:
                previous = self._state
                base = previous.base_path if base_path is None else base_path
                pages = None if problems or previous.problems or changed is None or base != previous.base_path \
                    else _url_paths(changed, base)
                self._announce(BuildState(previous.generation + 1, problems, summary_line, base, pages))
            milliseconds = (time.perf_counter() - started) * 1000
        settle_memory()
        if problems:
            for line in problems:
                self.log(line)
            self.log(f"{summary_line} Serving an error page until it is fixed ({milliseconds:.0f} ms).")
        return self._state

    def _announce(self, state: BuildState) -> None:
        """Make state the current one and wake the event streams (holding self._changed)."""
        self._state = state
        self._history.append(state)
        self._changed.notify_all()

    def _show_first(self, files: tuple[str, ...]) -> None:
        """The edited models' pages are in place, the rest of the rebuild still running: a
        build of its own for the tabs showing them."""
        with self._changed:
            previous = self._state
            pages = _url_paths(files, previous.base_path)
            self._announce(BuildState(previous.generation + 1, (), "", previous.base_path, pages))
        self.log(f"showing {', '.join(path for path in pages if not path.endswith('/index.html'))} first")

    def changed_since(self, generation: int | None) -> tuple[str, ...] | None:
        """The url paths changed by the builds after `generation`; None when any page may have
        (a build that cannot say, or one no longer remembered)."""
        with self._changed:
            current = self._state.generation
            if generation is None or generation > current:
                return None
            newer = [state for state in self._history if state.generation > generation]
            if len(newer) != current - generation or any(state.pages is None for state in newer):
                return None
            return tuple(sorted({path for state in newer for path in state.pages or ()}))

    def _build(self) -> tuple[tuple[str, ...], str, str | None, tuple[str, ...] | None]:
        """(problems, summary, base path or None, the files a patch changed or None)."""
        from .cli import template_error

        started = time.perf_counter()
        finish = None
        if self.search:
            from .search import index_site

            finish = index_site

        try:
            # The cache makes a rebuild parse and render only what the change touched; without a
            # search index to rebuild, a rebuild that touched few pages patches the served site
            # in place. Requests wait while files are replaced (the swap or the patch).
            # An edit of a few model files shows their pages first, unless the site shows errors.
            report = build_site(self.data_dir, self.out_dir, self.templates_dir, finish=finish,
                                cache_dir=self._scratch / "cache", commit_lock=self._swap, memory=self._memory,
                                first=None if self._state.problems else self._show_first)
        except CatalogInvalid as exc:
            return tuple(format_problems(exc.problems, "text")), summary(exc.problems, wrote_nothing=True), None, None
        except jinja2.TemplateError as exc:
            return (template_error(exc),), "1 error in the templates; nothing was written.", None, None
        except Exception as exc:  # a bug must not end the preview: show it and keep serving
            self.log(traceback.format_exc().rstrip())
            return (f"{type(exc).__name__}: {exc}",), "The build failed; nothing was written.", None, None
        assert report.catalog is not None and report.written is not None
        warnings = format_problems(list(report.catalog.warnings), "text")
        if warnings != self._warnings:  # said once, not again on every save
            for line in warnings:
                self.log(line)
            self._warnings = warnings
        written = report.written
        self.log(f"built {len(report.pages)} pages in {(time.perf_counter() - started) * 1000:.0f} ms: "
                 f"{written.written} written, {written.unchanged} unchanged, {written.removed} removed")
        return (), "", urlsplit(report.catalog.site.base_url).path.rstrip("/"), written.changed

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Listen, build, watch. Raises OSError when the port is taken."""
        self._server = ThreadingHTTPServer((self.host, self.port), _handler_for(self))
        self._server.daemon_threads = True  # open event streams never hold up the exit
        self.port = self._server.server_address[1]
        self._spawn(self._server.serve_forever, 0.2)
        try:
            self.rebuild()
        finally:
            self._ready.set()
        self._spawn(self._watch)
        if not self._watching.wait(10):
            self.log("warning: the file watcher did not start; changes will not rebuild")

    def wait(self) -> None:
        """Block until stop() (or Ctrl+C in the caller)."""
        while not self._stop.wait(0.5):
            pass

    def stop(self) -> None:
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        gc.unfreeze()
        shutil.rmtree(self._scratch, ignore_errors=True)

    def _spawn(self, target: Callable, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name=f"serve-{target.__name__}")
        thread.start()
        self._threads.append(thread)

    def _watch(self) -> None:
        folders = [folder for folder in (self.data_dir, self.templates_dir) if folder.is_dir()]
        # yield_on_timeout: the first (empty) yield says the watcher is in place; it also lets
        # the loop notice stop() within rust_timeout.
        for changes in watchfiles.watch(*folders, stop_event=self._stop, rust_timeout=200,
                                        yield_on_timeout=True, raise_interrupt=False):
            self._watching.set()
            if not changes or self._stop.is_set():
                continue
            names = sorted({display_path(Path(path)) for _, path in changes})
            self.log(f"changed: {', '.join(names[:5])}{' …' if len(names) > 5 else ''}")
            self.rebuild()

    # --- requests --------------------------------------------------------------------------

    def respond(self, request: BaseHTTPRequestHandler, send_body: bool) -> None:
        parts = urlsplit(request.path)
        path = unquote(parts.path)
        if path == EVENTS_PATH:
            self._stream_events(request, self._generation_of(parse_qs(parts.query).get("since", [""])[0]))
            return
        self._ready.wait(READY_SECONDS)
        state = self._state
        base = state.base_path
        if base and path != base and not path.startswith(base + "/"):
            if path == "/":
                _redirect(request, base + "/")
            else:
                _send(request, 404, b"Not under the site's base path.\n", "text/plain; charset=utf-8", send_body)
            return
        relative = path[len(base):] or "/"
        if state.problems and _is_page(relative):
            _send(request, 500, inject(error_page(state), self.token), "text/html; charset=utf-8", send_body)
            return
        status, body, content_type, redirect = self._read(relative)
        if redirect:
            _redirect(request, base + redirect)
            return
        if content_type.startswith("text/html"):
            body = inject(body, self.token)
        _send(request, status, body, content_type, send_body)

    def _read(self, relative: str) -> tuple[int, bytes, str, str | None]:
        """(status, bytes, content type, redirect) of a site path, read under the swap lock."""
        parts = [part for part in relative.split("/") if part]
        if any(part in (".", "..") or "\\" in part or "\0" in part for part in parts):
            return 404, b"Not found.\n", "text/plain; charset=utf-8", None
        target = self.out_dir.joinpath(*parts)
        with self._swap:
            if target.is_dir():
                if not relative.endswith("/"):
                    return 301, b"", "", relative + "/"
                target = target / "index.html"
            try:
                return 200, target.read_bytes(), _content_type(target), None
            except OSError:
                pass
            try:
                return 404, (self.out_dir / "404.html").read_bytes(), "text/html; charset=utf-8", None
            except OSError:
                return 404, b"Not found.\n", "text/plain; charset=utf-8", None

    def _generation_of(self, token: str) -> int | None:
        """The build a tab's token names, if it is one of this server's."""
        instance, _, generation = token.rpartition("-")
        return int(generation) if instance == self._instance and generation.isdigit() else None

    def _stream_events(self, request: BaseHTTPRequestHandler, since: int | None) -> None:
        """Server-sent events: the build now, then each new one, keep-alives between. Each event
        is {"token", "pages"}: the url paths changed since the build the tab had (`since`, from
        its token), or null when that cannot be said."""
        request.send_response(200)
        request.send_header("Content-Type", "text/event-stream")
        request.send_header("Cache-Control", "no-store")
        request.end_headers()
        known, sent = since, False
        try:
            request.wfile.write(b"retry: 1000\n\n")
            while not self._stop.is_set():
                with self._changed:  # a reentrant lock: changed_since takes it too
                    if sent and self._state.generation == known:
                        self._changed.wait(KEEPALIVE_SECONDS)
                    generation = self._state.generation
                    event = {"token": self.token, "pages": self.changed_since(known)}
                if self._stop.is_set():
                    break
                if not sent or generation != known:
                    request.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    known, sent = generation, True
                else:
                    request.wfile.write(b": keep-alive\n\n")
                request.wfile.flush()
        except OSError:
            pass  # the tab was closed


def _handler_for(preview: Preview) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "site-builder-serve"

        def do_GET(self) -> None:  # noqa: N802 - the stdlib's naming
            preview.respond(self, send_body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            preview.respond(self, send_body=False)

        def log_message(self, format: str, *args) -> None:  # noqa: A002
            pass  # one line per build is enough; a line per request drowns it

    return Handler


def settle_memory() -> None:
    """After a build: collect what it left, then freeze what survives (the records kept in
    memory, the server). The cyclic collector otherwise walks those ~1.4 million objects at 10,000
    models in every full collection, which requests and the next rebuild trigger at random:
    1.0–1.3 s each time. Collecting first leaves nothing cyclic to leak, and only what the last
    build made is walked (0.08 s; memory measured flat over repeated rebuilds)."""
    gc.collect()
    gc.freeze()


def _url_paths(files: Iterable[str], base_path: str) -> tuple[str, ...]:
    """The url paths a browser may show each output file at ('models/x/index.html' is at
    /models/x/ and at /models/x/index.html), under the base path."""
    paths = set()
    for rel in files:
        paths.add(f"{base_path}/{rel}")
        if rel == "index.html" or rel.endswith("/index.html"):
            paths.add(f"{base_path}/{rel[:-len('index.html')]}")
    return tuple(sorted(paths))


def inject(page: bytes, token: str) -> bytes:
    """The page with the reload script before </body> (or at the end when there is none)."""
    script = (RELOAD_SCRIPT % (token, EVENTS_PATH)).encode()
    at = page.lower().rfind(b"</body>")
    return page + script if at < 0 else page[:at] + script + page[at:]


def error_page(state: BuildState) -> bytes:
    items = "\n".join(f"<li><code>{html.escape(line)}</code></li>" for line in state.problems)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>The catalog has errors · site-builder serve</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 64rem; margin: 2rem auto; padding: 0 1rem; }}
code {{ font: 14px/1.45 ui-monospace, monospace; white-space: pre-wrap; overflow-wrap: anywhere; }}
li {{ margin: .5rem 0; }}
</style>
</head>
<body>
<main>
<h1>The catalog has errors</h1>
<p>The same lines as <code>site-builder check</code>, each at its file:line:column. The last good
build is kept; it is shown again, and this page reloads by itself, once the files are fixed.</p>
<ol class="problems">
{items}
</ol>
<p class="summary">{html.escape(state.summary)}</p>
</main>
</body>
</html>
""".encode()


def _is_page(relative: str) -> bool:
    last = relative.rsplit("/", 1)[-1]
    return relative.endswith("/") or last.endswith(".html") or "." not in last


def _content_type(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith("text/") or kind in ("application/json",
                                                                             "application/xml") else kind


def _send(request: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str, send_body: bool) -> None:
    try:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body)))
        request.send_header("Cache-Control", "no-store")  # a preview is never stale
        request.end_headers()
        if send_body:
            request.wfile.write(body)
    except OSError:
        pass  # the client went away


def _redirect(request: BaseHTTPRequestHandler, location: str) -> None:
    try:
        request.send_response(301)
        request.send_header("Location", location)
        request.send_header("Content-Length", "0")
        request.end_headers()
    except OSError:
        pass
