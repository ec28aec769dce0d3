"""The hardened XML entry: nothing read but the input, entities refused, limits on depth, text,
inflated size and the tree held, and every failure a FileError naming its line."""

from __future__ import annotations

import gzip
import io
import json
import os
import socket
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import pytest

from importers import xmlsafe
from importers.runner import FileError
from importers.xmlsafe import Events

ROOT = Path(__file__).resolve().parents[2]


def events(data: bytes, tags=("a",), **options):
    """(event, tag, position) of every event."""
    parsed = Events(io.BytesIO(data), tags, **options)
    return [(event, element.tag, parsed.position(element)) for event, element in parsed]


def refused(data: bytes, tags=("a",), **options) -> FileError:
    with pytest.raises(FileError) as caught:
        events(data, tags, **options)
    return caught.value


def peak_mb() -> float:
    """This process's peak RSS. VmHWM rather than ru_maxrss, which on Linux keeps the peak of
    the parent the process was forked from."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024


class Stream(io.RawIOBase):
    """A binary stream made on the fly from pieces, never held whole; counts what was read."""

    def __init__(self, pieces):
        self.pieces = iter(pieces)
        self.buffer = b""
        self.consumed = 0

    def readable(self):
        return True

    def read(self, size=-1):
        while len(self.buffer) < size:
            piece = next(self.pieces, None)
            if piece is None:
                break
            self.buffer += piece
        out, self.buffer = self.buffer[:size], self.buffer[size:]
        self.consumed += len(out)
        return out


# --- what a caller gets ----------------------------------------------------------------------


def test_events_positions_and_the_root_first():
    data = b"<r>\n<a>1</a>\n<b><a>2</a></b>\n<a>3</a></r>"
    assert events(data) == [
        ("start", "r", "line 1 (r)"),
        ("start", "a", "line 2 (r/a[1])"),
        ("end", "a", "line 2 (r/a[1])"),
        ("start", "a", "line 3 (r/a[2])"),
        ("end", "a", "line 3 (r/a[2])"),
        ("start", "a", "line 4 (r/a[3])"),
        ("end", "a", "line 4 (r/a[3])"),
        ("end", "r", "line 1 (r)"),
    ]


def test_a_path_or_a_binary_file_object(tmp_path):
    path = tmp_path / "doc.xml"
    path.write_bytes(b"<r><a>1</a></r>")
    with path.open("rb") as stream:
        from_stream = [e for e, _ in Events(stream, ["a"])]
    assert (
        [e for e, _ in Events(path, ["a"])]
        == [e for e, _ in Events(str(path), ["a"])]
        == (from_stream)
        == ["start", "start", "end", "end"]
    )
    with pytest.raises(TypeError):
        list(Events(io.StringIO("<r/>"), ["a"]))


def widest_tree(records: int) -> int:
    """The most children the root held while `records` records were read."""
    pieces = (b"<a><x>%d</x><y>y</y></a><junk/>" % n for n in range(records))
    widest = 0
    for event, element in Events(Stream([b"<r>", *pieces, b"</r>"]), ["a"]):
        if event == "end" and element.tag == "a":
            assert element.findtext("x") is not None  # whole when handed over
            widest = max(widest, len(element.getparent()))
    return widest


def test_the_tree_is_cleared_as_it_goes():
    # At most what one input chunk holds, however long the file.
    assert widest_tree(300_000) == widest_tree(20_000) < 5000


def test_skipped_elements_are_dropped_unread():
    data = (
        b"<r><a>1</a><attachment><content>" + b"QUJD" * 500_000 + b"</content>"
        b"<a>inside</a></attachment><a>2</a></r>"
    )
    seen = []
    for event, element in Events(io.BytesIO(data), ["a"], skip=["attachment"]):
        if event == "end" and element.tag == "a":
            seen.append(element.text)
        if event == "end" and element.tag == "r":
            attachment = element.find("attachment")
            assert attachment is None or (len(attachment) == 0 and attachment.text is None)
    # 2 MB of base64: over the 1 MB text limit, but never read, so no error either.
    assert seen == ["1", "2"]


def test_gzip_is_read_as_what_it_inflates_to():
    data = b"<r><a>1</a><a>2</a></r>"
    assert events(gzip.compress(data)) == events(data)
    # Concatenated members are one stream.
    assert events(gzip.compress(data[:9]) + gzip.compress(data[9:])) == events(data)


# --- refused ---------------------------------------------------------------------------------


def fifo(tmp_path) -> Path:
    """A named pipe: opening it for reading blocks until a writer comes, so a parser that tried
    to read it would hang instead of going on."""
    path = tmp_path / "secret"
    os.mkfifo(path)
    return path


def parse_in_thread(data: bytes) -> tuple[bool, list]:
    outcome = []

    def work():
        try:
            events(data)
            outcome.append(None)
        except FileError as error:
            outcome.append(error)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(10)
    return thread.is_alive(), outcome


def test_xxe_an_external_entity_is_refused_and_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-4711")
    for target in (secret, fifo(tmp_path)):
        data = (
            f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{target}">]>'
            "<r><a>&xxe;</a></r>"
        ).encode()
        hung, outcome = parse_in_thread(data)
        assert not hung, "the parser opened the entity's file"
        error = outcome[0]
        assert isinstance(error, FileError) and "declares entities (xxe)" in error.reason
        assert "TOP-SECRET" not in str(error)


def test_xxe_an_external_parameter_entity_is_refused_and_never_read(tmp_path):
    target = fifo(tmp_path)
    data = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % ext SYSTEM "file://{target}"> %ext;]>'
        "<r><a>x</a></r>"
    ).encode()
    hung, outcome = parse_in_thread(data)
    assert not hung, "the parser opened the parameter entity's file"
    assert isinstance(outcome[0], FileError)


def test_billion_laughs_is_refused():
    lol = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    for body in ("<r><a>&l9;</a></r>", '<r x="&l9;"><a>1</a></r>'):
        data = f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY l0 "lol">{lol}]>{body}'.encode()
        error = refused(data)
        assert "entit" in error.reason  # declared entities, or libxml2's amplification guard


def test_a_dtd_on_the_network_is_not_fetched():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.5)
        port = server.getsockname()[1]
        for doctype in (
            f'<!DOCTYPE r SYSTEM "http://127.0.0.1:{port}/x.dtd">',
            f'<!DOCTYPE r [<!ENTITY % d SYSTEM "http://127.0.0.1:{port}/x.dtd"> %d;]>',
            '<!DOCTYPE r SYSTEM "http://127.0.0.1:9/x.dtd">',
        ):
            error = refused(f'<?xml version="1.0"?>{doctype}<r><a>1</a></r>'.encode())
            assert error.position == "prolog"
        with pytest.raises(TimeoutError):
            server.accept()


def test_a_doctype_without_entities_is_harmless():
    assert len(events(b"<!DOCTYPE r><r><a>1</a></r>")) == 4


def test_a_500_mb_text_node_is_refused_in_small_memory():
    """Run apart, so that the peak RSS measured is this parse's alone."""
    script = f"""
import json, sys
sys.path.insert(0, {str(ROOT)!r})
sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_xmlsafe import Stream, peak_mb
from lxml import etree

from importers import xmlsafe
from importers.runner import FileError
from importers import xmlsafe
from importers.xmlsafe import Events
def pieces():
    yield b"<r><a>"
    for _ in range(500):
        yield b"x" * (1 << 20)
    yield b"</a></r>"
stream = Stream(pieces())
try:
    list(Events(stream, ["a"]))
    outcome = "parsed"
except FileError as error:
    outcome = str(error)
print(json.dumps({{"outcome": outcome, "consumed": stream.consumed, "peak_mb": peak_mb()}}))
"""
    result = json.loads(
        subprocess.run(
            [sys.executable, "-c", script], check=True, capture_output=True, text=True
        ).stdout
    )
    assert result["outcome"].startswith("line 1")
    assert result["consumed"] < 20 << 20  # stopped long before the end
    assert result["peak_mb"] < 100


def test_a_text_node_over_the_limit():
    error = refused(b"<r>\n<a>" + b"x" * 2000 + b"</a></r>", max_text=1000)
    assert (error.position, error.reason) == (
        "line 2 (r/a[1])",
        "a text node longer than 1000 characters",
    )
    assert len(events(b"<r><a>" + b"x" * 1000 + b"</a></r>", max_text=1000)) == 4


def test_a_long_text_before_the_element_is_found_however_far_back():
    # The element of interest starts chunks after the long text, among its preceding siblings.
    data = b"<r>\n<b>" + b"x" * 2000 + b"</b>" + b"<p/>" * 40_000 + b"<a>1</a></r>"
    error = refused(data, max_text=1000)
    assert (error.position, error.reason) == (
        "line 2 (r/b[1])",
        "a text node longer than 1000 characters",
    )
    assert len(events(data.replace(b"x" * 2000, b"x" * 1000), max_text=1000)) == 4


def test_elements_nested_too_deep():
    deep = b"<b>" * 70 + b"</b>" * 70
    for data in (b"<r><a>" + deep + b"</a></r>", b"<r>" + deep + b"<a>1</a></r>"):
        assert "nested more than 64 deep" in refused(data).reason
    assert len(events(b"<r><a>" + b"<b>" * 60 + b"</b>" * 60 + b"</a></r>")) == 4
    assert (
        "nested more than 10 deep"
        in refused(b"<r><a>" + b"<b>" * 9 + b"</b>" * 9 + b"</a></r>", max_depth=10).reason
    )


def test_padding_with_elements_nobody_asked_for():
    data = b"<r><a>1</a>" + b"<pad/>" * 5000 + b"</r>"
    assert "no element of interest" in refused(data, max_held=1000).reason
    assert len(events(data)) == 4  # the default allows far more


def test_gzip_bomb():
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [compressor.compress(b"<r>")]
    block = b"<p/>" + b" " * ((1 << 20) - 4)  # well-formed all the way, no text node too long
    parts += [compressor.compress(block) for _ in range(200)]
    parts.append(compressor.compress(b"<a>1</a></r>") + compressor.flush())
    bomb = b"".join(parts)
    assert len(bomb) < 1 << 20  # 200 MB in well under 1 MB
    error = refused(bomb, max_decompressed=32 << 20)
    assert (error.position, error.reason) == (
        "gzip",
        f"inflates to more than {32 << 20} bytes (a gzip bomb?)",
    )


def test_truncated_gzip():
    data = gzip.compress(b"<r>" + b"<a>1</a>" * 10_000 + b"</r>")
    assert refused(data[: len(data) // 2]).reason == "the compressed file is truncated"
    assert refused(b"\x1f\x8b" + b"not gzip at all").position == "gzip"


def test_truncated_file():
    error = refused(b"<r>\n<a>1</a>\n<a>2")
    assert error.position == "line 3" and "Premature end of data" in error.reason


def test_a_file_cut_anywhere_hands_over_only_elements_that_closed():
    # libxml2 2.14 ends the elements still open when a cut file is closed, with their cut text:
    # those must never reach a reader, on that version or an older one.
    data = b'<r><a k="v">first &amp; whole</a><b><a>second</a></b><a/><a>third</a></r>'
    closed = [
        (data.index(end) + len(end), text)
        for end, text in [
            (b"whole</a>", "first & whole"),
            (b"second</a>", "second"),
            (b"<a/>", None),
            (b"third</a>", "third"),
        ]
    ]
    for cut in range(1, len(data)):
        ended = []
        with pytest.raises(FileError):
            for event, element in Events(io.BytesIO(data[:cut]), ["a"]):
                if event == "end":
                    ended.append(element.text)
        assert ended == [text for end, text in closed if end <= cut], data[:cut]


@pytest.mark.parametrize(
    "data, position, words",
    [
        (b'<?xml version="1.0" encoding="UTF-16"?><r><a>1</a></r>', "line 1", 'encoding="UTF-16"'),
        (b"<r>\n<a>caf\xe9</a></r>", "line 2", "Invalid bytes in character encoding"),
        (
            b'<?xml version="1.0" encoding="UTF-8"?>\n<r>\n\n<a>\xff\xfe</a></r>',
            "line 4",
            "Invalid bytes",
        ),
        (b"", "line 1", "Document is empty"),
        (b"<r><a>1</b></r>", "line 1", "mismatch"),
        (b"just text", "line 1", "Start tag expected"),
    ],
)
def test_malformed_files_name_their_line(data, position, words):
    error = refused(data)
    assert error.position == position and words in error.reason


def test_latin_1_declared_is_read_as_such():
    data = '<?xml version="1.0" encoding="ISO-8859-1"?><r><a>café</a></r>'.encode("latin-1")
    texts = [
        element.text
        for event, element in Events(io.BytesIO(data), ["a"])
        if event == "end" and element.tag == "a"
    ]
    assert texts == ["café"]


# --- the memory one import may hold ----------------------------------------------------------


def _bomb(block: bytes, copies: int = 600) -> bytes:
    """gzip of <r><a> and `copies` times `block`, the element never ending."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [compressor.compress(b"<r>\n<a>")]
    parts += [compressor.compress(block) for _ in range(copies)]
    return b"".join([*parts, compressor.flush()])


MIB = 1 << 20
HELD_BOMBS = {
    # Text in an element that never ends, in nodes each under every per-node limit.
    "text": _bomb(b"x" * (MIB - 4) + b"<b/>"),
    # Attribute values, each held whole, on elements nobody asked for.
    "attributes": _bomb(b'<b x="' + b"y" * (MIB - 10) + b'"/>'),
}


@pytest.mark.parametrize("kind", HELD_BOMBS)
def test_memory_held_by_an_upload_is_capped_as_a_whole(kind):
    """600 KB of gzip that libxml2 would hold as 600 MB: refused, naming the line, while the
    parse's peak memory stays small. Run apart, so that the peak is this parse's alone."""
    data = HELD_BOMBS[kind]
    assert len(data) < 700_000
    script = f"""
import io, json, sys
sys.path.insert(0, {str(ROOT)!r})
sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_xmlsafe import HELD_BOMBS, peak_mb
from importers.runner import FileError
from importers import xmlsafe
from importers.xmlsafe import Events
start = peak_mb()
try:
    list(Events(io.BytesIO(HELD_BOMBS[{kind!r}]), ["a"]))
    outcome = ["parsed", ""]
except FileError as error:
    outcome = [error.position, error.reason]
print(json.dumps({{"outcome": outcome, "grown_mb": peak_mb() - start}}))
"""
    result = json.loads(
        subprocess.run(
            [sys.executable, "-c", script], check=True, capture_output=True, text=True
        ).stdout
    )
    assert result["outcome"] == [
        "line 2 (r/a[1])",
        f"the elements not yet ended hold more than {16 * MIB} bytes of text and attributes "
        "(the most one import may hold)",
    ]
    assert result["grown_mb"] < 80  # without the cap: 600 MB and more


def test_what_the_tree_holds_across_releases_is_capped_too():
    # Each level keeps 300 KB of text in an element nobody asked for, and releases a record
    # inside it: bytes since the last release stay small, what the tree holds grows.
    level = b"<x>" + b"t" * 300_000 + b"<a>1</a>"
    data = b"<r>" + level * 40 + b"</x>" * 40 + b"</r>"
    error = refused(data, max_held_bytes=4 * MIB)
    assert "hold more than 4194304 bytes" in error.reason
    assert len(events(data, max_held_bytes=16 * MIB)) == 82


def test_records_released_do_not_count_however_many():
    # 12 MB of records and attributes through a 1 MB cap: each is released as it ends.
    record = b'<a k="' + b"v" * 500 + b'">' + b"x" * 500 + b"</a>"
    data = b"<r>" + record * 12_000 + b"</r>"
    assert len(events(data, max_held_bytes=MIB)) == 24_002


def test_a_record_read_whole_counts_its_text_not_its_elements():
    # An ELMO report is read whole (up to 10,000 results, some 220,000 elements): what is
    # measured is the text and attributes it holds, the elements being bounded by max_held.
    data = b"<r><a>" + b'<x k="v">t</x>' * 200_000 + b"</a></r>"
    assert len(events(data, max_held=500_000, max_held_bytes=1 << 20)) == 4
    assert "hold more than" in refused(data, max_held=500_000, max_held_bytes=256 << 10).reason


def test_a_whole_document_is_read_however_many_tags_it_holds():
    """`document` (what a signature is checked on) holds the whole tree within its byte cap, so
    the streaming cap on unreleased tags does not apply: a large transcript is verified, not
    refused for its size in tags."""
    many = xmlsafe.MAX_HELD + 1
    root = xmlsafe.document(b"<r>" + b"<a/>" * many + b"</r>")
    assert len(root) == many
    with pytest.raises(FileError, match="larger than 100 bytes"):
        xmlsafe.document(b"<r>" + b"<a/>" * 30 + b"</r>", max_bytes=100)
