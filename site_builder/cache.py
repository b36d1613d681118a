"""The incremental build cache: what the last build read, validated, rendered and wrote.

One slot per (data folder, output folder) under `.cache/site-builder/<digest>/`:

- `inputs.pickle`  the no-op record: digests of the data files and of the templates, the build
                   date and the options, the stamp of each data file, the (size, mtime) of
                   every output file and the mtime of every output folder (what a no-op
                   build's check stats), and the report to repeat;
- `pages.pickle`   per page: its identity, the values it read with their fingerprints, and
                   the digest of its output;
- `models.pickle`  every model file's validated entity and problems, by file digest, and
  `models-delta.pickle` those validated since models.pickle was written (ModelStore);
- `fragments.pickle` each model's row of the models table and brief in the JSON listings, with
                   what it read (render.render_fragments);
- `templates-<code>/` Jinja's compiled templates (Session.template_cache);
- `checks.pickle`  each model file's cross-file problems, by file digest and a digest of what
                   those checks read in other files (catalog.cross_file_problems).

Every record carries the package fingerprint, so a change of code, of Python or of a library
throws the cache away. A cache that cannot be read is treated as empty: it can only make a
build faster, never change what it writes.
"""

from __future__ import annotations

import copyreg
import datetime
import gc
import hashlib
import itertools
import os
import pickle
import shutil
import sys
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISDIR
from typing import Any, Callable, Iterable, Iterator

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: records are written before the build returns
    fcntl = None  # type: ignore[assignment]

CACHE_VERSION = 1
DEFAULT_CACHE_DIR = Path(".cache") / "site-builder"
PACKAGE_DIR = Path(__file__).resolve().parent
LIBRARIES = ("jinja2", "MarkupSafe", "pydantic", "pydantic-core", "markdown-it-py", "PyYAML")
RACY_SECONDS = 2.0
"""A file modified this recently may be written again within the same mtime tick: hash it."""
KEPT_SLOTS = 8
"""Slots (data, output pairs) kept; older ones are removed."""


def digest_bytes(data: bytes) -> str:
    """A digest of a file's bytes (data files, every page written), 160 bits as hex. SHA-256,
    not BLAKE2b: processors with SHA instructions (x86 since Zen and Ice Lake, ARMv8) hash with
    it 2.4x as fast (1.68 against 0.70 GB/s here), and a build at 10,000 models digests 670 MB
    of pages (0.95 s of CPU time with BLAKE2b, 0.40 s with SHA-256)."""
    return hashlib.sha256(data).hexdigest()[:40]


def unpickled(payload: bytes) -> Any:
    """pickle.loads for records a build keeps to its end (the cache's, workers' results): the
    cyclic collector is held off while they are made and they are then frozen (gc.freeze),
    so it does not walk them. Made by the million (10,000 validated models), they were walked
    as they came, and again as they aged: restoring the model store at 10,000 models with
    the collector running took 0.73–0.91 s, this way 0.55–0.65 s (each followed by 400,000
    allocations, which is when a collection held off would otherwise come due). Frozen
    objects are still freed when nothing refers to them; parallel.run unfreezes them."""
    if not gc.isenabled():
        return pickle.loads(payload)
    gc.disable()
    try:
        return pickle.loads(payload)
    finally:
        gc.freeze()
        gc.enable()


def code_fingerprint() -> str:
    """The package's own files, Python's version and the versions of the libraries that shape
    the output: any change invalidates everything cached."""
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{CACHE_VERSION} {sys.version}".encode())
    installed = _installed_versions()
    for name in LIBRARIES:
        h.update(f"{name}={installed.get(_normalized(name), '-')}".encode())
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _normalized(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def _installed_versions() -> dict[str, str]:
    """Name → version of the distributions on sys.path, read from their *.dist-info folder
    names (importlib.metadata takes ~70 ms for the same; a no-op build has 500 ms in all)."""
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for folder in names:
            stem = folder.rsplit(".", 1)[0]
            if folder.endswith((".dist-info", ".egg-info")) and "-" in stem:
                name, version = stem.split("-", 1)
                found.setdefault(_normalized(name), version)
    return found


def tree_fingerprint(folder: Path) -> str:
    """Names and bytes of every file under folder (templates and static files)."""
    h = hashlib.blake2b(digest_size=20)
    if folder.is_dir():
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def build_date_key(today: datetime.date | None) -> str:
    """The build date as catalog.build_date computes it, without importing the pipeline."""
    if today is not None:
        return today.isoformat()
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).date().isoformat()
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat()


# --- input files ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Stamp:
    """What stat says about a file, and the digest of its bytes when stat said the same."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    digest: str


def input_files(data_dir: Path) -> list[str]:
    """Every file under the data folder, as str(data_dir / relative path), sorted. (The build
    reads the top level and models/; any other file counts too, so that a no-op is never
    declared while something there changed.) Strings, not Paths: 10,000 Paths cost 0.3 s."""
    found: list[str] = []
    for root, folders, names in os.walk(str(data_dir)):
        inside = os.path.join(root, "")
        found.extend(inside + name for name in names)
    return sorted(found)


def stamp_files(paths: list[str], previous: dict[str, Stamp]) -> dict[str, Stamp]:
    """Stamps of paths; a file whose stat is unchanged (and not racy) keeps its old digest."""
    now = time.time_ns()
    stamps: dict[str, Stamp] = {}
    for key in paths:
        try:
            st = os.stat(key)
        except FileNotFoundError:
            continue
        old = previous.get(key)
        if (old is not None and (old.size, old.mtime_ns, old.ctime_ns, old.inode)
                == (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
                and now - st.st_mtime_ns > RACY_SECONDS * 1e9):
            stamps[key] = old
        else:
            with open(key, "rb") as handle:
                stamps[key] = Stamp(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, digest_bytes(handle.read()))
    return stamps


# --- output files -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Listing:
    """The output folder as listed: each file's (size, mtime), each folder's mtime (the
    folder itself is ""), and the time the listing began."""

    files: dict[str, tuple[int, int]]
    folders: dict[str, int]
    taken_ns: int


def list_outputs(out_dir: Path) -> Listing:
    """Every file and folder under out_dir. A folder's mtime is taken before it is read, so a
    change made while it is read shows as a change next time."""
    taken = time.time_ns()
    files: dict[str, tuple[int, int]] = {}
    folders: dict[str, int] = {}
    try:
        folders[""] = os.lstat(out_dir).st_mtime_ns
    except FileNotFoundError:
        return Listing(files, folders, taken)
    stack = [(str(out_dir), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = os.scandir(folder)
        except FileNotFoundError:
            continue
        with entries:
            for entry in entries:
                rel = prefix + entry.name
                st = entry.stat(follow_symlinks=False)
                if entry.is_dir(follow_symlinks=False):
                    folders[rel] = st.st_mtime_ns
                    stack.append((entry.path, rel + "/"))
                else:
                    files[rel] = (st.st_size, st.st_mtime_ns)
    return Listing(files, folders, taken)


def _folders_of(files: Iterable[str]) -> set[str]:
    """The folders holding these files (relative paths), and theirs, up to the output folder ("")."""
    folders = {""}
    for rel in files:
        while rel:
            rel = rel.rpartition("/")[0]
            folders.add(rel)
    return folders


def restat_outputs(out_dir: Path, before: Listing, replaced: Iterable[str] = ()) -> Listing | None:
    """The listing again, by stat alone, when no folder changed since `before`; None when one
    did or may have (list again). Adding, removing or renaming an entry changes its folder's
    mtime; a file changed in place changes its own. A folder whose mtime was within the mtime
    tick of the listing (RACY_SECONDS) may have changed in the same tick: it is read. So are
    the folders of the `replaced` files, which this build put in place since (build.show_first),
    changing their folders' mtimes. At 10,000 models, reading 11,700 folders and stat-ing their
    21,700 files took 0.20–0.29 s; stat-ing the files and folders, 0.15 s (most of a no-op's
    time)."""
    if "" not in before.folders:
        return None
    taken = time.time_ns()
    base = str(out_dir)
    inside = os.path.join(base, "")  # joined by hand below: os.path.join took a third of the time
    replaced = tuple(replaced)
    touched = _folders_of(replaced) if replaced else set()
    folders = dict(before.folders) if touched else before.folders
    edge = before.taken_ns - RACY_SECONDS * 1e9
    read = []
    for rel in itertools.chain(before.folders, touched - before.folders.keys()):
        try:
            st = os.lstat(inside + rel if rel else base)
        except OSError:
            return None
        if not S_ISDIR(st.st_mode):
            return None
        if rel in touched:
            folders[rel] = st.st_mtime_ns
            read.append(rel)
        elif st.st_mtime_ns != before.folders[rel]:
            return None
        elif st.st_mtime_ns >= edge:
            read.append(rel)
    files_now = itertools.chain(before.files, (rel for rel in replaced if rel not in before.files))
    if read:
        names: dict[str, set[str]] = {rel: set() for rel in read}
        for rel in itertools.chain(before.files, replaced, folders):
            parent, _, name = rel.rpartition("/")
            if rel and parent in names:
                names[parent].add(name)
        for rel in read:
            try:
                if set(os.listdir(inside + rel if rel else base)) != names[rel]:
                    return None
            except OSError:
                return None
    files: dict[str, tuple[int, int]] = {}
    for rel in files_now:
        try:
            st = os.lstat(inside + rel)
        except OSError:
            return None
        files[rel] = (st.st_size, st.st_mtime_ns)
    return Listing(files, folders, taken)


def relisted(out_dir: Path, listing: Listing, changed: Iterable[str]) -> Listing:
    """The listing with these files (written or removed since) and their folders looked at
    again. It keeps the time it was taken: the folders changed since are then within its
    mtime tick, and read by the next build's check (restat_outputs)."""
    files, folders = dict(listing.files), dict(listing.folders)
    base = str(out_dir)
    inside = os.path.join(base, "")
    changed = tuple(changed)
    for rel in changed:
        try:
            st = os.lstat(inside + rel)
        except OSError:
            files.pop(rel, None)
        else:
            files[rel] = (st.st_size, st.st_mtime_ns)
    for rel in _folders_of(changed):
        try:
            folders[rel] = os.lstat(inside + rel if rel else base).st_mtime_ns
        except OSError:
            folders.pop(rel, None)
    return Listing(files, folders, listing.taken_ns)


# --- one build ---------------------------------------------------------------------------------

class Session:
    """One build's use of its slot: the no-op check, the model store, the page records.

    With `memory` (a dict the caller keeps between builds, as a preview server does) the
    records stay in that dict as objects instead of being pickled to files: the next build
    starts from the same validated entities, page records and fragments without restoring them
    (1.2 s at 10,000 models) and saves without pickling. Compiled templates still go to disk."""

    def __init__(self, cache_dir: Path, data_dir: Path, out_dir: Path, templates_dir: Path,
                 today: datetime.date | None, search: bool, memory: dict | None = None):
        self.out_dir = out_dir
        self.slot = Slot(cache_dir, data_dir, out_dir, code_fingerprint(), memory)
        self.slot.wait_for_writer()  # the last build's records may still be being written (save)
        self.previous = self.slot.read("inputs.pickle") or {}
        self.stamps = stamp_files(input_files(data_dir), self.previous.get("stamps", {}))
        data = hashlib.blake2b(digest_size=20)
        skip = len(str(data_dir)) + 1
        for path, stamp in self.stamps.items():  # in sorted order
            data.update(f"{path[skip:]}\0{stamp.digest}\0".encode())
        self.key = {"data": data.hexdigest(), "templates": tree_fingerprint(templates_dir),
                    "date": build_date_key(today), "search": search}
        """What a build's output follows from, besides the code (which every record carries)."""
        self.models: ModelStore | None = None
        self._store_base: str | None = None
        self.marks: dict = {}
        self._loading: Loading | None = None
        before = {path: stamp.digest for path, stamp in self.previous.get("stamps", {}).items()}
        self.changed_files = [path for path, stamp in self.stamps.items() if before.get(path) != stamp.digest]
        """Data files new or changed since the last build."""
        self.removed_files = before.keys() - self.stamps.keys()
        self.changed_inputs = len(self.changed_files) + len(self.removed_files)
        self._listing: Listing | None = None
        self._replaced: tuple[str, ...] = ()
        """Files this build put in place before listing the output folder (note_replaced)."""
        self._store_writer: tuple[Callable[[], bool], Path, dict] | None = None
        """(wait for it, its file, what it writes) while a forked process pickles the model store."""

    def edited_models(self, data_dir: Path, limit: int = 8) -> tuple[str, ...] | None:
        """Ids of the model files that changed since the last build, when nothing else did
        (no other data file, template, build date or search option) and at most `limit` did;
        else None. What a preview may show first (build.py, `first`)."""
        key = self.previous.get("key", {})
        if not self.previous or any(key.get(part) != self.key[part] for part in ("templates", "date", "search")):
            return None
        models = os.path.join(str(data_dir), "models")
        changed = self.changed_files
        if (self.removed_files or not 0 < len(changed) <= limit
                or any(os.path.dirname(path) != models or not path.endswith(".yaml") for path in changed)):
            return None
        return tuple(os.path.basename(path)[:-len(".yaml")] for path in changed)

    def why_build(self) -> str | None:
        """Why this build cannot be skipped, in a few words; None when it can."""
        if not self.previous:
            return "no previous build in the cache"
        before = self.previous.get("key", {})
        for part, words in (("data", "data files changed"), ("templates", "templates changed"),
                            ("date", "the build date changed"), ("search", "the search option changed")):
            if before.get(part) != self.key[part]:
                return words
        if self.outputs_now() != self.previous["outputs"]:
            return f"{self.out_dir} was changed"
        return None

    def outputs_now(self) -> dict[str, tuple[int, int]]:
        """Every file in the output folder with its (size, mtime), listed once per build: the
        reuse check, the patch (which deletes what was not planned) and the record `save`
        writes all start from this one listing. Listing, then stat of each file, then listing
        with stat again took 0.7 s of a one-model edit at 10,000 models; once, 0.2 s. When the
        last build recorded its folders, stat alone will do (restat_outputs)."""
        if self._listing is None:
            before = self.previous.get("outputs"), self.previous.get("folders"), self.previous.get("listed_at")
            known = Listing(*before) if None not in before else None  # type: ignore[arg-type]
            self._listing = (known and restat_outputs(self.out_dir, known, self._replaced)) or list_outputs(self.out_dir)
        return self._listing.files

    def loading(self, jobs: int) -> Loading:
        register_entity_pickling()
        stored = self.slot.read("models.pickle") or {}
        delta = self.slot.read("models-delta.pickle") or {}
        if delta.get("base") != stored.get("base"):
            delta = {}  # written over another store than this one
        self.models = ModelStore(stored.get("entries"), delta.get("entries"))
        self._store_base = stored.get("base")
        self.marks = dict(self.previous.get("marks", {}))
        self._loading = Loading(store=self.models, digests={path: stamp.digest for path, stamp in self.stamps.items()},
                                jobs=jobs, marks=self.marks, checks=self.slot.read("checks.pickle"))
        if self.slot.memory is not None:
            derived = self.slot.read("derived") or {}
            self._loading.derivations = derived.get("derived", {})
            self._loading.relations = derived.get("relations", False)
            self._loading.digest_inputs = derived.get("digest_inputs")
            self._loading.groupings = (self.slot.read("groupings") or {}).get("kept", False)
            self._loading.plan = (self.slot.read("plan") or {}).get("kept", False)
            self._loading.leaderboards = (self.slot.read("leaderboards") or {}).get("kept", False)
            self._loading.shared_files = (self.slot.read("shared") or {}).get("kept", {})
            from .render import KeptRows

            self._loading.rows = KeptRows((self.slot.read("rows") or {}).get("kept", {}))
        return self._loading

    def previous_pages(self) -> dict | None:
        pages = self.slot.read("pages.pickle")
        if not pages or pages.get("build") != self.previous.get("build"):
            return None  # not the records of the build that left the output as it is
        return pages

    def previous_fragments(self) -> tuple[dict, dict | None]:
        """(kind, model id) → (text, fingerprinted reads) of the models' table rows and listing
        entries the last build kept, and the model digests (reuse.Fingerprints.model_digests) of
        the build that kept them: each is checked by its reads (render.render_fragments), so any
        build's will do."""
        record = self.slot.read("fragments.pickle") or {}
        return record.get("fragments", {}), record.get("model_digests")

    def template_cache(self) -> Any:
        """Jinja's bytecode cache for this code: compiling the templates again took every
        rendering process 0.2 s (model.html alone 90 ms). Jinja checks each template's source
        against its entry; the folder is named by the code fingerprint, since the environment's
        options shape the compiled code too."""
        import jinja2

        folder = self.slot.dir / f"templates-{self.slot.code[:16]}"
        if self.slot.dir.is_dir():
            for old in self.slot.dir.glob("templates-*"):
                if old != folder:
                    shutil.rmtree(old, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        return jinja2.FileSystemBytecodeCache(str(folder))

    def unchanged_output(self, rel: str) -> bool:
        """The file is still as the previous build left it (by size and mtime)."""
        then = self.previous.get("outputs", {}).get(rel)
        return then is not None and self.outputs_now().get(rel) == then

    def note_replaced(self, files: tuple[str, ...]) -> None:
        """Files this build put in place in the output folder before its patch (build.show_first):
        the listing looks at them, and their folders, again."""
        if self._listing is not None:
            self._listing = relisted(self.out_dir, self._listing, files)
        else:
            self._replaced += tuple(files)

    def _outputs_after(self, changed: tuple[str, ...] | None) -> Listing:
        """The output folder as this build leaves it: after a patch, the listing taken before
        it with the files it wrote or removed, and their folders, looked at again; after a
        whole new site, listed anew."""
        if changed is None or self._listing is None:
            return list_outputs(self.out_dir)
        return relisted(self.out_dir, self._listing, changed)

    def start_saving_models(self) -> None:
        """Once the catalog is loaded, when the whole model store is to be written again (a
        cold build, or a delta grown too large): pickle it in a forked process now, beside
        the rest of the build, instead of at `save`. Pickling it took 1.2–1.9 s at 10,000
        models, all of it on a cold build's critical path, while one of two cores sat idle
        through the serial phases that follow loading (resolve, plan, compare). `save` waits
        for that process and puts its file in place; were it to fail, `save` pickles the store
        itself. Only for a build allowed to fork (jobs > 1), and never for records kept in
        memory (nothing is pickled there)."""
        if self.models is None or self.slot.memory is not None or self._store_writer is not None:
            return
        from .parallel import in_background

        whole, _ = self.models.records()
        if whole is None:
            return
        record = {**whole, "base": os.urandom(8).hex()}
        temporary = self.slot.temporary("models.pickle", suffix="early")
        wait = in_background(lambda: self.slot.write_to(temporary, record))
        if wait is not None:
            self._store_writer = (wait, temporary, record)

    def discard(self) -> None:
        """The build failed: wait for a store writer, and remove what it wrote."""
        if self._store_writer is not None:
            wait, temporary, _ = self._store_writer
            self._store_writer = None
            wait()
            temporary.unlink(missing_ok=True)

    def save(self, report: dict, pages: dict, fragments: dict | None = None,
             changed: tuple[str, ...] | None = None, background: bool = False) -> bool:
        """Record this build; inputs.pickle goes last, as it vouches for the others. `changed`:
        the files a patch wrote or removed (None when the whole site was replaced). The fragments
        are kept as of the model digests the pages' records are (pages["model_digests"]).

        With `background` (the console command, which ends as soon as the site is in place and
        the report printed) a forked process writes the records while this one goes on, holding
        the slot's lock until it is done; the next build's Session waits for that lock before it
        reads anything. Returns whether a forked process writes them."""
        stored = self._settle_store_writer()
        if background and self.slot.memory is None and fcntl is not None:
            from .parallel import in_background

            lock = self.slot.lock()
            try:
                wait = in_background(lambda: self._write(report, pages, fragments, changed, stored), quiet=True)
            finally:
                os.close(lock)  # the forked process holds the lock (its copy of this descriptor) until it ends
            if wait is not None:
                return True
        self._write(report, pages, fragments, changed, stored)
        return False

    def _settle_store_writer(self) -> dict | None:
        """Wait for the process pickling the model store (start_saving_models) and put its file
        in place, or pickle the store here if it failed; the record it wrote, or None."""
        if self._store_writer is None:
            return None
        wait, temporary, record = self._store_writer
        self._store_writer = None
        if wait():
            self.slot.replace(temporary, "models.pickle")
        else:
            temporary.unlink(missing_ok=True)
            self.slot.write("models.pickle", record)
        return record

    def _write(self, report: dict, pages: dict, fragments: dict | None, changed: tuple[str, ...] | None,
               stored: dict | None) -> None:
        build = os.urandom(8).hex()
        self.slot.write("pages.pickle", {**pages, "build": build})
        if fragments is not None:
            self.slot.write("fragments.pickle", {"fragments": fragments, "model_digests": pages.get("model_digests")})
        if self.models is not None and self.slot.memory is not None:  # nothing to pickle: keep it whole, no delta
            self.slot.write("models.pickle", {"entries": self.models.used})
        elif stored is not None:  # pickled while the build went on
            self.slot.write("models-delta.pickle", {"entries": {}, "base": stored["base"]})
        elif self.models is not None:
            whole, delta = self.models.records()
            base = self._store_base
            if whole is not None:
                base = os.urandom(8).hex()
                self.slot.write("models.pickle", {**whole, "base": base})
            if delta is not None:
                self.slot.write("models-delta.pickle", {**delta, "base": base})
        if self._loading is not None and self._loading.checks is not None:
            self.slot.write("checks.pickle", self._loading.checks)
        if self._loading is not None and self._loading.derivations is not None:
            self.slot.write("derived", {"derived": self._loading.derivations, "relations": self._loading.relations,
                                        "digest_inputs": self._loading.digest_inputs})
        if self._loading is not None and self._loading.groupings:
            self.slot.write("groupings", {"kept": self._loading.groupings})
        if self._loading is not None and self._loading.plan:
            self.slot.write("plan", {"kept": self._loading.plan})
        if self._loading is not None and self._loading.leaderboards:
            self.slot.write("leaderboards", {"kept": self._loading.leaderboards})
        if self._loading is not None and self._loading.shared_files is not None:
            self.slot.write("shared", {"kept": self._loading.shared_files})
        if self._loading is not None and self._loading.rows is not None:
            self.slot.write("rows", {"kept": self._loading.rows.now})
        digests = {stamp.digest for stamp in self.stamps.values()}
        marks = {memo: mark for memo, mark in self.marks.items() if memo[1] in digests}
        outputs = self._outputs_after(changed)
        self.slot.write("inputs.pickle", {"key": self.key, "stamps": self.stamps, "build": build, "marks": marks,
                                          "outputs": outputs.files, "folders": outputs.folders,
                                          "listed_at": outputs.taken_ns, "report": report})
        self.slot.prune()


# --- the slot ---------------------------------------------------------------------------------

class Slot:
    """The cache of builds from one data folder into one output folder."""

    def __init__(self, cache_dir: Path, data_dir: Path, out_dir: Path, code: str, memory: dict | None = None):
        identity = f"{data_dir.resolve()}\0{out_dir.resolve()}".encode()
        self.root = cache_dir
        self.dir = cache_dir / digest_bytes(identity)[:16]
        self.code = code
        self.memory = memory
        """Records kept in this dict, as they are, instead of pickled into files (see Session)."""

    def lock(self) -> int:
        """A descriptor holding the slot's lock (exclusive), for a process writing its records
        after its build has ended (Session.save); the lock goes when every copy of it is closed."""
        self.dir.mkdir(parents=True, exist_ok=True)
        handle = os.open(self.dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(handle, fcntl.LOCK_EX)
        return handle

    def wait_for_writer(self) -> None:
        """Wait until no process is writing this slot's records (`lock`)."""
        if self.memory is None:
            wait_for_lock(self.dir / ".lock")

    def read(self, name: str) -> dict | None:
        """A record written by this code, or None."""
        if self.memory is not None:
            record = self.memory.get((self.dir, name))
            return record if record is not None and record.get("code") == self.code else None
        try:
            with open(self.dir / name, "rb") as handle:
                record = unpickled(handle.read())
        except FileNotFoundError:
            return None
        except Exception:  # a cache from another version or a torn write: ignore it
            return None
        if not isinstance(record, dict) or record.get("code") != self.code:
            return None
        return record

    def write(self, name: str, record: dict) -> None:
        if self.memory is not None:
            self.memory[(self.dir, name)] = {**record, "code": self.code}
            return
        temporary = self.temporary(name)
        self.write_to(temporary, record)
        self.replace(temporary, name)

    def temporary(self, name: str, suffix: str = "") -> Path:
        """Where a record is written before it is renamed into place (`replace`)."""
        return self.dir / f".{name}.{os.getpid()}{suffix}"

    def write_to(self, temporary: Path, record: dict) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(temporary, "wb") as handle:
            pickle.dump({**record, "code": self.code}, handle, protocol=pickle.HIGHEST_PROTOCOL)

    def replace(self, temporary: Path, name: str) -> None:
        os.replace(temporary, self.dir / name)
        os.utime(self.dir)

    def prune(self) -> None:
        """Keep the most recently used slots only."""
        if self.memory is not None:
            return
        try:
            slots = sorted((p for p in self.root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime,
                           reverse=True)
        except FileNotFoundError:
            return
        for old in slots[KEPT_SLOTS:]:
            shutil.rmtree(old, ignore_errors=True)  # its records and its compiled templates


def wait_for_lock(path: Path) -> None:
    """Wait until no process holds the lock file at `path` (Slot.lock); at once when there is
    none. The benchmark waits so for the process a console build leaves writing its cache."""
    if fcntl is None:
        return
    try:
        handle = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(handle, fcntl.LOCK_SH)
    finally:
        os.close(handle)


# --- validated model files --------------------------------------------------------------------

class ModelStore:
    """Validated model entities by (shown path, file digest), with their problems.

    Loading and validating a model file costs ~3 ms; restoring its result ~0.1 ms. The
    entities are pickled together, not one by one: pickle then writes an object met twice
    once, so the strings and fields sets that validation made shared (schema.share_repeats)
    stay shared when restored. At 10,000 models: 32 MB on disk instead of 85, 0.9 s to
    restore instead of 1.6, and no per-entity copies of repeated strings in memory.

    Pickling them all takes 1.2 s at 10,000 models, too long for every edit: a build that
    changed a few files writes only those to `models-delta.pickle`, and the whole store is
    written again when the delta grows past a fifth of it (or when entries go unused)."""

    REWRITE_FRACTION = 0.2

    def __init__(self, base: dict[tuple[str, str], tuple] | None = None,
                 delta: dict[tuple[str, str], tuple] | None = None):
        self.base = base or {}
        self.delta = delta or {}
        self.used: dict[tuple[str, str], tuple] = {}

    def get(self, shown: str, digest: str) -> tuple[Any, list, bool, tuple] | None:
        """(entity or None, problems, whether the file loaded, a digest of each score's
        leaderboard row) — or None when not stored."""
        key = (shown, digest)
        entry = self.base.get(key) or self.delta.get(key)
        if entry is not None:
            self.used[key] = entry
        return entry

    def put(self, shown: str, digest: str, entry: tuple[Any, list, bool, tuple]) -> None:
        self.used[(shown, digest)] = entry

    def records(self) -> tuple[dict | None, dict | None]:
        """What to write: (the whole store or None to keep it, the delta or None to keep it)."""
        delta = {key: entry for key, entry in self.used.items() if key not in self.base}
        unused = len(self.base.keys() - self.used.keys())
        limit = self.REWRITE_FRACTION * max(len(self.used), 1)
        if not self.base or len(delta) > limit or unused > limit:
            return {"entries": self.used}, {"entries": {}}
        if delta.keys() == self.delta.keys():
            return None, None
        return None, {"entries": delta}


@dataclass
class Loading:
    """How validate_catalog loads model files during one build."""

    store: ModelStore | None = None
    digests: dict[str, str] = field(default_factory=dict)
    """str(path) → digest of the file from the input scan."""
    jobs: int = 1
    known: dict[int, str] = field(default_factory=dict)
    """id(validated entity) → digest of its file, filled while loading: an entity is a pure
    function of its file, so its fingerprint is the file's digest."""
    score_rows: dict[int, bytes] = field(default_factory=dict)
    """id(a model's score) → a digest of what its leaderboard row shows (facets.score_row_digests),
    filled while loading: worked out where the file is validated, kept with it in the store."""
    parsed: int = 0
    """Model files loaded and validated in this build."""
    reused: int = 0
    """Model files whose result came from the store."""
    seconds: float = 0.0
    """How long validate_catalog took (the rest of load_catalog is resolving)."""
    marks: dict | None = None
    """Line and column of values in model files, as loader.Document.remembered; kept by the
    cache when given (a dict), so that warnings are located without composing files again."""
    derivations: dict | None = None
    """Derivation digest → a model's derived figures (derive.derive_all), kept between builds
    only in memory (Session's `memory`): pickling them costs more than deriving them again."""
    plan: Any = None
    """The last build's plan and its pages' identities: (pages.plan_key, pages, identities),
    kept between builds only in memory, like `groupings`."""
    groupings: Any = None
    """The last build's groupings with what they were made from (facets.Kept), kept between
    builds only in memory, where an unchanged model and its scores are the same objects from one
    build to the next; False in such a build before there are any (None: not kept)."""
    derivation_digests: dict[str, str] | None = None
    """Model id → its derivation digest, when derive_all worked them out (to look up the kept
    figures): reuse.derived_digests takes them rather than working them out again (0.1 s)."""
    relations: Any = None
    """The last build's relations with what they were worked out from (derive.RelationInputs),
    kept between builds only in memory, like `groupings`; False in such a build before there
    are any (None: not kept)."""
    rows: Any = None
    """The leaderboard rows the last build made (render.KeptRows), kept between builds only in
    memory."""
    shared_files: dict | None = None
    """str(path) → (digest, document, entities, ids) of each shared file validated, kept
    between builds only in memory: a shared file whose digest stays is not loaded again."""
    leaderboards: Any = None
    """The last build's leaderboard group digests (reuse.KeptLeaderboards), kept between builds
    only in memory; False in such a build before there are any (None: not kept)."""
    digest_inputs: Any = None
    """What the last build's derivation digests were worked out from (derive.DigestInputs), kept
    between builds only in memory."""
    checks: dict | None = None
    """Each model file's cross-file problems, as catalog.cross_file_problems left them:
    {"context": digest of what they read elsewhere, "models": {shown path: (file digest,
    problems)}}. The last build's on the way in; this build's once the catalog is loaded."""


_loading: ContextVar[Loading | None] = ContextVar("loading", default=None)


@contextmanager
def loading(options: Loading) -> Iterator[Loading]:
    """Make validate_catalog use `options` (load_catalog has no parameter for it)."""
    token = _loading.set(options)
    try:
        yield options
    finally:
        _loading.reset(token)


def current_loading() -> Loading | None:
    return _loading.get()


_registered = False


def register_entity_pickling() -> None:
    """Pickle validated entities as (class, values, fields set), restored without validation.

    pydantic's own pickling builds a four-key state dict per object and sets it back in Python:
    pickling 10,000 models took 1.66 s and restoring them 1.03 s; this way 1.18 s and 0.92 s,
    and the file is 34 MB instead of 39. Only for classes without private attributes (the
    schema forbids extra fields, so there are none of those either). The schema makes its
    CitedX classes at import under names that hold a type alias (CitedDate = Annotated[...]),
    and pickle finds classes by name: those are restored by their name."""
    global _registered, _set_dict, _set_fields, _set_extra, _set_private
    if _registered:
        return
    from pydantic import BaseModel

    from .schema import Strict

    _set_dict, _set_fields, _set_extra, _set_private = (BaseModel.__dict__[name].__set__ for name in _SLOTS)

    for cls in [Strict, *_subclasses(Strict)]:
        if cls.__private_attributes__ or cls.model_config.get("extra") != "forbid":
            continue  # pydantic's own pickling keeps what this one would drop
        module = sys.modules.get(cls.__module__)
        if getattr(module, cls.__qualname__, None) is cls:
            copyreg.pickle(cls, lambda obj, cls=cls: (_entity, (cls, obj.__dict__, obj.__pydantic_fields_set__)))
        else:
            _classes_by_name[cls.__qualname__] = cls
            copyreg.pickle(cls, lambda obj, name=cls.__qualname__: (
                _named_entity, (name, obj.__dict__, obj.__pydantic_fields_set__)))
    _registered = True


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


_classes_by_name: dict[str, type] = {}
_new = object.__new__
_SLOTS = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
_set_dict, _set_fields, _set_extra, _set_private = (
    lambda obj, value, name=name: object.__setattr__(obj, name, value) for name in _SLOTS)
"""How _entity sets each slot; register_entity_pickling swaps in BaseModel's own descriptors,
which skip looking the name up on each object's class (a 10,000-model store, 370,000
entities: 0.72 → 0.61 s to restore)."""


def _entity(cls: type, values: dict, fields: set) -> Any:
    obj = _new(cls)
    _set_dict(obj, values)
    _set_fields(obj, fields)
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


def _named_entity(name: str, values: dict, fields: set) -> Any:
    register_entity_pickling()  # a process that restores before it ever pickled
    return _entity(_classes_by_name[name], values, fields)
