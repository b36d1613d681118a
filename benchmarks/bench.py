"""The build benchmark: synthetic catalogs of 1,000 and 10,000 models, built the way an editor
builds them, each scenario run several times and the median reported.

    python benchmarks/bench.py                       # what `make bench` runs
    python benchmarks/bench.py --sizes 200 --runs 1  # a quick check (the test suite does this)

Scenarios, each a fresh `site-builder build --no-search` process timed from start to exit:
cold (no cache, no previous output), no-op (nothing changed), one model file edited (a
benchmark score), one license edited (its name, shown on the pages of every model under it),
and a cold build in one process (`--jobs 1 --no-cache`) for the parallel speed-up. One more,
one model file edited while a preview server runs, is timed inside one long-lived process that
rebuilds as `site-builder serve` does (benchmarks/preview.py). The search
index (Pagefind) is timed on its own over the finished site. The builds run a copy of
site_builder/ and templates/ taken at the start, so that edits to the tree while the benchmark
runs cannot change what it measures (or empty its cache halfway). Peak memory is the largest sum of
proportional set sizes (PSS) of the build and its workers, sampled every 0.2 s, and the peak
resident set of the main process. Results go to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402  (benchmarks/ is not a package)

BUILD_DATE = "2026-11-22"  # on or after the newest date in data/, so the real entries stay valid
TARGETS = {  # scenario → (seconds, wording) at 10,000 models on 2 cores
    "cold": (20.0, "cold full build ≤ 20 s"),
    "one model edited": (1.0, "rebuild after one model edit ≤ 1 s"),
    "one model edited, preview server": (1.0, "rebuild after one model edit ≤ 1 s, in the preview server (`serve`)"),
    "one model edited, preview server: its page shown": (
        1.0, "one model edit shown ≤ 1 s in the preview server: its own pages in place, the rest still rebuilding"),
    "no-op": (0.5, "no-op rebuild ≤ 0.5 s"),
}
MEMORY_TARGET_MB = 1024
SAMPLE_SECONDS = 0.2
"""How often peak memory is sampled. Reading /proc/<pid>/smaps_rollup walks the process's page
tables: ~4.5 ms for an 800 MB process, so sampling three such processes every 20 ms (as this
script first did) kept a core half busy and slowed the 10,000-model cold build it measured by
about 10 s. The first second is still sampled every 20 ms (a process that young is small), so a
build that lives 0.1 s is not missed."""
PHASE_LINE = re.compile(r"^(\w+)\s+(\d+) ms\s+(.*)$")


@dataclass
class Run:
    seconds: float
    pss_mb: float
    rss_mb: float
    phases: dict[str, float] = field(default_factory=dict)
    """Phase name → seconds, from the build's report."""
    details: dict[str, str] = field(default_factory=dict)
    user: float | None = None
    """CPU seconds in user mode of the build and the workers it waited for (None: not measured)."""
    system: float | None = None
    """CPU seconds in the kernel, likewise: file creation shows here (see `set_aside`)."""
    cache_after: float | None = None
    """Seconds from the command's exit until the process it left writing the cache was done."""


@dataclass
class Scenario:
    name: str
    runs: list[Run] = field(default_factory=list)

    def median(self, attribute: str) -> float:
        return statistics.median(getattr(run, attribute) for run in self.runs)

    def cpu(self, attribute: str) -> float | None:
        values = [getattr(run, attribute) for run in self.runs if getattr(run, attribute) is not None]
        return statistics.median(values) if values else None

    def phase(self, name: str) -> float | None:
        values = [run.phases[name] for run in self.runs if name in run.phases]
        return statistics.median(values) if values else None

    def detail(self, name: str) -> str:
        return next((run.details[name] for run in self.runs if name in run.details), "")


# --- measuring one process ---------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(c) for c in handle.read().split()]
    except OSError:
        return []


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _wait_for_cache_writers(cwd: Path) -> float:
    """Wait until no process the build left behind is writing its cache (the console build
    writes its records in a forked process holding the slot's lock: cache.Session.save), so
    that the next run neither competes with it nor waits for it; the time it was done."""
    from site_builder.cache import wait_for_lock

    for lock in sorted((cwd / ".cache" / "site-builder").glob("*/.lock")):
        wait_for_lock(lock)
    return time.perf_counter()


def measure(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[Run, str]:
    """Run command; its wall time, peak PSS of its process tree, peak RSS of its main process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            tree = [process.pid]
            for pid in tree:
                tree.extend(_children(pid))
            peak[0] = max(peak[0], sum(_pss_kb(pid) for pid in tree))
            # a no-op build lives ~0.1 s: sample it densely while it is young and small
            done.wait(SAMPLE_SECONDS if time.perf_counter() - started > 1 else 0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    cache_after = _wait_for_cache_writers(cwd) - seconds - started
    done.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{output}")
    run = Run(seconds, peak[0] / 1024, usage.ru_maxrss / 1024, user=usage.ru_utime, system=usage.ru_stime,
              cache_after=cache_after if "background process" in output else None)
    for line in output.splitlines():
        if match := PHASE_LINE.match(line):
            run.phases[match.group(1)] = int(match.group(2)) / 1000
            run.details[match.group(1)] = match.group(3)
    return run, output


# --- the scenarios -----------------------------------------------------------------------------

PREVIEW = "one model edited, preview server"
SHOWN = "one model edited, preview server: its page shown"


def edited_score(text: str, index: int) -> str:
    """The model file with its first benchmark score changed (a different value each run)."""
    score = re.search(r"score: ([0-9.]+)", text)
    assert score, "the model has no score to edit"
    value = float(score.group(1))
    new = value - 0.1 * (index + 1) if value > 1 else value + 0.1 * (index + 1)
    return text[:score.start(1)] + f"{new:.1f}" + text[score.end(1):]


def set_aside(folder: Path, trash: Path) -> None:
    """Move a previous site or cache out of the way of a cold build; `main` deletes the trash
    when every scenario has run.

    Deleting it here would make the next build pay for the deletion. On this machine's ext4,
    which has no journal, the kernel will not reuse an inode freed in the last minute or more
    (`recently_deleted` in fs/ext4/ialloc.c), and skipping them costs a lookup each: every file
    or folder the cold build then creates walks past the tens of thousands just freed (perf:
    `recently_deleted` and `find_get_block_common` led the kernel's profile). A cold build on
    a fresh clone, as in CI, frees nothing first, and that is what the cold rows measure."""
    trash.mkdir(parents=True, exist_ok=True)
    folder.rename(trash / f"{len(os.listdir(trash))}-{folder.name}")


def snapshot(work: Path) -> Path:
    """A copy of the package and its templates; builds import it through PYTHONPATH."""
    code = work / "code"
    shutil.rmtree(code, ignore_errors=True)
    shutil.copytree(REPO / "site_builder", code / "site_builder", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "templates", code / "templates")
    return code


class Bench:
    def __init__(self, size: int, work: Path, code: Path, runs: int, search: bool, serial: bool, log):
        self.size, self.runs, self.search, self.serial, self.log = size, runs, search, serial, log
        self.trash = work / "trash"
        self.root = work / f"catalog-{size}"
        self.data, self.out = self.root / "data", self.root / "_site"
        self.env = {**os.environ, "PYTHONPATH": str(code), "SOURCE_DATE_EPOCH": str(int(
            datetime.datetime.fromisoformat(BUILD_DATE).replace(tzinfo=datetime.timezone.utc).timestamp()))}
        self.scenarios: list[Scenario] = []
        self.search_seconds: float | None = None
        self.pages = 0

    def build(self, *options: str) -> tuple[Run, str]:
        command = [sys.executable, "-m", "site_builder.cli", "build", "--data", "data", "--out", "_site",
                   "--no-search", *options]
        return measure(command, self.root, self.env)

    def scenario(self, name: str, prepare, *options: str, restore=None) -> None:
        scenario = Scenario(name)
        for index in range(self.runs):
            prepare(index)
            run, output = self.build(*options)
            if match := re.search(r"built (\d+) pages", output):
                self.pages = int(match.group(1))
            scenario.runs.append(run)
            self.log(f"  {self.size:>6} models  {name:<18} run {index + 1}: {run.seconds:7.2f} s  "
                     f"{run.pss_mb:6.0f} MB PSS")
            if restore is not None:
                restore(index)
                self.build()  # back in step with the files, unmeasured
        self.scenarios.append(scenario)

    def preview_scenario(self, model: Path) -> None:
        """One model edited while `serve` runs: rebuilds timed inside one long-lived process
        (benchmarks/preview.py); its peak memory is that process's, first build included."""
        command = [sys.executable, str(HERE / "preview.py"), "--data", "data", "--out", "_preview",
                   "--model", str(model), "--runs", str(self.runs)]
        process, output = measure(command, self.root, self.env)
        scenario, shown = Scenario(PREVIEW), Scenario(SHOWN)
        for index, line in enumerate(line for line in output.splitlines() if line.startswith("{")):
            record = json.loads(line)
            scenario.runs.append(Run(record["seconds"], process.pss_mb, process.rss_mb, record["phases"],
                                     record["details"]))
            if record["shown"] is not None:  # the phases up to `first` are the same run's
                shown.runs.append(Run(record["shown"], process.pss_mb, process.rss_mb,
                                      {name: record["phases"][name] for name in PHASES[:PHASES.index("first") + 1]
                                       if name in record["phases"]},
                                      {"render": record["details"].get("first", "")}))
            self.log(f"  {self.size:>6} models  {PREVIEW:<18} run {index + 1}: {record['seconds']:7.2f} s"
                     f" (its page shown after {record['shown'] or float('nan'):.2f} s)")
        self.scenarios.append(scenario)
        if shown.runs:
            self.scenarios.append(shown)

    def run(self) -> None:
        self.log(f"generating {self.size:,} models into {self.data}")
        synth.generate(REPO / "data", self.data, self.size)
        model = self.data / "models" / sorted(os.listdir(self.data / "models"))[len(os.listdir(self.data / "models")) // 2]
        model_text = model.read_text()
        licenses = self.data / "licenses.yaml"
        licenses_text = licenses.read_text()
        license_name = re.search(r"^apache-2.0:\n  name: (.+)$", licenses_text, re.M)
        assert license_name, "licenses.yaml has no apache-2.0 entry"

        def clean(_: int) -> None:
            for folder in (self.out, self.root / ".cache"):
                if folder.exists():
                    set_aside(folder, self.trash)

        def nothing(_: int) -> None:
            pass

        def edit_model(index: int) -> None:
            model.write_text(edited_score(model_text, index))

        def restore_model(_: int) -> None:
            model.write_text(model_text)

        def edit_license(index: int) -> None:
            old = license_name.group(0)
            licenses.write_text(licenses_text.replace(old, f"{old} (edit {index + 1})", 1))

        def restore_license(_: int) -> None:
            licenses.write_text(licenses_text)

        self.scenario("cold", clean)
        self.scenario("no-op", nothing)
        self.scenario("one model edited", edit_model, restore=restore_model)
        self.scenario("license edited", edit_license, restore=restore_license)
        self.preview_scenario(model)
        if self.serial:
            self.scenario("cold, one process", clean, "--jobs", "1", "--no-cache")
            self.build()  # leave a complete site for the search index
        if self.search:
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "pagefind", "--site", str(self.out), "--output-subdir",
                            "pagefind", "--silent"], check=True, env=self.env)  # as site_builder/search.py
            self.search_seconds = time.perf_counter() - started
            self.log(f"  {self.size:>6} models  search index: {self.search_seconds:.1f} s")


# --- the report --------------------------------------------------------------------------------

PHASES = ("check", "validate", "resolve", "plan", "first", "compare", "fragments", "render", "write", "save")


def machine() -> str:
    model = ""
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    memory = ""
    try:
        kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
        memory = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, StopIteration):
        pass
    return f"{cores} cores ({model or platform.processor() or 'unknown CPU'}){memory}, Python {platform.python_version()}"


def fmt(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def speed_check() -> float:
    """Seconds a fixed pure-Python workload takes here (best of three): a yardstick for how fast
    the host let this machine run while the figures were taken."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        table: dict[str, int] = {}
        for i in range(400_000):
            key = f"k{i % 5000}"
            table[key] = table.get(key, 0) + len(key)
        best = min(best, time.process_time() - started)
    return best


def report(benches: list[Bench], runs: int, loads: tuple[str, str], speeds: tuple[str, str] = ("—", "—")) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (benchmarks/bench.py) on {datetime.date.today().isoformat()}.",
        f"Machine: {machine()}. Load average before / after: {loads[0]} / {loads[1]}",
        "(other processes on a shared machine slow every figure down; the load average says how busy it was).",
        f"Each figure is the median of {runs} run{'s' if runs > 1 else ''}: a fresh `site-builder build --no-search`",
        "process, timed from start to exit (Python start-up and imports included); each phase column is",
        "that phase's median, from the build's own report; the `rendered` column is the first run's line.",
        f"The \"{PREVIEW}\" rows are rebuilds timed inside one long-lived process that builds as",
        "`site-builder serve` does (benchmarks/preview.py: one process, the cache's records kept in memory);",
        "their peak memory is that process's, its first build included.",
        "CPU user and CPU sys are the medians of the CPU seconds the build and its workers used in user mode",
        "and in the kernel (from the process's resource usage; not measured inside the preview process).",
        "The console build ends once the site is in place and leaves a forked process writing the cache",
        "(its `save` column is the time to start it); \"cache written after exit\" is how long after the exit",
        "that process was done (the median), which the benchmark waits for before the next run. Its CPU time",
        "is not in the CPU columns, and its memory counts in peak PSS only while the command runs.",
        f"Speed check (a fixed pure-Python loop, timed in the benchmark's own process): {speeds[0]} at the start,",
        f"{speeds[1]} at the end. This machine's speed drifts with its host's load: the same cold build has taken",
        "54 and 81 CPU seconds in user mode an hour apart, so compare figures within one run of this file.",
        "",
        "## Builds",
        "",
        "| models | pages | scenario | wall time | CPU user | CPU sys | " + " | ".join(PHASES)
        + " | cache written after exit | rendered | peak PSS | peak RSS (main) |",
        "| ---: | ---: | --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in PHASES)
        + " | ---: | --- | ---: | ---: |",
    ]
    for bench in benches:
        for scenario in bench.scenarios:
            cells = [f"{bench.size:,}", f"{bench.pages:,}", scenario.name, fmt(scenario.median("seconds")),
                     fmt(scenario.cpu("user")), fmt(scenario.cpu("system"))]
            cells += [fmt(scenario.phase(name)) for name in PHASES]
            cells += [fmt(scenario.cpu("cache_after")), scenario.detail("render") or scenario.detail("check"),
                      f"{scenario.median('pss_mb'):,.0f} MB", f"{scenario.median('rss_mb'):,.0f} MB"]
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Search index (Pagefind, run on its own over the built site)", "",
              "| models | seconds |", "| ---: | ---: |"]
    lines += [f"| {b.size:,} | {fmt(b.search_seconds)} |" for b in benches if b.search_seconds is not None]
    lines += ["", "## Growth", "", "| scenario | " + " | ".join(f"{b.size:,}" for b in benches)
              + " | ratio, largest ÷ smallest | models ratio |", "| --- | " + " | ".join("---:" for _ in benches) + " | ---: | ---: |"]
    if len(benches) > 1:
        for scenario in benches[0].scenarios:
            same = [next((s for s in b.scenarios if s.name == scenario.name), None) for b in benches]
            if None in same:
                continue
            values = [s.median("seconds") for s in same]  # type: ignore[union-attr]
            lines.append(f"| {scenario.name} | " + " | ".join(fmt(v) for v in values)
                         + f" | {values[-1] / values[0]:.1f}× | {benches[-1].size / benches[0].size:.0f}× |")
    largest = benches[-1]
    lines += ["", f"## Targets (at {largest.size:,} models)", "", "| target | measured | met |", "| --- | ---: | --- |"]
    for scenario in largest.scenarios:
        if scenario.name in TARGETS:
            limit, wording = TARGETS[scenario.name]
            value = scenario.median("seconds")
            lines.append(f"| {wording} | {fmt(value)} | {'yes' if value <= limit else 'no'} |")
    peak = max(s.median("pss_mb") for s in largest.scenarios)
    lines.append(f"| peak memory ≤ 1 GB | {peak:,.0f} MB | {'yes' if peak <= MEMORY_TARGET_MB else 'no'} |")
    cold = next(s for s in largest.scenarios if s.name == "cold")
    lines.append(f"| pages per second reported | {cold.detail('render')} | yes |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=HERE / "_work")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--no-search-index", dest="search", action="store_false", help="skip timing Pagefind")
    parser.add_argument("--no-serial", dest="serial", action="store_false", help="skip the one-process cold build")
    args = parser.parse_args()

    loads = [" ".join(f"{x:.1f}" for x in os.getloadavg())]
    speeds = [fmt(speed_check())]
    benches = []
    args.work.mkdir(parents=True, exist_ok=True)
    code = snapshot(args.work)
    for size in sorted(args.sizes):
        bench = Bench(size, args.work, code, args.runs, args.search, args.serial, lambda line: print(line, flush=True))
        bench.run()
        benches.append(bench)
    loads.append(" ".join(f"{x:.1f}" for x in os.getloadavg()))
    speeds.append(fmt(speed_check()))
    shutil.rmtree(args.work / "trash", ignore_errors=True)
    args.output.write_text(report(benches, args.runs, (loads[0], loads[1]), (speeds[0], speeds[1])))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
