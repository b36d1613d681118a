"""Documents → typed entities. Every schema error becomes a CatalogError with its line.

Pydantic reports where a value failed as a path through the *types* (with union tags
and dict-key markers); we walk the same types to turn that into a path through the
*document*, look up the mark the loader kept for it, and phrase the message for editors.
"""

from __future__ import annotations

import os
import types
import typing
import dataclasses
import datetime
from dataclasses import dataclass, field as dataclass_field
from pathlib import Path
from typing import Any, Iterable

from pydantic import BaseModel, TypeAdapter, ValidationError

from . import parallel
from .cache import current_loading, digest_bytes, register_entity_pickling
from .checks import CheckContext, check_context, locate, model_problems
from .errors import CatalogError, suggestion
from .loader import Document, LoadError, display_path, load_bytes, load_file
from .schema import SHARED_FILES, SLUG_PATTERN, ModelFile, SiteSettings, Slug, Strict, share_repeats

import re
import time

_SLUG = re.compile(SLUG_PATTERN)


@dataclass(frozen=True)
class Validated:
    """Typed entities of every file that passed the schema, plus the documents for marks."""

    site: SiteSettings | None
    shared: dict[str, dict[str, Strict]]
    """file name → id → entity."""
    models: dict[str, ModelFile]
    documents: dict[str, Document]
    """display path → document, for locating cross-file errors."""
    model_paths: dict[str, str]
    """model id → display path of its file."""
    shared_paths: dict[str, str]
    """shared file name → display path."""
    problems: tuple[CatalogError, ...]
    known_ids: dict[str, frozenset[str]]
    """Every id written in each shared file and in models/ ("models"), valid or not, so that
    a reference to an entity with an error of its own is not reported a second time."""
    check_context: CheckContext | None = None
    """What the model files' cross-file checks were run against, when they ran while validating
    (validate_catalog was given the build date)."""
    model_checks: dict[str, tuple[CatalogError, ...]] = dataclass_field(default_factory=dict)
    """Display path → the cross-file problems of each model file parsed in this build."""


def catalog_files(data_dir: Path) -> tuple[Path, list[Path], list[tuple[str, str, str]]]:
    """site.yaml, the shared files, and the model files as (name, path, display path), in a
    stable order. The folder is listed once with scandir and resolved once: a stat and a resolve
    per file cost an incremental build 0.2 s at 10,000 models. A model file's path is a string,
    joined by hand: making 10,000 Path objects and asking each its name cost another 0.04 s."""
    models_dir = data_dir / "models"
    try:
        with os.scandir(models_dir) as entries:
            found = sorted((entry.name, entry.is_symlink()) for entry in entries if entry.is_file())
    except (FileNotFoundError, NotADirectoryError):
        found = []
    shown_dir = display_path(models_dir)
    inside = os.path.join(str(models_dir), "")
    models = []
    for name, link in found:
        path = inside + name
        # a symlinked file is shown where it leads, like display_path does
        models.append((name, path, display_path(Path(path)) if link
                       else name if shown_dir == "." else f"{shown_dir}/{name}"))
    return data_dir / "site.yaml", [data_dir / name for name in SHARED_FILES], models


def validate_catalog(data_dir: Path, today: datetime.date | None = None) -> Validated:
    """Load and validate every file; collect every problem rather than stopping at one. Given
    the build date, each model file parsed also gets its cross-file checks (checks.py) where it
    is validated, with its document at hand."""
    started = time.perf_counter()
    problems: list[CatalogError] = []
    documents: dict[str, Document] = {}
    site_path, shared_paths, model_paths = catalog_files(data_dir)

    def read(path: Path) -> Document | None:
        if not path.is_file():
            problems.append(CatalogError(display_path(path), 1, 1, "", "file is missing",
                                         f"create {path.name}; see README.md for its shape"))
            return None
        try:
            document = load_file(path)
        except LoadError as exc:
            problems.append(exc.error)
            return None
        documents[document.path] = document
        return document

    site = None
    if (doc := read(site_path)) is not None:
        site = _validate(doc, TypeAdapter(SiteSettings), SiteSettings, problems)

    shared: dict[str, dict[str, Strict]] = {}
    shown_shared: dict[str, str] = {}
    known: dict[str, frozenset[str]] = {}
    options = current_loading()
    # A preview keeps each shared file's result while its digest stays (families.yaml alone took
    # 0.035 s to load and validate at 10,000 models)
    kept = options.shared_files if options is not None else None
    now: dict = {}
    for path in shared_paths:
        shown_shared[path.name] = display_path(path)
        entity = SHARED_FILES[path.name]
        digest = options.digests.get(str(path)) if kept is not None else None  # type: ignore[union-attr]
        before = kept.get(str(path)) if kept is not None and digest else None
        if before is not None and before[0] == digest:
            _, doc, shared[path.name], known[path.name] = now[str(path)] = before
            documents[doc.path] = doc
            continue
        if (doc := read(path)) is None:
            shared[path.name] = {}
            known[path.name] = frozenset()
            continue
        found: list[CatalogError] = []
        shared[path.name] = _validate_entities(doc, entity, found)
        problems.extend(found)
        known[path.name] = frozenset(str(key) for key in doc.data)
        if kept is not None and digest and not found:  # one with problems is loaded again, to report them
            now[str(path)] = (digest, doc, shared[path.name], known[path.name])
    if kept is not None:
        options.shared_files = now  # type: ignore[union-attr]

    pending: list[tuple[str, str, str]] = []
    model_ids = []
    for name, path, shown in model_paths:
        if name.startswith("."):
            continue
        model_id, suffix = os.path.splitext(name)
        if suffix != ".yaml":
            hint = f"rename it to {model_id}.yaml" if suffix == ".yml" else "only .yaml files belong here"
            problems.append(CatalogError(shown, 1, 1, "", "not a model file (models are <id>.yaml)", hint))
            continue
        model_ids.append(model_id)
        if not _SLUG.match(model_id):
            problems.append(CatalogError(
                shown, 1, 1, "", f"file name '{model_id}' is not a valid model id",
                f"use lowercase letters, digits, '-' and '.', e.g. '{_slugify(model_id)}.yaml'"))
            continue
        pending.append((model_id, path, shown))

    known["models"] = frozenset(model_ids)
    context = check_context(site, shared, known, today) if today is not None else None
    models: dict[str, ModelFile] = {}
    shown_models: dict[str, str] = {}
    checked: dict[str, tuple[CatalogError, ...]] = {}
    for (model_id, path, shown), (doc, model, found, cross) in zip(pending, validate_model_files(pending, context)):
        problems.extend(found)
        if doc is not None:
            documents[doc.path] = doc
        if model is not None:
            models[model_id] = model
            shown_models[model_id] = shown
        if cross is not None:
            checked[shown] = cross

    if options is not None:
        options.seconds = time.perf_counter() - started
    return Validated(site, shared, models, documents, shown_models, shown_shared, tuple(problems), known,
                     context, checked)


def validate_model_files(pending: list[tuple[str, str, str]], context: CheckContext | None = None
                         ) -> list[tuple[Document | None, Any, list, tuple | None]]:
    """(document or None, model or None, problems, cross-file problems or None) of each (id,
    path, shown path), in order; the cross-file problems of the files parsed here, when given
    a context.

    A build with a cache (cache.loading) takes unchanged files' results from it; the others are
    loaded and validated by forked workers when there are many (parallel.py)."""
    options = current_loading()
    results: list = [None] * len(pending)
    if options is not None:
        options.parsed, options.reused = 0, 0
    missing = []
    for index, (_, path, shown) in enumerate(pending):
        digest = options.digests.get(path) if options else None
        cached = options.store.get(shown, digest) if options and options.store and digest else None
        if cached is None:
            missing.append(index)
            continue
        results[index] = _restored(path, shown, digest, *cached[:3]) + (None,)
        options.reused += 1
        if cached[0] is not None:
            options.known[id(cached[0])] = digest
            options.score_rows.update(zip(map(id, cached[0].benchmarks), cached[3]))

    jobs = options.jobs if options else 1
    strings: dict[str, str] = {}
    processes = parallel.processes(len(missing), jobs, min_items=200)
    register_entity_pickling()  # before workers fork: their results come back pickled
    chunks = parallel.chunked(len(missing), 16)
    for chunk in parallel.run(_validate_model_chunk, (pending, missing, context), chunks, processes):
        for index, digest, model, found, loaded, cross, marks, rows in chunk:
            _, path, shown = pending[index]
            if marks and options is not None and options.marks is not None:
                options.marks.update(marks)
            if model is not None:  # cached entities come back shared: the store is pickled whole
                share_repeats(model, strings)
            if options is not None:
                options.parsed += 1
                if options.store is not None:
                    options.store.put(shown, digest, (model, found, loaded, rows))
                if model is not None:
                    options.known[id(model)] = digest
                    options.score_rows.update(zip(map(id, model.benchmarks), rows))
            results[index] = _restored(path, shown, digest, model, found, loaded) + (cross,)
    return results


def _restored(path: str, shown: str, digest: str, model: Any, problems: list, loaded: bool) -> tuple:
    """A result without its document's values (they would stay in memory until the build
    ends): marks are read again from the file if a problem needs them."""
    options = current_loading()
    remembered = options.marks if options is not None else None
    return (Document(shown, None, digest, file=path, remembered=remembered) if loaded else None), model, problems


def _validate_model_chunk(state: tuple, positions: Iterable[int]) -> list[tuple]:
    """(index, digest, entity, problems, whether it loaded, cross-file problems or None, marks
    found for them, its scores' leaderboard-row digests) of some of the missing model files,
    in a worker or in this process."""
    from .facets import score_row_digests  # facets imports the catalog, which imports this

    pending, missing, context = state
    adapter = TypeAdapter(ModelFile)
    done = []
    for position in positions:
        index = missing[position]
        model_id, path, shown = pending[index]
        with open(path, "rb") as file:
            raw = file.read()
        digest = digest_bytes(raw)
        problems: list[CatalogError] = []
        cross: tuple[CatalogError, ...] | None = None
        marks: dict = {}
        try:
            document: Document | None = load_bytes(raw, shown, digest)
        except LoadError as exc:
            document, model, problems = None, None, [exc.error]
        else:
            model = _validate(document, adapter, ModelFile, problems)
            if model is not None and context is not None:
                # the marks found go back to be remembered, as if the parent had found them
                located = dataclasses.replace(document, remembered=marks)
                found: list[CatalogError] = []
                model_problems(model_id, model, locate(shown, located, found), context)
                cross = tuple(found)
        rows = score_row_digests(model_id, model) if model is not None else ()
        done.append((index, digest, model, problems, document is not None, cross, marks, rows))
    return done


def _validate(doc: Document, adapter: TypeAdapter, root: Any, problems: list) -> Any:
    try:
        return adapter.validate_python(doc.data)
    except ValidationError as exc:
        problems.extend(schema_problems(doc, exc, root))
        return None


def _validate_entities(doc: Document, entity: type[Strict], problems: list) -> dict[str, Strict]:
    """Validate entity by entity, so one bad entry does not hide the good ones from later checks."""
    result: dict[str, Strict] = {}
    adapter = TypeAdapter(dict[Slug, entity])
    for key, value in doc.data.items():
        try:
            result.update(adapter.validate_python({key: value}))
        except ValidationError as exc:
            problems.extend(schema_problems(doc, exc, dict[Slug, entity]))
    return result


# --- pydantic locations → document paths and messages --------------------------------------

_BRANCH_NAMES = {"str": "text", "int": "a whole number", "float": "a number", "bool": "true or false",
                 "list[str]": "a list of text"}


def schema_problems(doc: Document, exc: ValidationError, root: Any) -> list[CatalogError]:
    found = []
    branches: dict[tuple, list[str]] = {}
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        if loc and loc[-1] in _BRANCH_NAMES:
            # One value failed every member of a plain union: report it once.
            branches.setdefault(loc[:-1], []).append(_BRANCH_NAMES[loc[-1]])
            if len(branches[loc[:-1]]) > 1:
                continue
            error = dict(error, loc=loc[:-1])
        path, allowed = _document_path(root, error["loc"])
        found.append(_problem(doc, error, path, allowed))
    merged = []
    for problem in found:
        for loc, names in branches.items():
            if len(names) > 1 and problem.field == field_path(_document_path(root, loc)[0]):
                problem = CatalogError(problem.file, problem.line, problem.column, problem.field,
                                       f"expected {', '.join(names[:-1])} or {names[-1]}", problem.hint)
        merged.append(problem)
    return merged


def _problem(doc: Document, error: dict, path: tuple, allowed: list[str]) -> CatalogError:
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    field = field_path(path)
    name = str(path[-1]) if path else ""
    hint = ""
    at_key = False
    if kind == "extra_forbidden":
        at_key = True
        message = f"unknown field '{name}'{suggestion(name, allowed)}"
        field = field_path(path[:-1])
        if not suggestion(name, allowed) and allowed:
            hint = "allowed here: " + ", ".join(sorted(allowed))
    elif kind == "missing":
        message = "required field is missing"
        hint = f"add '{name}:' here"
        path = path[:-1]
    elif kind == "literal_error":
        options = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        message = f"{_show(value)} is not one of {', '.join(options)}{suggestion(value, options)}"
    elif kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        if pattern == SLUG_PATTERN:
            message = f"{_show(value)} is not a valid id"
            hint = "ids are lowercase letters and digits joined by '-' or '.', e.g. 'llama-3.1-8b'"
            if path and path[-1] == "[key]":
                path = path[:-1]
                at_key = True
                field = field_path(path)
        elif "a-z]{2,3}" in pattern:
            message = f"{_show(value)} is not a language code"
            hint = "use ISO 639-1 codes such as en, de, zh"
        else:
            message = f"{_show(value)} does not have the expected form ({pattern})"
    elif kind in _TYPE_NAMES:
        message = f"expected {_TYPE_NAMES[kind]}, got {_describe(value)}"
        if isinstance(value, str) and kind in ("int_type", "float_type", "bool_type"):
            hint = "remove the quotes around the value"
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        message = f"{_show(value)} is out of range: {error['msg'].replace('Input should be ', 'must be ')}"
    elif kind in ("too_short", "too_long", "string_too_short", "string_too_long"):
        message = error["msg"].replace("List should", "the list should").replace("String should", "the text should")
    else:
        message = error["msg"]
    line, column = doc.mark(path, key=at_key)
    return CatalogError(doc.path, line, column, field, message, hint)


_TYPE_NAMES = {
    "int_type": "a whole number", "int_parsing": "a whole number", "float_type": "a number",
    "bool_type": "true or false", "string_type": "text", "list_type": "a list",
    "dict_type": "a mapping of keys to values", "model_type": "a mapping of keys to values",
    "model_attributes_type": "a mapping of keys to values", "int_from_float": "a whole number",
    "date_type": "a date",
}


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"text {_show(value)}"
    return _show(value)


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"'{text}'"


def field_path(path: Iterable) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _document_path(root: Any, loc: tuple) -> tuple[tuple, list[str]]:
    """Follow pydantic's loc through the types; return the document path and the field names
    allowed in the innermost model reached (for did-you-mean)."""
    tp, path, allowed = root, [], _fields(root)
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        tp, tag_consumed = _enter_union(tp, part)
        if tag_consumed:
            continue
        if part == "[key]":
            path.append(part)
            continue
        model = _model(tp)
        if model is not None and isinstance(part, str):
            path.append(part)
            field = model.model_fields.get(part)
            tp = field.annotation if field is not None else None
            allowed = _fields(model)
            continue
        origin, args = typing.get_origin(_strip(tp)), typing.get_args(_strip(tp))
        path.append(part)
        if origin is list and args:
            tp = args[0]
        elif origin is dict and len(args) == 2:
            tp = args[1]
        else:
            tp = None
    return tuple(path), allowed


def _strip(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _union_members(tp: Any) -> list:
    inner = _strip(tp)
    if typing.get_origin(inner) in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(inner) if a is not type(None)]
    return []


def _enter_union(tp: Any, part: Any) -> tuple[Any, bool]:
    """Step into Optional/union types; a tagged member consumes its tag segment."""
    for _ in range(4):
        members = _union_members(tp)
        if not members:
            return tp, False
        tagged = {}
        for member in members:
            for meta in getattr(member, "__metadata__", ()):
                tag = getattr(meta, "tag", None)
                if isinstance(tag, str):
                    tagged[tag] = member
        if tagged:
            if part in tagged:
                return tagged[part], True
            return tp, False
        if len(members) == 1:
            tp = members[0]
            continue
        return tp, False
    return tp, False


def _model(tp: Any) -> type[BaseModel] | None:
    inner = _strip(tp)
    members = _union_members(tp)
    if len(members) == 1:
        inner = _strip(members[0])
    return inner if isinstance(inner, type) and issubclass(inner, BaseModel) else None


def _fields(tp: Any) -> list[str]:
    model = _model(tp)
    if model is not None:
        return list(model.model_fields)
    return []


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-.") or "model-id"


__all__ = ["Validated", "validate_catalog", "schema_problems", "field_path"]
