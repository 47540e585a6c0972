"""Group commit on SQLite (runs/persistence/writer.py): writes of many threads share a transaction, each in its
own savepoint. On PostgreSQL `write` is a plain call, and these tests check that much."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Workspace
from runs.persistence import writer
from runs.persistence.writer import write

pytestmark = pytest.mark.django_db(transaction=True)


def _rename(pk, name: str) -> str:
    Workspace.objects.filter(pk=pk).update(name=name)
    return name


def _fail_after_rename(pk) -> None:
    Workspace.objects.filter(pk=pk).update(name="half-written")
    raise ValueError("this write fails")


def _workspaces(n: int) -> list:
    return [Workspace.objects.create(name=f"w{i}", slug=f"w{i}-{uuid.uuid4().hex[:8]}").pk for i in range(n)]


def test_concurrent_writes_all_commit_and_a_failing_one_rolls_back_alone():
    if connection.vendor != "sqlite":
        pytest.skip("group commit is SQLite's: elsewhere each caller commits its own (make test-sqlite runs this)")
    pks = _workspaces(41)
    failing = pks.pop()
    gate = threading.Barrier(len(pks) + 1)

    def one(pk):
        gate.wait()
        return write(_rename, pk, f"renamed {pk}")

    def bad():
        gate.wait()
        with pytest.raises(ValueError, match="this write fails"):
            write(_fail_after_rename, failing)

    with ThreadPoolExecutor(len(pks) + 1) as pool:
        futures = [pool.submit(one, pk) for pk in pks] + [pool.submit(bad)]
        for future in futures:
            future.result(timeout=30)
    names = dict(Workspace.objects.filter(pk__in=[*pks, failing]).values_list("pk", "name"))
    assert all(names[pk] == f"renamed {pk}" for pk in pks)
    assert names[failing] == f"w{len(pks)}"  # its half-done update went with its savepoint
    assert not writer._queue  # every write was answered


def test_streams_of_writes_from_many_threads_all_commit():
    if connection.vendor != "sqlite":
        pytest.skip("group commit is SQLite's (make test-sqlite runs this)")
    # given 12 threads that each write 40 times in a row, one write in ten failing
    pks = _workspaces(12)

    def stream(pk):
        done = []
        for i in range(40):
            if i % 10 == 9:
                with pytest.raises(ValueError):
                    write(_fail_after_rename, pk)
            else:
                done.append(write(_rename, pk, f"{pk} #{i}"))
        return done

    with ThreadPoolExecutor(len(pks)) as pool:
        results = [f.result(timeout=60) for f in [pool.submit(stream, pk) for pk in pks]]
    # then every write was answered in order, the last good one stored, and none is left queued
    assert all(len(done) == 36 for done in results)
    names = dict(Workspace.objects.filter(pk__in=pks).values_list("pk", "name"))
    assert all(names[pk] == f"{pk} #38" for pk in pks)
    assert not writer._queue


def test_a_write_inside_a_transaction_joins_it():
    (pk,) = _workspaces(1)
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            write(_rename, pk, "inside")
            raise RuntimeError("the caller's transaction rolls back")
    assert Workspace.objects.get(pk=pk).name == "w0"


def test_a_lone_write_runs_on_the_calling_thread():
    (pk,) = _workspaces(1)
    seen = []
    write(lambda: seen.append(threading.current_thread()) or _rename(pk, "lone"))
    assert seen == [threading.current_thread()]
    assert Workspace.objects.get(pk=pk).name == "lone"
    assert connection.vendor != "sqlite" or not connection.in_atomic_block


def _rename_both_then_fail(first, second) -> None:
    with writer.atomic():
        Workspace.objects.filter(pk=first).update(name="half-written")
        Workspace.objects.filter(pk=second).update(name="half-written")
        raise ValueError("this write fails")


def _rename_both(first, second) -> None:
    with writer.atomic():
        Workspace.objects.filter(pk__in=[first, second]).update(name="both")


def test_a_write_is_all_or_nothing_with_one_savepoint():
    # given a write whose statements must go together (writer.atomic), as an engine commit's
    first, second = _workspaces(2)
    # when it fails after its first statements, then nothing of it is stored
    with pytest.raises(ValueError, match="this write fails"):
        write(_rename_both_then_fail, first, second)
    assert set(Workspace.objects.filter(pk__in=[first, second]).values_list("name", flat=True)) == {"w0", "w1"}
    # and when it succeeds on SQLite, the group commit's savepoint for it is the only one opened
    with CaptureQueriesContext(connection) as queries:
        write(_rename_both, first, second)
    assert set(Workspace.objects.filter(pk__in=[first, second]).values_list("name", flat=True)) == {"both"}
    if connection.vendor == "sqlite":
        savepoints = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SAVEPOINT")]
        assert len(savepoints) == 1, savepoints
    # and outside any write it is a transaction of its own
    with pytest.raises(ValueError):
        _rename_both_then_fail(first, second)
    assert set(Workspace.objects.filter(pk__in=[first, second]).values_list("name", flat=True)) == {"both"}
