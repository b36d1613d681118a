"""The JSON API: /api/models.json, /api/models/<id>.json and /api/catalog.json.

Listings (models.json, catalog.json) carry each model in brief, as OpenRouter's and Hugging
Face's listings do; the whole entry is one request away at its json_url. A listing of whole
entries grew to 240 MB at 10,000 models and was rewritten on every edit.

Every document is a pydantic model declared here, so the JSON Schema published for it
(site_builder/published_schema.py) and the bytes written come from the same declaration:
keys appear in the order the fields are declared, and a field changed here changes both.
"""

from __future__ import annotations

import datetime
import json
from typing import Callable, Literal

from pydantic import BaseModel, ConfigDict

from .catalog import Catalog
from .derive import Derived, Figure, PricedOffer
from .schema import (
    Benchmark, Count, Family, Format, License, ModelFile, Organization, PartialDate, Provider, SiteSettings, plain,
)
from .tracking import read_value

API_VERSION = 2
"""Raised when a field is removed or changes meaning; new fields may appear without a raise."""

# What each derived figure counts, for consumers that convert units.
FIGURE_UNITS = {"head_dim": "dimensions"}
DEFAULT_FIGURE_UNIT = "bytes"


class ApiObject(BaseModel):
    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)


class Envelope(ApiObject):
    version: Literal[2]
    """Version of the API's format: raised when a field is removed or changes meaning."""
    as_of: datetime.date
    """The build's date; prices older than the site's stale_after_days at this date are marked stale."""


class ModelLink(ApiObject):
    """Another model a model refers to (lineage, alternatives) or that refers to it."""

    name: str
    url: str
    """Its page on the site (absolute)."""
    json_url: str
    """Its entry in the API (absolute)."""


class References(ApiObject):
    """The entities a model's ids point at, keyed by id, so no second request is needed."""

    organizations: dict[str, Organization]
    """The model's organization and its family's."""
    licenses: dict[str, License]
    """The model's license (the `license` id)."""
    families: dict[str, Family]
    """The model's family, when it has one."""
    benchmarks: dict[str, Benchmark]
    """Every benchmark its scores name."""
    providers: dict[str, Provider]
    """Every provider its offers name."""
    formats: dict[str, Format]
    """Every quantization format it lists."""
    models: dict[str, ModelLink]
    """Models named in its lineage and lifecycle, its family siblings, and models whose lineage names it."""


class FigureInput(ApiObject):
    name: str
    shown: str
    """The input as shown on the page."""
    source: str | None
    """Id in the model's `sources`, or null for a constant or another derived figure."""


class ApiFigure(ApiObject):
    """A number computed from others, with its formula."""

    key: str
    """bf16, fp8, int4 (weights memory), head_dim, kv_per_token or kv_full_context."""
    label: str
    value: float
    unit: Literal["bytes", "dimensions"]
    shown: str
    """The value as the page shows it (decimal units: 810 GB)."""
    formula: str
    """The formula with the model's numbers filled in."""
    inputs: list[FigureInput]


class Openness(ApiObject):
    key: Literal["open-source", "source-available", "proprietary"]
    label: str
    reason: str
    fully_open: bool
    """Open source, and training data and training code released too."""


class CheapestOffer(ApiObject):
    """The standard offer (no named tier) with the lowest blended price."""

    offer_index: int
    """Index into the model's `offers`."""
    provider: str
    blended_price: float
    """(3 × input price + output price) ÷ 4, US dollars per million tokens."""
    stale: bool
    """Older than the site's stale_after_days at `as_of`."""


class FastestOffer(ApiObject):
    """The offer with the highest measured output speed."""

    offer_index: int
    """Index into the model's `offers`."""
    provider: str
    output_speed: float
    """Output tokens per second, as the source measured."""
    stale: bool
    """Older than the site's stale_after_days at `as_of`."""


class Relation(ApiObject):
    relation: str
    """How the other models relate to this one, e.g. 'Fine-tuned into'."""
    models: list[str]


class ApiDerived(ApiObject):
    """Figures computed from the model file (site_builder/derive.py); never typed into the data."""

    openness: Openness
    head_dim: ApiFigure | None
    """hidden_size ÷ attention_heads, only when the config does not state head_dim."""
    weights_memory: list[ApiFigure]
    """Memory of the weights at bf16, fp8 and int4: total parameters × bytes per parameter."""
    kv_cache_per_token: ApiFigure | None
    kv_cache_full_context: ApiFigure | None
    """An upper bound for sliding-window models."""
    cheapest_offer: CheapestOffer | None
    fastest_offer: FastestOffer | None
    stale_offers: list[int]
    """Indices into `offers` of prices and speeds older than the site's stale_after_days."""
    family_siblings: list[str]
    """Ids of the other models of its family."""
    referenced_by: list[Relation]
    """Models whose lineage names this one, by relation, beyond what its own lineage states."""


class ModelEntry(ApiObject):
    """One model: its file as validated, the entities it refers to, and its derived figures."""

    id: str
    """The model's id: its file name in data/models/."""
    url: str
    """Its page on the site (absolute)."""
    json_url: str
    """This entry as a document of its own (absolute)."""
    model: ModelFile
    """As validated: counts as exact integers, dates as ISO text, a value cited on its own as {value, source, note}."""
    references: References
    derived: ApiDerived


class ModelDocument(ModelEntry, Envelope):
    """/api/models/<id>.json: one model."""


class ModelSummary(ApiObject):
    """One model in brief, for listings; its whole entry is at json_url."""

    id: str
    name: str
    url: str
    """Its page on the site (absolute)."""
    json_url: str
    """Its whole entry: the model file, the entities it refers to, its derived figures (absolute)."""
    organization: str
    family: str | None
    license: str
    openness: Literal["open-source", "source-available", "proprietary"]
    """Derived from the license (site_builder/derive.py)."""
    release_date: PartialDate
    added: PartialDate
    """When the model entered the catalog."""
    architecture: Literal["dense", "moe"]
    total_params: Count
    active_params: Count | None
    """Parameters used per token, for mixture-of-experts models."""
    context_window: Count | None
    benchmarks: list[str]
    """Ids of the benchmarks it has scores on."""
    cheapest_blended_price: float | None
    """US dollars per million tokens, (3 × input + output) ÷ 4, of its cheapest standard offer."""


class ModelListDocument(Envelope):
    """/api/models.json: every model in brief, ordered by id."""

    models: list[ModelSummary]


class CatalogDocument(Envelope):
    """/api/catalog.json: every shared entity as validated, keyed by id as in data/, and every model in brief."""

    site: SiteSettings
    organizations: dict[str, Organization]
    licenses: dict[str, License]
    providers: dict[str, Provider]
    benchmarks: dict[str, Benchmark]
    formats: dict[str, Format]
    families: dict[str, Family]
    models: dict[str, ModelSummary]
    """Every model in brief, keyed by id; its whole entry is at its json_url."""


# --- building the documents ---------------------------------------------------------------

def absolute(catalog: Catalog, path: str) -> str:
    return catalog.site.base_url.rstrip("/") + path


def model_json_path(model_id: str) -> str:
    return f"/api/models/{model_id}.json"


def _figure(figure: Figure) -> ApiFigure:
    return ApiFigure(
        key=figure.key, label=figure.label, value=figure.value,
        unit=FIGURE_UNITS.get(figure.key, DEFAULT_FIGURE_UNIT), shown=figure.shown, formula=figure.formula,
        inputs=[FigureInput(name=i.name, shown=i.shown, source=i.source) for i in figure.inputs],
    )


def _maybe_figure(figure: Figure | None) -> ApiFigure | None:
    return None if figure is None else _figure(figure)


def _cheapest(priced: PricedOffer | None) -> CheapestOffer | None:
    if priced is None:
        return None
    return CheapestOffer(offer_index=priced.index, provider=priced.offer.provider,
                         # rounded to a millionth of a dollar: (3 × 0.1 + 0.3) / 4 is 0.15000000000000002
                         blended_price=round(priced.blended, 6), stale=priced.stale)


def _fastest(priced: PricedOffer | None) -> FastestOffer | None:
    if priced is None or priced.offer.output_speed is None:
        return None
    return FastestOffer(offer_index=priced.index, provider=priced.offer.provider,
                        output_speed=priced.offer.output_speed, stale=priced.stale)


def derived_figures(derived: Derived) -> ApiDerived:
    o = derived.openness
    return ApiDerived(
        openness=Openness(key=o.key, label=o.label, reason=o.reason, fully_open=o.fully_open),
        head_dim=_maybe_figure(derived.head_dim),
        weights_memory=[_figure(f) for f in derived.memory],
        kv_cache_per_token=_maybe_figure(derived.kv_per_token),
        kv_cache_full_context=_maybe_figure(derived.kv_full_context),
        cheapest_offer=_cheapest(derived.cheapest),
        fastest_offer=_fastest(derived.fastest),
        stale_offers=sorted(derived.stale_offers),
        family_siblings=list(derived.relations.siblings),
        referenced_by=[Relation(relation=label, models=list(ids)) for label, ids in derived.relations.reverse],
    )


def related_model_ids(model: ModelFile, derived: Derived) -> set[str]:
    ids = set(derived.relations.siblings)
    ids.update(i for _, group in derived.relations.reverse for i in group)
    if model.lineage:
        ids.update(plain(getattr(model.lineage, key))
                   for key in ("base_model", "predecessor", "successor", "distilled_from"))
    if model.lifecycle:
        ids.update(model.lifecycle.alternatives)
    ids.discard(None)
    return ids


def _pick(entities: dict, ids: set) -> dict:
    """The entities with the given ids, in id order (sets have no stable order)."""
    return {i: entities[i] for i in sorted(ids) if i in entities}


def references(catalog: Catalog, model_id: str) -> References:
    model, derived = catalog.models[model_id], catalog.derived[model_id]
    family = catalog.families.get(model.family) if model.family else None
    organizations = {model.organization} | ({family.organization} if family else set())
    formats = set(model.quantizations.formats) if model.quantizations else set()
    return References(
        organizations=_pick(catalog.organizations, organizations),
        licenses=_pick(catalog.licenses, {model.license_id}),
        families=_pick(catalog.families, {model.family} if model.family else set()),
        benchmarks=_pick(catalog.benchmarks, {s.benchmark for s in model.benchmarks}),
        providers=_pick(catalog.providers, {o.provider for o in model.offers}),
        formats=_pick(catalog.formats, formats),
        models={i: ModelLink(name=name, url=absolute(catalog, f"/models/{i}/"), json_url=absolute(catalog, model_json_path(i)))
                for i in sorted(related_model_ids(model, derived)) if (name := _name(catalog, i)) is not None},
    )


def model_name(catalog: Catalog, model_id: str) -> str:
    """Another model's name, for a link to it (`model_name(id)` in templates, and the related
    models here): recorded as a read of the name alone (tracking.read_value, present or absent),
    so a page or document linking to a model is not made again when the rest of that model's
    file changes. KeyError when it is not in the catalog."""
    return read_value(catalog, ("models", model_id, "name"))


def _name(catalog: Catalog, model_id: str) -> str | None:
    try:
        return model_name(catalog, model_id)
    except KeyError:
        return None


def model_entry(catalog: Catalog, model_id: str) -> ModelEntry:
    return ModelEntry(
        id=model_id,
        url=absolute(catalog, f"/models/{model_id}/"),
        json_url=absolute(catalog, model_json_path(model_id)),
        model=catalog.models[model_id],
        references=references(catalog, model_id),
        derived=derived_figures(catalog.derived[model_id]),
    )


def model_document(catalog: Catalog, model_id: str) -> ModelDocument:
    entry = model_entry(catalog, model_id)
    return ModelDocument(version=API_VERSION, as_of=catalog.today, **dict(entry))


def model_summary(catalog: Catalog, model_id: str) -> ModelSummary:
    model, derived = catalog.models[model_id], catalog.derived[model_id]
    architecture = model.architecture
    cheapest = _cheapest(derived.cheapest)
    return ModelSummary(
        id=model_id, name=model.name, url=absolute(catalog, f"/models/{model_id}/"),
        json_url=absolute(catalog, model_json_path(model_id)),
        organization=model.organization, family=model.family, license=model.license_id,
        openness=derived.openness.key, release_date=model.released, added=model.added,
        architecture=plain(architecture.type), total_params=plain(architecture.total_params),
        active_params=plain(architecture.active_params), context_window=plain(architecture.context_window),
        benchmarks=sorted({s.benchmark for s in model.benchmarks}),
        cheapest_blended_price=cheapest.blended_price if cheapest else None,
    )


def model_list_document(catalog: Catalog) -> ModelListDocument:
    """/api/models.json as one pydantic object; the site writes model_list_bytes, the same bytes."""
    return ModelListDocument(version=API_VERSION, as_of=catalog.today,
                             models=[model_summary(catalog, i) for i in catalog.models])


def catalog_document(catalog: Catalog, models: bool = True) -> CatalogDocument:
    """/api/catalog.json as one pydantic object (without its models: the part catalog_bytes
    fills in); the site writes catalog_bytes, the same bytes."""
    return CatalogDocument(
        version=API_VERSION, as_of=catalog.today, site=catalog.site,
        organizations=catalog.organizations, licenses=catalog.licenses, providers=catalog.providers,
        benchmarks=catalog.benchmarks, formats=catalog.formats, families=catalog.families,
        models={i: model_summary(catalog, i) for i in catalog.models} if models else {},
    )


Brief = Callable[[str], str]
"""model id → summary_json of that model (render.py hands out ones kept from the last build)."""


def summary_json(catalog: Catalog, model_id: str) -> str:
    """One model in brief as pydantic writes it (two-space indent), before nesting in a listing."""
    return model_summary(catalog, model_id).model_dump_json(indent=2)


def model_list_bytes(catalog: Catalog, brief: Brief) -> bytes:
    """/api/models.json, joined from each model's brief: every edit changes the listing, and
    serializing 10,000 summaries again took 0.3 s of every incremental build."""
    empty = to_bytes(ModelListDocument(version=API_VERSION, as_of=catalog.today, models=[]))
    return _filled(empty, "[]", [_nested(brief(model_id)) for model_id in catalog.models])


def catalog_bytes(catalog: Catalog, brief: Brief) -> bytes:
    """/api/catalog.json, its models joined from each model's brief (see model_list_bytes)."""
    empty = to_bytes(catalog_document(catalog, models=False))
    return _filled(empty, "{}", [f"    {json.dumps(model_id)}: " + _nested(brief(model_id)).lstrip(" ")
                                 for model_id in catalog.models])


def _nested(text: str) -> str:
    """A value written at the top level, indented as pydantic indents one two levels down."""
    return "\n".join("    " + line for line in text.split("\n"))


def _filled(empty: bytes, brackets: str, items: list[str]) -> bytes:
    """A document whose last field, `models`, was written empty, with `items` put in."""
    text = empty.decode("utf-8")
    suffix = f'"models": {brackets}\n}}\n'
    assert text.endswith(suffix), "models is the document's last field"
    if not items:
        return empty
    body = ",\n".join(items)
    return (text[:-len(suffix)] + f'"models": {brackets[0]}\n{body}\n  {brackets[1]}\n}}\n').encode("utf-8")


def to_bytes(document: BaseModel) -> bytes:
    """UTF-8 JSON, two-space indent, keys in declaration order, one trailing newline.
    pydantic's own serializer: json.dumps with an indent runs in pure Python, 20× slower."""
    return document.model_dump_json(indent=2).encode("utf-8") + b"\n"
