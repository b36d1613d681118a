"""Validation across files, and the resolved Catalog the rest of the pipeline reads."""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cache import current_loading
from .checks import check_context, future, locate, model_problems, reference, walk
from .errors import CatalogError, CatalogInvalid
from .schema import (
    Benchmark, Family, Format, License, ModelFile, Organization, Provider, SiteSettings,
)
from .validate import Validated, validate_catalog


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


def load_catalog(data_dir: Path, today: datetime.date | None = None, facets: bool = True,
                 derive: bool = True) -> Catalog:
    """load → validate → resolve. Raises CatalogInvalid with every problem found. Without
    `facets` the catalog has no groupings yet (derive.with_facets adds them); without `derive`,
    no derived figures either (derive.derive_all adds both)."""
    from .derive import derive_all

    today = today or build_date()
    validated = validate_catalog(data_dir, today)
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
    return derive_all(catalog, facets) if derive else catalog


def cross_file_problems(v: Validated, today: datetime.date) -> list[CatalogError]:
    """Problems that need more than one file. A model's own (checks.model_problems) come from
    its validation when it was parsed in this build, else from the last build's when its file
    and the check context are unchanged (cache.Loading.checks), else are checked here."""
    problems: list[CatalogError] = []
    context = v.check_context or check_context(v.site, v.shared, v.known_ids, today)
    ids = context.ids

    for file, entities in v.shared.items():
        if not entities:  # also a file that did not load, which has no document
            continue
        report = locate(v.shared_paths[file], v.documents[v.shared_paths[file]], problems)
        for entity_id, entity in entities.items():
            for path, value in walk(entity, (entity_id,)):
                future(report, today, path, value)
            if isinstance(entity, Family):
                reference(report, ids, (entity_id, "organization"), entity.organization,
                          "organizations.yaml", "organization")

    lowered: dict[str, str] = {}
    for model_id in v.models:
        if model_id.lower() in lowered:
            shown = v.model_paths[model_id]
            locate(shown, v.documents[shown], problems)(
                (), f"model id '{model_id}' differs only in case from '{lowered[model_id.lower()]}'")
        lowered[model_id.lower()] = model_id

    options = current_loading()
    before = options.checks if options is not None and options.checks else {}
    previous = before.get("models", {}) if before.get("context") == context.key else {}
    checked = v.model_checks if v.check_context is not None and v.check_context.today == today else {}
    done: dict[str, tuple[str, tuple[CatalogError, ...]]] = {}
    for model_id, model in v.models.items():
        shown = v.model_paths[model_id]
        digest = options.known.get(id(model)) if options is not None else None
        found = checked.get(shown)
        if found is None:
            kept = previous.get(shown)
            if digest is not None and kept is not None and kept[0] == digest:
                found = kept[1]
            else:
                fresh: list[CatalogError] = []
                model_problems(model_id, model, locate(shown, v.documents[shown], fresh), context)
                found = tuple(fresh)
        problems.extend(found)
        if digest is not None:
            done[shown] = (digest, found)
    if options is not None:
        options.checks = {"context": context.key, "models": done}
    return problems
