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
  node it holds), handed over, then cleared and its previous siblings deleted, so the tree in
  memory is the path to the current element plus one record. Elements the caller asks to `skip`
  (attachments, signatures) are dropped unread, their text never copied into Python;
- markup read without any element being released is counted, so a file padded with elements no
  caller asked for cannot grow the tree without bound either.

Whatever is wrong with the file (syntax, encoding, truncation, a limit) ends as a `FileError`
naming the line.
"""

from __future__ import annotations

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
    ):
        self.source = source
        self.tags = frozenset(tags)
        self.skip = frozenset(skip)
        self.max_depth = max_depth
        self.max_text = max_text
        self.max_decompressed = max_decompressed
        self.max_held = max_held
        self.root: Any = None
        # The open elements the caller asked for: [element, name, index among same-name
        # siblings, {child name: count}], root first.
        self._stack: list[list[Any]] = []
        self._depth_checks: dict[int, etree.XPath] = {}

    # --- positions -----------------------------------------------------------------------

    def path(self, element: Any = None) -> str:
        """`elmo/report[1]/learningOpportunitySpecification[3]`: the open elements down to
        `element` (the innermost when None), each with its index among same-name siblings."""
        parts = []
        for frame in self._stack:
            parts.append(frame[1] if len(parts) == 0 else f"{frame[1]}[{frame[2]}]")
            if frame[0] is element:
                break
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

        for chunk in fed():
            broken, released, markup = None, False, 0
            try:
                if chunk is None:
                    parser.close()
                else:
                    markup = chunk.count(b"<")
                    parser.feed(chunk)
            except etree.XMLSyntaxError as error:
                broken = error
            for event, element in parser.read_events():
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
                    stack.append([element, name, index, {}])
                    yield event, element
                    continue
                self._check(element)
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

    def _check(self, element: Any) -> None:
        """Every text node the caller can reach is within max_text; the depth within max_depth."""
        limit, count = self.max_text, 0
        for node in element.iter():
            count += 1
            text = node.text
            if text is not None and len(text) > limit:
                self._too_long(node)
            tail = node.tail
            if tail is not None and len(tail) > limit and node is not element:
                self._too_long(node)
        for sibling in element.itersiblings(preceding=True):
            for node in sibling.iter():
                count += 1
                text = node.text
                if (text is not None and len(text) > limit) or (
                    node.tail is not None and len(node.tail) > limit
                ):
                    self._too_long(node)
        self._check_depth(element, count)

    def _check_depth(self, element: Any, count: int | None = None) -> None:
        depth = 1
        for _ in element.iterancestors():
            depth += 1
        if count is None:
            count = sum(1 for _ in element.iter())
        if depth + count <= self.max_depth + 1:
            return  # n elements cannot reach more than n levels deep
        nodes = [element, *element.itersiblings(preceding=True)]
        below = self.max_depth - depth + 1  # levels below `element` that would be too deep
        if depth > self.max_depth:
            below = 0
        check = self._depth_checks.get(below)
        if check is None:
            check = self._depth_checks[below] = etree.XPath(
                "boolean(" + ("/".join(["*"] * below) if below else "self::*") + ")"
            )
        if any(check(node) for node in nodes):
            raise FileError(
                f"line {element.sourceline or '?'} ({self.path()})",
                f"elements nested more than {self.max_depth} deep",
            )

    def _too_long(self, node: Any) -> None:
        raise FileError(
            f"line {node.sourceline or '?'} ({self.path()})",
            f"a text node longer than {self.max_text} characters",
        )
