"""The compiled record checks (registry.catalogue._record_checks) decide the records that pass and
leave every fault to the Python checks; that both decide alike is tested on the good and bad
records of tests/importers/test_elmo.py, which run on each."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from registry.catalogue.transcripts import (
    COMPILED_LOAD,
    RecordChecker,
    TranscriptResultRecordSchema,
    pack,
    unpack,
)
from tests.importers.compiled import built
from tests.importers.test_elmo import good_record


@pytest.fixture
def compiled():
    return built(COMPILED_LOAD, "registry.catalogue._record_checks")


def test_records_of_a_checked_transcript_are_decided_compiled(compiled):
    checked_in_python = []

    class Counted(RecordChecker):
        def check(self, raw):
            checked_in_python.append(raw["result"]["local_id"])
            return super().check(raw)

    assert RecordChecker.load is compiled
    base = good_record()
    records = [
        {"transcript": base["transcript"], "result": {**base["result"], "local_id": f"C{n}"}}
        for n in range(100)
    ]
    checker = Counted()
    loaded = [checker.load(record) for record in records]
    assert checked_in_python == ["C0"]  # its transcript was new
    schema = TranscriptResultRecordSchema()
    assert loaded == [schema.load(record) for record in records]
    assert all(record["transcript"] is loaded[0]["transcript"] for record in loaded)
    fault = {"transcript": base["transcript"], "result": {**base["result"], "status": "done"}}
    with pytest.raises(ValidationError, match="status"):
        checker.load(fault)
    assert checked_in_python == ["C0", "C1"]  # the fault's messages are the Python checks'


def test_packed_records_of_a_checked_transcript_are_decided_compiled(compiled):
    checked_in_python = []

    class Counted(RecordChecker):
        def check(self, raw):
            if isinstance(raw, tuple):  # not the record it unpacks to and checks in turn
                checked_in_python.append(raw)
            return super().check(raw)

    base = good_record()
    records = [
        pack({"transcript": base["transcript"], "result": {**base["result"], "local_id": f"C{n}"}})
        for n in range(100)
    ]
    checker = Counted()
    loaded = [checker.load(record) for record in records]
    assert checked_in_python == [records[0]]  # its transcript was new
    schema = TranscriptResultRecordSchema()
    assert loaded == [pack(schema.load(unpack(record))) for record in records]
    fault = pack({"transcript": base["transcript"], "result": {**base["result"], "title": ""}})
    with pytest.raises(ValidationError, match="title"):
        checker.load(fault)
    assert checked_in_python[1:] == [fault]
    # A packed record of another transcript than the one checked last is checked in Python.
    other = pack({**base, "transcript": {**base["transcript"]}})
    assert checker.load(other) == pack(schema.load(base))
    assert checked_in_python[2:] == [other]
