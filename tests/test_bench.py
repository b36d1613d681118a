"""The benchmark runs end to end at a small size, and its synthetic catalogs are valid.

The benchmark itself is not a timed test: figures on a shared CI machine mean little. This
proves `make bench` works: the catalog generator, every scenario, the report.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import DATA_DATE, REPO
from site_builder.catalog import load_catalog

sys.path.insert(0, str(REPO / "benchmarks"))
import synth  # noqa: E402

pytestmark = pytest.mark.slow


def table(markdown: str, heading: str) -> list[dict[str, str]]:
    """The rows of the first table under `## heading`, as dicts keyed by column name."""
    section = markdown.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    names = [cell.strip() for cell in rows[0].strip("|").split("|")]
    return [dict(zip(names, (cell.strip() for cell in row.strip("|").split("|")))) for row in rows[2:]]


def seconds(cell: str) -> float:
    number, unit = cell.split()
    return float(number) / (1000 if unit == "ms" else 1)


def test_synthetic_catalogs_are_valid_and_reproducible(tmp_path):
    ids = synth.generate(REPO / "data", tmp_path / "one", 120)
    synth.generate(REPO / "data", tmp_path / "two", 120)
    catalog = load_catalog(tmp_path / "one", DATA_DATE)
    assert sorted(catalog.models) == ids and len(ids) == 120
    assert not [p for p in catalog.warnings if p.severity == "error"]
    varied = catalog.models["llama-3.1-8b-instruct-v2"]
    assert varied.name != catalog.models["llama-3.1-8b-instruct"].name
    assert varied.family == "llama-3.1-g1" and "llama-3.1-g1" in catalog.families
    files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*.yaml"))
    assert all((tmp_path / "one" / f).read_bytes() == (tmp_path / "two" / f).read_bytes() for f in files)


def test_the_benchmark_runs_and_writes_its_table(tmp_path):
    output = tmp_path / "RESULTS.md"
    result = subprocess.run([sys.executable, str(REPO / "benchmarks/bench.py"), "--sizes", "150", "--runs", "1",
                             "--work", str(tmp_path / "work"), "--output", str(output)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    report = output.read_text()
    assert re.search(r"Machine: \d+ cores", report)
    assert re.search(r"Speed check \(.*\): \d+ ms at the start,\n\d+ ms at the end", report)
    assert not (tmp_path / "work" / "trash").exists()  # old sites set aside for the cold builds, then deleted

    builds = {row["scenario"]: row for row in table(report, "Builds")}
    assert list(builds) == ["cold", "no-op", "one model edited", "license edited", "one model edited, preview server",
                            "one model edited, preview server: its page shown", "cold, one process"]
    assert all(seconds(row["wall time"]) > 0 and row["models"] == "150" for row in builds.values())
    assert "nothing changed" in builds["no-op"]["rendered"]
    assert seconds(builds["cold"]["CPU user"]) > 0 and seconds(builds["cold"]["CPU sys"]) > 0
    assert builds["one model edited, preview server"]["CPU user"] == "—"  # not measured inside that process
    assert "pages/s" in builds["cold"]["rendered"]
    reused = re.search(r"(\d+) pages rendered .*?, (\d+) reused", builds["one model edited"]["rendered"])
    assert reused and int(reused.group(1)) < int(reused.group(2))
    preview = re.search(r"(\d+) pages rendered .*?, (\d+) reused", builds["one model edited, preview server"]["rendered"])
    assert preview and int(preview.group(1)) < int(preview.group(2))  # an incremental rebuild, in memory
    assert builds["one model edited, preview server"]["save"] != "—"
    # the console build leaves its cache to a process the benchmark waits for; the preview saves in memory
    assert seconds(builds["one model edited"]["cache written after exit"]) >= 0
    assert builds["no-op"]["cache written after exit"] == "—"
    assert builds["one model edited, preview server"]["cache written after exit"] == "—"
    shown = builds["one model edited, preview server: its page shown"]
    assert "2 pages of the edited models shown before the rest" in shown["rendered"]
    assert 0 < seconds(shown["wall time"]) < seconds(builds["one model edited, preview server"]["wall time"])
    assert shown["first"] != "—" and shown["compare"] == "—"  # the phases up to `first` only
    assert seconds(table(report, "Search index (Pagefind, run on its own over the built site)")[0]["seconds"]) > 0
    targets = {row["target"]: row for row in table(report, "Targets (at 150 models)")}
    assert {"cold full build ≤ 20 s", "no-op rebuild ≤ 0.5 s", "peak memory ≤ 1 GB"} <= targets.keys()


def test_cold_builds_set_the_old_site_aside(tmp_path):
    """A cold build must not follow a mass deletion (bench.set_aside says why): the old site and
    cache are renamed into the trash, whole, and nothing in them is deleted yet."""
    import bench

    site = tmp_path / "catalog" / "_site"
    (site / "models" / "x").mkdir(parents=True)
    (site / "models" / "x" / "index.html").write_text("old")
    inode = (site / "models" / "x" / "index.html").stat().st_ino
    bench.set_aside(site, tmp_path / "trash")
    assert not site.exists()
    [kept] = (tmp_path / "trash").iterdir()
    assert (kept / "models" / "x" / "index.html").stat().st_ino == inode
