"""Validation across files, and the resolved Catalog the rest of the pipeline reads."""

from __future__ import annotations

import datetime
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .cache import current_loading
from .errors import CatalogError, CatalogInvalid, suggestion
from .schema import (
    plain,
    Benchmark, Family, Format, License, ModelFile, Organization, PartialDate, Provider,
    SiteSettings,
)
from .validate import Validated, field_path, validate_catalog


@dataclass(frozen=True)
class Catalog:
    """Every entity, references checked; what pages are planned from."""

    site: SiteSettings
    organizations: dict[str, Organization]
    licenses: dict[str, License]
    providers: dict[str, Provider]
    benchmarks: dict[str, Benchmark]
    formats: dict[str, Format]
    families: dict[str, Family]
    models: dict[str, ModelFile]
    """id → model, ordered by id."""
    model_paths: dict[str, str]
    """id → the file it came from, as shown to editors."""
    today: datetime.date
    """The build date: SOURCE_DATE_EPOCH when set, so builds stay reproducible."""
    derived: dict[str, Any] = field(default_factory=dict)
    """id → derive.Derived, the computed figures of each model."""
    facets: Any = None
    """facets.Facets: models grouped by organization, license, family, provider, format; leaderboards."""
    warnings: tuple[CatalogError, ...] = ()


def build_date() -> datetime.date:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).date()
    return datetime.datetime.now(datetime.timezone.utc).date()


def load_catalog(data_dir: Path, today: datetime.date | None = None) -> Catalog:
    """load → validate → resolve. Raises CatalogInvalid with every problem found."""
    from .derive import derive_all

    validated = validate_catalog(data_dir)
    today = today or build_date()
    problems = list(validated.problems) + cross_file_problems(validated, today)
    if any(p.severity == "error" for p in problems) or validated.site is None:
        raise CatalogInvalid(problems)
    shared = validated.shared
    catalog = Catalog(
        site=validated.site,
        organizations=shared["organizations.yaml"],
        licenses=shared["licenses.yaml"],
        providers=shared["providers.yaml"],
        benchmarks=shared["benchmarks.yaml"],
        formats=shared["formats.yaml"],
        families=shared["families.yaml"],
        models=dict(sorted(validated.models.items())),
        model_paths=validated.model_paths,
        today=today,
        warnings=tuple(sorted(problems)),
    )
    return derive_all(catalog)


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


def cross_file_problems(v: Validated, today: datetime.date) -> list[CatalogError]:
    """Problems that need more than one file: references, dates after the build date, citations,
    stale prices. A model's own checks are taken from the last build's when its file and
    everything they read elsewhere (`checks_context`) are unchanged (cache.Loading.checks)."""
    problems: list[CatalogError] = []
    shared = v.shared
    ids = {name: set(v.known_ids.get(name, ())) for name in shared}
    model_ids = set(v.known_ids.get("models", ()))

    def at(shown: str, path: tuple, message: str, hint: str = "", severity="error", key=False) -> None:
        document = v.documents[shown]
        line, column = document.mark(path, key=key)
        problems.append(CatalogError(shown, line, column, field_path(path), message, hint, severity))

    def reference(shown: str, path: tuple, value: Any, file: str, what: str) -> None:
        value = plain(value)
        if value is not None and value not in ids[file]:
            at(shown, path, f"unknown {what} '{value}'{suggestion(value, ids[file])}",
               f"add it to {file} or fix the id")

    def model_reference(shown: str, path: tuple, value: Any, model_id: str) -> None:
        value = plain(value)
        if value is None:
            return
        if value == model_id:
            at(shown, path, "a model cannot refer to itself")
        elif value not in model_ids:
            at(shown, path, f"unknown model '{value}'{suggestion(value, model_ids)}",
               "use the id of a model in data/models/")

    def future(shown: str, path: tuple, value: Any) -> None:
        if isinstance(value, PartialDate) and value.earliest() > today:
            at(shown, path, f"{value} is in the future (the build date is {today.isoformat()})",
               "dates record what has happened; check the year")

    for file, entities in shared.items():
        shown = v.shared_paths[file]
        for entity_id, entity in entities.items():
            for path, value in walk(entity, (entity_id,)):
                future(shown, path, value)
            if isinstance(entity, Family):
                reference(shown, (entity_id, "organization"), entity.organization,
                          "organizations.yaml", "organization")

    stale_after = v.site.stale_after_days if v.site else 180
    lowered: dict[str, str] = {}
    for model_id in v.models:
        if model_id.lower() in lowered:
            at(v.model_paths[model_id], (),
               f"model id '{model_id}' differs only in case from '{lowered[model_id.lower()]}'")
        lowered[model_id.lower()] = model_id

    def check_model(model_id: str, model: ModelFile, shown: str) -> None:
        reference(shown, ("organization",), model.organization, "organizations.yaml", "organization")
        reference(shown, ("license",), model.license, "licenses.yaml", "license")
        reference(shown, ("family",), model.family, "families.yaml", "family")
        for i, score in enumerate(model.benchmarks):
            reference(shown, ("benchmarks", i, "benchmark"), score.benchmark, "benchmarks.yaml", "benchmark")
            bench = shared["benchmarks.yaml"].get(score.benchmark)
            if bench is not None and not bench.min <= score.score <= bench.max:
                at(shown, ("benchmarks", i, "score"),
                   f"{score.score:g} is outside {bench.name}'s range {bench.min:g}–{bench.max:g}",
                   "scores are written in the benchmark's unit, e.g. 88.6 for 88.6%")
        seen_scores: dict[tuple, int] = {}
        for i, score in enumerate(model.benchmarks):
            key = (score.benchmark, score.setting, score.source)
            if key in seen_scores:
                at(shown, ("benchmarks", i), f"the same benchmark, setting and source as benchmarks[{seen_scores[key]}]",
                   "keep one score per benchmark, setting and source")
            seen_scores.setdefault(key, i)
        for i, offer in enumerate(model.offers):
            reference(shown, ("offers", i, "provider"), offer.provider, "providers.yaml", "provider")
            age = (today - offer.as_of.latest()).days
            has_figures = (offer.input_price, offer.output_price, offer.output_speed) != (None, None, None)
            if has_figures and age > stale_after:
                at(shown, ("offers", i, "as_of"),
                   f"price/speed as of {offer.as_of} is {age} days old (stale after {stale_after})",
                   "re-check the source and update the figures and as_of", severity="warning")
        if model.quantizations:
            for i, fmt in enumerate(model.quantizations.formats):
                reference(shown, ("quantizations", "formats", i), fmt, "formats.yaml", "format")
        if model.lineage:
            for name in ("base_model", "predecessor", "successor", "distilled_from"):
                model_reference(shown, ("lineage", name), getattr(model.lineage, name), model_id)
        if model.lifecycle:
            for i, other in enumerate(model.lifecycle.alternatives):
                model_reference(shown, ("lifecycle", "alternatives", i), other, model_id)

        listed: dict[str, int] = {}
        for i, source in enumerate(model.sources):
            if source.id in listed:
                at(shown, ("sources", i, "id"), f"source id '{source.id}' is listed twice")
            listed.setdefault(source.id, i)
        cited: set[str] = set()
        for path, value in walk(model):
            future(shown, path, value)
            is_citation = path and (path[-1] in ("source", "followed")
                                    or (len(path) > 1 and path[-2] == "sources" and path[0] != "sources"))
            if is_citation and isinstance(value, str):
                cited.add(value)
                if value not in listed:
                    at(shown, path, f"cites source '{value}', which this model does not list"
                       f"{suggestion(value, listed)}", "add it to the model's sources: list")
        for source_id, i in listed.items():
            if source_id not in cited:
                at(shown, ("sources", i, "id"), f"source '{source_id}' is listed but never cited",
                   "cite it where it is used, or remove it", severity="warning")

    options = current_loading()
    context = checks_context(v, today, stale_after) if options is not None else ""
    before = options.checks if options is not None and options.checks else {}
    previous = before.get("models", {}) if before.get("context") == context else {}
    done: dict[str, tuple[str, tuple[CatalogError, ...]]] = {}
    for model_id, model in v.models.items():
        shown = v.model_paths[model_id]
        digest = options.known.get(id(model)) if options is not None else None
        kept = previous.get(shown)
        if digest is not None and kept is not None and kept[0] == digest:
            problems.extend(kept[1])
            done[shown] = kept
            continue
        first = len(problems)
        check_model(model_id, model, shown)
        if digest is not None:
            done[shown] = (digest, tuple(problems[first:]))
    if options is not None:
        options.checks = {"context": context, "models": done}
    return problems


def checks_context(v: Validated, today: datetime.date, stale_after: int) -> str:
    """A digest of everything a model's cross-file checks read besides its own file: the ids
    written in every file, the benchmarks' names and ranges, the build date and stale_after_days."""
    ranges = sorted((key, bench.name, bench.min, bench.max) for key, bench in v.shared["benchmarks.yaml"].items())
    ids = sorted((name, sorted(found)) for name, found in v.known_ids.items())
    text = repr((ids, ranges, today.isoformat(), stale_after))
    return hashlib.blake2b(text.encode(), digest_size=20).hexdigest()
