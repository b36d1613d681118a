"""parallel.run: the parent takes chunks too, every chunk is done once, a failure is raised."""

from __future__ import annotations

import os
import time

import pytest

from site_builder import parallel

pytestmark = pytest.mark.skipif(not parallel.can_fork(), reason="needs fork")


def _who(state: int, indices) -> list[tuple[int, int]]:
    time.sleep(0.01)  # long enough that no one process takes every chunk
    return [(os.getpid(), index * state) for index in indices]


def test_the_parent_works_beside_its_children_and_every_chunk_is_done_once():
    chunks = parallel.chunked(200, 4)
    results = [item for chunk in parallel.run(_who, 3, chunks, jobs=2) for item in chunk]
    assert sorted(value for _, value in results) == [index * 3 for index in range(200)]
    pids = {pid for pid, _ in results}
    assert os.getpid() in pids and len(pids) == 2  # one child, and this process


def test_one_job_runs_here_alone():
    results = [item for chunk in parallel.run(_who, 1, parallel.chunked(10, 2), jobs=1) for item in chunk]
    assert {pid for pid, _ in results} == {os.getpid()}


def _fails_in_children(parent: int, indices) -> list:
    if os.getpid() != parent:
        raise ValueError("broken in a worker")
    time.sleep(0.01)
    return list(indices)


def test_a_failure_in_a_child_is_raised_with_its_traceback():
    with pytest.raises(parallel.WorkerFailed, match="ValueError: broken in a worker"):
        for _ in parallel.run(_fails_in_children, os.getpid(), parallel.chunked(100, 2), jobs=2):
            pass


def _unpicklable_in_children(parent: int, indices) -> list:
    time.sleep(0.01)
    return [(lambda: index) if os.getpid() != parent else index for index in indices]


def test_a_result_a_child_cannot_send_is_a_failure_not_a_gap():
    with pytest.raises(parallel.WorkerFailed, match="pickle"):
        for _ in parallel.run(_unpicklable_in_children, os.getpid(), parallel.chunked(100, 2), jobs=2):
            pass


def test_in_background_runs_beside_this_process_and_tells_how_it_ended(tmp_path):
    written = tmp_path / "pid"
    wait = parallel.in_background(lambda: written.write_text(str(os.getpid())))
    assert wait is not None and wait() is True and wait() is True  # asked twice: the same answer
    assert int(written.read_text()) != os.getpid()

    def broken() -> None:
        raise ValueError("nothing is printed, the parent is told")

    assert parallel.in_background(broken)() is False


def _collector_state(fail: bool) -> bool:
    import gc

    if fail:
        raise ValueError("refused")
    return gc.isenabled()


class _Probe:
    """Unpickles into whether the cyclic collector was on while it was being unpickled."""

    def __init__(self, fail: bool = False):
        self.fail = fail

    def __reduce__(self):
        return _collector_state, (self.fail,)


def test_unpickling_holds_the_collector_off_then_freezes_what_it_made():
    import gc
    import pickle

    from site_builder.cache import unpickled

    assert gc.isenabled()
    try:
        found = unpickled(pickle.dumps([_Probe(), [1, 2]]))
        assert found[0] is False and gc.isenabled()
        assert gc.is_tracked(found) and all(obj is not found for obj in gc.get_objects())  # frozen: in no generation
    finally:
        gc.unfreeze()
    try:
        with pytest.raises(ValueError):
            unpickled(pickle.dumps(_Probe(fail=True)))
        assert gc.isenabled()
    finally:
        gc.unfreeze()
    gc.disable()
    try:  # a caller that holds it off already keeps it off
        assert unpickled(pickle.dumps(_Probe())) is False and not gc.isenabled()
    finally:
        gc.enable()


def test_a_build_lets_go_of_what_it_froze_unless_it_keeps_its_records_in_memory(tmp_path):
    """A build from the cache's files freezes what it unpickles (cache.unpickled); at its end
    that goes back to the collector, so that a program building again and again does not keep
    cycles for ever. A preview server's build (memory) leaves its freezing to the server."""
    import gc

    from site_builder.build import build_site

    from conftest import DATA_DATE, REPO

    gc.unfreeze()
    for _ in range(2):  # the second build unpickles the first one's records
        build_site(REPO / "data", tmp_path / "site", today=DATA_DATE, cache_dir=tmp_path / "cache")
    assert gc.get_freeze_count() == 0
    try:
        gc.freeze()
        build_site(REPO / "data", tmp_path / "site2", today=DATA_DATE, cache_dir=tmp_path / "cache2", memory={})
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
