"""One model file edited while a preview server runs, for bench.py.

`site-builder serve` rebuilds in its own long-lived process: one process (forking beside the
server's threads is unsafe), the build cache's records kept in memory between rebuilds, a lock
held while files are replaced, and what survives each build frozen out of the cyclic
collector's way (serve.settle_memory), and the collection a build's end would start waits until
the tabs are told (build.fewer_collections). This script builds the same way (the same build_site
arguments as serve.Preview), once unmeasured, then times `--runs` rebuilds, each after editing
one benchmark score in --model as bench.py does, and after each puts the file back and rebuilds
unmeasured. One JSON line per timed rebuild: seconds, the build's phases, and `shown`: the
seconds until the edited model's own pages were in place (serve then reloads the tabs showing
them; build_site's `first`), or null when the build did not show them first.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import edited_score  # noqa: E402
from site_builder.build import build_site, fewer_collections  # noqa: E402
from site_builder.serve import settle_memory  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-preview-"))
    memory: dict = {}
    lock = threading.Lock()

    shown: list[float] = []

    def rebuild():
        return build_site(args.data, args.out, cache_dir=scratch / "cache", commit_lock=lock, memory=memory,
                          first=lambda files: shown.append(time.perf_counter()))

    text = args.model.read_text()
    try:
        rebuild()  # the preview's first build
        settle_memory()  # as serve does after each build (not timed)
        for index in range(args.runs):
            args.model.write_text(edited_score(text, index))
            shown.clear()
            with fewer_collections():  # as serve rebuilds: collecting waits until the tabs are told
                started = time.perf_counter()
                report = rebuild()
                seconds = time.perf_counter() - started
            settle_memory()
            print(json.dumps({"seconds": seconds, "shown": shown[0] - started if shown else None,
                              "phases": {name: s for name, s, _ in report.phases},
                              "details": {name: detail for name, _, detail in report.phases}}), flush=True)
            args.model.write_text(text)
            rebuild()  # back in step with the files, unmeasured
            settle_memory()
    finally:
        args.model.write_text(text)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
