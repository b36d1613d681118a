"""The Atom feed (RFC 4287): a model's release, and its arrival in the catalog.

Built with ElementTree so the XML is well-formed by construction. Nothing in it depends on
the build date, so rebuilding the same catalog on another day gives the same bytes.
"""

from __future__ import annotations

import datetime
import html
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from .catalog import Catalog
from .facets import FEED_ENTRIES, Event  # noqa: F401  (the feed's length and entries are worked out with the facets)
from .render import count_short, long_date, markdown_block
from .schema import ModelFile, PartialDate, plain

ATOM = "http://www.w3.org/2005/Atom"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
FEED_PATH = "/feed.xml"


def timestamp(date: PartialDate) -> str:
    """RFC 3339 at midnight UTC; a partial date (2024-12) stands for its first day."""
    return datetime.datetime.combine(date.earliest(), datetime.time(), datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def tag_uri(catalog: Catalog, event: Event) -> str:
    """A stable id (RFC 4151): the site's host, the day the model was added, the model and the event.

    It names neither the title nor the release date, so correcting those does not make readers
    see the entry again."""
    parts = urlsplit(catalog.site.base_url)
    base = parts.path.strip("/")
    specific = "/".join(p for p in (base, "models", event.model_id, event.kind) if p)
    model = catalog.models[event.model_id]
    return f"tag:{parts.hostname},{model.added}:{specific}"


def absolute(catalog: Catalog, path: str) -> str:
    return catalog.site.base_url.rstrip("/") + path


def _title(model: ModelFile, event: Event) -> str:
    if event.kind == "added":
        return f"Added to the catalog: {model.name}"
    return f"{model.name} released"


def _facts(catalog: Catalog, model: ModelFile, event: Event) -> str:
    """One sentence: who released it and when, its size and openness."""
    organization = catalog.organizations[model.organization].name
    license_name = catalog.licenses[model.license_id].name
    openness = catalog.derived[event.model_id].openness.label.lower()
    params = count_short(model.architecture.total_params)
    kind = "mixture-of-experts" if plain(model.architecture.type) == "moe" else "dense"
    facts = (f"Released by {organization} {_on(model.released)}: {params} parameters, {kind}, "
             f"{openness} under {license_name}.")
    if event.kind == "added":
        facts = f"Added to the catalog {_on(model.added)}. " + facts
    return facts


def _on(date: PartialDate) -> str:
    """'on July 23, 2024', but 'in December 2024' for a date known only to the month or year."""
    return f"{'on' if date.precision == 'day' else 'in'} {long_date(date)}"


def _content(facts: str, model: ModelFile) -> str:
    """HTML: the facts, then the model's summary (markdown rendered inert, as on the site)."""
    return f"<p>{html.escape(facts, quote=False)}</p>\n{markdown_block(model.summary)}"


def _element(parent: ET.Element, name: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, name, attributes)
    element.text = text
    return element


def build_feed(catalog: Catalog) -> bytes:
    feed_url = absolute(catalog, FEED_PATH)
    ordered = catalog.facets.feed_events  # the newest FEED_ENTRIES (facets.newest_events)
    # Unqualified names under a literal xmlns: ElementTree then writes no ns0: prefixes.
    feed = ET.Element("feed", {"xmlns": ATOM, XML_BASE: catalog.site.base_url})
    _element(feed, "id", feed_url)
    _element(feed, "title", f"{catalog.site.title}: new models")
    _element(feed, "subtitle", catalog.site.description)
    # The newest event, not the build date: a rebuild without news changes nothing.
    newest = ordered[0].date if ordered else PartialDate(1970, 1, 1)
    _element(feed, "updated", timestamp(newest))
    _element(feed, "link", rel="self", type="application/atom+xml", href=feed_url)
    _element(feed, "link", rel="alternate", type="text/html", href=catalog.site.base_url)
    author = _element(feed, "author")
    _element(author, "name", catalog.site.title)
    _element(author, "uri", catalog.site.base_url)
    _element(feed, "generator", "site-builder")

    for event in ordered:
        model = catalog.models[event.model_id]
        entry = _element(feed, "entry")
        _element(entry, "id", tag_uri(catalog, event))
        _element(entry, "title", _title(model, event))
        _element(entry, "updated", timestamp(event.date))
        _element(entry, "published", timestamp(event.date))
        _element(entry, "link", rel="alternate", type="text/html", href=absolute(catalog, f"/models/{event.model_id}/"))
        _element(entry, "category", term=event.kind)
        _element(entry, "category", term=catalog.derived[event.model_id].openness.key)
        facts = _facts(catalog, model, event)
        _element(entry, "summary", facts, type="text")
        _element(entry, "content", _content(facts, model), type="html")
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"
