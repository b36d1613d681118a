"""The whole pipeline: load → validate → resolve → plan → render → write."""

from __future__ import annotations

import dataclasses
import datetime
import gc
import time
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from . import cache

if TYPE_CHECKING:  # the pipeline is imported when a build runs: a no-op build never needs it
    from .catalog import Catalog
    from .pages import Page
    from .write import WriteReport

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"  # as render.TEMPLATES_DIR


@dataclass
class BuildReport:
    """Counts and seconds per phase, for the build's summary lines."""

    phases: list[tuple[str, float, str]] = field(default_factory=list)
    catalog: Catalog | None = None
    """None when the build was skipped because nothing changed (skip_if_unchanged)."""
    pages: list[Page] = field(default_factory=list)
    written: WriteReport | None = None
    kept: dict[str, Any] = field(default_factory=dict)
    """A skipped build's report, as the build that wrote the output left it."""

    @property
    def warnings(self) -> tuple:
        return self.catalog.warnings if self.catalog is not None else tuple(self.kept.get("warnings", ()))

    @property
    def page_count(self) -> int:
        return len(self.pages) if self.catalog is not None else self.kept.get("page_count", 0)

    def lines(self) -> list[str]:
        return [f"{name:<9} {seconds * 1000:8.0f} ms  {detail}" for name, seconds, detail in self.phases]


def build_site(
    data_dir: Path,
    out_dir: Path,
    templates_dir: Path = TEMPLATES_DIR,
    today: datetime.date | None = None,
    finish: Callable[[Path], None] | None = None,
    on_phase: Callable[[str], None] = lambda name: None,
    *,
    cache_dir: Path | None = None,
    jobs: int | None = 1,
    skip_if_unchanged: bool = False,
    commit_lock: AbstractContextManager | None = None,
    memory: dict | None = None,
    first: Callable[[tuple[str, ...]], None] | None = None,
    save_in_background: bool = False,
) -> BuildReport:
    """Build the site into out_dir; raises CatalogInvalid (nothing written) on bad data.
    `on_phase` is told each phase's name as it starts (for a progress line).

    `jobs` processes load and render (None: every core; the CLI's default); the output is the
    same for any number. The library default is one process, as forking a process that runs
    other threads (a preview server's) is not safe. With `cache_dir` the build is incremental (cache.py): unchanged model files are not
    parsed again, and a page whose reads did not change is linked from the previous output
    instead of rendered (reuse.py). `skip_if_unchanged` then returns at once when no input
    changed and the output is as the last build left it: that report has no catalog, only `kept`.
    `commit_lock` is held while the new files replace the old ones (a preview server's readers
    take it too). `memory`: a dict kept by the caller between builds, which then holds the
    cache's records as objects instead of files under cache_dir (cache.Session).
    `first(files)`, for a preview: when the change since the last build is an edit of a few
    model files, their own pages are rendered and put in place first (`show_first`), then
    `first` is told their paths in out_dir, before the rest of the build runs as usual.
    `save_in_background`: a forked process writes the cache's records once the site is in
    place, and this call returns without waiting for it (cache.Session.save; the console
    command, which then ends); the next build waits for it before reading them."""
    report = BuildReport()
    try:
        with fewer_collections():
            session = None
            if cache_dir is not None:
                on_phase("check")
                started = time.perf_counter()
                session = cache.Session(cache_dir, data_dir, out_dir, templates_dir, today, finish is not None, memory)
                reason = session.why_build() if skip_if_unchanged else None
                if skip_if_unchanged and reason is None:
                    report.kept = session.previous["report"]
                    report.phases.append(("check", time.perf_counter() - started,
                                          f"nothing changed: {report.kept['page_count']} pages kept"))
                    return report
                report.phases.append(("check", time.perf_counter() - started,
                                      f"{len(session.stamps)} input files, {session.changed_inputs} changed"
                                      + (f"; building because {reason}" if reason else "")))
            from .parallel import default_jobs  # multiprocessing: not for a build that is skipped

            jobs = default_jobs() if jobs is None else max(1, jobs)
            try:
                _build(report, session, data_dir, out_dir, templates_dir, today, finish, on_phase, jobs, commit_lock,
                       first if session is not None and finish is None else None, save_in_background)
            except BaseException:
                if session is not None:
                    session.discard()
                raise
    finally:
        if memory is None:
            # What the build froze (the records it unpickled: cache.unpickled) goes back to the
            # collector, so that a caller that builds again and again does not keep their cycles
            # for ever. A preview server (memory) freezes on its own terms (serve.settle_memory).
            gc.unfreeze()
    return report


def _build(report: BuildReport, session: cache.Session | None, data_dir: Path, out_dir: Path, templates_dir: Path,
           today: datetime.date | None, finish: Callable[[Path], None] | None, on_phase: Callable[[str], None],
           jobs: int, commit_lock: AbstractContextManager | None = None,
           first: Callable[[tuple[str, ...]], None] | None = None, save_in_background: bool = False) -> None:
    from .catalog import load_catalog
    from .derive import derive_all, derive_some, kept_relations, with_facets
    from .pages import plan, plan_key
    from .render import render_fragments, render_pages
    from .reuse import (
        Fingerprints, RecordTable, changed_reads, derived_digests, recordable_plan_key, recorded_identities,
        reusable_pages, table_index,
    )
    from .write import Staging

    on_phase("validate")
    started = time.perf_counter()
    loading = session.loading(jobs) if session is not None else cache.Loading(jobs=jobs)
    restored = time.perf_counter() - started  # the model store, read from the cache
    with cache.loading(loading):
        catalog = load_catalog(data_dir, today, derive=False)
    if session is not None and jobs > 1:  # a build allowed to fork: pickle the model store beside the rest
        session.start_saving_models()
    resolved = time.perf_counter()
    validated = started + restored + loading.seconds if loading.seconds else resolved
    files = f"{loading.parsed} files parsed, {loading.reused} from the cache" if session else f"{loading.parsed} files"
    report.phases.append(("validate", validated - started, f"{len(catalog.models)} models, "
                          f"{sum(map(len, _shared(catalog)))} shared entities; {files}"))

    # The plan reads neither the derived figures nor the groupings, and the edited models' own
    # pages need only their own figures: a preview shows them before every model's figures and
    # the groupings are made (0.5 s at 10,000 models).
    on_phase("plan")
    started = time.perf_counter()
    # A preview keeps its plan: the same key, the same pages, and their identities (0.2–0.3 s a
    # rebuild at 10,000 models); a build from the cache's files, the identities
    key = plan_key(catalog) if session is not None else None
    kept_plan = loading.plan if loading.plan and loading.plan[0] == key else None
    pages = kept_plan[1] if kept_plan else plan(catalog)
    planned = time.perf_counter() - started
    shown: tuple[str, ...] = ()
    compiled = session.template_cache() if session is not None else None
    edited = session.edited_models(data_dir) if first is not None and session is not None else None
    relations = None
    deriving = 0.0
    if edited:
        started = time.perf_counter()
        with cache.loading(loading):
            relations = kept_relations(catalog)
        deriving = time.perf_counter() - started
        shown = show_first(derive_some(catalog, edited, relations), pages, edited, templates_dir, out_dir,
                           commit_lock, compiled)
        if shown:
            session.note_replaced(shown)
            first(shown)
        showing = time.perf_counter() - started - deriving

    started = time.perf_counter()
    with cache.loading(loading):  # the figures and leaderboards kept by a preview are the loading's
        catalog = with_facets(derive_all(catalog, facets=False, relations=relations))
    report.catalog = catalog
    report.pages = pages
    report.phases.append(("resolve", resolved - validated + deriving + time.perf_counter() - started,
                          "references, derived figures, groupings"))
    report.phases.append(("plan", planned, f"{len(pages)} pages"))
    if shown:
        report.phases.append(("first", showing, f"{len(shown)} pages of the edited models shown before the rest"))

    fingerprints = previous = None
    reused: dict = {}
    changed: set[int] = set()
    fragments = fragment_records = None
    if session is not None:
        # The fragments before the comparison: a page that lists a model reads its fragment,
        # whose fingerprint is its text (an early cutoff: a row made again into the same text
        # leaves the pages listing it as they were).
        on_phase("compare")
        started = time.perf_counter()
        previous = session.previous_pages()
        recorded_key = recordable_plan_key(key)  # type: ignore[arg-type]
        known = {**loading.known, **derived_digests(catalog, loading.known, loading.derivation_digests)}
        fingerprints = Fingerprints(catalog, pages, templates_dir, known, loading.score_rows,
                                    kept_plan[2] if kept_plan else recorded_identities(previous, pages, recorded_key),
                                    loading.leaderboards)
        if loading.leaderboards is not None:
            loading.leaderboards = fingerprints.leaderboards
        if loading.plan is not None:
            loading.plan = (key, pages, fingerprints.identities)
        fingerprinted = time.perf_counter() - started

        on_phase("fragments")
        started = time.perf_counter()
        fragments, fragment_records, made = render_fragments(catalog, templates_dir, jobs, fingerprints,
                                                             *session.previous_fragments(), bytecode_cache=compiled)
        fingerprints.use_fragments(fragments, fragment_records)
        report.phases.append(("fragments", time.perf_counter() - started,
                              f"{made['row']} table rows, {made['brief']} listing entries and "
                              f"{made['section']} sections made, "
                              f"{len(fragments) - sum(made.values())} reused"))

        on_phase("compare")
        started = time.perf_counter()
        index = (previous.get("index") or table_index(previous["reads"])) if previous else None
        changed = (changed_reads(previous["reads"], fingerprints, previous.get("model_digests"), index)
                   if previous else set())
        reused = reusable_pages(pages, fingerprints, previous, session.unchanged_output, changed)
        report.phases.insert(-1, ("compare", fingerprinted + time.perf_counter() - started,
                                  f"{len(reused)} pages read nothing that changed"))

    on_phase("render")
    started = time.perf_counter()
    # A few pages changed and no search index wants the whole new site: patch the old one.
    patch = finish is None and len(reused) >= len(pages) // 2 > 0
    staging = Staging(out_dir, patch=patch, existing=session.outputs_now().keys() if patch and session else None)
    try:
        records = RecordTable(previous["reads"] if previous else None, fingerprints, changed,
                              index if previous else None)
        for index, record in reused.items():
            records.keep(pages[index].output_path, record)
            staging.keep(pages[index].output_path)
        kept = time.perf_counter() - started
        todo = [i for i in range(len(pages)) if i not in reused]
        before = previous["pages"] if previous else {}
        costs = {i: before[pages[i].output_path].seconds for i in todo if pages[i].output_path in before}
        untracked = frozenset(i for i in costs if before[pages[i].output_path].reads is None
                              and before[pages[i].output_path].identity == fingerprints.identities[i])  # type: ignore[union-attr]
        started = time.perf_counter()
        busy = 0.0  # seconds this process spent on rendered pages rather than waiting for them
        stats: dict = {}
        for rendered in render_pages(catalog, pages, todo, templates_dir, jobs, fingerprints, staging.put, costs, stats,
                                     untracked, fragments, compiled, loading.rows if session is not None else None):
            begun = time.perf_counter()
            rel = pages[rendered.index].output_path
            staging.count(rel, bool(rendered.written))
            if fingerprints is not None:
                records.add(rel, fingerprints.identities[rendered.index], rendered.reads, rendered.digest,
                            rendered.seconds)
            busy += time.perf_counter() - begun
        rendering = time.perf_counter() - started - busy
        rate = len(todo) / rendering if rendering else 0
        report.phases.append(("render", rendering, f"{len(todo)} pages rendered and written ({rate:,.0f} pages/s)"
                              + (f", {len(reused)} reused" if session is not None else "")
                              + (f", {stats['processes']} processes" if stats.get("processes", 1) > 1 else "")))

        on_phase("write")
        started = time.perf_counter()
        static = [(templates_dir / folder, prefix) for folder, prefix in (("static", "static"), ("root", ""))
                  if (templates_dir / folder).is_dir()]
        staging.put_static(static)
        written = staging.commit(_timed(finish, report) if finish else None, commit_lock)
    except BaseException:
        staging.discard()
        raise
    report.written = written
    search = next((seconds for name, seconds, _ in report.phases if name == "search"), 0.0)
    report.phases.insert(-1 if finish else len(report.phases), (
        "write", kept + busy + time.perf_counter() - started - search,
        f"{written.written} written, {written.unchanged} unchanged, {written.removed} removed"
        + ("; the old site patched in place" if staging.patch else "")))
    if session is not None:
        on_phase("save")
        started = time.perf_counter()
        kept_records = records.as_record(fingerprints.model_digests, session.slot.memory is not None)
        behind = session.save({"warnings": tuple(catalog.warnings), "page_count": len(pages)},
                              {**kept_records, "plan_key": recorded_key}, fragment_records, written.changed,
                              background=save_in_background)
        report.phases.append(("save", time.perf_counter() - started,
                              "build cache" + (", written on by a background process" if behind else "")))


def show_first(catalog: Catalog, pages: list[Page], model_ids: tuple[str, ...], templates_dir: Path, out_dir: Path,
               lock: AbstractContextManager | None, bytecode_cache: Any = None) -> tuple[str, ...]:
    """Render the pages of the edited models (those whose origin is their file) and put each in
    place in out_dir at once (write.replace_files); their paths in out_dir, or () when there is nothing to
    show or any of them fails to render (the build that follows then reports it). In a preview
    the edited model's page is what the editor is looking at: at 10,000 models it shows in well
    under a second, where the whole rebuild (leaderboards, charts, listings) takes seconds. The
    build goes on as usual afterwards and renders these pages again, tracked, into the same
    bytes (a few milliseconds); until it ends, other pages may still show the old figures."""
    from .render import make_environment, render_page
    from .write import replace_files

    origins = {catalog.model_paths[m] for m in model_ids if m in catalog.model_paths}
    chosen = [page for page in pages if page.origin in origins]
    if not chosen:
        return ()
    try:  # without the groupings: a page that reads them fails here, and is not shown first
        env = make_environment(dataclasses.replace(catalog, facets=_NotYet()), templates_dir, None, bytecode_cache)
        files = [(page.output_path, render_page(env, page, pages)) for page in chosen]
    except Exception:
        return ()
    replace_files(out_dir, files, lock)
    return tuple(path for path, _ in files)


class _NotYet:
    """The groupings while the edited models' pages are shown first: any use of them fails."""

    def _fail(self, *args: Any) -> Any:
        raise LookupError("the groupings are made after the edited models' pages are shown")

    __getattr__ = __getitem__ = __iter__ = __len__ = __bool__ = __contains__ = _fail


def _timed(finish: Callable[[Path], None], report: BuildReport) -> Callable[[Path], None]:
    """The search indexer, with its time reported as a phase of its own."""
    def timed(staging: Path) -> None:
        started = time.perf_counter()
        try:
            finish(staging)
        finally:
            report.phases.append(("search", time.perf_counter() - started, "Pagefind index"))
    return timed


@contextmanager
def fewer_collections() -> Iterator[None]:
    """The build allocates millions of objects that live until it ends; with the default
    thresholds the cyclic collector walks them all again and again (profiling: about 40% of
    load and render time). Collect rarely while building; it leaves no cycles worth more.
    Leaving it starts a collection of what the build made (0.06 s at 10,000 models): a
    preview server holds it open until its tabs are told of the new site (serve.Preview.rebuild),
    as it collects everything then anyway (settle_memory)."""
    thresholds = gc.get_threshold()
    gc.set_threshold(200_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _shared(catalog: Catalog) -> list[dict]:
    return [catalog.organizations, catalog.licenses, catalog.providers, catalog.benchmarks,
            catalog.formats, catalog.families]
