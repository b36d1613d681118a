"""The machine-readable files of the site, planned like pages but produced in Python.

Each Page here carries `produce(catalog, page, plan, brief) -> bytes` in its context; render.py
calls it instead of a template. `plan` is every page of the site, which the sitemap lists;
`brief(model_id)` is the model's summary JSON for the listings (render.py keeps it across builds).
"""

from __future__ import annotations

from typing import Sequence

from . import api, published_schema
from .catalog import Catalog
from .feed import FEED_PATH, build_feed
from .pages import Page
from .sitemap import SITEMAP_PATH, build_robots, build_sitemap

ORIGIN = "site_builder/outputs.py"


def _feed(catalog: Catalog, page: Page, plan: Sequence[Page], brief: api.Brief) -> bytes:
    return build_feed(catalog)


def _sitemap(catalog: Catalog, page: Page, plan: Sequence[Page], brief: api.Brief) -> bytes:
    return build_sitemap(catalog, plan)


def _robots(catalog: Catalog, page: Page, plan: Sequence[Page], brief: api.Brief) -> bytes:
    return build_robots(catalog)


def _models_json(catalog: Catalog, page: Page, plan: Sequence[Page], brief: api.Brief) -> bytes:
    return api.model_list_bytes(catalog, brief)


def _model_json(catalog: Catalog, page: Page, plan: Sequence[Page], brief: api.Brief) -> bytes:
    return api.to_bytes(api.model_document(catalog, page.context["model_id"]))


def _catalog_json(catalog: Catalog, page: Page, plan: Sequence[Page], brief: api.Brief) -> bytes:
    return api.catalog_bytes(catalog, brief)


def _schema(catalog: Catalog, page: Page, plan: Sequence[Page], brief: api.Brief) -> bytes:
    return published_schema.schema_files()[page.context["schema_file"]]


def plan_machine_readable(catalog: Catalog) -> list[Page]:
    """Feed, sitemap, robots.txt, the JSON API and the JSON Schema."""
    pages = [
        Page(FEED_PATH, "feed (site_builder/feed.py)", {"produce": _feed}, ORIGIN),
        Page(SITEMAP_PATH, "sitemap (site_builder/sitemap.py)", {"produce": _sitemap}, ORIGIN),
        Page("/robots.txt", "robots (site_builder/sitemap.py)", {"produce": _robots}, ORIGIN),
        Page("/api/models.json", "api (site_builder/api.py)", {"produce": _models_json}, ORIGIN),
        Page("/api/catalog.json", "api (site_builder/api.py)", {"produce": _catalog_json}, ORIGIN),
    ]
    for model_id in catalog.models:
        pages.append(Page(api.model_json_path(model_id), "api (site_builder/api.py)",
                          {"produce": _model_json, "model_id": model_id}, catalog.model_paths[model_id]))
    for name in published_schema.schema_file_names():
        pages.append(Page(f"/schema/{name}", "schema (site_builder/published_schema.py)",
                          {"produce": _schema, "schema_file": name}, ORIGIN))
    return pages
