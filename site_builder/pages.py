"""Which pages exist: one plan of (url, template, context), no two pages at one url."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

from .catalog import Catalog
from .errors import CatalogError, CatalogInvalid


@dataclass(frozen=True)
class Page:
    url: str
    """Site path: '/models/x/' (written to models/x/index.html) or a file path like '/feed.xml'."""
    template: str
    context: dict[str, Any] = field(default_factory=dict, compare=False)
    """What the template needs beyond the catalog, which every template gets."""
    origin: str = ""
    """The data file the page comes from, for error messages."""

    @cached_property  # asked four times a page in a build, 20,000 pages: worked out once
    def output_path(self) -> str:
        return self.url.lstrip("/") + "index.html" if self.url.endswith("/") else self.url.lstrip("/")


Planner = Callable[[Catalog], list[Page]]


def plan_core(catalog: Catalog) -> list[Page]:
    pages = [
        Page("/", "index.html", {"page_kind": "index"}, "data/"),
        Page("/404.html", "404.html", {"page_kind": "404"}, "templates/404.html"),
    ]
    for model_id in catalog.models:
        pages.append(Page(f"/models/{model_id}/", "model.html", {"page_kind": "model", "model_id": model_id},
                          catalog.model_paths[model_id]))
    return pages


# (url segment, catalog attribute, singular template, index title)
FACETS = (
    ("organizations", "organizations", "organization.html", "Organizations"),
    ("licenses", "licenses", "license.html", "Licenses"),
    ("families", "families", "family.html", "Families"),
    ("providers", "providers", "provider.html", "Providers"),
    ("formats", "formats", "format.html", "Quantization formats"),
    ("benchmarks", "benchmarks", "benchmark.html", "Benchmarks"),
)


def plan_browse(catalog: Catalog) -> list[Page]:
    """Facet pages with their indexes, leaderboards, compare and charts."""
    pages = [
        Page("/compare/", "compare.html", {"page_kind": "compare"}, "templates/compare.html"),
        Page("/charts/", "charts.html", {"page_kind": "charts"}, "templates/charts.html"),
    ]
    for segment, attribute, template, title in FACETS:
        pages.append(Page(f"/{segment}/", "entities.html",
                          {"page_kind": segment, "kind": segment, "kind_title": title}, f"data/{segment}.yaml"))
        for entity_id in getattr(catalog, attribute):
            pages.append(Page(f"/{segment}/{entity_id}/", template,
                              {"page_kind": segment[:-1], "entity_id": entity_id}, f"data/{segment}.yaml"))
    return pages


def plan_machine_readable(catalog: Catalog) -> list[Page]:
    """Feed, sitemap, robots.txt, JSON API and JSON Schema (site_builder/outputs.py)."""
    from .outputs import plan_machine_readable as plan_outputs  # outputs imports Page from here

    return plan_outputs(catalog)


PLANNERS: list[Planner] = [plan_core, plan_browse, plan_machine_readable]


def plan_key(catalog: Catalog, planners: list[Planner] | None = None) -> tuple:
    """Everything `plan` reads: the planners, each model's id and file, the ids of each kind of
    shared entity. The same key, the same plan."""
    return (tuple(planners or PLANNERS), tuple(catalog.models), tuple(catalog.model_paths.items()),
            *(tuple(getattr(catalog, attribute)) for _, attribute, _, _ in FACETS))


def plan(catalog: Catalog, planners: list[Planner] | None = None) -> list[Page]:
    """Every page of the site, in a stable order; two pages at one url is an error."""
    pages: list[Page] = []
    for planner in planners or PLANNERS:
        pages.extend(planner(catalog))
    seen: dict[str, Page] = {}
    problems = []
    for page in pages:
        if page.output_path in seen:
            first = seen[page.output_path]
            problems.append(CatalogError(
                page.origin or "data/", 1, 1, "",
                f"two pages would be written to {page.url}: this one and the one from {first.origin}",
                "ids must be unique within each kind of entity"))
        seen.setdefault(page.output_path, page)
    if problems:
        raise CatalogInvalid(problems)
    return sorted(pages, key=lambda p: p.output_path)
