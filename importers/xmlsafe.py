"""The one hardened entry to lxml: every XML file the registry reads goes through `Events`.

An XML parser left to its defaults expands entities (billion laughs), reads the files and URLs a
DOCTYPE names (XXE), builds the whole file as a tree, and accepts text nodes of any size. Here:

- lxml parses with `resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False`, a
  resolver that refuses every load, and is only ever handed bytes we read ourselves (never a
  file name or URL), so nothing besides the input is read from disk or network;
- the prolog is parsed first on its own: a DOCTYPE that declares entities or names an external
  DTD is refused before the main parse starts;
- gzip input (told by its magic bytes) is inflated as a stream, with a cap on the inflated size;
- the caller names the elements it wants; each is checked when it ends (depth, size of every text
  node it holds and of those before it, by XPaths evaluated in C rather than a walk in Python;
  an element that spans fewer bytes than the text limit is not searched inside), handed over,
  then cleared and its previous siblings deleted, so the tree in memory is the path to the
  current element plus one record. Elements the caller asks to `skip` (attachments, signatures)
  are dropped unread, their text never copied into Python;
- markup read without any element being released is counted, so a file padded with elements no
  caller asked for cannot grow the tree without bound either;
- the memory the tree holds is capped as a whole, not only node by node: libxml2 keeps the text
  of an element until it ends and every attribute value whole, and huge_tree=False caps each
  node at 10 MB but not their sum (600 KB of gzip, text in an element that never ends, held
  600 MB). Bytes fed since the tree was last measured are counted per chunk; when they and the
  last measure could exceed twice `max_held_bytes`, the tree is measured (text, tails, attribute
  names and values; the number of elements is bounded by the tags counted above) and refused
  over `max_held_bytes`. A measure is
  made at most once per `max_held_bytes` bytes fed, so the cost stays linear in the input and
  nothing is added per record.

Whatever is wrong with the file (syntax, encoding, truncation, a limit) ends as a `FileError`
naming the line.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from lxml import etree

from importers.runner import FileError

MAX_DEPTH = 64
# The most one text node may hold. libxml2 itself refuses text nodes over 10 MB (huge_tree=False)
# before they are complete, so that is the ceiling whatever is configured here.
MAX_TEXT = 1 << 20
MAX_DECOMPRESSED = 2 << 30
MAX_PROLOG = 1 << 20
# '<' characters (about two per element) read since the chunk of the last release: bounds the
# tree held. A chunk holds at most CHUNK / 3 of them, so this must stay well above that.
MAX_HELD = 200_000
CHUNK = 1 << 16
# Bytes of text and attributes (as read) the tree may hold at a measure; between two measures at
# most as much again is fed. Far above any one record, or an attachment libxml2 accepts (10 MB).
MAX_HELD_BYTES = 16 << 20
GZIP_MAGIC = b"\x1f\x8b"
SAFE = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}
_LIBXML_SUFFIX = re.compile(r", line \d+, column \d+$")
# An XML declaration readable as ASCII (no BOM, single-byte text), and its encoding.
_DECLARED = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


class _RefuseLoads(etree.Resolver):
    """Belt and braces: libxml2 asks this before loading any external resource."""

    def resolve(self, url, pubid, context):
        raise FileError(
            "prolog",
            f"the document refers to an external resource ({url}); "
            "nothing but the file itself is read",
        )


def _parser(events: tuple[str, ...], tags: Iterable[str] | None) -> etree.XMLPullParser:
    parser = etree.XMLPullParser(
        events=events, tag=tags, remove_comments=True, remove_pis=True, **SAFE
    )
    parser.resolvers.add(_RefuseLoads())
    return parser


def _syntax_error(error: etree.XMLSyntaxError) -> FileError:
    reason = _LIBXML_SUFFIX.sub("", error.msg or str(error)) or "not well-formed XML"
    return FileError(f"line {error.lineno or 1}", reason)


def _check_declared_encoding(start: bytes) -> None:
    """libxml2 answers a declared UTF-16 over single-byte text with "Blank needed here"; say
    what is wrong instead."""
    match = _DECLARED.match(start)
    if match and re.match(rb"(?i)(utf|ucs)-?(16|32|2|4)", match[1]):
        raise FileError(
            "line 1",
            f'the XML declaration says encoding="{match[1].decode()}" '
            "but the file is written in a single-byte encoding",
        )


def _plain(first: bytes, stream: IO[bytes]) -> Iterator[bytes]:
    yield first
    while chunk := stream.read(CHUNK):
        yield chunk


def _gunzip(first: bytes, stream: IO[bytes], limit: int) -> Iterator[bytes]:
    """Inflate gzip members as they come, never more than CHUNK bytes at a time."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    pending, total = first, 0
    while True:
        if not pending:
            pending = stream.read(CHUNK)
            if not pending:
                if not inflater.eof:
                    raise FileError("gzip", "the compressed file is truncated")
                return
        if inflater.eof:  # another member follows (concatenated gzip files are one stream)
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out = inflater.decompress(pending, CHUNK)
        except zlib.error as error:
            raise FileError("gzip", f"not a valid gzip stream: {error}") from error
        pending = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
        total += len(out)
        if total > limit:
            raise FileError("gzip", f"inflates to more than {limit} bytes (a gzip bomb?)")
        if out:
            yield out


def chunks(stream: IO[bytes], max_decompressed: int = MAX_DECOMPRESSED) -> Iterator[bytes]:
    """The input's bytes, inflated when it starts with the gzip magic bytes."""
    first = stream.read(CHUNK)
    if not isinstance(first, bytes):
        raise TypeError("xmlsafe reads binary streams (open the file with 'rb')")
    if first.startswith(GZIP_MAGIC):
        return _gunzip(first, stream, max_decompressed)
    return _plain(first, stream)


def relative_path(element: Any, top: Any) -> str:
    """`hasPart[2]/learningOpportunitySpecification[1]`: the steps from `top` down to
    `element`, each indexed among its same-name siblings still in the tree; "" when `element`
    is not inside `top`."""
    steps, node = [], element
    while node is not None and node is not top:
        index = 1 + sum(1 for _ in node.itersiblings(node.tag, preceding=True))
        steps.append(f"{etree.QName(node).localname}[{index}]")
        node = node.getparent()
    return "/".join(reversed(steps)) if node is top else ""


class Events:
    """Start and end events of the named elements of one XML document, checked and released.

    `source` is a path or a binary file object, plain or gzip. `tags` are the elements the caller
    wants ("{namespace}name"); the root element is always reported too (its "start" first), so a
    caller can refuse a document by its root before reading on. On an "end" event the element,
    its subtree and its preceding siblings (what the caller can reach) have been checked; when
    the caller asks for the next event the element is cleared and its preceding siblings
    deleted: take what is needed from an element at its end. `skip` elements, and everything in
    them, produce no events and are dropped unread as soon as they end.

    Raises FileError for anything wrong with the file, with the line where it was found.
    """

    def __init__(
        self,
        source: str | Path | IO[bytes],
        tags: Iterable[str],
        *,
        skip: Iterable[str] = (),
        max_depth: int = MAX_DEPTH,
        max_text: int = MAX_TEXT,
        max_decompressed: int = MAX_DECOMPRESSED,
        max_held: int = MAX_HELD,
        max_held_bytes: int = MAX_HELD_BYTES,
    ):
        self.source = source
        self.tags = frozenset(tags)
        self.skip = frozenset(skip)
        self.max_depth = max_depth
        self.max_text = max_text
        self.max_decompressed = max_decompressed
        self.max_held = max_held
        self.max_held_bytes = max_held_bytes
        self.root: Any = None
        # The open elements the caller asked for: [element, name, index among same-name
        # siblings, {child name: count}, bytes read before the chunk it starts in], root first.
        self._stack: list[list[Any]] = []
        self._depth_checks: dict[int, etree.XPath] = {}
        # The first text node longer than the limit inside an element, and among (or inside)
        # its preceding siblings: two XPaths, because the first is needed only for an element
        # that spans more bytes of input than the limit.
        long_text = f"[string-length() > {int(max_text)}][1]"
        self._long_text_inside = etree.XPath(f"descendant::text(){long_text}")
        self._long_text_before = etree.XPath(
            f"(preceding-sibling::text() | preceding-sibling::*//text()){long_text}"
        )

    # --- positions -----------------------------------------------------------------------

    def path(self, element: Any = None) -> str:
        """`elmo/report[1]/learningOpportunitySpecification[3]`: the open elements down to
        `element` (the innermost when None), each with its index among same-name siblings. An
        element the caller did not ask for is reached from the innermost open element holding
        it, its steps indexed among the siblings still in the tree."""
        parts = []
        for frame in self._stack:
            parts.append(frame[1] if len(parts) == 0 else f"{frame[1]}[{frame[2]}]")
            if frame[0] is element:
                return "/".join(parts)
        if element is not None:
            for depth in range(len(self._stack) - 1, -1, -1):
                steps = relative_path(element, self._stack[depth][0])
                if steps:
                    return "/".join([*parts[: depth + 1], steps])
        return "/".join(parts)

    def position(self, element: Any = None) -> str:
        """`line 12 (elmo/report[1]/learningOpportunitySpecification[3])`."""
        if element is None and self._stack:
            element = self._stack[-1][0]
        line = element.sourceline if element is not None else None
        return f"line {line or '?'} ({self.path(element)})"

    def index(self, element: Any) -> int:
        """The element's index among its same-name siblings (1 for the first); 0 when the
        element is not open."""
        return next((frame[2] for frame in self._stack if frame[0] is element), 0)

    # --- the parse -----------------------------------------------------------------------

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        opened = None
        if isinstance(self.source, (str, Path)):
            stream = opened = open(self.source, "rb")  # closed below
        else:
            stream = self.source
        try:
            yield from self._events(chunks(stream, self.max_decompressed))
        finally:
            if opened is not None:
                opened.close()

    def _prolog(self, data: Iterator[bytes]) -> list[bytes]:
        """Parse up to the root's start tag on its own; refuse DOCTYPEs that declare entities
        or name an external DTD before the main parse sees them. Returns the bytes read."""
        parser, read, size = _parser(("start",), None), [], 0
        for chunk in data:
            if not read:
                _check_declared_encoding(chunk)
            read.append(chunk)
            size += len(chunk)
            broken = None
            try:
                parser.feed(chunk)
            except etree.XMLSyntaxError as error:
                broken = error
            for _, element in parser.read_events():
                self._check_doctype(element)
                self.root = element.tag
                return read
            if broken is not None:
                raise _syntax_error(broken) from broken
            if size > MAX_PROLOG:
                raise FileError("line 1", f"no root element in the first {MAX_PROLOG} bytes")
        try:
            parser.close()
        except etree.XMLSyntaxError as error:
            raise _syntax_error(error) from error
        raise FileError("line 1", "the file holds no XML element")

    @staticmethod
    def _check_doctype(root: Any) -> None:
        info = root.getroottree().docinfo
        dtd = info.internalDTD
        entities = [entity.name for entity in dtd.iterentities()] if dtd is not None else []
        if entities:
            raise FileError(
                "prolog",
                "the DOCTYPE declares entities "
                f"({', '.join(entities[:5])}); entities are not accepted",
            )
        if info.system_url or info.public_id:
            raise FileError(
                "prolog",
                "the DOCTYPE names an external DTD "
                f"({info.system_url or info.public_id}); it is not loaded "
                "and not accepted",
            )

    def _events(self, data: Iterator[bytes]) -> Iterator[tuple[str, Any]]:
        prefix = self._prolog(data)
        parser = _parser(("start", "end"), self.tags | self.skip | {self.root})
        skipping: Any = None  # the skipped element we are inside, if any
        held = 0
        stack, skip, tags = self._stack, self.skip, self.tags
        names: dict[str, str] = {}

        def fed() -> Iterator[bytes | None]:
            yield from prefix
            yield from data
            yield None  # end of input: close the parser

        before = read = 0  # bytes fed before the current chunk, and with it
        # The tree's size at the last measure, and the bytes fed since: their sum bounds it.
        measured = unmeasured = 0
        for chunk in fed():
            broken, released, markup = None, False, 0
            try:
                if chunk is None:
                    parser.close()
                else:
                    markup = chunk.count(b"<")
                    before, read = read, read + len(chunk)
                    unmeasured += len(chunk)
                    if measured + unmeasured > 2 * self.max_held_bytes:
                        measured, unmeasured = self._measure_held(), 0
                    parser.feed(chunk)
            except etree.XMLSyntaxError as error:
                broken = error
            events = parser.read_events()
            if broken is not None and chunk is None:
                # A failed close: every complete tag was reported while feeding, so what comes
                # now are the elements still open, ended by libxml2 >= 2.14 with their cut text.
                events = ()
            for event, element in events:
                if skipping is not None:
                    if element is skipping and event == "end":
                        self._check_depth(element)
                        element.clear(keep_tail=True)
                        skipping = None
                    continue
                tag = element.tag
                if tag in skip and tag not in tags:
                    if event == "start":
                        skipping = element
                    continue
                if event == "start":
                    name = names.get(tag)
                    if name is None:
                        name = names[tag] = etree.QName(tag).localname
                    if stack:
                        counts = stack[-1][3]
                        counts[name] = index = counts.get(name, 0) + 1
                    else:
                        index = 1
                    stack.append([element, name, index, {}, before])
                    yield event, element
                    continue
                self._check(element, read - stack[-1][4])
                yield event, element
                element.clear(keep_tail=True)
                parent = element.getparent()
                if parent is not None:
                    while element.getprevious() is not None:
                        del parent[0]
                stack.pop()
                released = True
            if broken is not None:
                raise _syntax_error(broken) from broken
            # Counted by chunk: all of a chunk may follow its last release.
            held = markup if released else held + markup
            if held > self.max_held:
                raise FileError(
                    self.position(),
                    f"more than {self.max_held} tags read with no element of interest ending",
                )

    def _measure_held(self) -> int:
        """The size of what the tree holds (text, tails, attribute names and values);
        FileError over max_held_bytes. Only the tree: what libxml2 has not parsed yet is at most
        10 MB (it refuses to look further ahead without huge_tree)."""
        if not self._stack:
            return 0
        root, size = self._stack[0][0], 0
        for node in root.iter():
            size += len(node.text or "") + len(node.tail or "")
            for name, value in node.items():
                size += len(name) + len(value)
            if size > self.max_held_bytes:
                raise FileError(
                    self.position(),
                    f"the elements not yet ended hold more than {self.max_held_bytes} bytes of "
                    "text and attributes (the most one import may hold)",
                )
        return size

    def _check(self, element: Any, span: int) -> None:
        """Every text node the caller can reach is within max_text; the depth within max_depth.
        `span` is at least the bytes of input the element takes: one of fewer bytes than
        max_text cannot hold a longer text."""
        found = self._long_text_inside(element) if span > self.max_text else None
        if not found and element.getprevious() is not None:
            found = self._long_text_before(element)
        if found:
            self._too_long(found[0].getparent())
        self._check_depth(element)

    def _check_depth(self, element: Any) -> None:
        depth = 1
        for _ in element.iterancestors():
            depth += 1
        below = self.max_depth - depth + 1  # levels below `element` that would be too deep
        check = self._depth_checks.get(below)
        if check is None:
            steps = "/*" * below if below > 0 else ""
            check = self._depth_checks[below] = etree.XPath(
                f"boolean((. | preceding-sibling::*){steps})" if below > 0 else "true()"
            )
        if check(element):
            raise FileError(
                f"line {element.sourceline or '?'} ({self.path()})",
                f"elements nested more than {self.max_depth} deep",
            )

    def _too_long(self, node: Any) -> None:
        raise FileError(
            f"line {node.sourceline or '?'} ({self.path(node)})",
            f"a text node longer than {self.max_text} characters",
        )


# A whole document held as a tree (what an XML signature needs) is kept small.
MAX_DOCUMENT = 16 << 20


def document(data: bytes, max_bytes: int = MAX_DOCUMENT) -> Any:
    """A whole, small XML document as a tree, for what needs all of it at once (an XML
    signature covers the document): first read through `Events`, so every rule above holds
    (DOCTYPE, depth, text sizes), then parsed whole with the same options and resolver. The
    bytes are parsed as they are: gzip is not inflated (a signature covers the XML).

    :raise FileError: what `Events` refuses, or a document over `max_bytes`.
    """
    if len(data) > max_bytes:
        raise FileError("size", f"the document is larger than {max_bytes} bytes")
    if data.startswith(GZIP_MAGIC):
        raise FileError("gzip", "a compressed document: send the XML itself")
    # The whole document is held anyway, within max_bytes: the streaming caps on what is held
    # unreleased would refuse a large, well-formed document for being one.
    for _ in Events(io.BytesIO(data), (), max_held=len(data) + 1, max_held_bytes=len(data) + 1):
        pass
    parser = etree.XMLParser(**SAFE)
    parser.resolvers.add(_RefuseLoads())
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise _syntax_error(error) from error
