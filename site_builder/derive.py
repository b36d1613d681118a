"""Figures that follow from others, computed here and never typed into the data.

Each figure carries its formula and the inputs (with the source each input came from)
so that a page can show how it was reached.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
from dataclasses import dataclass
from typing import Any, Iterable

from .catalog import Catalog
from .schema import Count, License, ModelFile, Offer, plain, source_of

# Bytes per parameter at each precision a reader plans hardware for.
PRECISIONS: tuple[tuple[str, str, float], ...] = (
    ("bf16", "bf16 / fp16", 2.0),
    ("fp8", "fp8 / int8", 1.0),
    ("int4", "int4", 0.5),
)
KV_BYTES = 2  # a bf16 / fp16 cache, the common default of serving engines


@dataclass(frozen=True)
class Input:
    """One input of a formula: its name, shown value and where it came from."""

    name: str
    shown: str
    source: str | None
    """Source id in the model's list, or None when it is itself derived or a constant."""


@dataclass(frozen=True)
class Figure:
    """A computed number with the formula that produced it."""

    key: str
    label: str
    value: float
    shown: str
    formula: str
    inputs: tuple[Input, ...]


@dataclass(frozen=True)
class Openness:
    key: str
    """open-source, source-available or proprietary."""
    label: str
    reason: str
    fully_open: bool
    """Open source, and training data and training code released too."""


@dataclass(frozen=True)
class PricedOffer:
    offer: Offer
    index: int
    blended: float
    """(3 × input + output) / 4, US dollars per million tokens."""
    stale: bool


@dataclass(frozen=True)
class Relations:
    """Links other model files make to this one, and its family siblings."""

    siblings: tuple[str, ...]
    reverse: tuple[tuple[str, tuple[str, ...]], ...]
    """(label, model ids), e.g. ("Fine-tuned into", ("x",)), from other models' lineage blocks."""


@dataclass(frozen=True)
class Derived:
    """A model's derived figures. The memory, head-dimension and KV-cache figures follow from
    the model file alone and are worked out when first read: an incremental build reads them
    for the few models whose pages it renders, and working them out for every model took
    0.47 of the 0.59 s of deriving at 10,000 models. (Each is a function of `model`, which the
    equality of two Derived compares.)"""

    openness: Openness
    cheapest: PricedOffer | None
    fastest: PricedOffer | None
    stale_offers: frozenset[int]
    """Indices of offers older than the site's stale_after_days."""
    source_numbers: dict[str, int]
    """Source id → its number in the page's source list."""
    relations: Relations
    model: ModelFile = dataclasses.field(repr=False)
    """The model file the figures below are worked out from."""

    @functools.cached_property
    def head_dim(self) -> Figure | None:
        return derived_head_dim(self.model)

    @functools.cached_property
    def memory(self) -> tuple[Figure, ...]:
        return weights_memory(self.model)

    @functools.cached_property
    def _kv_terms(self) -> tuple[int, str, list[Input]] | None:
        return _kv_terms(self.model, self.head_dim)  # both KV figures start from it: worked out once

    @functools.cached_property
    def kv_per_token(self) -> Figure | None:
        return kv_cache_per_token(self._kv_terms)

    @functools.cached_property
    def kv_full_context(self) -> Figure | None:
        return kv_cache_full_context(self.model, self._kv_terms)

    def memory_at(self, key: str) -> Figure | None:
        return next((f for f in self.memory if f.key == key), None)


REVERSE_LABELS = {
    "base_model": "Fine-tuned into",
    "predecessor": "Succeeded by (per its successor's file)",
    "successor": "Preceded by (per its predecessor's file)",
    "distilled_from": "Teacher of",
}


def derive_all(catalog: Catalog, facets: bool = True, relations: dict[str, Relations] | None = None) -> Catalog:
    """Every model's derived figures, then (unless told not to: with_facets does it later) the
    facets. When the build keeps the last build's figures (cache.Loading.derivations, a preview
    server's), a model whose derivation digest is unchanged keeps its figures. `relations`:
    all_relations(catalog), when the caller has it already."""
    from .cache import current_loading

    relations = relations if relations is not None else kept_relations(catalog)
    options = current_loading()
    kept = options.derivations if options is not None else None
    if kept is None:
        derived = {model_id: derive_model(model, catalog, relations[model_id])
                   for model_id, model in catalog.models.items()}
    else:
        digests, options.digest_inputs = _derivation_digests(  # type: ignore[union-attr]
            catalog, relations, options.known, options.digest_inputs)  # type: ignore[union-attr]
        derived = {}
        for model_id, model in catalog.models.items():
            found = kept.get(digests.get(model_id))  # type: ignore[arg-type]
            derived[model_id] = found if found is not None else derive_model(model, catalog, relations[model_id])
        options.derivations = {digests[m]: derived[m] for m in derived if m in digests}  # type: ignore[union-attr]
        options.derivation_digests = digests  # type: ignore[union-attr]
    with_derived = dataclasses.replace(catalog, derived=derived)
    return with_facets(with_derived) if facets else with_derived


def derive_some(catalog: Catalog, model_ids: Iterable[str], relations: dict[str, Relations]) -> Catalog:
    """The catalog with the derived figures of these models alone: what their own pages read
    (build.show_first), without the 0.15–0.25 s of deriving or looking up every model's at
    10,000 models. A page that reads another model's figures fails, and is not shown first."""
    derived = {model_id: derive_model(catalog.models[model_id], catalog, relations[model_id])
               for model_id in model_ids if model_id in catalog.models}
    return dataclasses.replace(catalog, derived=derived)


def with_facets(catalog: Catalog) -> Catalog:
    """The catalog with its groupings. When the build keeps the last build's (cache.Loading.
    groupings, a preview server's), they are updated by difference (facets.update_facets); or
    else, made again, a leaderboard group whose rows are the same objects is taken as it was."""
    from .cache import current_loading
    from .facets import Kept, compute_facets, keep, update_facets

    options = current_loading()
    if options is None or options.groupings is None:
        return dataclasses.replace(catalog, facets=compute_facets(catalog))
    kept: Kept | None = options.groupings or None  # False: kept from this build on, none yet
    updated = update_facets(catalog, kept) if kept else None
    if updated is None:
        made: dict = {}
        updated = compute_facets(catalog, kept.groups if kept else None, made), made
    facets, groups = updated
    options.groupings = keep(catalog, facets, groups)  # type: ignore[union-attr]
    return dataclasses.replace(catalog, facets=facets)


def derivation_digests(catalog: Catalog, relations: dict[str, Relations], known: dict[int, str]) -> dict[str, str]:
    """Model id → a digest of what derive_model computes its figures from: the model (its
    file's digest), its license, site.yaml, the build date, and its relations to other models
    (a test holds derive_model to reading no more). Models without a file digest are left out."""
    return _derivation_digests(catalog, relations, known, None)[0]


DigestInputs = tuple[str, dict, dict[str, tuple[str, bytes, str]]]
"""What a build's derivation digests were worked out from, to work out the next build's by
difference: (site.yaml and build date, the relations, model id → (file digest, license
fingerprint, digest))."""


def _derivation_digests(catalog: Catalog, relations: dict[str, Relations], known: dict[int, str],
                        kept: DigestInputs | None) -> tuple[dict[str, str], DigestInputs]:
    """derivation_digests, and their inputs. With the last build's inputs (a preview's), a model
    whose file and license digests are as they were keeps its digest while the common inputs
    and the relations are the same objects (kept_relations): 0.05 s at 10,000 models, a fifth
    of that by difference."""
    from .fingerprint import fingerprint

    common = repr((fingerprint(catalog.site), catalog.today.isoformat()))
    before = kept[2] if kept is not None and kept[0] == common and kept[1] is relations else {}
    licenses: dict[str, bytes] = {}
    digests = {}
    inputs = {}
    for model_id, model in catalog.models.items():
        file_digest = known.get(id(model))
        if file_digest is None or model_id not in relations:
            continue
        license_id = model.license_id
        license_digest = licenses.get(license_id)
        if license_digest is None:
            license_digest = licenses[license_id] = fingerprint(catalog.licenses[license_id])
        then = before.get(model_id)
        if then is not None and then[0] == file_digest and then[1] == license_digest:
            digest = then[2]
        else:
            digest = hashlib.blake2b(repr((file_digest, license_digest.hex(), common, relations[model_id])).encode(),
                                     digest_size=32).hexdigest()
        digests[model_id] = digest
        inputs[model_id] = (file_digest, license_digest, digest)
    return digests, (common, relations, inputs)


def all_relations(catalog: Catalog) -> dict[str, Relations]:
    """One pass over every model: family members and reverse lineage links."""
    families: dict[str, list[str]] = {}
    reverse: dict[str, dict[str, list[str]]] = {model_id: {} for model_id in catalog.models}
    for model_id, model in catalog.models.items():
        if model.family:
            families.setdefault(model.family, []).append(model_id)
        if model.lineage:
            for key, label in REVERSE_LABELS.items():
                target = plain(getattr(model.lineage, key))
                if target in reverse:
                    reverse[target].setdefault(label, []).append(model_id)
    result = {}
    for model_id, model in catalog.models.items():
        siblings = tuple(m for m in families.get(model.family or "", []) if m != model_id)
        lineage = model.lineage
        stated = {plain(getattr(lineage, k)) for k in REVERSE_LABELS} if lineage else set()
        back = tuple((label, tuple(sorted(set(ids) - stated))) for label, ids in sorted(reverse[model_id].items()))
        result[model_id] = Relations(siblings, tuple((label, ids) for label, ids in back if ids))
    return result


RelationInputs = tuple[tuple[str, ...], dict[str, tuple[Any, tuple]], dict[str, Relations]]
"""A build's relations kept for the next (a preview's): (the model ids in order, model id →
(the model, what all_relations read of it), the relations)."""


def relation_inputs(model: ModelFile) -> tuple:
    """What all_relations reads of a model: its family and the models its lineage names."""
    lineage = model.lineage
    return model.family, (tuple(plain(getattr(lineage, key)) for key in REVERSE_LABELS) if lineage else None)


def kept_relations(catalog: Catalog) -> dict[str, Relations]:
    """all_relations(catalog). A build that keeps the last build's (cache.Loading.relations, a
    preview's, where an unchanged model is the same object from one build to the next) takes
    them, the same object, while the ids, their order and every model's relation inputs are as
    they were: 0.08 s at 10,000 models, a few milliseconds by difference."""
    from .cache import current_loading

    options = current_loading()
    kept = options.relations if options is not None else None
    if kept is None:
        return all_relations(catalog)
    ids, before, relations = kept if kept else ((), {}, None)
    models = catalog.models
    same = relations is not None and len(ids) == len(models) and ids == tuple(models)
    now = {}
    for model_id, model in models.items():
        then = before.get(model_id)
        if then is not None and then[0] is model:
            now[model_id] = then
            continue
        now[model_id] = entry = (model, relation_inputs(model))
        same = same and then is not None and then[1] == entry[1]
    if not same or relations is None:
        relations = all_relations(catalog)
    options.relations = (tuple(models), now, relations)  # type: ignore[union-attr]
    return relations


def derive_model(model: ModelFile, catalog: Catalog, relations: Relations | None = None) -> Derived:
    license = catalog.licenses[model.license_id]
    stale_after = catalog.site.stale_after_days
    stale = frozenset(
        i for i, offer in enumerate(model.offers) if is_stale(offer.as_of, catalog.today, stale_after))
    return Derived(
        openness=openness(license, model),
        cheapest=cheapest_offer(model, stale),
        fastest=fastest_offer(model, stale),
        stale_offers=stale,
        source_numbers=source_numbers(model),
        relations=relations or Relations((), ()),
        model=model,
    )


def source_numbers(model: ModelFile) -> dict[str, int]:
    """Source id → its number in the model's list of sources (1, 2, …), as pages cite it."""
    return {source.id: i + 1 for i, source in enumerate(model.sources)}


def is_stale(as_of: Any, today: datetime.date, days: int) -> bool:
    return (today - as_of.latest()).days > days


def openness(license: License, model: ModelFile) -> Openness:
    training = model.training
    data = bool(training and plain(training.data_released))
    code = bool(training and plain(training.training_code_released))
    if license.proprietary:
        return Openness("proprietary", "Proprietary", f"{license.name} does not release the weights", False)
    if license.osi_approved:
        return Openness("open-source", "Open source", f"{license.name} is approved by the OSI",
                        data and code)
    return Openness("source-available", "Source-available",
                    f"weights are downloadable under {license.name}, a custom license the OSI has not approved",
                    False)


def _count(value: Any) -> int:
    inner = plain(value)
    return inner.exact if isinstance(inner, Count) else int(inner)


def format_bytes(n: float) -> str:
    """Decimal units, as hardware is sold: 810 GB, 202.5 GB, 516.1 KB."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= size:
            value = n / size
            text = f"{value:,.1f}".rstrip("0").rstrip(".")
            return f"{text} {unit}"
    return f"{n:,.0f} bytes"


def weights_memory(model: ModelFile) -> tuple[Figure, ...]:
    arch = model.architecture
    params = _count(arch.total_params)
    written = plain(arch.total_params).written
    source = source_of(arch.total_params, arch.source)
    figures = []
    for key, label, per in PRECISIONS:
        value = params * per
        figures.append(Figure(
            key=key, label=label, value=value, shown=format_bytes(value),
            formula=f"{params:,} parameters × {per:g} bytes",
            inputs=(Input("total parameters", written, source), Input("bytes per parameter", f"{per:g}", None)),
        ))
    return tuple(figures)


def derived_head_dim(model: ModelFile) -> Figure | None:
    arch = model.architecture
    if arch.head_dim is not None:
        return None  # stated, not derived
    if arch.hidden_size is None or arch.attention_heads is None:
        return None
    hidden, heads = plain(arch.hidden_size), plain(arch.attention_heads)
    if hidden % heads:
        return None
    return Figure("head_dim", "head dimension", hidden // heads, f"{hidden // heads:,}",
                  f"{hidden:,} hidden size ÷ {heads:,} attention heads",
                  (Input("hidden size", f"{hidden:,}", source_of(arch.hidden_size, arch.source)),
                   Input("attention heads", f"{heads:,}", source_of(arch.attention_heads, arch.source))))


def _kv_terms(model: ModelFile, head_dim: Figure | None) -> tuple[int, str, list[Input]] | None:
    """Bytes of cache per token per layer-sum, its formula, and inputs; None when unknown."""
    arch = model.architecture
    if arch.layers is None:
        return None
    layers = plain(arch.layers)
    inputs = [Input("layers", f"{layers:,}", source_of(arch.layers, arch.source))]
    attention = plain(arch.attention) if arch.attention is not None else None
    if attention == "mla":
        if arch.kv_lora_rank is None or arch.qk_rope_head_dim is None:
            return None
        rank, rope = plain(arch.kv_lora_rank), plain(arch.qk_rope_head_dim)
        inputs += [Input("kv_lora_rank", f"{rank:,}", source_of(arch.kv_lora_rank, arch.source)),
                   Input("qk_rope_head_dim", f"{rope:,}", source_of(arch.qk_rope_head_dim, arch.source)),
                   Input("bytes per value (bf16)", str(KV_BYTES), None)]
        return (layers * (rank + rope) * KV_BYTES,
                f"{layers:,} layers × ({rank:,} latent + {rope:,} rope) × {KV_BYTES} bytes", inputs)
    if arch.kv_heads is not None:
        kv = plain(arch.kv_heads)
        inputs.append(Input("key-value heads", f"{kv:,}", source_of(arch.kv_heads, arch.source)))
    elif attention == "mha" and arch.attention_heads is not None:
        kv = plain(arch.attention_heads)
        inputs.append(Input("key-value heads (= attention heads under MHA)", f"{kv:,}",
                            source_of(arch.attention_heads, arch.source)))
    elif attention == "mqa":
        kv = 1
        inputs.append(Input("key-value heads (1 under MQA)", "1", None))
    else:
        return None
    if arch.head_dim is not None:
        dim = plain(arch.head_dim)
        inputs.append(Input("head dimension", f"{dim:,}", source_of(arch.head_dim, arch.source)))
    elif head_dim is not None:
        dim = int(head_dim.value)
        inputs.append(Input("head dimension (derived)", f"{dim:,}", None))
    else:
        return None
    inputs.append(Input("bytes per value (bf16)", str(KV_BYTES), None))
    return (2 * layers * kv * dim * KV_BYTES,
            f"2 (K and V) × {layers:,} layers × {kv:,} kv heads × {dim:,} head dim × {KV_BYTES} bytes", inputs)


def kv_cache_per_token(terms: tuple[int, str, list[Input]] | None) -> Figure | None:
    """From _kv_terms(model, head_dim), which kv_cache_full_context starts from too."""
    if terms is None:
        return None
    value, formula, inputs = terms
    return Figure("kv_per_token", "KV cache per token", value, format_bytes(value), formula, tuple(inputs))


def kv_cache_full_context(model: ModelFile, terms: tuple[int, str, list[Input]] | None) -> Figure | None:
    arch = model.architecture
    if terms is None or arch.context_window is None:
        return None
    per_token, _, inputs = terms
    context = _count(arch.context_window)
    value = per_token * context
    note = ""
    if arch.sliding_window is not None or arch.attention_note is not None:
        note = " (upper bound: sliding-window layers keep fewer tokens)"
    return Figure("kv_full_context", "KV cache at full context", value, format_bytes(value),
                  f"{format_bytes(per_token)} per token × {context:,} tokens{note}",
                  (Input("KV cache per token", format_bytes(per_token), None),
                   Input("context window", f"{context:,}", source_of(arch.context_window, arch.source))))


def _priced(model: ModelFile, stale: frozenset[int]) -> list[PricedOffer]:
    """Offers with both prices; named tiers (a rate-limited free tier, say) are not headline prices."""
    return [PricedOffer(o, i, (3 * o.input_price + o.output_price) / 4, i in stale)
            for i, o in enumerate(model.offers)
            if o.input_price is not None and o.output_price is not None and o.tier is None]


def cheapest_offer(model: ModelFile, stale: frozenset[int]) -> PricedOffer | None:
    """Lowest blended price (3:1 input to output, as Artificial Analysis blends)."""
    priced = _priced(model, stale)
    return min(priced, key=lambda p: (p.blended, p.offer.provider, p.index)) if priced else None


def fastest_offer(model: ModelFile, stale: frozenset[int]) -> PricedOffer | None:
    measured = [PricedOffer(o, i, 0.0, i in stale) for i, o in enumerate(model.offers) if o.output_speed]
    return max(measured, key=lambda p: (p.offer.output_speed, p.offer.provider, -p.index)) if measured else None
