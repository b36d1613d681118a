"""Derived figures come out of their formulas, and change with the data."""

from __future__ import annotations

from site_builder.catalog import load_catalog

from conftest import BUILD_DATE, DATA_DATE, REPO


def test_seed_memory_matches_the_seed_pages():
    catalog = load_catalog(REPO / "data", DATA_DATE)
    derived = catalog.derived["llama-3.1-405b-instruct"]
    shown = {f.key: f.shown for f in derived.memory}
    # Seed 001 states ~810 GB (FP16), ~405 GB (FP8), ~203 GB (INT4).
    assert shown == {"bf16": "810 GB", "fp8": "405 GB", "int4": "202.5 GB"}
    assert derived.memory[0].formula == "405,000,000,000 parameters × 2 bytes"
    assert derived.openness.key == "source-available"


def test_dense_gqa_kv_cache(catalog_dir):
    d = load_catalog(catalog_dir, BUILD_DATE).derived["tiny-dense"]
    assert d.head_dim.value == 128 and d.head_dim.formula == "4,096 hidden size ÷ 32 attention heads"
    assert d.kv_per_token.value == 2 * 32 * 8 * 128 * 2
    assert d.kv_full_context.value == 2 * 32 * 8 * 128 * 2 * 131072
    assert d.openness.key == "source-available" and not d.openness.fully_open


def test_moe_mla_figures_differ(catalog_dir):
    d = load_catalog(catalog_dir, BUILD_DATE).derived["tiny-moe"]
    assert [f.shown for f in d.memory] == ["32 GB", "16 GB", "8 GB"]
    assert d.kv_per_token.value == 24 * (512 + 64) * 2
    assert "latent" in d.kv_per_token.formula
    assert d.kv_full_context.value == 24 * (512 + 64) * 2 * 32000
    assert d.openness.key == "open-source" and d.openness.fully_open


def test_cheapest_and_fastest_offer(catalog_dir):
    d = load_catalog(catalog_dir, BUILD_DATE).derived["tiny-dense"]
    assert d.cheapest.offer.provider == "fastco"
    assert d.cheapest.blended == (3 * 0.10 + 0.30) / 4
    assert d.fastest.offer.provider == "cloudco"
    assert not d.cheapest.stale


def test_kv_cache_missing_when_inputs_missing(catalog_dir):
    from conftest import edit
    edit(catalog_dir / "models/tiny-dense.yaml", "  kv_heads: 8\n", "")
    d = load_catalog(catalog_dir, BUILD_DATE).derived["tiny-dense"]
    assert d.kv_per_token is None and d.kv_full_context is None


def test_reverse_lineage_and_siblings(catalog_dir):
    d = load_catalog(catalog_dir, BUILD_DATE).derived["tiny-moe"]
    assert d.relations.siblings == ("tiny-dense",)
    assert d.relations.reverse == (("Preceded by (per its predecessor's file)", ("tiny-dense",)),)


def test_named_tier_is_listed_but_not_the_headline_price(catalog_dir):
    from conftest import edit
    edit(catalog_dir / "models/tiny-dense.yaml", "offers:\n",
         "offers:\n  - {provider: fastco, tier: free, input_price: 0, output_price: 0, as_of: 2024-07-01, source: prices}\n")
    d = load_catalog(catalog_dir, BUILD_DATE).derived["tiny-dense"]
    assert d.cheapest.offer.provider == "fastco" and d.cheapest.offer.tier is None
    assert d.cheapest.blended == (3 * 0.10 + 0.30) / 4


def test_long_form_without_source_inherits_the_block_source(catalog_dir):
    from conftest import edit
    from site_builder.schema import plain, source_of
    edit(catalog_dir / "models/tiny-dense.yaml", "  layers: 32", "  layers: {value: 32, note: from the card's table}")
    arch = load_catalog(catalog_dir, BUILD_DATE).models["tiny-dense"].architecture
    assert plain(arch.layers) == 32 and arch.layers.note == "from the card's table"
    assert source_of(arch.layers, arch.source) == "config"


def test_model_file_figures_are_worked_out_when_first_read_and_are_the_formulas():
    """derive_all leaves the memory, head-dimension and KV figures to the first read (an
    incremental build reads them for a few models); read, they are what the formulas give."""
    from site_builder import derive

    catalog = load_catalog(REPO / "data", DATA_DATE)
    fresh = derive.derive_all(catalog, facets=False)
    lazy = ("head_dim", "memory", "kv_per_token", "kv_full_context")
    for model_id, figures in fresh.derived.items():
        assert not any(name in vars(figures) for name in lazy), model_id
        model = catalog.models[model_id]
        head_dim = derive.derived_head_dim(model)
        terms = derive._kv_terms(model, head_dim)
        assert figures.head_dim == head_dim
        assert figures.memory == derive.weights_memory(model)
        assert figures.kv_per_token == derive.kv_cache_per_token(terms)
        assert figures.kv_full_context == derive.kv_cache_full_context(model, terms)
        assert all(name in vars(figures) for name in lazy)  # worked out once
    some = next(iter(fresh.derived))
    assert fresh.derived[some] == derive.derive_model(catalog.models[some], fresh, fresh.derived[some].relations)
