"""Each class of schema and cross-file error, located at file:line:col, with hints."""

from __future__ import annotations

from site_builder.catalog import load_catalog
from site_builder.errors import CatalogInvalid

import pytest

from conftest import BUILD_DATE, DATA_DATE, REPO, edit

MODEL = "data/models/tiny-dense.yaml"


def problems(catalog_dir):
    with pytest.raises(CatalogInvalid) as caught:
        load_catalog(catalog_dir, BUILD_DATE)
    return caught.value.problems


def only_error(catalog_dir):
    errors = [p for p in problems(catalog_dir) if p.severity == "error"]
    assert len(errors) == 1, [e.text() for e in errors]
    return errors[0]


def test_fixture_catalog_is_valid(catalog_dir):
    catalog = load_catalog(catalog_dir, BUILD_DATE)
    assert list(catalog.models) == ["tiny-dense", "tiny-moe"]


def test_unknown_field_with_did_you_mean_points_at_the_key(catalog_dir):
    edit(catalog_dir / "models/tiny-dense.yaml", "  hidden_size: 4096", "  hiden_size: 4096")
    error = only_error(catalog_dir)
    assert (error.file, error.line, error.column) == (MODEL, 21, 3)
    assert error.field == "architecture"
    assert error.message == "unknown field 'hiden_size' (did you mean 'hidden_size'?)"


def test_unknown_field_without_close_match_lists_allowed_fields(catalog_dir):
    edit(catalog_dir / "models/tiny-dense.yaml", "  post_training: [sft, dpo]", "  zzz: 1")
    error = only_error(catalog_dir)
    assert error.message == "unknown field 'zzz'"
    assert "pretraining_tokens" in error.hint


def test_literal_with_did_you_mean(catalog_dir):
    edit(catalog_dir / "models/tiny-dense.yaml", "attention: gqa", "attention: gqaa")
    error = only_error(catalog_dir)
    assert (error.line, error.column) == (18, 14)
    assert error.field == "architecture.attention"
    assert error.message == "'gqaa' is not one of mha, mqa, gqa, mla (did you mean 'gqa'?)"


def test_wrong_type_with_quote_hint(catalog_dir):
    edit(catalog_dir / "models/tiny-dense.yaml", "layers: 32", 'layers: "32"')
    error = only_error(catalog_dir)
    assert (error.line, error.column, error.field) == (20, 11, "architecture.layers")
    assert error.message == "expected a whole number, got text '32'"
    assert "quotes" in error.hint


def test_missing_required_field_points_at_parent(catalog_dir):
    edit(catalog_dir / "models/tiny-dense.yaml", "name: Tiny Dense 8B\n", "")
    error = only_error(catalog_dir)
    assert (error.line, error.column, error.field) == (1, 1, "name")
    assert error.message == "required field is missing"


def test_negative_price_and_bad_url(catalog_dir):
    path = catalog_dir / "models/tiny-dense.yaml"
    edit(path, "input_price: 0.20", "input_price: -1")
    edit(path, '"https://acme.test/tiny"', '"javascript:alert(1)"')
    errors = sorted((p.line, p.column, p.field, p.message) for p in problems(catalog_dir) if p.severity == "error")
    assert errors[0][:3] == (33, 38, "offers[0].input_price")
    assert "out of range" in errors[0][3]
    assert errors[1][:3] == (39, 45, "sources[0].url")
    assert errors[1][3] == "'javascript:alert(1)' is not an https url"


def test_bad_count_and_date(catalog_dir):
    path = catalog_dir / "models/tiny-dense.yaml"
    edit(path, "total_params: 8B", "total_params: 8 billion")
    edit(path, "release_date: 2024-07-23", "release_date: 2024-02-30")
    messages = {p.field: p.message for p in problems(catalog_dir)}
    assert "is not a count" in messages["architecture.total_params"]
    assert messages["release_date"] == "'2024-02-30' is not a real calendar date"


def test_invalid_id_in_shared_file_points_at_key(catalog_dir):
    edit(catalog_dir / "providers.yaml", "fastco:", "Fast Co:")
    errors = [p for p in problems(catalog_dir) if p.file == "data/providers.yaml"]
    first = errors[0]
    assert (first.file, first.line, first.column) == ("data/providers.yaml", 4, 1)
    assert "is not a valid id" in first.message


def test_unknown_reference_with_did_you_mean(catalog_dir):
    edit(catalog_dir / "models/tiny-dense.yaml", "provider: cloudco", "provider: clodco")
    error = only_error(catalog_dir)
    assert (error.line, error.column, error.field) == (33, 16, "offers[0].provider")
    assert error.message == "unknown provider 'clodco' (did you mean 'cloudco'?)"


def test_score_outside_benchmark_range(catalog_dir):
    edit(catalog_dir / "models/tiny-dense.yaml", "score: 66.7", "score: 667")
    error = only_error(catalog_dir)
    assert error.field == "benchmarks[0].score"
    assert "outside MMLU's range 0–100" in error.message


def test_cited_source_must_be_listed_and_listed_source_cited(catalog_dir):
    path = catalog_dir / "models/tiny-dense.yaml"
    edit(path, "date: 2024-07-23, source: card}", "date: 2024-07-23, source: crad}")
    error = only_error(catalog_dir)
    assert error.field == "benchmarks[0].source"
    assert "does not list (did you mean 'card'?)" in error.message


def test_unused_source_is_a_warning(catalog_dir):
    edit(catalog_dir / "models/tiny-moe.yaml", "  - {id: config,", "  - {id: spare, title: x, url: \"https://x.test\", publisher: x, date: 2024-01-01}\n  - {id: config,")
    catalog = load_catalog(catalog_dir, BUILD_DATE)
    warnings = [w for w in catalog.warnings if "never cited" in w.message]
    assert [w.field for w in warnings] == ["sources[1].id"]


def test_future_date_is_an_error(catalog_dir):
    edit(catalog_dir / "models/tiny-dense.yaml", "release_date: 2024-07-23", "release_date: 2031-01-01")
    error = only_error(catalog_dir)
    assert error.field == "release_date"
    assert "in the future (the build date is 2024-10-01)" in error.message


def test_model_file_name_must_be_an_id(catalog_dir):
    (catalog_dir / "models/tiny-dense.yaml").rename(catalog_dir / "models/Tiny Dense.yaml")
    texts = [p.message for p in problems(catalog_dir)]
    assert "file name 'Tiny Dense' is not a valid model id" in texts


def test_moe_needs_experts(catalog_dir):
    edit(catalog_dir / "models/tiny-moe.yaml", "  experts_active: 6\n", "")
    error = only_error(catalog_dir)
    assert error.field == "architecture"
    assert "experts_total and experts_active" in error.message


def test_all_errors_of_all_files_in_one_run_sorted(catalog_dir):
    edit(catalog_dir / "models/tiny-dense.yaml", "attention: gqa", "attention: gqaa")
    edit(catalog_dir / "models/tiny-moe.yaml", "license: apache-2.0", "license: apache")
    edit(catalog_dir / "formats.yaml", "  bits: 2–8", "  bits: 2–8\n  colour: blue")
    found = [p for p in problems(catalog_dir) if p.severity == "error"]
    assert [(p.file, p.line) for p in found] == [
        ("data/formats.yaml", 5), ("data/models/tiny-dense.yaml", 18), ("data/models/tiny-moe.yaml", 4)]


def test_only_offers_with_figures_can_be_stale(catalog_dir):
    path = catalog_dir / "models/tiny-dense.yaml"
    edit(path, "offers:\n", "offers:\n  - {provider: fastco, as_of: 2020-01-01, source: prices, note: listed without a price}\n")
    edit(path, "as_of: 2024-07-01, source: prices}\n  - {provider: fastco, input_price",
         "as_of: 2020-01-01, source: prices}\n  - {provider: fastco, input_price")
    catalog = load_catalog(catalog_dir, BUILD_DATE)
    stale = [w.field for w in catalog.warnings if "stale after" in w.message]
    assert stale == ["offers[1].as_of"]


def test_model_files_keep_their_entity_not_their_parsed_values(catalog_dir):
    """At 10,000 models the parsed values held ~270 MB until the build ended; problems found
    later are located by reading the file again (test_unknown_reference_… above)."""
    from site_builder.validate import validate_catalog

    validated = validate_catalog(catalog_dir)
    documents = [doc for path, doc in validated.documents.items() if "/models/" in path]
    assert documents and all(doc.data is None for doc in documents)
    assert validated.models


def test_the_checks_see_every_date_and_citation_that_walk_finds():
    """checks.dates_and_citations is walk() less the texts no check reads, in walk's order."""
    from site_builder.checks import dates_and_citations, walk
    from site_builder.schema import PartialDate

    def is_citation(path: tuple) -> bool:
        return bool(path) and (path[-1] in ("source", "followed")
                               or (len(path) > 1 and path[-2] == "sources" and path[0] != "sources"))

    catalog = load_catalog(REPO / "data", DATA_DATE)
    citations = 0
    for model in catalog.models.values():
        expected = [(path, value) for path, value in walk(model)
                    if isinstance(value, PartialDate) or (isinstance(value, str) and is_citation(path))]
        assert dates_and_citations(model) == expected
        citations += sum(isinstance(value, str) for _, value in expected)
    assert citations > 1000
