"""A reader run in a second process, so that reading a large file (parsing, extracting) and
storing what it yields (checking, writing) use both cores instead of taking turns on one.

A plain file is read by the child itself, from the file object's position (its descriptor is
passed on); any other stream (an upload, a progress-bar wrapper counting the bytes read) is
read here and its bytes sent to the child on one pipe from a feeder thread. The child runs the
reader (xmlsafe's protections included, since it is the same reader) and sends back
(position, record) pairs in batches on another pipe, marshalled (pickled when a batch holds
other objects than plain values); a reader that packs its records (importers.transcripts) makes
them cheaper to move. Checking the records (`check`, a schema) is shared, and
balances the two processes (which side is slower depends on the machine and the file): the
child checks a batch when its batches fill most of
the pipe, that is when this process is the slower one, and leaves it to this process
otherwise. A FileError raised in the child is raised again here after the records before it,
as if the reader had run in this process; any other failure in the child is a RuntimeError
naming it. The child is a new
interpreter (`python -P -m importers.parallel`, importing from this process's path), not a
fork, because the importer may be a thread of a server; and not multiprocessing's spawn
either, which imports the caller's main module again in the child (a user's script without a
main guard would start its import twice). Starting it takes about half a second, so `read`
uses the child only for inputs of at least `PARALLEL_FROM` bytes.
"""

from __future__ import annotations

import array
import contextlib
import fcntl
import gc
import io
import marshal
import os
import pickle
import queue
import stat
import subprocess
import sys
import termios
import threading
import traceback
from collections.abc import Callable, Iterator
from itertools import islice
from multiprocessing.connection import Connection
from typing import IO, Any

from marshmallow import Schema

from importers.runner import FileError, checked

# Where the child starts to pay for its start: about 30,000 ELMO results (measured: 35,000
# records/s in one process, 55,000-60,000 in two).
PARALLEL_FROM = 16 << 20
BATCH = 1000  # records per message: about 300 kB marshalled
CHUNK = 1 << 20  # bytes of input per message
QUEUED = 16  # batches received and not yet stored

Reader = Callable[[IO[bytes]], Iterator[tuple[str, Any]]]


def read(
    reader: Reader,
    stream: IO[bytes],
    *,
    check: Callable[[], Schema] | None = None,
    parallel: bool | None = None,
) -> Iterator[tuple[str, Any]]:
    """reader(stream), in a child process when `parallel`, or by default when the stream is a
    file of PARALLEL_FROM bytes or more; with `check` (a schema class), every record checked by
    one of its instances (`importers.runner.checked`). `reader` and `check` must be picklable
    (module-level, or a functools.partial of such)."""
    if parallel is None:
        size = _size(stream)
        # An embedded interpreter may have no executable to start another with.
        parallel = size is not None and size >= PARALLEL_FROM and bool(sys.executable)
    if parallel:
        return _in_child(reader, stream, check)
    return reader(stream) if check is None else checked(reader(stream), check())


def _size(stream: IO[bytes]) -> int | None:
    try:
        return os.fstat(stream.fileno()).st_size - stream.tell()
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None


def _in_child(
    reader: Reader, stream: IO[bytes], check: Callable[[], Schema] | None
) -> Iterator[tuple[str, Any]]:
    bytes_in, bytes_out = _pipe()
    records_in, records_out = _pipe()
    at = _file_at(stream)
    # The child imports from this process's path and nowhere else (-P: not its working
    # directory first), so both run the same code.
    path = os.pathsep.join(entry or os.getcwd() for entry in sys.path)
    child = subprocess.Popen(
        [sys.executable, "-P", "-m", "importers.parallel", str(bytes_in), str(records_out)],
        pass_fds=(bytes_in, records_out) if at is None else (bytes_in, records_out, at[0]),
        env={**os.environ, "PYTHONPATH": path},
    )
    os.close(bytes_in)
    os.close(records_out)
    sending = Connection(bytes_out, readable=False)
    receiving = Connection(records_in, writable=False)
    # Batches wait here, already off the pipe, so the child keeps reading while this process
    # stores a batch; the bound keeps memory flat when storing is the slower side.
    arrived: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUED)
    threads = [
        threading.Thread(target=_feed, args=((reader, check, at), stream, sending), daemon=True),
        threading.Thread(target=_receive, args=(receiving, arrived), daemon=True),
    ]
    for thread in threads:
        thread.start()
    schema = check() if check is not None else None
    try:
        while True:
            message = arrived.get()
            if message is None:
                raise RuntimeError(
                    f"the import's reader process ended unexpectedly (exit code {child.wait()})"
                )
            kind, payload = _decoded(message)
            if kind == "checked" or (kind == "records" and schema is None):
                yield from payload
            elif kind == "records":
                yield from checked(payload, schema)
            elif kind == "file_error":
                raise FileError(*payload)
            elif kind == "failed":
                raise RuntimeError(f"the import's reader process failed:\n{payload}")
            else:
                return
    finally:
        if child.poll() is None:
            child.terminate()
        child.wait()
        while threads[1].is_alive():  # unblock a receiver waiting for room in the queue
            with contextlib.suppress(queue.Empty):
                arrived.get_nowait()
            threads[1].join(0.01)
        threads[0].join()
        sending.close()
        receiving.close()


def _file_at(stream: IO[bytes]) -> tuple[int, int] | None:
    """(descriptor, offset) of a plain file opened for reading, which the child can read
    itself; None for anything else (a pipe, an upload in memory, a wrapper that counts the
    bytes read for a progress bar), whose bytes are sent to it."""
    if type(stream) not in (io.BufferedReader, io.FileIO):
        return None
    try:
        descriptor = stream.fileno()
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        return descriptor, stream.tell()
    except (OSError, ValueError):
        return None


def _pipe() -> tuple[int, int]:
    """A pipe that holds a few messages, so each side blocks less and the threads that move
    them here need the interpreter lock once per message rather than once per 64 kB."""
    read_end, write_end = os.pipe()
    with contextlib.suppress(OSError, AttributeError, ValueError):
        with open("/proc/sys/fs/pipe-max-size") as limit:
            fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, min(int(limit.read()), 4 << 20))
    return read_end, write_end


def _encoded(kind: str, payload: Any) -> bytes:
    """A message: marshal where it can write the payload (records of plain strings, numbers,
    lists and dicts, written and read in about half pickle's time), else pickle (a Rejected, a
    checked record's dates and decimals). Both ends run the same interpreter."""
    try:
        return b"m" + marshal.dumps((kind, payload))
    except ValueError:
        return b"p" + pickle.dumps((kind, payload), pickle.HIGHEST_PROTOCOL)


def _decoded(message: bytes) -> tuple[str, Any]:
    body = memoryview(message)[1:]
    return marshal.loads(body) if message[:1] == b"m" else pickle.loads(body)


def _receive(connection: Connection, arrived: queue.Queue) -> None:
    """Moves the child's messages off the pipe as they come; None when it closes."""
    try:
        while True:
            arrived.put(connection.recv_bytes())
    except (EOFError, OSError):
        arrived.put(None)


def _feed(work: tuple[Reader, Any, Any], stream: IO[bytes], connection: Connection) -> None:
    """Sends the reader, the schema and where the child reads the file itself (or None), then
    the stream's bytes when it does not, then an empty message for their end; stops quietly
    when the child has gone (it failed, or the import was abandoned)."""
    try:
        connection.send_bytes(pickle.dumps(work))
        if work[2] is not None:
            return
        while chunk := stream.read(CHUNK):
            connection.send_bytes(chunk)
        connection.send_bytes(b"")
    except (OSError, ValueError):
        pass


class _FileAt(io.RawIOBase):
    """A file descriptor read from `offset` on with pread, leaving the descriptor's own offset
    (shared with the importing process's file object) where it was."""

    def __init__(self, descriptor: int, offset: int):
        self.descriptor = descriptor
        self.offset = offset

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        piece = os.pread(self.descriptor, CHUNK if size < 0 else size, self.offset)
        self.offset += len(piece)
        return piece


class _Received(io.RawIOBase):
    """The bytes the feeder sends, as a binary stream (read in pieces of at most `size`, as
    the reader asks: xmlsafe's accounting is by the chunk)."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.pending = b""
        self.offset = 0
        self.done = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.offset >= len(self.pending):
            if self.done:
                return b""
            self.pending, self.offset = self.connection.recv_bytes(), 0
            self.done = not self.pending
        end = len(self.pending) if size < 0 else self.offset + size
        piece = self.pending[self.offset : end]
        self.offset += len(piece)
        return piece


def waiting(connection: Connection) -> bool:
    """Whether the messages sent on `connection` fill three quarters of its pipe: the other end
    reads them more slowly than they come (not just late for a moment: a message is a third
    of a pipe of 1 MB)."""
    pending = array.array("i", [0])
    fcntl.ioctl(connection.fileno(), termios.FIONREAD, pending, True)
    size = 1 << 16  # POSIX systems other than Linux: their usual pipe size
    with contextlib.suppress(AttributeError):
        size = fcntl.fcntl(connection.fileno(), fcntl.F_GETPIPE_SZ)
    return pending[0] * 4 >= size * 3


def _child(
    bytes_in: Connection,
    records_out: Connection,
    behind: Callable[[Connection], bool] = waiting,
) -> None:
    # The reader makes no reference cycles worth collecting; the collector's passes over a
    # million short-lived records would only cost time.
    gc.disable()
    batch: list[tuple[str, Any]] = []
    try:
        reader, check, at = pickle.loads(bytes_in.recv_bytes())
        schema = check() if check is not None else None
        source = _Received(bytes_in) if at is None else _FileAt(*at)
        items = reader(source)
        while True:
            # Taken in C; when the reader raises, what it yielded before is in the batch.
            batch.extend(islice(items, BATCH))
            if not batch:
                break
            if schema is not None and behind(records_out):
                records_out.send_bytes(_encoded("checked", list(checked(batch, schema))))
            else:
                records_out.send_bytes(_encoded("records", batch))
            batch = []
        ending: tuple[str, Any] = ("done", None)
    except FileError as error:
        ending = ("file_error", (error.position, error.reason))
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises it
        ending = ("failed", traceback.format_exc())
    try:
        if batch:  # what was read before the end, or before the break
            records_out.send_bytes(_encoded("records", batch))
        records_out.send_bytes(_encoded(*ending))
    finally:
        records_out.close()


if __name__ == "__main__":
    _child(
        Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False)
    )
