"""Every loader rejection, with its exact line and column."""

from __future__ import annotations

import pytest

from site_builder.loader import MAX_FILE_BYTES, LoadError, load_bytes


def error_of(raw: bytes):
    with pytest.raises(LoadError) as caught:
        load_bytes(raw, "data/x.yaml")
    return caught.value.error


def test_values_keep_their_marks():
    doc = load_bytes(b"a: 1\nb:\n  - c: x\n    d: 2024-07-23\n", "data/x.yaml")
    assert doc.data == {"a": 1, "b": [{"c": "x", "d": "2024-07-23"}]}
    assert doc.mark(("b", 0, "d")) == (4, 8)
    assert doc.mark(("b", 0, "d"), key=True) == (4, 5)
    assert doc.mark(("b", 0, "missing")) == (3, 5)  # falls back to the enclosing mapping


def test_duplicate_keys_rejected_at_any_depth():
    top = error_of(b"a: 1\na: 2\n")
    assert (top.line, top.column) == (2, 1)
    assert "duplicate key 'a' (first written on line 1)" in top.message
    deep = error_of(b"a:\n  b:\n    - c: 1\n      c: 2\n")
    assert (deep.line, deep.column) == (4, 7)


def test_unsafe_tags_rejected():
    error = error_of(b"name: !!python/object/apply:os.system ['true']\n")
    assert (error.line, error.column) == (1, 7)
    assert "python/object/apply:os.system" in error.message


def test_custom_and_merge_tags_rejected():
    assert "not allowed" in error_of(b"a: !secret x\n").message
    assert "merge keys" in error_of(b"base: &b {x: 1}\nother:\n  <<: *b\n").message


def test_alias_bomb_rejected():
    rows = [b"a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for name, prev in zip("bcdefg", "abcdef"):
        rows.append(f"{name}: &{name} [".encode() + b", ".join([f"*{prev}".encode()] * 9) + b"]")
    error = error_of(b"\n".join(rows) + b"\n")
    assert "alias expansions" in error.message


def test_recursive_alias_rejected():
    error = error_of(b"a: &a\n  b: *a\n")
    assert "contains it" in error.message


def test_oversized_file_rejected():
    error = error_of(b"a: '" + b"x" * MAX_FILE_BYTES + b"'\n")
    assert (error.line, error.column) == (1, 1)
    assert "1 MiB" in error.message


def test_non_utf8_rejected_with_position():
    error = error_of(b"a: 1\nname: caf\xe9\n")
    assert (error.line, error.column) == (2, 10)
    assert "0xe9 is not valid UTF-8" in error.message


def test_byte_order_mark_rejected():
    error = error_of(b"\xef\xbb\xbfa: 1\n")
    assert "byte-order mark" in error.message


@pytest.mark.parametrize("raw, kind", [(b"", "empty"), (b"# only a comment\n", "empty"),
                                       (b"- a\n- b\n", "a list"), (b"just text\n", "a single value")])
def test_document_must_be_a_mapping(raw, kind):
    assert kind in error_of(raw).message


def test_syntax_error_position_and_tab_hint():
    error = error_of(b"a:\n\tb: 1\n")
    assert (error.line, error.column) == (2, 1)
    assert "tabs" in error.hint
    unclosed = error_of(b"a: [1, 2\nb: 3\n")
    assert unclosed.line == 2 and "YAML syntax error" in unclosed.message


def test_several_documents_rejected():
    assert "another document" in error_of(b"a: 1\n---\nb: 2\n").message


def test_model_files_are_shown_as_display_path_shows_them(catalog_dir, monkeypatch):
    """catalog_files lists the folder once and resolves it once; each path must still read as
    display_path shows it: relative to the working directory, a symlink at its target."""
    from pathlib import Path

    from site_builder.loader import display_path
    from site_builder.validate import catalog_files

    models = catalog_dir / "models"
    outside = catalog_dir.parent / "elsewhere"
    outside.mkdir()
    (outside / "linked.yaml").write_text("x: 1\n")
    (models / "linked.yaml").symlink_to(outside / "linked.yaml")
    for cwd in (catalog_dir.parent, models, catalog_dir.parent.parent):
        monkeypatch.chdir(cwd)
        shown = {path: shown for _, path, shown in catalog_files(catalog_dir)[2]}
        assert shown, "the fixture has model files"
        assert shown == {path: display_path(Path(path)) for path in shown}
    monkeypatch.chdir(catalog_dir.parent)
    listed = {path: shown for _, path, shown in catalog_files(catalog_dir)[2]}
    assert listed[str(models / "linked.yaml")] == "elsewhere/linked.yaml"
