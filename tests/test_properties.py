"""Property-based: for arbitrary YAML and arbitrary mutations of real model files, validation never
raises an uncaught exception, and every problem it reports carries a file and a line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from site_builder.catalog import load_catalog
from site_builder.errors import CatalogInvalid
from site_builder.loader import LoadError, load_bytes

from conftest import BUILD_DATE, FIXTURE, REPO

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=False),
                    st.text(max_size=30), st.dates().map(str))
documents = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=5)), max_leaves=25)


def assert_located(problems) -> None:
    assert problems
    for problem in problems:
        assert problem.file and problem.line >= 1 and problem.column >= 1, problem


@SETTINGS
@given(raw=st.binary(max_size=300))
def test_loader_never_crashes_on_bytes(raw):
    try:
        load_bytes(raw, "data/x.yaml")
    except LoadError as exc:
        assert exc.error.line >= 1 and exc.error.column >= 1


@SETTINGS
@given(text=st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!'\"#\t\n |>,?%@`")), max_size=80))
def test_loader_never_crashes_on_yaml_punctuation(text):
    try:
        load_bytes(text.encode(), "data/x.yaml")
    except LoadError as exc:
        assert exc.error.line >= 1


def check_file(tmp_path: Path, name: str, content: bytes) -> None:
    data = tmp_path / "data"
    if data.exists():
        shutil.rmtree(data)
    shutil.copytree(FIXTURE, data)
    (data / "models" / name).write_bytes(content)
    try:
        load_catalog(data, BUILD_DATE)
    except CatalogInvalid as exc:
        assert_located(exc.problems)


@SETTINGS
@given(document=documents)
def test_arbitrary_documents_as_model_files(tmp_path_factory, document):
    tmp = tmp_path_factory.mktemp("prop")
    check_file(tmp, "arbitrary.yaml", yaml.safe_dump(document).encode())


REAL = (REPO / "data/models/llama-3.1-405b-instruct.yaml").read_text().splitlines(keepends=True)


@SETTINGS
@given(index=st.integers(0, len(REAL) - 1), action=st.sampled_from(["delete", "duplicate", "indent", "dedent", "garble"]),
       junk=st.text(max_size=12))
def test_mutated_real_model_file(tmp_path_factory, index, action, junk):
    lines = list(REAL)
    line = lines[index]
    if action == "delete":
        del lines[index]
    elif action == "duplicate":
        lines.insert(index, line)
    elif action == "indent":
        lines[index] = "  " + line
    elif action == "dedent":
        lines[index] = line[2:] if line.startswith("  ") else line
    else:
        cut = len(line) // 2
        lines[index] = line[:cut] + junk + line[cut:]
    text = "".join(lines)
    tmp = tmp_path_factory.mktemp("mut")
    data = tmp / "data"
    shutil.copytree(REPO / "data", data)
    (data / "models/llama-3.1-405b-instruct.yaml").write_text(text)
    try:
        load_catalog(data, BUILD_DATE.replace(year=2026, month=11, day=22))
    except CatalogInvalid as exc:
        assert_located(exc.problems)


def both_builders(text: str):
    """What the general builder and the no-anchor fast path make of one text: a value, or the
    (line, column, message) of the error each raised."""
    from site_builder.loader import _Builder, _Loader

    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()
    if root is None:
        return None
    results = []
    for fast in (False, True):
        builder = _Builder("data/x.yaml", record_marks=False, anchors=False)
        try:
            results.append(("value", builder.build_plain(root) if fast else builder.build(root, ())))
        except LoadError as exc:
            results.append(("error", exc.error.line, exc.error.column, exc.error.message))
    return results


TRICKY = [
    "a: 1\nb: [x, 2, 3.5, true, null, ~, 2024-07-23, 0x1F, 1e3, yes, off, .inf]\n",
    "!!str [a, b]\n", "a: !!str 12\nb: !!int '7'\n", "a: !!int x\n", "a: !!float nope\n",
    "1: one\n2: two\n1.5: x\ntrue: t\nnull: n\n2024-01-01: d\n", "a: 1\nb:\n  c: 1\n  c: 2\n",
    "true: 1\nTrue: 2\n", "1: a\n0x1: b\n", "[a]: 1\n", "{a: 1}: 2\n", "<<: {a: 1}\n", "a: !custom 1\n",
    "? |\n  block key\n: v\n", "a: |\n  keep\n  lines\nb: >\n  folded\n  text\n",
]


@pytest.mark.parametrize("text", TRICKY)
def test_fast_builder_agrees_with_the_general_one(text):
    results = both_builders(text)
    assert results is not None and results[0] == results[1]


def test_fast_builder_agrees_on_every_catalog_file():
    files = sorted((REPO / "data").rglob("*.yaml")) + sorted(FIXTURE.rglob("*.yaml"))
    assert len(files) > 30
    for path in files:
        results = both_builders(path.read_text())
        assert results is not None and results[0] == results[1], path


@SETTINGS
@given(document=documents)
def test_fast_builder_agrees_on_arbitrary_documents(document):
    results = both_builders(yaml.safe_dump(document))
    if results is not None:
        assert results[0] == results[1]


@SETTINGS
@given(text=st.text(alphabet=st.sampled_from(list("ab1:-[]{}*!'\"#\n |>,?~")), max_size=60))
def test_fast_builder_agrees_on_yaml_punctuation(text):
    results = both_builders(text)
    if results is not None:
        assert results[0] == results[1]


# Plain prose skips markdown-it (render.is_plain_prose); its output must be markdown-it's.
PROSE_ALPHABET = list("ab Z09\n.,;:'\"?%$@^{}()/-+=\u00e9\u2014\u00a0\u00d7") + ["1.", "1)", "- ", "  ", "\n\n", "_", "*", "&", "<", "\t"]


def markdown_it_rendering(text: str) -> tuple[str, str]:
    from site_builder.render import _markdown

    return _markdown().render(text), _markdown().renderInline(text)


@settings(max_examples=400, deadline=None)
@given(text=st.lists(st.sampled_from(PROSE_ALPHABET), max_size=40).map("".join))
def test_plain_prose_renders_as_markdown_it_does(text):
    from site_builder.render import markdown_block, markdown_inline

    from site_builder.jsonld import _markdown_words, markdown_text

    if text:
        assert (str(markdown_block(text)), str(markdown_inline(text))) == markdown_it_rendering(text)
        assert markdown_text(text) == _markdown_words(text)


def test_plain_prose_of_the_catalog_renders_as_markdown_it_does():
    from site_builder.render import _PLAIN_LINE, is_plain_prose, markdown_block, markdown_inline

    texts = set()
    for path in (REPO / "data/models").glob("*.yaml"):
        model = yaml.safe_load(path.read_text())
        texts.update(filter(None, [model.get("summary"), (model.get("why_people_cared") or {}).get("text"),
                                   (model.get("lineage") or {}).get("notes"),
                                   (model.get("inference_settings") or {}).get("advice")]))
        texts.update(item["text"] for key in ("use_cases", "innovations", "limitations") for item in model.get(key) or [])
    plain = [t for t in texts if is_plain_prose(t) or _PLAIN_LINE.match(t)]
    assert len(plain) > len(texts) / 2  # the fast path is the common one
    from site_builder.jsonld import _markdown_words, markdown_text

    for text in texts:
        assert (str(markdown_block(text)), str(markdown_inline(text))) == markdown_it_rendering(text), text
        assert markdown_text(text) == _markdown_words(text), text


# Templates escape each `{{ value }}` to text (render.escape_text) instead of a Markup object.
@settings(max_examples=300, deadline=None)
@given(value=st.one_of(st.text(), st.integers(), st.floats(allow_nan=False), st.none(), st.booleans()))
def test_escape_text_escapes_as_markupsafe_does(value):
    from markupsafe import Markup, escape

    from site_builder.render import escape_text

    assert escape_text(value) == str(escape(value))
    if isinstance(value, str):
        assert escape_text(Markup(value)) == value  # already safe: left as it is


def test_templates_escape_values_once_and_keep_markup_safe(tmp_path):
    """Output, `set` blocks, macros and filters in the environment pages render in: every
    value escaped exactly once, Markup left alone, and an undefined name still an error."""
    import jinja2
    from markupsafe import Markup

    from site_builder.render import make_environment

    (tmp_path / "t.html").write_text(
        "{% macro m(x) %}<i>{{ x }}</i>{% endmacro %}{% set b %}<b>{{ v }}</b>{% endset %}"
        "{{ v }}|{{ safe }}|{{ m(v) }}|{{ b }}|{{ m(v) | upper }}|{{ v ~ safe }}|{% filter lower %}{{ v }}{% endfilter %}")
    catalog = load_catalog(FIXTURE, BUILD_DATE)
    env = make_environment(catalog, tmp_path)
    out = env.get_template("t.html").render(v="<A&'\">", safe=Markup("<em>ok</em>"))
    e = "&lt;A&amp;&#39;&#34;&gt;"
    assert out.split("|") == [e, "<em>ok</em>", f"<i>{e}</i>", f"<b>{e}</b>", f"<I>{e.upper()}</I>",
                              f"{e}<em>ok</em>", e.lower()]
    (tmp_path / "u.html").write_text("{{ nowhere }}")
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("u.html").render()
    # the point of it: output calls escape_text, not markupsafe.escape and its Markup wrapper
    compiled = env.compile((tmp_path / "t.html").read_text(), raw=True)
    assert "environment.escape_text(" in compiled and "yield escape(" not in compiled


# The loader's composer resolves tags through a memo and skips path-resolver bookkeeping
# (loader._Loader); every node must get the tag PyYAML's own safe loader gives it.
SCALARS = ["yes", "No", "on", "OFF", "true", "1", "-1", "+1", "0x1F", "0o17", "017", "1_000", "1:30", "1.5", "1.",
           ".5", "1e3", "1.0e+3", "3.8e25", ".inf", "-.Inf", ".NaN", "~", "null", "", "2024", "2024-07", "2024-07-23",
           "2024-07-23T10:00:00Z", "<<", "=", "a b", "é"]


def _tags(loader_class, text: str) -> list:
    loader = loader_class(text)
    try:
        stack, tags = [loader.get_single_node()], []
        while stack:
            node = stack.pop()
            tags.append((type(node).__name__, node.tag, node.value if isinstance(node, yaml.ScalarNode) else None))
            if isinstance(node, yaml.SequenceNode):
                stack.extend(node.value)
            elif isinstance(node, yaml.MappingNode):
                stack.extend(item for pair in node.value for item in pair)
        return tags
    finally:
        loader.dispose()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(SCALARS), st.sampled_from(['{}', '"{}"', "'{}'", "[{}]", "{{k: {}}}"])),
                min_size=1, max_size=12))
def test_the_loader_tags_nodes_as_pyyaml_does(items):
    from site_builder.loader import _Loader

    text = "".join(f"k{i}: {form.format(value)}\n" for i, (value, form) in enumerate(items))
    assert _tags(_Loader, text) == _tags(yaml.CSafeLoader, text)


def test_the_loader_tags_the_catalog_as_pyyaml_does():
    from site_builder.loader import _Loader

    for path in sorted((REPO / "data").rglob("*.yaml")):
        text = path.read_text()
        assert _tags(_Loader, text) == _tags(yaml.CSafeLoader, text), path
