"""Rendered files → the output folder, all or nothing.

The new site is assembled in a staging folder beside the output and swapped in with two
renames only once every file is in place, so a failed build never leaves a half-written
site. A file whose bytes did not change is hard-linked from the old site, keeping its
mtime, which keeps rsync and CDN uploads small.

An incremental build that changes a few pages of a large site patches it instead (`patch=True`):
only the changed files are staged, and once every page has rendered each replaces its old
version with one rename (atomic per file), and pages no longer planned are deleted. Linking
20,000 unchanged files into a new folder and deleting the old one cost 2.6 s at 10,000 models.
A failed build still changes nothing, as nothing is replaced before every page is in place.
"""

from __future__ import annotations

import os
import shutil
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable


@dataclass(frozen=True)
class WriteReport:
    written: int
    unchanged: int
    removed: int
    changed: tuple[str, ...] | None = None
    """A patch's files written or removed (relative paths); None when the whole site was swapped."""


def write_site(
    files: Iterable[tuple[str, bytes]],
    out_dir: Path,
    static_dirs: Iterable[tuple[Path, str]] = (),
    before_swap: Callable[[Path], None] | None = None,
    kept: Iterable[str] = (),
) -> WriteReport:
    """Write `files` (relative path, bytes) and copy static folders into `out_dir` atomically.

    `files` is consumed as it comes (pages are written while others still render, and never
    all held in memory). `kept` are relative paths the caller knows are current in the old
    site (an incremental build's reused pages): they are linked without being read.
    `before_swap` runs on the staging folder once every file is there (a search indexer, say);
    if it raises, the old site stays."""
    staging = Staging(out_dir)
    try:
        for rel in kept:
            staging.keep(rel)
        for rel, data in files:
            staging.count(rel, staging.put(rel, data))
        staging.put_static(static_dirs)
        return staging.commit(before_swap)
    except BaseException:
        staging.discard()
        raise


class Staging:
    """The new site, assembled in a folder beside the output and swapped in whole.

    `put` touches nothing but its own file, so forked render workers may call it on their
    copy of this object; the process that commits is told of each file with `count`."""

    def __init__(self, out_dir: Path, patch: bool = False, existing: Iterable[str] | None = None):
        """`existing`: the files in out_dir, when the caller has just listed them (a patch
        deletes those not placed; without it the patch lists the folder itself)."""
        self.patch = patch and out_dir.is_dir()
        self.existing = existing
        self.staged: set[str] = set()
        """Files written to the staging folder, in a patch."""
        self.out_dir = out_dir.resolve()
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        self.folder = self.out_dir.with_name(f".{self.out_dir.name}.staging-{os.getpid()}")
        self.retired = self.out_dir.with_name(f".{self.out_dir.name}.old-{os.getpid()}")
        for leftover in (self.folder, self.retired):
            shutil.rmtree(leftover, ignore_errors=True)
        self.folder.mkdir()
        self.placed: set[str] = set()
        self.written = self.unchanged = 0
        self._folders: set[Path] = {self.folder}

    def _target(self, rel: str) -> Path:
        target = self.folder / rel
        if target.parent not in self._folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(target.parent)
        if rel in self.placed:  # placed twice (a static file over a page): the later one wins
            target.unlink(missing_ok=True)  # never write through a link; a patch may have staged nothing
        return target

    def put(self, rel: str, data: bytes) -> bool:
        """Place one file; an unchanged one is linked from the old site. True if written."""
        previous = self.out_dir / rel
        if _same_bytes(previous, data):
            if self.patch:
                if rel in self.placed and rel in self.staged:  # placed twice: the later one wins
                    self.staged.discard(rel)
                    (self.folder / rel).unlink()
            else:
                os.link(previous, self._target(rel))
            return False
        self._target(rel).write_bytes(data)
        return True

    def count(self, rel: str, written: bool) -> None:
        self.placed.add(rel)
        if written:
            self.written += 1
            if self.patch:
                self.staged.add(rel)
        else:
            self.unchanged += 1

    def keep(self, rel: str) -> None:
        """Link a file the caller knows is current in the old site, without reading it."""
        if not self.patch:
            os.link(self.out_dir / rel, self._target(rel))
        self.count(rel, False)

    def put_static(self, static_dirs: Iterable[tuple[Path, str]]) -> None:
        for folder, prefix in static_dirs:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    relative = path.relative_to(folder).as_posix()
                    rel = f"{prefix}/{relative}" if prefix else relative
                    self.count(rel, self.put(rel, path.read_bytes()))

    def commit(self, before_swap: Callable[[Path], None] | None = None,
               lock: AbstractContextManager | None = None) -> WriteReport:
        """Swap the new site in; on any error (in before_swap too) the old site stays. `lock`
        is held while the old files are replaced (the two renames, or the patch)."""
        out_dir, retired = self.out_dir, self.retired
        guard = lock if lock is not None else nullcontext()
        if self.patch:
            assert before_swap is None, "a patch has no whole new site to hand to before_swap"
            with guard:
                return self._apply_patch()
        try:
            if before_swap is not None:
                before_swap(self.folder)
            old_files = _relative_files(out_dir) if out_dir.exists() else set()
            with guard:
                if out_dir.exists():
                    os.rename(out_dir, retired)
                os.rename(self.folder, out_dir)
        except BaseException:
            self.discard()
            raise
        shutil.rmtree(retired, ignore_errors=True)
        return WriteReport(self.written, self.unchanged, len(old_files - self.placed))

    def _apply_patch(self) -> WriteReport:
        existing = set(self.existing) if self.existing is not None else _relative_files(self.out_dir)
        removed = sorted(existing - self.placed)
        for rel in sorted(self.staged):
            target = self.out_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.folder / rel, target)
        for rel in removed:
            (self.out_dir / rel).unlink()
        _remove_empty_folders({(self.out_dir / rel).parent for rel in removed}, self.out_dir)
        shutil.rmtree(self.folder, ignore_errors=True)
        return WriteReport(self.written, self.unchanged, len(removed), tuple(sorted(self.staged | set(removed))))

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.retired.exists() and not self.out_dir.exists():
            os.rename(self.retired, self.out_dir)


def replace_files(out_dir: Path, files: Iterable[tuple[str, bytes]], lock: AbstractContextManager | None = None) -> None:
    """Put each file in place in out_dir now, one atomic rename each (under `lock`); files
    whose bytes are already there are left alone."""
    staged = []
    try:
        for rel, data in files:
            target = out_dir / rel
            if _same_bytes(target, data):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.new-{os.getpid()}")
            temporary.write_bytes(data)
            staged.append((temporary, target))
        with lock if lock is not None else nullcontext():
            for temporary, target in staged:
                os.replace(temporary, target)
    except BaseException:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False


def _relative_files(folder: Path) -> set[str]:
    found = set()
    for root, _, names in os.walk(folder):
        prefix = os.path.relpath(root, folder).replace(os.sep, "/")
        found.update(names if prefix == "." else (f"{prefix}/{name}" for name in names))
    return found


def _remove_empty_folders(folders: Iterable[Path], root: Path) -> None:
    """Remove each of these folders that is now empty, and its parents that it leaves empty,
    up to root. rmdir refuses a folder that is not empty, so nothing is listed: listing the
    parent after each removed file made removing n files from one folder take n² steps
    (a build after a search build, dropping Pagefind's thousands of files, spent seconds)."""
    for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
        while folder != root:
            try:
                folder.rmdir()
            except OSError:  # not empty, or already removed with a deeper folder
                break
            folder = folder.parent
