"""Read the catalog's YAML files into documents whose every value keeps its line and column.

PyYAML composes a node graph that carries marks; we construct Python values from it
ourselves so that duplicate keys, unsafe tags and alias bombs are rejected instead of
silently accepted, and so that each value's position survives into error messages.

Marks are only needed when a problem is reported, so a document records them lazily: the
first call to `mark()` composes the text again with marks on (profiling showed the mark
bookkeeping was about half of the load time of a valid file).
"""

from __future__ import annotations

import functools
import hashlib
import operator
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import CatalogError

try:  # the C composer is several times faster; marks are the same
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

MAX_FILE_BYTES = 1024 * 1024
MAX_ALIAS_USES = 100
MAX_NODES = 200_000

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_SAFE_TAGS = _SCALAR_TAGS | {_TAG + "seq", _TAG + "map"}

Path_ = tuple  # a value's path: keys and list indices from the document root


class _Resolver(yaml.resolver.BaseResolver):
    """The base loader's implicit-tag resolver on its own. With no path resolvers, a node's tag
    follows from its kind, value and implicit flags alone."""

    yaml_implicit_resolvers = _BaseLoader.yaml_implicit_resolvers
    yaml_path_resolvers = _BaseLoader.yaml_path_resolvers


_RESOLVER = _Resolver()


@functools.lru_cache(maxsize=16_384)
def _resolve(kind: Any, value: Any, implicit: Any) -> str:
    return _RESOLVER.resolve(kind, value, implicit)


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """The C composer, with the Python hooks it calls for every node made cheap.

    It asks the (pure Python) resolver for the tag of every node, and tells the path-resolver
    bookkeeping as it enters and leaves each one. Catalog files repeat the same short scalars
    (ids, booleans, source ids) thousands of times, so the tags come from a memo whose hits
    never enter Python (functools.lru_cache); there are no path resolvers, so entering and
    leaving are C built-ins that do nothing. Loading a model file: 6.09 → 4.96 M instructions
    (callgrind)."""

    resolve = staticmethod(_resolve)
    descend_resolver = staticmethod(operator.is_)  # (parent, index) → ignored
    ascend_resolver = staticmethod(tuple)  # () → ignored


assert not _Loader.yaml_path_resolvers, "path resolvers need descend_resolver and ascend_resolver"


@dataclass(frozen=True)
class Document:
    """One YAML file: its values and where each one was written."""

    path: str
    """The file's path as shown to editors (relative to the working directory when possible)."""
    data: Any
    """The values; None for a document restored from the build cache, whose entity is kept instead."""
    digest: str = ""
    """SHA-256 of the file's bytes (as cache.digest_bytes writes it, when the caller gave it): the key for caches."""
    text: str | None = field(default=None, repr=False, compare=False)
    """The file's text, composed again for marks; when None, `file` is read instead."""
    file: Path | str | None = field(default=None, repr=False, compare=False)
    remembered: dict | None = field(default=None, repr=False, compare=False)
    """Marks found by earlier builds, by (path, digest, document path, key); see `mark`."""
    _marks: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def value_marks(self) -> dict[Path_, tuple[int, int]]:
        return self._located()[0]

    @property
    def key_marks(self) -> dict[Path_, tuple[int, int]]:
        return self._located()[1]

    def _located(self) -> tuple[dict, dict]:
        if not self._marks:
            text = self.text if self.text is not None else Path(self.file).read_bytes().decode("utf-8")  # type: ignore[arg-type]
            builder = _Builder(self.path, record_marks=True, anchors="&" in text)
            loader = _Loader(text)
            try:
                builder.build(loader.get_single_node(), ())
            finally:
                loader.dispose()
            self._marks.update(value=builder.value_marks, key=builder.key_marks)
        return self._marks["value"], self._marks["key"]

    def mark(self, path: Path_, *, key: bool = False) -> tuple[int, int]:
        """The line and column of a value (or of its key), falling back to the nearest ancestor.

        Finding marks composes the file again (~1.6 ms); a document restored from the build
        cache looks in `remembered` first, since the same bytes give the same marks. (At 10,000
        models the synthetic catalog's 606 stale-price warnings cost ~1 s of every build.)"""
        if self.remembered is None:
            return self._mark(tuple(path), key)
        memo = (self.path, self.digest, tuple(path), key)
        found = self.remembered.get(memo)
        if found is None:
            found = self.remembered[memo] = self._mark(memo[2], key)
        return found

    def _mark(self, path: Path_, key: bool) -> tuple[int, int]:
        marks = self.key_marks if key else self.value_marks
        probe = tuple(path)
        while probe:
            if probe in marks:
                return marks[probe]
            if not key and probe in self.key_marks:
                return self.key_marks[probe]
            probe = probe[:-1]
        return self.value_marks.get((), (1, 1))


class LoadError(Exception):
    def __init__(self, error: CatalogError):
        super().__init__(error.text())
        self.error = error


def display_path(path: Path) -> str:
    try:
        return str(_resolved(path).relative_to(_resolved_dir(os.getcwd())))
    except ValueError:
        return str(path)


_RESOLVED_DIRS: dict[str, Path] = {}


def _resolved_dir(folder: str) -> Path:
    """Path.resolve() walks every component with lstat; files of one folder share the work."""
    if folder not in _RESOLVED_DIRS:
        _RESOLVED_DIRS[folder] = Path(folder).resolve()
    return _RESOLVED_DIRS[folder]


def _resolved(path: Path) -> Path:
    if path.is_symlink():
        return path.resolve()
    return _resolved_dir(os.path.abspath(path.parent)) / path.name


def load_file(path: Path) -> Document:
    """Read one YAML file; raises LoadError with file, line and column on any problem."""
    shown = display_path(path)
    raw = path.read_bytes()
    return load_bytes(raw, shown)


def load_bytes(raw: bytes, shown: str, digest: str | None = None) -> Document:
    """`digest`: the bytes' digest, when the caller has it (a validation worker keys its cache
    entry by it), so that the file is not hashed twice."""
    def fail(line: int, col: int, message: str, hint: str = "") -> LoadError:
        return LoadError(CatalogError(shown, line, col, "", message, hint))

    if len(raw) > MAX_FILE_BYTES:
        raise fail(1, 1, f"file is {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,} (1 MiB)",
                   "split long prose into a shorter summary, or check the file is not data dumped by mistake")
    if raw.startswith(b"\xef\xbb\xbf"):
        raise fail(1, 1, "file starts with a byte-order mark", "save the file as UTF-8 without BOM")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise fail(line, col, f"byte 0x{raw[exc.start]:02x} is not valid UTF-8",
                   "save the file as UTF-8") from None

    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        hint = ""
        lines = text.splitlines()
        at = lines[line - 1][col - 1:col] if 0 < line <= len(lines) else ""
        if at == "\t" or "\t" in problem or "tab" in problem:
            hint = "YAML indents with spaces, never tabs"
        elif exc.context and "mapping" in exc.context:
            hint = "check the indentation and that every 'key: value' has a space after the colon"
        raise fail(line, col, f"YAML syntax error: {problem}", hint) from None
    except yaml.YAMLError as exc:
        raise fail(1, 1, f"YAML error: {exc}") from None
    finally:
        loader.dispose()

    if root is None:
        raise fail(1, 1, "file is empty; expected a mapping of keys to values")
    if not isinstance(root, yaml.MappingNode):
        line, col = root.start_mark.line + 1, root.start_mark.column + 1
        kind = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
        raise fail(line, col, f"the document is {kind}; expected a mapping of keys to values")

    builder = _Builder(shown, record_marks=False, anchors=b"&" in raw)
    data = builder.build_plain(root) if not builder.anchors else builder.build(root, ())
    return Document(shown, data, digest or hashlib.sha256(raw).hexdigest(), text)


class _Builder:
    """Turns composed nodes into plain values, recording every value's mark when asked to.

    Without anchors in the text (`anchors=False`) no node can be reached twice, so the alias
    bookkeeping is skipped; the checks are otherwise the same with or without marks."""

    def __init__(self, shown: str, record_marks: bool = True, anchors: bool = True):
        self.shown = shown
        self.record_marks = record_marks
        self.anchors = anchors
        self.value_marks: dict[Path_, tuple[int, int]] = {}
        self.key_marks: dict[Path_, tuple[int, int]] = {}
        self.scalars = yaml.constructor.SafeConstructor()
        self.seen: set[int] = set()
        self.active: set[int] = set()
        self.alias_uses = 0
        self.nodes = 0

    def fail(self, node: yaml.Node, message: str, hint: str = "") -> LoadError:
        mark = node.start_mark
        return LoadError(CatalogError(self.shown, mark.line + 1, mark.column + 1, "", message, hint))

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(node, f"more than {MAX_NODES:,} values in one file")
        if self.anchors:
            if id(node) in self.active:
                raise self.fail(node, "an alias refers to the mapping or list that contains it")
            if id(node) in self.seen:
                # PyYAML composes an alias as a second reference to the same node.
                self.alias_uses += 1
                if self.alias_uses > MAX_ALIAS_USES:
                    raise self.fail(node, f"more than {MAX_ALIAS_USES} alias expansions",
                                    "anchors and aliases (&a / *a) are for small repeats; write the values out")
            self.seen.add(id(node))
        if node.tag not in _SAFE_TAGS:
            raise self.fail(node, f"tag {node.tag!r} is not allowed",
                            "only plain strings, numbers, booleans, null, lists and mappings are accepted")
        if self.record_marks:
            self.value_marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)

        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if not self.anchors:
            if isinstance(node, yaml.SequenceNode):
                if self.record_marks:
                    return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
                return [self.build(item, path) for item in node.value]
            return self.mapping(node, path)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
            return self.mapping(node, path)
        finally:
            self.active.discard(id(node))

    def build_plain(self, root: yaml.Node) -> Any:
        """`build` for a text without anchors and without marks: what nearly every file takes.

        The same checks and values as `build` (the tests hold the two to each other), in one
        closure with its names bound locally, without the method calls, attribute lookups and
        path tuples `build` and `mapping` spend on every value: loading a model file takes 8%
        fewer instructions (callgrind, 7.30 → 6.68 M)."""
        scalar_node, sequence_node, str_tag, safe_tags = yaml.ScalarNode, yaml.SequenceNode, _TAG + "str", _SAFE_TAGS
        scalar_tags, merge_tag, fail, scalar = _SCALAR_TAGS, _TAG + "merge", self.fail, self.scalar
        count = 0

        def build(node: yaml.Node) -> Any:
            nonlocal count
            count += 1
            if count > MAX_NODES:
                raise fail(node, f"more than {MAX_NODES:,} values in one file")
            tag = node.tag
            if tag not in safe_tags:
                raise fail(node, f"tag {tag!r} is not allowed",
                           "only plain strings, numbers, booleans, null, lists and mappings are accepted")
            kind = type(node)
            if kind is scalar_node:
                return node.value if tag == str_tag else scalar(node)
            if kind is sequence_node:
                return [build(item) for item in node.value]
            result: dict = {}
            for key_node, value_node in node.value:
                key_tag = key_node.tag
                if key_tag == merge_tag:
                    raise fail(key_node, "merge keys ('<<') are not supported", "write the keys out")
                if type(key_node) is not scalar_node or key_tag not in scalar_tags:
                    raise fail(key_node, "a mapping key must be a plain value")
                key = key_node.value if key_tag == str_tag else self._key(key_node)
                if key in result:
                    raise self._duplicate(node, key_node, key)
                result[key] = build(value_node)
            return result

        return build(root)

    def _duplicate(self, mapping: yaml.MappingNode, key_node: yaml.ScalarNode, key: Any) -> LoadError:
        """The error for a key written twice, naming the line of its first occurrence."""
        first = next(earlier.start_mark.line + 1 for earlier, _ in mapping.value if self._key(earlier) == key)
        return self.fail(key_node, f"duplicate key {key!r} (first written on line {first})",
                         "YAML keeps only one of the two values; remove or rename one")

    def _key(self, key_node: yaml.ScalarNode) -> Any:
        """A mapping key's value: text or a whole number; any other scalar keys by its text."""
        key = self.scalar(key_node)
        if not isinstance(key, (str, int)) or isinstance(key, bool):
            key = key_node.value
        return key

    def mapping(self, node: yaml.MappingNode, path: Path_) -> dict:
        result: dict = {}
        first_seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                raise self.fail(key_node, "merge keys ('<<') are not supported", "write the keys out")
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _SCALAR_TAGS:
                raise self.fail(key_node, "a mapping key must be a plain value")
            key = self._key(key_node)
            if key in first_seen:
                raise self.fail(key_node, f"duplicate key {key!r} (first written on line {first_seen[key]})",
                                "YAML keeps only one of the two values; remove or rename one")
            first_seen[key] = key_node.start_mark.line + 1
            if self.record_marks:
                self.key_marks[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                result[key] = self.build(value_node, path + (key,))
            else:
                result[key] = self.build(value_node, path)
        return result

    def scalar(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag
        if tag == _TAG + "str":
            return node.value
        if tag == _TAG + "timestamp":
            return node.value  # dates stay text; the schema parses them (also partial dates)
        try:
            if tag == _TAG + "int":
                return self.scalars.construct_yaml_int(node)
            if tag == _TAG + "float":
                return self.scalars.construct_yaml_float(node)
            if tag == _TAG + "bool":
                return self.scalars.construct_yaml_bool(node)
            if tag == _TAG + "null":
                return None
        except (ValueError, yaml.YAMLError):
            raise self.fail(node, f"{node.value!r} is not a valid {tag.rsplit(':', 1)[-1]}") from None
        return node.value  # pragma: no cover - guarded by _SAFE_TAGS
