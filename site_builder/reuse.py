"""Which planned pages the previous build already wrote, judged by what each page read.

A page's bytes are a function of its identity (url, template, origin, context), the templates
it loaded and the catalog values it read (tracking.py). The previous build stored, per page,
each read with its fingerprint; a page whose identity and every read still have the same
fingerprints, and whose file is still as that build left it, is reused: its file is linked
into the new site instead of being rendered again. A page whose reads could not be recorded
or fingerprinted is rendered on every build.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import jinja2

from .fingerprint import ABSENT, Fingerprinter, Unfingerprintable
from .tracking import Dep, resolve


@dataclass(frozen=True)
class PageRecord:
    identity: bytes
    reads: tuple[int, ...] | None
    """Indices into the build's table of (read, fingerprint); None: rendered untracked."""
    digest: str
    """Digest of the page's bytes."""
    seconds: float = 0.0
    """How long it took to render: the next build schedules slow pages first."""


def derived_digests(catalog: Any, known: dict[int, str], digests: dict[str, str] | None = None) -> dict[int, str]:
    """id(a model's derived figures) → its derivation digest (derive.derivation_digests; or
    `digests`, model id → digest, when derive_all has them already). Fingerprinting them by
    walking every figure cost an incremental build about a second at 10,000 models, as the
    index reads all of them; a license edit still changes only its own models' digests."""
    from .derive import derivation_digests

    if digests is None:
        relations = {model_id: derived.relations for model_id, derived in catalog.derived.items()}
        digests = derivation_digests(catalog, relations, known)
    return {id(catalog.derived[model_id]): digest for model_id, digest in digests.items()}


def _with_parts(catalog: Any, known: dict[int, bytes]) -> dict[int, bytes]:
    """known, plus each offer of a model whose file digest is known: the provider rows in the
    facets hold these objects, and walking them to fingerprint the facets cost an incremental
    build 0.6 s at 10,000 models (with the scores, which the leaderboards now fingerprint by
    what their rows show). Like the model, each is a pure function of the file's bytes and its
    place in the file."""
    for model in catalog.models.values():
        digest = known.get(id(model))
        if digest is None:
            continue
        for index, offer in enumerate(model.offers):
            known[id(offer)] = b"%s/offers/%d" % (digest, index)
    return known


KeptLeaderboards = tuple[dict[str, tuple[str, str]], dict[int, tuple[Any, frozenset[str], bytes]]]
"""A build's leaderboard group digests, kept for the next (a preview's): (that build's
Fingerprints.model_digests, id(group) → (the group, its models, its digest))."""


def _with_leaderboards(catalog: Any, known: dict[int, bytes], score_rows: dict[int, bytes],
                       model_digests: dict[str, tuple[str, str]] | None = None,
                       kept: KeptLeaderboards | bool | None = None,
                       ) -> tuple[dict[int, bytes], KeptLeaderboards | None]:
    """known, plus each leaderboard group: a digest of its setting, its ranks and what each
    of its rows shows (facets.row_values: model name, score, date, note, source). A benchmark
    page reads its groups, and its rows read the models through the catalog itself (render.
    leaderboard_rows), so an edit to a model renders again the leaderboards whose rows it
    changes, not every one the model is on (a one-model score edit at 10,000 models rendered
    14 of them). What a row shows of its score comes from `score_rows` (id(score) → digest,
    worked out once per model file and kept in the cache), or is worked out here for a score
    not in it: every group gets its digest, as walking its objects would miss the names.

    With `kept`, the last build's digests (a preview's, where an unchanged group is the same
    object from one build to the next: facets.update_facets), a group that is the same object
    as then, all of whose models have the file and derivation digests they had then
    (`model_digests`), keeps its digest: what a row shows is a function of its model's file
    and its place in the group. Joining every row's digest took 0.06 s at 10,000 models.
    Also returns this build's digests to keep, unless `kept` is None (False: keep them, none
    kept yet): telling each group's models apart costs a build that keeps nothing 0.1 s."""
    from .facets import score_row_digest

    keeping = kept is not None
    then, before = kept if kept and model_digests is not None else ({}, {})
    settled = frozenset(m for m, digests in (model_digests or {}).items() if then.get(m) == digests)
    now: dict[int, tuple[Any, frozenset[str], bytes]] = {}
    leaderboards = getattr(catalog.facets, "leaderboards", None)
    for groups in (leaderboards or {}).values():
        for group in groups:
            entry_then = before.get(id(group))  # which holds the group: its id is not another's
            if entry_then is not None and entry_then[1] <= settled:
                known[id(group)] = entry_then[2]
                now[id(group)] = entry_then
                continue
            entries = group.entries
            try:
                rows = [score_rows[id(entry.score)] for entry in entries]
            except KeyError:
                rows = [score_rows.get(id(entry.score))
                        or score_row_digest(entry.model_id, catalog.models[entry.model_id], entry.score,
                                            catalog.derived[entry.model_id].source_numbers)
                        for entry in entries]
            head = repr((group.setting, [entry.rank for entry in entries])).encode()
            known[id(group)] = digest = hashlib.blake2b(head + b"".join(rows), digest_size=16).digest()
            if keeping:
                now[id(group)] = (group, frozenset(entry.model_id for entry in entries), digest)
    return known, ((model_digests or {}, now) if keeping else None)


class Fingerprints:
    """Fingerprints of pages and of recorded reads, in this build (memoized)."""

    def __init__(self, catalog: Any, pages: Sequence[Any], templates_dir: Path, known: dict[int, str],
                 score_rows: dict[int, bytes] | None = None, identities: list[bytes | None] | None = None,
                 leaderboards: KeptLeaderboards | bool | None = None):
        """`known`: id(object) → hex digest of the objects fingerprinted by their file; `score_rows`:
        id(score) → digest of its leaderboard row (cache.Loading.score_rows); `identities`: the
        pages' identities, when the caller kept them with the pages (a preview's plan);
        `leaderboards`: the last build's leaderboard group digests (`self.leaderboards`), when
        the caller keeps them (a preview's, _with_leaderboards; False: none yet)."""
        self.catalog = catalog
        self.model_digests = _model_digests(catalog, known)
        """Model id → (its file's digest, its derivation digest): what every read of the model
        or of its derived figures is a function of (`settled`)."""
        known_bytes = {key: bytes.fromhex(value) for key, value in known.items()}
        with_groups, self.leaderboards = _with_leaderboards(catalog, _with_parts(catalog, known_bytes),
                                                            score_rows or {}, self.model_digests, leaderboards)
        self.encoder = Fingerprinter(with_groups)
        self.loader = jinja2.FileSystemLoader(str(templates_dir))
        self.environment = jinja2.Environment(loader=self.loader)
        self.memo: dict[Dep, bytes | None] = {}
        self.fragments: dict[tuple[str, str], Any] | None = None
        """Every model's fragments (render.render_fragments), once made: a read of one is
        fingerprinted by its text (`use_fragments`)."""
        self.fragment_digests: dict[tuple[str, str], bytes] = {}
        self._settled: frozenset[str] = frozenset()
        self._then: list[tuple[Dep, bytes | None]] = []
        self._then_index: dict[Dep, int] = {}
        self.identities = identities if identities is not None else [self.identity(page) for page in pages]
        self.plan = (None if any(i is None for i in self.identities)
                     else self.encoder.digest(b"".join(self.identities)))

    def identity(self, page: Any) -> bytes | None:
        try:
            return self.encoder.digest((page.url, page.template, page.origin, page.context))
        except Unfingerprintable:
            return None

    def use_fragments(self, fragments: dict[tuple[str, str], Any], records: dict[tuple[str, str], tuple] | None = None
                      ) -> None:
        """The fragments pages read from now on. Before this, no fragment read has a fingerprint.
        `records`: render.render_fragments's, whose text digests are taken as they are (each
        record's text is its fragment's): hashing 20,000 kept texts again cost every build 0.06 s."""
        self.fragments = fragments
        self.fragment_digests = {key: record.digest for key, record in (records or {}).items()}
        for dep in [dep for dep in self.memo if dep[0] == "fragment"]:
            del self.memo[dep]

    def of(self, dep: Dep) -> bytes | None:
        """The read's fingerprint now; None when it cannot be fingerprinted."""
        if dep in self.memo:
            return self.memo[dep]
        self.memo[dep] = found = self._compute(dep)
        return found

    def use_previous(self, table: list[tuple[Dep, bytes | None]], then: dict | None,
                     index: dict[Dep, int] | None = None) -> frozenset[str]:
        """From now on, a read of a model settled since the build whose table of reads and
        model digests these are has the fingerprint that build gave it (a page rendered again
        that lists every model, like the charts, does not fingerprint 10,000 reads again).
        `index`: the table's read → position (table_index), when the caller has it. The settled
        models."""
        self._settled = self.settled(then)
        self._then = table if self._settled else []
        self._then_index = (index if index is not None else table_index(table)) if self._settled else {}
        return self._settled

    def _compute(self, dep: Dep) -> bytes | None:
        if self._settled and settled_read(dep, self._settled):
            at = self._then_index.get(dep)
            if at is not None:
                return self._then[at][1]
        kind = dep[0]
        if kind == "plan":
            return self.plan
        if kind == "fragment":  # its text: what a page that lists the model puts in
            # None (not reusable) for one not made beforehand, or of a model since removed
            key = (dep[1], dep[2])
            found = self.fragments.get(key) if self.fragments is not None else None  # type: ignore[misc]
            if found is None:
                return None
            return self.fragment_digests.get(key) or text_digest(found)
        if kind == "template":
            try:
                source = self.loader.get_source(self.environment, dep[1])[0]
            except jinja2.TemplateNotFound:
                return ABSENT
            return self.encoder.digest(source)
        try:
            value = resolve(self.catalog, dep[1])
        except KeyError:
            return ABSENT
        try:
            return self.encoder.digest(list(value) if kind == "keys" else value)
        except Unfingerprintable:
            return None

    def settled(self, then: dict | None) -> frozenset[str]:
        """The models whose file and derivation digests are what they were in the build whose
        `model_digests` were `then`. A read of such a model, or of its derived figures, has the
        fingerprint it had in that build (`settled_read`): fingerprinting 30,000 such reads again
        was a fifth of a one-model edit's comparison at 10,000 models."""
        if not then:
            return frozenset()
        return frozenset(model_id for model_id, digests in self.model_digests.items() if then.get(model_id) == digests)

    def reads(self, deps: Iterable[Dep], before: tuple[tuple[Dep, bytes], ...] = (),
              settled: frozenset[str] = frozenset()) -> tuple[tuple[Dep, bytes], ...] | None:
        """(read, fingerprint) for each read; None if any cannot be fingerprinted. `before`: the
        reads of the same thing in the build whose `settled` models are so, whose fingerprints
        its reads of those models keep (a chart made again reads 14,000 models' figures)."""
        then = dict(before) if before and settled else {}
        found = []
        for dep in deps:
            fingerprint = then.get(dep) if then and settled_read(dep, settled) else None
            if fingerprint is None:
                fingerprint = self.of(dep)
            if fingerprint is None:
                return None
            found.append((dep, fingerprint))
        return tuple(found)


def recordable_plan_key(key: tuple) -> tuple | None:
    """pages.plan_key as a build's records keep it: each planner by its module and name (the
    code fingerprint covers what they do), or None when one has no name that says which it is
    (a function made inside another, a lambda)."""
    planners, *rest = key
    names = []
    for planner in planners:
        name = getattr(planner, "__qualname__", "")
        if not name or "<" in name:
            return None
        names.append(f"{planner.__module__}.{name}")
    return (tuple(names), *rest)


def recorded_identities(previous: dict | None, pages: Sequence[Any], key: tuple | None) -> list[bytes | None] | None:
    """The pages' identities as the last build's page records hold them, when that build
    planned from the same key (recordable_plan_key: the same key, the same pages); else None.
    Every page's record carries the identity it had in the build that kept it, and a record is
    only kept for the same identity. Fingerprinting 21,665 identities again took every
    command-line build 0.26 s at 10,000 models."""
    if not previous or key is None or previous.get("plan_key") != key:
        return None
    records = previous["pages"]
    try:
        return [records[page.output_path].identity for page in pages]
    except KeyError:
        return None


def text_digest(text: str) -> bytes:
    """A digest of a text alone (20,000 fragments at 10,000 models: 0.04 s; through the encoder 0.13)."""
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def _model_digests(catalog: Any, known: dict[int, str]) -> dict[str, tuple[str, str]]:
    found = {}
    derived = catalog.derived
    for model_id, model in catalog.models.items():
        file_digest = known.get(id(model))
        figures = derived.get(model_id)
        derivation_digest = known.get(id(figures)) if figures is not None else None
        if file_digest is not None and derivation_digest is not None:
            found[model_id] = (file_digest, derivation_digest)
    return found


def model_read(dep: Dep) -> bool:
    """Whether the read is of a model or of its derived figures: what `settled_read` may settle."""
    return ((dep[0] == "value" or dep[0] == "keys") and len(dep[1]) > 1
            and (dep[1][0] == "models" or dep[1][0] == "derived"))


def settled_read(dep: Dep, settled: frozenset[str]) -> bool:
    """Whether the read is of a settled model (Fingerprints.settled) or of its derived figures:
    a model is a function of its file's bytes, its figures of their derivation digest's inputs."""
    kind = dep[0]
    if kind != "value" and kind != "keys":
        return False
    path = dep[1]
    return len(path) > 1 and (path[0] == "models" or path[0] == "derived") and path[1] in settled


def reusable_pages(pages: Sequence[Any], fingerprints: Fingerprints, previous: dict | None,
                   unchanged_file: Any, changed: set[int] | None = None) -> dict[int, PageRecord]:
    """Plan index → the previous record of each page that need not be rendered again.

    `unchanged_file(rel)` tells whether the page's file is still as the previous build wrote it;
    `changed` is changed_reads(previous["reads"], fingerprints, ...), when the caller has it."""
    if not previous:
        return {}
    records: dict[str, PageRecord] = previous["pages"]
    if changed is None:
        changed = changed_reads(previous["reads"], fingerprints, previous.get("model_digests"))
    identities = fingerprints.identities
    reused = {}
    for position, page in enumerate(pages):
        record = records.get(page.output_path)
        if (record is not None and record.reads is not None and record.identity == identities[position]
                and changed.isdisjoint(record.reads) and unchanged_file(page.output_path)):
            reused[position] = record
    return reused


def table_index(table: list[tuple[Dep, Any]]) -> dict[Dep, int]:
    """Each read of a table of reads → its position (every read is in it once)."""
    return {dep: at for at, (dep, _) in enumerate(table)}


def changed_reads(table: list[tuple[Dep, bytes]], fingerprints: Fingerprints, then: dict | None = None,
                  index: dict[Dep, int] | None = None) -> set[int]:
    """Positions in the previous build's table of the reads whose fingerprint is not the same now.
    Every read is looked at once (a page's reads are then checked with one set operation; the
    index alone has 20,000 of them). `then`: that build's Fingerprints.model_digests; the reads
    of models settled since are not fingerprinted again (every entry of the table is as of that
    build: the reads that changed in it were refreshed, RecordTable). `index`: table_index(table),
    when the caller has it."""
    of = fingerprints.of
    settled = fingerprints.use_previous(table, then, index)
    return {index for index, (dep, before) in enumerate(table)
            if not settled_read(dep, settled) and of(dep) != before}


class RecordTable:
    """The new build's records, with every distinct read stored once.

    It starts from the previous build's table, so that a reused page keeps its read positions as
    they are (re-indexing 850,000 reads cost 0.35 s of each incremental build at 10,000 models);
    the reads that changed get their new fingerprints, and reads no page refers to any more are
    dropped when they pass a fifth of the table (`as_record`)."""

    def __init__(self, previous: list[tuple[Dep, bytes]] | None = None, fingerprints: Fingerprints | None = None,
                 changed: Iterable[int] = (), index: dict[Dep, int] | None = None) -> None:
        """`index`: table_index(previous), when the caller has it (a preview keeps it with the
        table: indexing 53,000 reads twice a build took 0.03 s at 10,000 models)."""
        self.reads: list[tuple[Dep, bytes | None]] = list(previous or ())
        for at in changed:  # only reads of pages rendered again can point here: refresh them
            dep = self.reads[at][0]
            self.reads[at] = (dep, fingerprints.of(dep) if fingerprints is not None else None)
        self.index: dict[Dep, int] = dict(index) if index is not None else table_index(self.reads)
        self.pages: dict[str, PageRecord] = {}

    def add(self, rel: str, identity: bytes | None, reads: Iterable[tuple[Dep, bytes]] | None, digest: str,
            seconds: float = 0.0) -> None:
        if identity is None or reads is None:
            self.pages[rel] = PageRecord(identity or b"", None, digest, seconds)
            return
        indices = []
        for dep, now in reads:
            at = self.index.get(dep)
            if at is None:
                at = self.index[dep] = len(self.reads)
                self.reads.append((dep, now))
            elif self.reads[at][1] != now:  # the previous build's, and since changed
                self.reads[at] = (dep, now)
            indices.append(at)
        self.pages[rel] = PageRecord(identity, tuple(sorted(indices)), digest, seconds)

    def keep(self, rel: str, record: PageRecord) -> None:
        """A reused page keeps its reads: the table started from the one they index."""
        self.pages[rel] = record

    def as_record(self, model_digests: dict | None = None, with_index: bool = False) -> dict:
        """The table and the pages' records, with the model digests they are as of
        (Fingerprints.model_digests; None: not known, and no read is taken as settled), and
        `with_index`, the table's index (for records kept in memory: pickled, it would cost
        more than indexing again)."""
        used = set()
        for record in self.pages.values():
            used.update(record.reads or ())
        if len(used) * 5 >= len(self.reads) * 4:
            return {"reads": self.reads, "pages": self.pages, "model_digests": model_digests,
                    **({"index": self.index} if with_index else {})}
        order = sorted(used)
        moved = {old: new for new, old in enumerate(order)}
        pages = {rel: record if record.reads is None else
                 dataclasses.replace(record, reads=tuple(moved[i] for i in record.reads))
                 for rel, record in self.pages.items()}
        return {"reads": [self.reads[i] for i in order], "pages": pages, "model_digests": model_digests}
