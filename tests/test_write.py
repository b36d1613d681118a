"""Staging: the whole-site swap and the in-place patch write the same files."""

from __future__ import annotations

from pathlib import Path

import pytest

from site_builder.write import Staging


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def old_site(tmp_path: Path) -> Path:
    out = tmp_path / "site"
    for rel, text in {"index.html": "home", "a/index.html": "a", "b/index.html": "b", "gone/x/index.html": "x"}.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    return out


@pytest.mark.parametrize("patch", [False, True])
def test_patch_and_swap_give_the_same_site(tmp_path, patch):
    out = old_site(tmp_path)
    kept_inode = (out / "a/index.html").stat().st_ino
    staging = Staging(out, patch=patch)
    assert staging.patch is patch
    staging.keep("a/index.html")
    staging.count("index.html", staging.put("index.html", b"home"))       # unchanged
    staging.count("b/index.html", staging.put("b/index.html", b"b2"))     # changed
    staging.count("c/index.html", staging.put("c/index.html", b"c"))      # new
    # placed twice: the later one wins, whichever of the two changed the file
    staging.count("b/index.html", staging.put("b/index.html", b"b"))
    staging.count("index.html", staging.put("index.html", b"home2"))
    assert (out / "b/index.html").read_text() == "b", "nothing is replaced before the commit"
    report = staging.commit()
    assert tree(out) == {"index.html": b"home2", "a/index.html": b"a", "b/index.html": b"b", "c/index.html": b"c"}
    assert report.removed == 1 and not (out / "gone").exists(), "a page no longer planned goes, with its folders"
    assert (out / "a/index.html").stat().st_ino == kept_inode
    assert not list(tmp_path.glob(".site.*")), "no staging folder is left behind"


def test_a_discarded_patch_leaves_the_old_site(tmp_path):
    out = old_site(tmp_path)
    before = tree(out)
    staging = Staging(out, patch=True)
    staging.count("b/index.html", staging.put("b/index.html", b"changed"))
    staging.discard()
    assert tree(out) == before and not list(tmp_path.glob(".site.*"))


def test_a_patch_needs_an_old_site(tmp_path):
    assert not Staging(tmp_path / "missing", patch=True).patch


def test_a_patch_removing_many_files_lists_no_folder(tmp_path, monkeypatch):
    """Removed pages take the folders they leave empty, and only those; no folder is listed
    once per removed file (that made dropping Pagefind's thousands of files quadratic)."""
    out = tmp_path / "site"
    for rel in [f"many/{i}.json" for i in range(300)] + ["many/keep.json", "deep/a/b/index.html", "deep/c.txt"]:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(rel)
    staging = Staging(out, patch=True)
    staging.keep("many/keep.json")
    staging.keep("deep/c.txt")

    def listed(self):
        raise AssertionError(f"listed {self}")

    monkeypatch.setattr(Path, "iterdir", listed)
    report = staging.commit()
    assert report.removed == 301
    assert tree(out) == {"many/keep.json": b"many/keep.json", "deep/c.txt": b"deep/c.txt"}
    assert not (out / "deep/a").exists()
