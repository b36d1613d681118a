"""The cross-file checks of one model file: references to other files, citations, dates after the
build date, stale prices.

They read the model and a CheckContext (the ids written in every file, the benchmarks' ranges,
the build date), which is known before any model file is parsed, so a validation worker runs
them right after the schema, while the file's document and its marks are at hand. A build with
the cache keeps each model's result by its file digest and the context's key, so an edit checks
the edited model only (catalog.cross_file_problems).
"""

from __future__ import annotations

import datetime
import functools
import hashlib
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from pydantic import BaseModel

from .errors import CatalogError, suggestion
from .schema import ModelFile, PartialDate, plain

Report = Callable[..., None]
"""report(path, message, hint="", severity="error", key=False): one problem at path in a file."""


@dataclass(frozen=True)
class CheckContext:
    """Everything a model's cross-file checks read besides the model itself."""

    ids: Mapping[str, frozenset[str]]
    """Shared file name → every id written in it, valid or not (a reference to an entity with
    an error of its own is not reported twice); "models" → every model file's id."""
    ranges: Mapping[str, tuple[str, float, float]]
    """Benchmark id → (name, min, max)."""
    today: datetime.date
    stale_after: int

    @functools.cached_property
    def key(self) -> str:
        ids = sorted((name, sorted(found)) for name, found in self.ids.items())
        text = repr((ids, sorted(self.ranges.items()), self.today.isoformat(), self.stale_after))
        return hashlib.blake2b(text.encode(), digest_size=20).hexdigest()


def check_context(site: Any, shared: Mapping[str, Mapping[str, Any]], ids: Mapping[str, frozenset[str]],
                  today: datetime.date) -> CheckContext:
    ranges = {key: (bench.name, bench.min, bench.max) for key, bench in shared.get("benchmarks.yaml", {}).items()}
    return CheckContext(ids, ranges, today, site.stale_after_days if site is not None else 180)


def walk(value: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    """Every text and date inside a validated entity, with its document path: what the
    cross-file checks look at (dates in the future, citations). One list, not a generator
    per node: at 10,000 models this walk was a fifth of the build's resolve time."""
    found: list[tuple[tuple, Any]] = []
    _collect(value, path, found)
    return found


_LEAVES = (str, PartialDate)


def _collect(value: Any, path: tuple, found: list) -> None:
    if isinstance(value, _LEAVES):
        found.append((path, value))
    elif isinstance(value, BaseModel):
        # a validated model's __dict__ holds exactly its fields, in declaration order
        for name, item in value.__dict__.items():
            if isinstance(item, _LEAVES):
                found.append((path + (name,), item))
            elif item is not None and not isinstance(item, (int, float)):
                _collect(item, path + (name,), found)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _collect(item, path + (index,), found)


_CITING = ("source", "followed")


def dates_and_citations(value: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    """What `walk` finds that the model checks look at, in the same order: every date, and every
    text that names a source (a `source` or `followed` field, or an entry of a `sources` list
    other than the model's own list of sources). The other texts are passed over without making
    their paths: a quarter of the checks' instructions (callgrind, 1.01 → 0.76 M a model)."""
    found: list[tuple[tuple, Any]] = []
    _dates_and_citations(value, path, found)
    return found


def _dates_and_citations(value: Any, path: tuple, found: list) -> None:
    cites = len(path) > 0 and path[-1] == "sources" and path[0] != "sources"  # texts here name sources
    if isinstance(value, BaseModel):
        for name, item in value.__dict__.items():
            if isinstance(item, str):
                if cites or name in _CITING:
                    found.append((path + (name,), item))
            elif isinstance(item, PartialDate):
                found.append((path + (name,), item))
            elif item is not None and not isinstance(item, (int, float)):
                _dates_and_citations(item, path + (name,), found)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            if isinstance(item, str):
                if cites:
                    found.append((path + (index,), item))
            elif isinstance(item, PartialDate):
                found.append((path + (index,), item))
            else:
                _dates_and_citations(item, path + (index,), found)


def reference(report: Report, ids: Mapping[str, frozenset[str]], path: tuple, value: Any, file: str,
              what: str) -> None:
    value = plain(value)
    if value is not None and value not in ids.get(file, ()):
        report(path, f"unknown {what} '{value}'{suggestion(value, ids.get(file, frozenset()))}",
               f"add it to {file} or fix the id")


def future(report: Report, today: datetime.date, path: tuple, value: Any) -> None:
    if isinstance(value, PartialDate) and value.earliest() > today:
        report(path, f"{value} is in the future (the build date is {today.isoformat()})",
               "dates record what has happened; check the year")


def locate(shown: str, document: Any, into: list[CatalogError]) -> Report:
    """A report function that appends a located CatalogError of the file to `into`."""
    from .validate import field_path

    def report(path: tuple, message: str, hint: str = "", severity: str = "error", key: bool = False) -> None:
        line, column = document.mark(path, key=key)
        into.append(CatalogError(shown, line, column, field_path(path), message, hint, severity))

    return report


def model_problems(model_id: str, model: ModelFile, report: Report, context: CheckContext) -> None:
    """Report every cross-file problem of one model file."""
    ids, today = context.ids, context.today
    model_ids = ids.get("models", frozenset())
    reference(report, ids, ("organization",), model.organization, "organizations.yaml", "organization")
    reference(report, ids, ("license",), model.license, "licenses.yaml", "license")
    reference(report, ids, ("family",), model.family, "families.yaml", "family")
    for i, score in enumerate(model.benchmarks):
        reference(report, ids, ("benchmarks", i, "benchmark"), score.benchmark, "benchmarks.yaml", "benchmark")
        bench = context.ranges.get(score.benchmark)
        if bench is not None and not bench[1] <= score.score <= bench[2]:
            report(("benchmarks", i, "score"),
                   f"{score.score:g} is outside {bench[0]}'s range {bench[1]:g}–{bench[2]:g}",
                   "scores are written in the benchmark's unit, e.g. 88.6 for 88.6%")
    seen_scores: dict[tuple, int] = {}
    for i, score in enumerate(model.benchmarks):
        key = (score.benchmark, score.setting, score.source)
        if key in seen_scores:
            report(("benchmarks", i), f"the same benchmark, setting and source as benchmarks[{seen_scores[key]}]",
                   "keep one score per benchmark, setting and source")
        seen_scores.setdefault(key, i)
    for i, offer in enumerate(model.offers):
        reference(report, ids, ("offers", i, "provider"), offer.provider, "providers.yaml", "provider")
        age = (today - offer.as_of.latest()).days
        has_figures = (offer.input_price, offer.output_price, offer.output_speed) != (None, None, None)
        if has_figures and age > context.stale_after:
            report(("offers", i, "as_of"),
                   f"price/speed as of {offer.as_of} is {age} days old (stale after {context.stale_after})",
                   "re-check the source and update the figures and as_of", severity="warning")
    if model.quantizations:
        for i, fmt in enumerate(model.quantizations.formats):
            reference(report, ids, ("quantizations", "formats", i), fmt, "formats.yaml", "format")

    def model_reference(path: tuple, value: Any) -> None:
        value = plain(value)
        if value is None:
            return
        if value == model_id:
            report(path, "a model cannot refer to itself")
        elif value not in model_ids:
            report(path, f"unknown model '{value}'{suggestion(value, model_ids)}",
                   "use the id of a model in data/models/")

    if model.lineage:
        for name in ("base_model", "predecessor", "successor", "distilled_from"):
            model_reference(("lineage", name), getattr(model.lineage, name))
    if model.lifecycle:
        for i, other in enumerate(model.lifecycle.alternatives):
            model_reference(("lifecycle", "alternatives", i), other)

    listed: dict[str, int] = {}
    for i, source in enumerate(model.sources):
        if source.id in listed:
            report(("sources", i, "id"), f"source id '{source.id}' is listed twice")
        listed.setdefault(source.id, i)
    cited: set[str] = set()
    for path, value in dates_and_citations(model):
        future(report, today, path, value)
        if isinstance(value, str):
            cited.add(value)
            if value not in listed:
                report(path, f"cites source '{value}', which this model does not list"
                       f"{suggestion(value, listed)}", "add it to the model's sources: list")
    for source_id, i in listed.items():
        if source_id not in cited:
            report(("sources", i, "id"), f"source '{source_id}' is listed but never cited",
                   "cite it where it is used, or remove it", severity="warning")
