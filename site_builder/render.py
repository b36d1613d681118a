"""Pages → bytes. Jinja with autoescape and StrictUndefined; markdown with raw HTML off."""

from __future__ import annotations

import datetime
import functools
import json
import re
from pathlib import Path
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Sequence
from urllib.parse import urlsplit

import jinja2
import jinja2.compiler
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from .catalog import Catalog
from .pages import Page
from .schema import CitedValue, Count, PartialDate, plain, source_of

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
SAFE_SCHEMES = {"https", "http", "mailto"}


def _safe_link(url: str) -> bool:
    """Links in prose may be http(s), mailto, or relative; never javascript:, data:, file: …"""
    text = url.strip()
    scheme = urlsplit(text).scheme.lower()
    if scheme:
        return scheme in SAFE_SCHEMES
    # "java\tscript:" and friends are stripped by browsers; refuse anything with a colon before a slash
    head = text.split("/", 1)[0]
    return ":" not in head and not any(ord(c) < 32 for c in text)


@functools.lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.validateLink = _safe_link
    md.disable("image")  # no remote images: the site makes no third-party requests
    return md


def markdown_block(text: str | None) -> Markup:
    if not text:
        return Markup("")
    plain = _plain_paragraphs(text)
    return Markup(plain if plain is not None else _markdown().render(text))


def markdown_inline(text: str | None) -> Markup:
    if not text:
        return Markup("")
    if _PLAIN_LINE.match(text) and text == text.strip():
        return Markup(text.replace('"', "&quot;"))
    return Markup(_markdown().renderInline(text))


# Most of the catalog's prose is plain sentences, and markdown-it (pure Python) was 13% of a
# model page's instructions (callgrind) to say so. Text made only of characters that start no CommonMark
# construct (with raw HTML, linkify and the typographer off) renders as itself, with `"`
# escaped, one <p> per paragraph. Anything else goes to markdown-it; the tests hold the two to
# each other on every text in data/ and on generated ones.
_NOT_PLAIN = r"\\`*_\[\]!<>&~|#\x00-\x09\x0b-\x1f\x7f\x85\u2028\u2029"
_PLAIN_LINE = re.compile(f"[^{_NOT_PLAIN}\n]*\\Z")
_PLAIN_TEXT = re.compile(f"[^{_NOT_PLAIN}]*\\Z")
_BLOCK_START = re.compile(r"[-+=]|\d{1,9}[.)]")
"""A line starting so may be a list item or a heading's underline."""
_PARAGRAPH_BREAK = re.compile(r"\n{2,}")


def is_plain_prose(text: str) -> bool:
    """Whether text is plain paragraphs: nothing in it starts a CommonMark construct."""
    return bool(_PLAIN_TEXT.match(text)) and all(
        line and line == line.strip() and not _BLOCK_START.match(line)
        for line in _PARAGRAPH_BREAK.sub("\n", text.strip("\n")).split("\n"))


def _plain_paragraphs(text: str) -> str | None:
    """markdown-it's rendering of text that is plain paragraphs; None for any other text."""
    if not is_plain_prose(text):
        return None
    return "".join("<p>" + paragraph.replace('"', "&quot;") + "</p>\n"
                   for paragraph in _PARAGRAPH_BREAK.split(text.strip("\n")))


def number(value: Any, digits: int | None = None) -> str:
    value = plain(value)
    if isinstance(value, Count):
        return f"{value.exact:,}"
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if digits is not None:
        return f"{value:,.{digits}f}"
    return f"{value:,g}" if abs(value) < 1e15 else f"{value:.3g}"


def score(value: float) -> str:
    """A score as published: 89.0 stays 89.0 (the shortest form that round-trips)."""
    return repr(float(value))


def count_short(value: Any) -> str:
    """The form people write: 405B, 15.6T, 131K (decimal)."""
    value = plain(value)
    n = value.exact if isinstance(value, Count) else int(value)
    for suffix, size in (("T", 10**12), ("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if n >= size:
            text = f"{n / size:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return f"{n:,}"


def price(value: float | None) -> str:
    return "not reported" if value is None else f"${value:,.2f}"


def long_date(value: Any) -> str:
    value = plain(value)
    if isinstance(value, PartialDate):
        if value.precision == "day":
            return value.earliest().strftime("%B %-d, %Y")
        if value.precision == "month":
            return value.earliest().strftime("%B %Y")
        return str(value.year)
    if isinstance(value, datetime.date):
        return value.strftime("%B %-d, %Y")
    return str(value)


def yes_no(value: Any, yes: str = "yes", no: str = "no") -> str:
    value = plain(value)
    if value is None:
        return "not reported"
    return yes if value else no


LANGUAGES = {
    "en": "English", "de": "German", "fr": "French", "it": "Italian", "pt": "Portuguese", "hi": "Hindi",
    "es": "Spanish", "th": "Thai", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "ar": "Arabic",
    "ru": "Russian", "nl": "Dutch", "pl": "Polish", "tr": "Turkish", "vi": "Vietnamese", "id": "Indonesian",
    "tl": "Tagalog", "sv": "Swedish", "cs": "Czech", "uk": "Ukrainian", "he": "Hebrew", "fa": "Persian",
    "el": "Greek", "ro": "Romanian", "hu": "Hungarian", "da": "Danish", "fi": "Finnish", "no": "Norwegian",
    "bn": "Bengali", "ms": "Malay", "ta": "Tamil", "ur": "Urdu", "sw": "Swahili",
}


def language_name(code: str) -> str:
    return LANGUAGES.get(code.split("-")[0], code)


def to_json(value: Any) -> Markup:
    """JSON safe to embed in HTML (for JSON-LD and data islands)."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


try:  # MarkupSafe's own escaping, returning text (it is what markupsafe.escape wraps in Markup)
    from markupsafe._speedups import _escape_inner
except ImportError:  # pragma: no cover - MarkupSafe without its C speedups, or a version without it
    def _escape_inner(text: str) -> str:
        return str(escape(text))


def escape_text(value: Any) -> str:
    """markupsafe.escape, returning text instead of a Markup object: the same characters,
    without a Python call to wrap each value; an object with __html__ gives that as it is."""
    if value.__class__ is str:
        return _escape_inner(value)
    html = getattr(value, "__html__", None)  # StrictUndefined raises here, as in markupsafe.escape
    if html is not None:
        return html()
    return _escape_inner(str(value))


# Citation helpers for the model page. Python rather than Jinja macros: a macro call costs
# ~10 µs and a model page makes a hundred of them (a quarter of its render time, profiled).
MISSING = Markup('<span class="missing">not reported</span>')
_NOTHING = Markup("")


def is_cited(value: Any) -> bool:
    return isinstance(value, CitedValue)


def missing() -> Markup:
    return MISSING


def cite(numbers: Any, source_id: Any) -> Markup:
    """A link to the numbered source; `numbers` maps the model's source ids to their numbers."""
    if not source_id:
        return _NOTHING
    number = escape_text(numbers[source_id])
    return Markup(f'<a class="cite" href="#source-{number}" title="Source {number}">[{number}]</a>')


def cited(numbers: Any, value: Any, default_source: Any) -> Markup:
    """The citation of a value (its own source, else the block's) and its note, if any."""
    link = cite(numbers, source_of(value, default_source))
    if is_cited(value) and value.note:
        return link + Markup(' <span class="note">({})</span>').format(value.note)
    return link


_DISPUTED = '<a class="disputed" href="#disagreements">sources disagree</a>'


def spec_rows(numbers: Any, disputed: Sequence[str], block_source: Any) -> Callable[..., Markup]:
    """The model page's `spec(label, value, field, shown=None, default=None)`: one row of a
    specs list, a value with its citation (its own source, else `default`, else the block's),
    "not reported" for a missing one, and a link to the disagreements when sources disagree
    about `field`. A Jinja macro did this ~40 times a page: 22% of a model page's instructions
    (callgrind), mostly macro-call machinery."""
    def spec(label: Any, value: Any, field: str, shown: Any = None, default: Any = None) -> Markup:
        parts = ['<div class="spec"><dt>', escape_text(label), "</dt><dd>"]
        if value is None:
            parts.append(MISSING)
        else:
            parts += [escape_text(shown if shown is not None else plain(value)), " ",
                      cited(numbers, value, default or block_source)]
        if field in disputed:
            parts += [" ", _DISPUTED]
        parts.append("</dd></div>")
        return Markup("".join(parts))

    return spec


class _TextEscapingCodeGenerator(jinja2.compiler.CodeGenerator):
    """Jinja's code generator, with each autoescaped `{{ value }}` escaped by `escape_text`.
    Jinja wraps every escaped value in a Markup object, and the output joins them into one
    string straight away (a block, a macro or `set` wraps what it joined in Markup itself),
    so the wrapper bought nothing: it was 12% of a model page's instructions (callgrind,
    8.93 → 7.82 M a page)."""

    def _output_child_pre(self, node: Any, frame: Any, finalize: Any) -> None:
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile:
            self.write("environment.escape_text(")
            if finalize.src is not None:
                self.write(finalize.src)
        else:
            super()._output_child_pre(node, frame, finalize)


class _Environment(jinja2.Environment):
    code_generator_class = _TextEscapingCodeGenerator
    escape_text = staticmethod(escape_text)


@dataclass
class KeptRows:
    """Leaderboard rows kept from one build to the next by a preview, where an unchanged model
    and its scores are the same objects from one build to the next: id(score) → (score, model,
    model id, rank, unit, base path, the row's HTML). A row shows only its rank and what its
    model's file says of the score (facets.row_values), so a row whose score and model are the
    same objects, at the same rank, is the same HTML: a score edit renders its leaderboard
    again, whose other 7,900 rows at 10,000 models took 0.05 s to make."""

    before: dict = field(default_factory=dict)
    """The rows the last build made or took."""
    now: dict = field(default_factory=dict)
    """The rows this build made or took, for the next."""


def make_environment(catalog: Catalog, templates_dir: Path = TEMPLATES_DIR,
                     fragments: dict[tuple[str, str], Any] | None = None,
                     bytecode_cache: jinja2.BytecodeCache | None = None,
                     rows: KeptRows | None = None) -> jinja2.Environment:
    """The environment pages render in; `fragments` are models' rows and briefs already made
    (render_fragments), `bytecode_cache` keeps compiled templates across builds, `rows` the
    leaderboard rows a preview keeps."""
    env = _Environment(
        bytecode_cache=bytecode_cache,
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    base_path = urlsplit(catalog.site.base_url).path.rstrip("/")

    def url(path: str) -> str:
        return base_path + path

    def absolute(path: str) -> str:
        return catalog.site.base_url.rstrip("/") + path

    def leaderboard_rows(entries: Iterable[Any], percent: bool) -> Markup:
        """The rows of one leaderboard table (templates/benchmark.html): rank, model, score,
        setting, date and the source's publisher, linked to the model page's source list. In
        Jinja these rows were nearly half of a one-model edit's render time at 10,000 models
        (py-spy): a leaderboard holds thousands of them. What each row shows comes from
        facets.row_values, read from the catalog itself rather than a tracked view: the page
        read the leaderboard's groups, whose fingerprint covers those values (reuse.py), and
        recording the model and figures of each of 3,600 entries as read would make the page
        depend on every field of every model on it."""
        from .facets import row_values
        from .tracking import untracked

        whole, unit = untracked(catalog), "%" if percent else ""
        before, now = (rows.before, rows.now) if rows is not None else ({}, None)
        made = []
        for entry in entries:
            model = whole.models[entry.model_id]
            # the kept row holds its score: no other object has that id while it is kept
            kept = before.get(id(entry.score))
            if (kept is not None and kept[1] is model and kept[2] == entry.model_id and kept[3] == entry.rank
                    and kept[4] == unit and kept[5] == base_path):
                row = kept[6]
            else:
                rank, model_id, name, value, setting, date, note, number, publisher = row_values(whole, entry)
                noted = f' <span class="note">{escape_text(note)}</span>' if note else ""
                date = escape_text(date)
                row = (
                    f'    <tr>\n      <td class="num">{rank}</td>\n'
                    f'      <th scope="row"><a href="{escape_text(url("/models/" + model_id + "/"))}">{escape_text(name)}</a></th>\n'
                    f'      <td class="num">{score(value)}{unit}</td>\n'
                    f'      <td>{escape_text(setting)}</td>\n'
                    f'      <td><time datetime="{date}">{date}</time></td>\n'
                    f'      <td><a href="{escape_text(url(f"/models/{model_id}/#source-{number}"))}">'
                    f'{escape_text(publisher)}</a>{noted}</td>\n'
                    "    </tr>\n")
            if now is not None:
                now[id(entry.score)] = (entry.score, model, entry.model_id, entry.rank, unit, base_path, row)
            made.append(row)
        return Markup("".join(made))

    env.filters.update(
        markdown=markdown_block, markdown_inline=markdown_inline, number=number, score=score, short=count_short,
        price=price, long_date=long_date, yes_no=yes_no, tojson_safe=to_json, plain=plain,
    )
    from .charts import price_vs_score, release_timeline, scatter_rows, scatter_svg, timeline_rows, timeline_svg
    from .diagram import diagram_svg

    env.filters["language_name"] = language_name
    env.globals.update(
        diagram_svg=diagram_svg, url=url, facets=catalog.facets,
        price_chart=lambda: price_vs_score(catalog), timeline_chart=lambda: release_timeline(catalog), absolute=absolute, catalog=catalog, site=catalog.site, today=catalog.today,
        leaderboard_rows=leaderboard_rows,
        scatter_svg=lambda chart, chart_id: scatter_svg(chart, chart_id, url),
        timeline_svg=lambda chart, chart_id: timeline_svg(chart, chart_id, url),
        scatter_rows=lambda chart: scatter_rows(chart, url), timeline_rows=lambda chart: timeline_rows(chart, url),
        plain=plain, source_of=source_of, is_cited=is_cited, cite=cite, cited=cited, missing=missing,
        spec_rows=spec_rows,
    )
    from .api import model_name

    env.globals["model_name"] = functools.partial(model_name, catalog)
    from .jsonld import model_jsonld  # imports this module

    env.globals["model_jsonld"] = functools.partial(model_jsonld, catalog)
    prepared = fragments or {}
    env.globals["model_row"] = _fragment_maker(env, "row", prepared)
    env.globals["model_brief"] = _fragment_maker(env, "brief", prepared)
    env.globals["section"] = _fragment_maker(env, "section", prepared)
    return env


ROW_TEMPLATE = "partials/model_row.html"


SECTIONS = {"price-chart": "partials/price_chart.html", "timeline": "partials/timeline.html"}
"""Parts of a page made from the whole catalog, kept between builds like a model's fragments
(kind "section"): the charts page draws every model twice, and an edit that leaves one chart as
it was (a score is not on the timeline) does not draw that chart again (0.1 s at 10,000 models)."""


def _make_fragment(env: jinja2.Environment, kind: str, key: str) -> str:
    """A model's "row" in the models table (ROW_TEMPLATE), its "brief" in the JSON listings, or
    a "section" of a page (SECTIONS)."""
    if kind == "row":
        return env.get_template(ROW_TEMPLATE).render(model_id=key)
    if kind == "section":
        return env.get_template(SECTIONS[key]).render()
    from .api import summary_json

    return summary_json(env.globals["catalog"], key)


def _fragment_maker(env: jinja2.Environment, kind: str, prepared: dict[tuple[str, str], Any]) -> Callable[[str], Any]:
    """model_row(id) / model_brief(id): a model's fragment, made once per environment.

    The index, every organization, license, family and format page list the same rows (at
    10,000 models a row appeared six times; rendering it once saved 1.4 s of a one-process
    build), and both JSON listings the same briefs. A page records that it read the fragment
    (`("fragment", kind, model_id)`), whose fingerprint is its text (reuse.Fingerprints): an edit
    that leaves a model's row as it was (a score, a price not shown in it) leaves the pages
    listing it as they were, whatever else the row's model and figures changed."""
    from .tracking import record, recording

    made: dict[str, Any] = {}

    def fragment(model_id: str) -> Any:
        found = made.get(model_id) or prepared.get((kind, model_id))
        if found is None:  # not made beforehand (Fingerprints has no text for it: no page reading it is kept)
            with recording():  # what it reads is the fragment's, not the page's
                found = made[model_id] = FRAGMENT_KINDS[kind](_make_fragment(env, kind, model_id))
        record(("fragment", kind, model_id))
        return found

    return fragment


FRAGMENT_KINDS: dict[str, Callable[[str], Any]] = {"row": Markup, "brief": str, "section": Markup}
"""Each kind of fragment and what its text is handed out as (a row or section is HTML, a brief
JSON text)."""


def fragment_keys(catalog: Catalog) -> list[tuple[str, str]]:
    """Every fragment of the catalog: each model's row and brief, and each section."""
    return ([(kind, model_id) for kind in ("row", "brief") for model_id in catalog.models]
            + [("section", name) for name in SECTIONS])
class FragmentRecord(NamedTuple):
    """A fragment kept for the next build: its text, what it read, with fingerprints, and the
    text's digest (reuse.text_digest: what a page that lists the model reads of it)."""

    text: str
    own: tuple
    """Its reads of models and of their derived figures (reuse.settled_read can tell them)."""
    shared: tuple
    """Its other reads: templates, shared entities, groupings, what making the environment read.
    Fragments that read the same share one tuple (`_record`), checked once a build: 20,000
    fragments at 10,000 models read a few hundred such sets between them."""
    digest: bytes
    models: frozenset
    """The models `own` reads: while all of them are settled, `own` is as it was."""

    @property
    def reads(self) -> tuple:
        return self.own + self.shared


def _record(text: str, reads: tuple, interned: dict) -> FragmentRecord:
    """A fragment's record, its reads split into `own` and `shared`; `interned` maps each set of
    shared reads made in this build to the one tuple its fragments share."""
    from .reuse import model_read, text_digest

    own = tuple(read for read in reads if model_read(read[0]))
    rest = [read for read in reads if not model_read(read[0])]
    shared = interned.setdefault(frozenset(rest), tuple(rest))
    return FragmentRecord(text, own, shared, text_digest(text), frozenset(dep[1][1] for dep, _ in own))


def render_fragments(catalog: Catalog, templates_dir: Path, jobs: int, fingerprints: Any,
                     previous: dict[tuple[str, str], FragmentRecord], then: dict | None = None,
                     bytecode_cache: jinja2.BytecodeCache | None = None,
                     ) -> tuple[dict[tuple[str, str], Any], dict[tuple[str, str], FragmentRecord], dict[str, int]]:
    """Every model's fragments (its table row, its brief in the JSON listings) and the sections
    (SECTIONS), before the pages, for an incremental build: (each fragment's text for
    make_environment and Fingerprints.use_fragments, records to keep, how many of each kind were
    made). A fragment the last build kept is reused when everything it read (the model, its
    derived figures, its organization and license, the templates, what making the environment
    read) has the same fingerprint; the others are made across `jobs` processes.
    Pages listing every model then join kept fragments: the index rendered 10,000 rows (1.4 s
    of every one-model edit at 10,000 models) and each listing serialized 10,000 briefs (0.3 s).
    `then`: the model digests the kept fragments are as of; their reads of models settled since
    are not fingerprinted again (reuse.settled_read), and each set of shared reads is checked
    once (FragmentRecord.shared): checking 160,000 reads one by one took 0.08 s."""
    from . import parallel
    from .reuse import settled_read

    fragments: dict[tuple[str, str], Any] = {}
    records: dict[tuple[str, str], FragmentRecord] = {}
    of = fingerprints.of
    settled = fingerprints.settled(then)
    shared_unchanged: dict[int, bool] = {}  # id(a shared tuple) → whether its reads are as they were

    def unchanged(kept: FragmentRecord) -> bool:
        if not (kept.models <= settled or all(settled_read(dep, settled) or of(dep) == fingerprint
                                               for dep, fingerprint in kept.own)):
            return False
        verdict = shared_unchanged.get(id(kept.shared))
        if verdict is None:
            verdict = shared_unchanged[id(kept.shared)] = all(of(dep) == fingerprint for dep, fingerprint in kept.shared)
        return verdict

    todo = []
    for key in fragment_keys(catalog):
        kept = previous.get(key)
        if kept is not None and unchanged(kept):
            fragments[key] = FRAGMENT_KINDS[key[0]](kept.text)
            records[key] = kept
        else:
            todo.append(key)
    state = (_RenderState(catalog, (), templates_dir, fingerprints, None, bytecode_cache=bytecode_cache), todo)
    processes = parallel.processes(len(todo), jobs, min_items=500)
    interned: dict[frozenset, tuple] = {}
    for chunk in parallel.run(_fragment_chunk, state, parallel.chunked(len(todo), 250), processes):
        for key, text, reads in chunk:
            fragments[key] = FRAGMENT_KINDS[key[0]](text)
            kept = previous.get(key)
            fingerprinted = (fingerprints.reads(reads, kept.reads if kept else (), settled)
                             if reads is not None else None)
            if fingerprinted is not None:  # else made again next time
                records[key] = _record(text, fingerprinted, interned)
    return fragments, records, {kind: sum(key[0] == kind for key in todo) for kind in FRAGMENT_KINDS}


def _fragment_chunk(state: tuple, positions: Iterable[int]) -> list[tuple[tuple[str, str], str, frozenset | None]]:
    """(key, text, what it read or None when the catalog could not be tracked)."""
    render_state, todo = state
    from .tracking import recording

    tracked = render_state.tracked_env()
    done = []
    for position in positions:
        kind, model_id = key = todo[position]
        if tracked is None:  # nothing vouches for such a fragment: it is not kept
            done.append((key, _make_fragment(render_state.plain_env(), kind, model_id), None))
            continue
        env, env_reads = tracked
        with recording() as reads:
            text = _make_fragment(env, kind, model_id)
        done.append((key, text, env_reads | reads))
    return done


def render_page(env: jinja2.Environment, page: Page, plan: Sequence[Page] = ()) -> bytes:
    produce = page.context.get("produce")
    if produce is not None:  # feed, sitemap, JSON: built in Python (site_builder/outputs.py)
        return produce(env.globals["catalog"], page, plan, env.globals["model_brief"])
    template = env.get_template(page.template)
    html = template.render(page=page, **page.context)
    return html.encode("utf-8")


def render_all(catalog: Catalog, pages: Iterable[Page], templates_dir: Path = TEMPLATES_DIR) -> list[tuple[str, bytes]]:
    env = make_environment(catalog, templates_dir)
    pages = list(pages)
    return [(page.output_path, render_page(env, page, pages)) for page in pages]


class Rendered(NamedTuple):
    index: int
    data: bytes | None
    """The page's bytes, or None when `place` already put them in the new site."""
    digest: str
    reads: tuple | None
    """What the page read, fingerprinted; None when not tracked."""
    seconds: float
    written: bool | None
    """What `place` returned, when given."""


def render_pages(catalog: Catalog, pages: Sequence[Page], todo: Iterable[int], templates_dir: Path = TEMPLATES_DIR,
                 jobs: int = 1, fingerprints: Any = None, place: Callable[[str, bytes], bool] | None = None,
                 costs: dict[int, float] | None = None, stats: dict | None = None,
                 untracked: frozenset[int] = frozenset(),
                 fragments: dict[tuple[str, str], Any] | None = None,
                 bytecode_cache: jinja2.BytecodeCache | None = None, rows: KeptRows | None = None) -> Iterator[Rendered]:
    """Render pages[i] for each i in todo, across `jobs` forked processes when the work is
    large enough, yielding each page as it finishes, in no particular order.

    With `fingerprints` (reuse.Fingerprints: an incremental build) each page renders against a
    tracked view of the catalog and reports what it read. With `place(rel, bytes)` each page is
    written where it was rendered (a worker writes its own pages). `costs` (seconds each page
    took last time) puts the slowest pages first, so that one big page does not finish last.
    `stats["processes"]` is set to the number of processes used. Pages in `untracked` (those that
    could not be tracked last time) are rendered untracked straight away. `fragments`: models'
    rows and briefs already made (render_fragments); `bytecode_cache`: compiled templates kept
    across builds; `rows`: the leaderboard rows a preview keeps (KeptRows; a forked worker's
    rows do not come back, and a preview renders in one process).
    The bytes are the same whatever `jobs`, with or without tracking."""
    from . import parallel

    state = _RenderState(catalog, pages, templates_dir, fingerprints, place, fragments, bytecode_cache, rows)
    state.untracked = untracked
    chunks, expected = schedule(pages, list(todo), costs or {})
    processes = jobs if expected >= RENDER_MIN_PARALLEL_SECONDS and parallel.can_fork() else 1
    if stats is not None:
        stats["processes"] = processes
    for chunk in parallel.run(_render_chunk, state, chunks, processes):
        for rendered in chunk:
            if rendered.digest is None:  # it failed in a worker: render it here, to raise its own error
                rendered = _render_chunk(state, [rendered.index])[0]
            yield rendered


RENDER_MIN_PARALLEL_SECONDS = 0.25
"""Less expected work than this renders in this process: forking would cost more than it saves."""
UNKNOWN_PAGE_SECONDS = 0.004
"""What a page never rendered before is expected to take (a model page, roughly)."""
CHUNK_SECONDS = 0.05
CHUNK_PAGES = 16


def schedule(pages: Sequence[Page], todo: list[int], costs: dict[int, float]) -> tuple[list[list[int]], float]:
    """Chunks of page indices, slowest first, and the expected seconds of all of them.

    Pages never rendered before are ordered by how many pages share their parent url: an
    aggregate page (/, /feed.xml, /api/models.json) has few siblings and is likely slow;
    one of 10,000 model pages is not."""
    def parent(index: int) -> str:
        return pages[index].url.rstrip("/").rsplit("/", 1)[0]

    siblings = Counter(parent(i) for i in todo)
    expected = {i: costs.get(i, UNKNOWN_PAGE_SECONDS) for i in todo}
    order = sorted(todo, key=lambda i: (-expected[i], siblings[parent(i)], i))
    chunks: list[list[int]] = []
    current: list[int] = []
    weight = 0.0
    for index in order:
        current.append(index)
        weight += expected[index]
        if weight >= CHUNK_SECONDS or len(current) >= CHUNK_PAGES:
            chunks.append(current)
            current, weight = [], 0.0
    if current:
        chunks.append(current)
    return chunks, sum(expected.values())


class _RenderState:
    """What a rendering process needs; its environments are made once per process."""

    def __init__(self, catalog: Catalog, pages: Sequence[Page], templates_dir: Path, fingerprints: Any,
                 place: Callable[[str, bytes], bool] | None, fragments: dict | None = None,
                 bytecode_cache: jinja2.BytecodeCache | None = None, rows: KeptRows | None = None):
        self.catalog, self.pages, self.fragments, self.bytecode_cache = catalog, pages, fragments, bytecode_cache
        self.rows = rows
        self.untracked: frozenset[int] = frozenset()
        self.templates_dir, self.fingerprints, self.place = templates_dir, fingerprints, place
        self._plain: jinja2.Environment | None = None
        self._tracked: tuple[jinja2.Environment, frozenset] | None | bool = False

    def plain_env(self) -> jinja2.Environment:
        if self._plain is None:
            self._plain = make_environment(self.catalog, self.templates_dir, self.fragments, self.bytecode_cache,
                                           self.rows)
        return self._plain

    def tracked_env(self) -> tuple[jinja2.Environment, frozenset] | None:
        """An environment over a tracked view of the catalog, and what making it read."""
        if self._tracked is False:
            from .tracking import recording, track

            try:
                with recording() as reads:
                    env = make_environment(track(self.catalog), self.templates_dir, self.fragments,
                                           self.bytecode_cache, self.rows)
            except Exception:  # code that needs the real catalog: this build renders untracked
                self._tracked = None
            else:
                _record_template_loads(env)
                self._tracked = (env, frozenset(reads))
        return self._tracked  # type: ignore[return-value]


def _record_template_loads(env: jinja2.Environment) -> None:
    """Templates loaded by a page (its own, extends, include, import) are among its reads."""
    from .tracking import record

    load = env.get_template

    def get_template(name: Any, *args: Any, **kwargs: Any) -> jinja2.Template:
        record(("template", name if isinstance(name, str) else name.name))
        return load(name, *args, **kwargs)

    env.get_template = get_template  # type: ignore[method-assign]


def _render_chunk(state: _RenderState, indices: Iterable[int]) -> list[Rendered]:
    from . import parallel
    from .cache import digest_bytes

    done = []
    for index in indices:
        page = state.pages[index]
        started = time.perf_counter()
        try:
            data, reads = _render_one(state, page, index not in state.untracked)
            written = state.place(page.output_path, data) if state.place is not None else None
        except Exception:
            if not parallel.in_worker():
                raise
            done.append(Rendered(index, None, None, None, 0.0, None))  # type: ignore[arg-type]
            continue
        seconds = time.perf_counter() - started
        done.append(Rendered(index, None if state.place is not None else data, digest_bytes(data), reads, seconds,
                             written))
    return done


def _render_one(state: _RenderState, page: Page, track: bool = True) -> tuple[bytes, tuple | None]:
    if state.fingerprints is None or not track:
        return render_page(state.plain_env(), page, state.pages), None
    from .tracking import TrackedSequence, recording

    tracked = state.tracked_env()
    if tracked is not None:
        env, env_reads = tracked
        with recording() as reads:
            try:
                data = render_page(env, page, TrackedSequence(state.pages))  # type: ignore[arg-type]
            except Exception:  # needs the real catalog (json.dumps, pydantic): render untracked
                data = None
        if data is not None:
            return data, state.fingerprints.reads(env_reads | reads)
    return render_page(state.plain_env(), page, state.pages), None
