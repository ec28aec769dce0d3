"""A reader run in a second process yields what it yields in this one, breaks off where it
would, and leaves no process behind; an import through it stores the same rows."""

from __future__ import annotations

import datetime as dt
import fcntl
import gc
import io
import os
import pickle
import threading
from decimal import Decimal
from functools import partial
from multiprocessing import Pipe
from pathlib import Path

import pytest
from sqlalchemy import select

from importers import elmo, parallel
from importers.runner import FileError, Rejected
from importers.transcripts import import_transcripts
from registry.catalogue.models import TranscriptResult
from registry.catalogue.transcripts import RecordChecker, pack
from registry.core.permissions import OPERATOR
from tests.importers.test_elmo import course, document, report


def many_reports(count: int) -> bytes:
    return document(
        *(
            report(
                course(
                    f"P{n}",
                    parts="".join(f"<hasPart>{course(f'C{n}-{m}')}</hasPart>" for m in range(3)),
                ),
                course(f"S{n}", instance="<resultLabel>B</resultLabel>"),
            )
            for n in range(count)
        )
    )


def comparable(items):
    return [(position, getattr(item, "reason", item)) for position, item in items]


def test_the_same_records_in_the_same_order(shared):
    for data in (
        many_reports(1500),  # several messages of records
        (shared / "formats" / "emrex-elmo" / "example.xml").read_bytes(),
    ):
        here = comparable(elmo.read(io.BytesIO(data)))
        there = comparable(parallel.read(elmo.read, io.BytesIO(data), parallel=True))
        assert there == here and len(here) > 0


def test_records_are_checked_alike_in_either_process():
    # Over 2,000 records: whichever process checks a batch (the child's own checks are held to
    # this process's in test_the_child_checks_a_batch_when_this_process_is_behind).
    data = document(
        *(
            report(
                *(
                    course(
                        f"C{n}-{m}",
                        instance="<credit><scheme>ects</scheme><value>"
                        f"{'lots' if (n + m) % 7 == 0 else m}</value></credit>",
                    )
                    for m in range(10)
                )
            )
            for n in range(250)
        )
    )
    here = list(parallel.read(elmo.read, io.BytesIO(data), check=RecordChecker, parallel=False))
    there = list(parallel.read(elmo.read, io.BytesIO(data), check=RecordChecker, parallel=True))
    assert there == here and len(here) == 2500
    # Read packed, as an import reads ELMO: the same checked records, packed.
    packed = partial(elmo.read, packed=True)
    assert list(parallel.read(packed, io.BytesIO(data), check=RecordChecker, parallel=True)) == [
        (position, item if isinstance(item, Rejected) else pack(item)) for position, item in here
    ]
    rejected = [item.reason for _, item in here if isinstance(item, Rejected)]
    bad = sum((n + m) % 7 == 0 for n in range(250) for m in range(10))
    assert len(rejected) == bad and set(rejected) == {"result.credits: Not a valid number."}
    assert here[1][1]["result"]["credits"] == Decimal("1")


def run_child(data: bytes, behind) -> list[tuple[str, object]]:
    """The child run in a thread of this process, over pipes: what it sends."""
    feed_out, feed_in = Pipe(duplex=False)
    records_out, records_in = Pipe(duplex=False)
    collecting = gc.isenabled()
    child = threading.Thread(target=parallel._child, args=(feed_out, records_in, behind))
    child.start()
    try:
        feed_in.send_bytes(pickle.dumps((elmo.read, RecordChecker, None)))
        feed_in.send_bytes(data)
        feed_in.send_bytes(b"")
        messages = []
        while not messages or messages[-1][0] not in ("done", "failed"):
            messages.append(parallel._decoded(records_out.recv_bytes()))
    finally:
        child.join()
        if collecting:
            gc.enable()  # the child turns the collector off for its process
    return messages


def test_the_child_checks_a_batch_when_this_process_is_behind():
    data = many_reports(600)  # 3,000 records: three batches
    asked = []

    def behind(connection):
        asked.append(connection)
        return len(asked) == 2  # behind when the second batch is ready only

    messages = run_child(data, behind)
    assert [kind for kind, _ in messages] == ["records", "checked", "records", "done"]
    # Validated records (dates as dates) in the checked batch, as read in the others.
    assert isinstance(messages[0][1][0][1]["transcript"]["issued_on"], str)
    assert isinstance(messages[1][1][0][1]["transcript"]["issued_on"], dt.date)
    here = list(parallel.read(elmo.read, io.BytesIO(data), check=RecordChecker, parallel=False))
    assert messages[1][1] == here[1000:2000]
    assert len(asked) == 3  # once a batch


def test_messages_are_marshalled_unless_they_hold_other_objects():
    data = many_reports(3)
    plain = list(elmo.read(io.BytesIO(data)))
    checked_records = list(parallel.checked(plain, RecordChecker()))
    with_rejected = [*plain, ("line 9", Rejected("no specifies"))]
    for kind, payload, form in (
        ("records", plain, b"m"),
        ("checked", checked_records, b"p"),  # dates and decimals
        ("records", with_rejected, b"p"),
        ("done", None, b"m"),
    ):
        message = parallel._encoded(kind, payload)
        assert message[:1] == form
        assert parallel._decoded(message) == (kind, payload)
    # Records of one transcript still share it when they arrive.
    _, arrived = parallel._decoded(parallel._encoded("records", plain))
    assert arrived[0][1]["transcript"] is arrived[4][1]["transcript"]


def test_behind_means_three_quarters_of_the_pipe_waiting():
    reading, writing = Pipe(duplex=False)
    size = fcntl.fcntl(writing.fileno(), fcntl.F_GETPIPE_SZ)
    assert not parallel.waiting(writing)
    os.write(writing.fileno(), b"x" * (size * 3 // 4 - 1))
    assert not parallel.waiting(writing)
    os.write(writing.fileno(), b"x")
    assert parallel.waiting(writing)
    os.read(reading.fileno(), size)
    assert not parallel.waiting(writing)
    reading.close()
    writing.close()


def test_a_file_is_read_by_the_child_from_where_it_stands(tmp_path):
    path = tmp_path / "transcripts.xml"
    data = many_reports(300)
    path.write_bytes(b"junk before the document" + data)
    with path.open("rb") as stream:
        stream.read(24)
        assert parallel._file_at(stream) == (stream.fileno(), 24)
        there = comparable(parallel.read(elmo.read, stream, parallel=True))
        assert stream.tell() == 24  # the child reads at its own offset
    assert there == comparable(elmo.read(io.BytesIO(data))) and len(there) == 1500
    # Not a plain file: its bytes are sent (a progress bar counts them as they are read).
    assert parallel._file_at(io.BytesIO(data)) is None

    class Counting(io.BufferedReader):
        def read(self, size=-1):
            return super().read(size)

    with Counting(io.FileIO(path)) as counting:
        assert parallel._file_at(counting) is None
    read_end, write_end = os.pipe()
    with open(read_end, "rb") as piped:
        os.close(write_end)
        assert parallel._file_at(piped) is None


def test_a_broken_file_breaks_off_after_the_records_before_it():
    data = many_reports(600)[:-500]
    here, there = [], []
    with pytest.raises(FileError) as in_process:
        here.extend(elmo.read(io.BytesIO(data)))
    with pytest.raises(FileError) as in_child:
        there.extend(parallel.read(elmo.read, io.BytesIO(data), parallel=True))
    assert (in_child.value.position, in_child.value.reason) == (
        in_process.value.position,
        in_process.value.reason,
    )
    assert comparable(there) == comparable(here) and len(here) > 2000


def test_a_limit_broken_in_the_child_is_a_file_error():
    data = document(report(*(course(f"C{n}") for n in range(11))))
    reader = partial(elmo.read, max_results=10)
    with pytest.raises(FileError, match="more than 10 learning opportunities"):
        list(parallel.read(reader, io.BytesIO(data), parallel=True))


def _fails(stream):
    yield "line 1", {"ok": True}
    raise KeyError("something the reader did not expect")


def test_a_reader_that_fails_is_reported_with_its_traceback():
    items = parallel.read(_fails, io.BytesIO(b"<r/>"), parallel=True)
    assert next(items) == ("line 1", {"ok": True})
    with pytest.raises(RuntimeError, match="something the reader did not expect"):
        next(items)


def children() -> list[str]:
    """The reader processes this one has started and not yet reaped."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and "importers.parallel" in command:
            found.append(command)
    return found


def test_an_abandoned_read_leaves_no_process_behind():
    items = parallel.read(elmo.read, io.BytesIO(many_reports(1500)), parallel=True)
    next(items)
    assert children()
    items.close()
    assert not children()


def test_small_inputs_are_read_here_and_large_files_in_a_child(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 10_000)
    small = tmp_path / "small.xml"
    small.write_bytes(document(report(course("A"))))
    with small.open("rb") as stream:
        items = parallel.read(elmo.read, stream)
        assert next(items)[0] == "line 1 (elmo/report[1]/learningOpportunitySpecification[1])"
        assert not children()
    assert parallel._size(io.BytesIO(b"<r/>")) is None  # not a file: read here
    large = tmp_path / "large.xml"
    large.write_bytes(many_reports(100))
    with large.open("rb") as stream:
        items = parallel.read(elmo.read, stream)
        assert next(items)[0].startswith("line 1 (elmo/report[1]") and children()
        items.close()


def test_an_import_through_a_child_stores_the_same_rows(session):
    data = many_reports(300)

    def rows():
        session.expire_all()
        return sorted(
            (row.local_id, row.parent_local_id, row.grade, row.status, row.title)
            for row in session.scalars(select(TranscriptResult))
        )

    here = import_transcripts(
        lambda: session, OPERATOR, "elmo", io.BytesIO(data), "a.xml", parallel=False
    )
    expected = rows()
    session.execute(TranscriptResult.__table__.delete())
    there = import_transcripts(
        lambda: session, OPERATOR, "elmo", io.BytesIO(data), "a.xml", parallel=True
    )
    assert rows() == expected and len(expected) == 1500
    assert (there.read, there.inserted, there.unchanged) == (here.read, 1500, 0)
    again = import_transcripts(
        lambda: session, OPERATOR, "elmo", io.BytesIO(data), "a.xml", parallel=True
    )
    assert (again.inserted, again.unchanged, again.state) == (0, 1500, "completed")


def test_the_child_runs_this_process_code_whatever_its_working_directory(tmp_path, monkeypatch):
    decoy = tmp_path / "importers"
    decoy.mkdir()
    (decoy / "__init__.py").write_text("")
    (decoy / "parallel.py").write_text("raise SystemExit(3)\n")
    monkeypatch.chdir(tmp_path)
    there = comparable(parallel.read(elmo.read, io.BytesIO(many_reports(10)), parallel=True))
    assert there == comparable(elmo.read(io.BytesIO(many_reports(10)))) and len(there) == 50
