"""Which parts of the catalog a page reads, recorded while it renders.

Templates and `produce` functions get the catalog wrapped in views: a dict becomes a read-only
`TrackedMapping` and a dataclass reached by attribute (the Catalog itself, its Facets) a
`TrackedObject`. Anything else, and every entry of a mapping that is not itself a dict (a
model, its derived figures, a leaderboard), is handed out as it is and recorded as read, by its
path from the catalog: ("models", "x"), ("derived", "x"), ("facets", "by_family", "llama-3.1").
Iterating a mapping records its keys. (Entries are read whole because a page that reads one
field of an entry nearly always reads more; one read per entry keeps the records small.)

A page's output is a function of its identity, its templates and the values it read, so a
later build may reuse the page when every recorded value has the same fingerprint. Nothing
else is assumed about pages; a value handed to code that needs the real type (`json.dumps`,
pydantic) makes that code fail, and the renderer then renders the page untracked: such a page
is simply rendered on every build.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from contextlib import contextmanager
from typing import Any, Iterator

Dep = tuple
"""("value", path) — the value at path was read; ("keys", path) — the mapping's keys were listed;
("template", name) — a template was loaded; ("plan",) — the list of every page was read."""

_reads: set | None = None
"""The set reads are recorded into; None outside `recording` (reads are then not needed:
the renderer records while it builds the environment and while it renders each page)."""


def record(dep: Dep) -> None:
    if _reads is not None:
        _reads.add(dep)


@contextmanager
def recording() -> Iterator[set]:
    """Record the reads made inside the block into the yielded set."""
    global _reads
    previous, _reads = _reads, set()
    try:
        yield _reads
    finally:
        _reads = previous


def read_value(root: Any, path: tuple) -> Any:
    """The value at path from root (a view or not), recorded as the one value read: a page
    that shows another model's name reads ("models", id, "name"), not that whole model, and so
    does not depend on the rest of its file."""
    record(("value", path))
    return resolve(untracked(root), path)


def untracked(value: Any) -> Any:
    """The value a view was made over (a value that is not a view, as it is): for code that
    records by hand what it depends on."""
    return value._tracked if isinstance(value, (TrackedMapping, TrackedObject)) else value


def track(value: Any, path: tuple = ()) -> Any:
    """A view of value that records what is read through it."""
    kind = type(value)
    view = _VIEWS.get(kind, False)
    if view is False:
        view = _VIEWS[kind] = (TrackedMapping if kind is dict
                               else TrackedObject if dataclasses.is_dataclass(kind) else None)
    if view is None:
        record(("value", path))
        return value
    return view(value, path)


_VIEWS: dict[type, Any] = {}
"""type → the view class for its values, or None for values handed out as they are."""


class TrackedMapping(Mapping):
    __slots__ = ("_tracked", "_path")

    def __init__(self, mapping: dict, path: tuple):
        self._tracked, self._path = mapping, path

    def __getitem__(self, key: Any) -> Any:
        try:
            value = self._tracked[key]
        except KeyError:
            record(("value", self._path + (key,)))
            raise
        if type(value) is dict:
            return TrackedMapping(value, self._path + (key,))
        record(("value", self._path + (key,)))
        return value

    def __contains__(self, key: object) -> bool:
        record(("value", self._path + (key,)))
        return key in self._tracked

    def get(self, key: Any, default: Any = None) -> Any:
        return self[key] if key in self else default

    def __iter__(self) -> Iterator:
        record(("keys", self._path))
        return iter(self._tracked)

    def __reversed__(self) -> Iterator:
        record(("keys", self._path))
        return reversed(self._tracked)

    def __len__(self) -> int:
        record(("keys", self._path))
        return len(self._tracked)

    def __eq__(self, other: object) -> bool:
        record(("value", self._path))
        return self._tracked == (other._tracked if isinstance(other, TrackedMapping) else other)

    __hash__ = None  # type: ignore[assignment]  # like dict

    def __repr__(self) -> str:
        record(("value", self._path))
        return repr(self._tracked)


class TrackedObject:
    __slots__ = ("_tracked", "_path")

    def __init__(self, obj: Any, path: tuple):
        object.__setattr__(self, "_tracked", obj)
        object.__setattr__(self, "_path", path)

    def _whole(self) -> Any:
        record(("value", self._path))
        return self._tracked

    def __getattr__(self, name: str) -> Any:
        if name in TrackedObject.__slots__:  # only before __init__ ran (copy, pickle)
            raise AttributeError(name)
        obj = self._tracked
        try:
            value = getattr(obj, name)
        except AttributeError:
            record(("value", self._path + (name,)))  # absent: resolves to ABSENT while still absent
            raise
        if name.startswith("__") or callable(value) and getattr(value, "__self__", None) is obj:
            # A method reads the whole object.
            record(("value", self._path))
            return value
        return track(value, self._path + (name,))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("the catalog is read-only while pages render")

    def __getitem__(self, key: Any) -> Any:
        # Jinja tries obj[name] before getattr: refusing it must not read the whole object.
        if not hasattr(type(self._tracked), "__getitem__"):
            raise TypeError(f"{type(self._tracked).__name__} is not subscriptable")
        return self._whole()[key]

    def __bool__(self) -> bool:
        kind = type(self._tracked)
        if hasattr(kind, "__bool__") or hasattr(kind, "__len__"):
            return bool(self._whole())
        return True

    def __iter__(self) -> Iterator:
        return iter(self._whole())

    def __len__(self) -> int:
        return len(self._whole())

    def __contains__(self, item: object) -> bool:
        return item in self._whole()

    def __eq__(self, other: object) -> bool:
        return self._whole() == (other._tracked if isinstance(other, TrackedObject) else other)

    def __hash__(self) -> int:
        return hash(self._whole())

    def __lt__(self, other: Any) -> bool:
        return self._whole() < (other._tracked if isinstance(other, TrackedObject) else other)

    def __str__(self) -> str:
        return str(self._whole())

    def __repr__(self) -> str:
        return repr(self._whole())


class TrackedSequence:
    """The plan as `produce` functions see it: any use of it is one read of the whole list."""

    __slots__ = ("_tracked",)

    def __init__(self, items: list):
        self._tracked = items

    def __iter__(self) -> Iterator:
        record(("plan",))
        return iter(self._tracked)

    def __len__(self) -> int:
        record(("plan",))
        return len(self._tracked)

    def __getitem__(self, index: Any) -> Any:
        record(("plan",))
        return self._tracked[index]


def resolve(root: Any, path: tuple) -> Any:
    """The value a recorded path leads to in this build's catalog; KeyError when it is gone."""
    value = root
    for step in path:
        if type(value) is dict:
            value = value[step]
        else:
            try:
                value = getattr(value, step)
            except (AttributeError, TypeError):
                raise KeyError(step) from None
    return value
