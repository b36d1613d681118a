"""Groupings the browsing pages need, computed in one pass over the catalog.

Leaderboards rank scores only within one (benchmark, setting) group: a 0-shot and a 5-shot
score, or CoT and non-CoT, are never ranked against each other.
"""

from __future__ import annotations

import hashlib
import heapq
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from .catalog import Catalog
from .schema import Offer, PartialDate, Score


@dataclass(frozen=True)
class Entry:
    """One score on a leaderboard."""

    model_id: str
    score: Score
    rank: int


@dataclass(frozen=True)
class LeaderboardGroup:
    setting: str
    """The setting as the sources wrote it (the group's label)."""
    entries: tuple[Entry, ...]


def row_values(catalog: Catalog, entry: Entry) -> tuple:
    """Everything a leaderboard row shows of its entry: its rank, then `score_row`.
    render.leaderboard_rows formats exactly these, and an incremental build fingerprints a
    leaderboard by them (reuse._with_leaderboards): its page is rendered again when what its
    rows show changes, not whenever a model on it is edited."""
    model_id = entry.model_id
    return (entry.rank,) + score_row(model_id, catalog.models[model_id], entry.score,
                                     catalog.derived[model_id].source_numbers)


def score_row(model_id: str, model: Any, score: Score, numbers: dict[str, int]) -> tuple:
    """What a leaderboard row shows of one score, all of it from the model's own file: model
    id and name, score, setting, date, note, the number of its source in the model's list
    (`numbers`, derive.source_numbers) and that source's publisher."""
    number = numbers.get(score.source)  # None only in a catalog the checks reject
    return (model_id, model.name, score.score, score.setting, str(score.date), score.note, number,
            model.sources[number - 1].publisher if number else None)


def score_row_digest(model_id: str, model: Any, score: Score, numbers: dict[str, int]) -> bytes:
    """A digest of score_row (repr of str, int, float and None says what they hold and nothing else)."""
    return hashlib.blake2b(repr(score_row(model_id, model, score, numbers)).encode(), digest_size=16).digest()


def score_row_digests(model_id: str, model: Any) -> tuple[bytes, ...]:
    """score_row_digest of each of the model's scores, in order: worked out once per model file
    where it is validated and kept with it in the cache (cache.ModelStore), so that
    fingerprinting every leaderboard by what its rows show costs a lookup per entry (working
    out 85,000 rows at 10,000 models took 0.7–1.0 s of every incremental build)."""
    from .derive import source_numbers

    numbers = source_numbers(model)
    return tuple(score_row_digest(model_id, model, score, numbers) for score in model.benchmarks)


FEED_ENTRIES = 100
"""The feed holds the newest events only, as feeds do: readers poll the file, and a catalog of
10,000 models made it 20,000 entries long (5 s to build, 20 MB to download on every poll)."""


@dataclass(frozen=True)
class Event:
    """Something a reader of the feed wants to hear of."""

    model_id: str
    kind: str
    """'released' or 'added'."""
    date: PartialDate


def newest_events(catalog: Catalog, count: int) -> tuple[Event, ...]:
    """The feed's entries: two events per model, newest first (on one day a model's arrival
    in the catalog comes above its release), the first `count` of them. The feed reads these
    and their models only, so an edit to a model outside them leaves it as it was; the ordering
    itself reads every model's dates, here, where no page is tracked."""
    # Keys alone, and the newest `count` of them picked without sorting the rest: every key is
    # distinct (one event of each kind per model), so the order is the full sort's.
    keys = []
    for model_id, model in catalog.models.items():
        keys.append((-model.released.earliest().toordinal(), 1, model_id))
        keys.append((-model.added.earliest().toordinal(), 0, model_id))
    models = catalog.models
    return tuple(Event(model_id, "added", models[model_id].added) if rank == 0
                 else Event(model_id, "released", models[model_id].released)
                 for _, rank, model_id in heapq.nsmallest(count, keys))


@dataclass(frozen=True)
class ProviderRow:
    model_id: str
    offer: Offer
    stale: bool


@dataclass(frozen=True)
class Facets:
    by_organization: dict[str, tuple[str, ...]]
    by_license: dict[str, tuple[str, ...]]
    by_family: dict[str, tuple[str, ...]]
    """Family id → model ids in release order (a timeline)."""
    by_format: dict[str, tuple[str, ...]]
    by_provider: dict[str, tuple[ProviderRow, ...]]
    leaderboards: dict[str, tuple[LeaderboardGroup, ...]]
    """Benchmark id → groups of comparable scores, the largest group first."""
    newest_first: tuple[str, ...]
    feed_events: tuple[Event, ...]
    """The feed's entries (newest_events)."""
    score_counts: dict[str, int]
    """Benchmark id → how many scores it has: what the benchmarks index reads, so that page
    does not depend on (and an incremental build does not fingerprint) every leaderboard."""


def _same_rows(before: list[tuple], now: list[tuple]) -> bool:
    """The same (model id, score, model) rows, the objects themselves, in the same order."""
    return len(before) == len(now) and all(
        a[0] == b[0] and a[1] is b[1] and a[2] is b[2] for a, b in zip(before, now))


def _ranked(label: str, rows: list[tuple], higher_is_better: bool) -> LeaderboardGroup:
    """A leaderboard group of (model id, score, model) rows: best first, then by model name and
    the score's date; ties share a rank."""
    sign = -1 if higher_is_better else 1
    ordered = sorted(rows, key=lambda r: (sign * r[1].score, r[2].name, r[1].date.sort_key()))
    entries, rank, previous = [], 0, None
    for position, (model_id, score, _) in enumerate(ordered, start=1):
        if score.score != previous:
            rank, previous = position, score.score  # ties share a rank
        entries.append(Entry(model_id, score, rank))
    return LeaderboardGroup(label, tuple(entries))


def setting_key(setting: str) -> str:
    """Settings that differ only in case, spacing or punctuation are the same setting."""
    return re.sub(r"[^a-z0-9@+]+", " ", setting.lower()).strip()


def compute_facets(catalog: Catalog, kept: dict | None = None, made: dict | None = None) -> Facets:
    """The groupings. `kept`: the last build's leaderboard groups, as `made` (given a dict) is
    filled with this build's: (benchmark id, setting key) → (the benchmark's direction, the
    rows, the group). A group whose direction is the same and whose rows (model id, score,
    model) are the same objects as then is taken as it was: entities are frozen, and the rows
    hold them, so no id is reused. (The shared files are parsed on every build: a benchmark is
    a new object each time, and its direction is all of it a group depends on.)
    Sorting and ranking 85,000 scores was most of this function's time at 10,000 models; a
    preview server keeps its entities between builds, and an edit changes a few groups."""
    organizations: dict[str, list[str]] = {k: [] for k in catalog.organizations}
    licenses: dict[str, list[str]] = {k: [] for k in catalog.licenses}
    families: dict[str, list[str]] = {k: [] for k in catalog.families}
    formats: dict[str, list[str]] = {k: [] for k in catalog.formats}
    providers: dict[str, list[ProviderRow]] = {k: [] for k in catalog.providers}
    scores: dict[str, dict[str, list[tuple[str, Score]]]] = {k: {} for k in catalog.benchmarks}
    labels: dict[tuple[str, str], str] = {}
    keys: dict[str, str] = {}  # setting → setting_key: a few dozen settings, 85,000 scores at 10,000 models

    for model_id, model in catalog.models.items():
        organizations[model.organization].append(model_id)
        licenses[model.license_id].append(model_id)
        if model.family:
            families[model.family].append(model_id)
        if model.quantizations:
            for fmt in model.quantizations.formats:
                formats[fmt].append(model_id)
        stale = catalog.derived[model_id].stale_offers
        for index, offer in enumerate(model.offers):
            providers[offer.provider].append(ProviderRow(model_id, offer, index in stale))
        for score in model.benchmarks:
            key = keys.get(score.setting)
            if key is None:
                key = keys[score.setting] = setting_key(score.setting)
            labels.setdefault((score.benchmark, key), score.setting)
            scores[score.benchmark].setdefault(key, []).append((model_id, score, model))

    # Sort keys as plain tuples, made once per model: comparing PartialDates through their
    # methods, and looking names up inside sort keys, was half of this function's 0.5 s at
    # 10,000 models (the order is the same: a PartialDate orders as its (year, month, day)).
    names = {model_id: model.name for model_id, model in catalog.models.items()}
    released = {model_id: model.released.sort_key() for model_id, model in catalog.models.items()}

    def by_release(ids: list[str]) -> tuple[str, ...]:
        return tuple(sorted(ids, key=lambda m: (released[m], names[m])))

    leaderboards = {}
    for bench_id, groups in scores.items():
        bench = catalog.benchmarks[bench_id]
        built = []
        for key, rows in groups.items():
            before = kept.get((bench_id, key)) if kept else None
            if before is not None and before[0] == bench.higher_is_better and _same_rows(before[1], rows):
                group = before[2]
            else:
                group = _ranked(labels[(bench_id, key)], rows, bench.higher_is_better)
            if made is not None:
                made[(bench_id, key)] = (bench.higher_is_better, rows, group)
            built.append(group)
        built.sort(key=lambda g: (-len(g.entries), g.setting))
        leaderboards[bench_id] = tuple(built)

    newest = tuple(sorted(catalog.models, key=lambda m: (released[m], m), reverse=True))
    return Facets(
        by_organization={k: tuple(v) for k, v in organizations.items()},
        by_license={k: tuple(v) for k, v in licenses.items()},
        by_family={k: by_release(v) for k, v in families.items()},
        by_format={k: tuple(v) for k, v in formats.items()},
        by_provider={k: tuple(sorted(v, key=lambda r: (r.model_id, str(r.offer.as_of)))) for k, v in providers.items()},
        leaderboards=leaderboards,
        newest_first=newest,
        feed_events=newest_events(catalog, FEED_ENTRIES),
        score_counts={k: sum(len(group.entries) for group in groups) for k, groups in leaderboards.items()},
    )


# --- a preview's groupings, updated by difference --------------------------------------------

MOST_CHANGED = 64
"""More edited models than this and the groupings are made from nothing (it is then as quick)."""


@dataclass(frozen=True)
class Kept:
    """A build's groupings with what they were made from, which a preview server keeps for its
    next build (update_facets): its entities are the same objects from one build to the next
    unless their file changed."""

    facets: Facets
    groups: dict
    """(benchmark id, setting key) → (the benchmark's direction, the rows, the group): compute_facets' `made`."""
    models: dict[str, Any]
    derived: dict[str, Any]
    shared: tuple
    """shared_signature of the catalog: what the groupings read of the shared files."""


def shared_signature(catalog: Catalog) -> tuple:
    """What compute_facets reads of the shared files: the ids of each kind, in order, and each
    benchmark's direction (the shared files are parsed on every build: their objects are new)."""
    return (tuple(catalog.organizations), tuple(catalog.licenses), tuple(catalog.families), tuple(catalog.formats),
            tuple(catalog.providers), tuple((key, bench.higher_is_better) for key, bench in catalog.benchmarks.items()))


def keep(catalog: Catalog, facets: Facets, groups: dict) -> Kept:
    return Kept(facets, groups, catalog.models, catalog.derived, shared_signature(catalog))


def update_facets(catalog: Catalog, kept: Kept) -> tuple[Facets, dict] | None:
    """compute_facets(catalog) and its groups, by difference from the last build's (kept): only
    the groupings an edited model was or is in are made again. None when the catalog's models
    are not the same ids in the same order, the shared files changed what the groupings read,
    or more than MOST_CHANGED models changed: compute_facets then. (Making every grouping again
    took a preview 0.4–0.5 s of each rebuild at 10,000 models; the tests hold the two equal.)"""
    models, derived = catalog.models, catalog.derived
    before_models, before_derived = kept.models, kept.derived
    if len(models) != len(before_models) or list(models) != list(before_models):
        return None
    if shared_signature(catalog) != kept.shared:
        return None
    changed = [m for m, model in models.items()
               if model is not before_models[m] or derived.get(m) is not before_derived.get(m)]
    if len(changed) > MOST_CHANGED:
        return None
    before = kept.facets
    if not changed:
        return before, kept.groups
    edited = frozenset(changed)
    order = {m: i for i, m in enumerate(models)}

    def regrouped(previous: dict[str, tuple[str, ...]], keys_of: Callable[[Any], Iterable[str]],
                  sort_key: Callable[[str], Any] = order.__getitem__) -> dict[str, tuple[str, ...]]:
        touched = {key for m in changed for model in (before_models[m], models[m]) for key in keys_of(model)}
        if not touched:
            return previous
        result = dict(previous)
        for key in touched:
            members = [m for m in previous[key] if m not in edited]
            members += [m for m in changed for found in keys_of(models[m]) if found == key]  # a format listed twice, twice
            result[key] = tuple(sorted(members, key=sort_key))
        return result

    def release_order(m: str) -> tuple:  # by_release's key; ties keep the catalog's order
        return (models[m].released.sort_key(), models[m].name, order[m])

    by_provider = dict(before.by_provider)
    for provider in {offer.provider for m in changed for model in (before_models[m], models[m]) for offer in model.offers}:
        rows = [row for row in before.by_provider[provider] if row.model_id not in edited]
        for m in changed:
            stale = derived[m].stale_offers
            rows += [ProviderRow(m, offer, index in stale) for index, offer in enumerate(models[m].offers)
                     if offer.provider == provider]
        by_provider[provider] = tuple(sorted(rows, key=lambda r: (r.model_id, str(r.offer.as_of))))

    groups = dict(kept.groups)
    touched_groups = {(score.benchmark, setting_key(score.setting))
                      for m in changed for model in (before_models[m], models[m]) for score in model.benchmarks}
    for bench_id, key in touched_groups:
        previous = groups.pop((bench_id, key), None)
        rows = [row for row in previous[1] if row[0] not in edited] if previous else []
        rows += [(m, score, models[m]) for m in changed for score in models[m].benchmarks
                 if score.benchmark == bench_id and setting_key(score.setting) == key]
        rows.sort(key=lambda row: order[row[0]])  # stable: a model's scores keep their order
        if rows:
            direction = catalog.benchmarks[bench_id].higher_is_better
            groups[(bench_id, key)] = (direction, rows, _ranked(rows[0][1].setting, rows, direction))
    leaderboards = dict(before.leaderboards)
    for bench_id in {bench_id for bench_id, _ in touched_groups}:
        built = [made[2] for (bench, _), made in groups.items() if bench == bench_id]
        built.sort(key=lambda g: (-len(g.entries), g.setting))
        leaderboards[bench_id] = tuple(built)

    dates_kept = all(before_models[m].released == models[m].released and before_models[m].added == models[m].added
                     for m in changed)
    if dates_kept:
        newest = before.newest_first
        events = tuple(Event(e.model_id, e.kind, models[e.model_id].released if e.kind == "released"
                             else models[e.model_id].added) if e.model_id in edited else e
                       for e in before.feed_events)
    else:
        newest = tuple(sorted(models, key=lambda m: (models[m].released.sort_key(), m), reverse=True))
        events = newest_events(catalog, FEED_ENTRIES)
    return Facets(
        by_organization=regrouped(before.by_organization, lambda model: (model.organization,)),
        by_license=regrouped(before.by_license, lambda model: (model.license_id,)),
        by_family=regrouped(before.by_family, lambda model: (model.family,) if model.family else (), release_order),
        by_format=regrouped(before.by_format,
                            lambda model: model.quantizations.formats if model.quantizations else ()),
        by_provider=by_provider,
        leaderboards=leaderboards,
        newest_first=newest,
        feed_events=events,
        score_counts={k: sum(len(group.entries) for group in groups_) for k, groups_ in leaderboards.items()},
    ), groups
