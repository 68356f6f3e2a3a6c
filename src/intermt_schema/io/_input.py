"""Reading inputs: files opened for streaming (gzip guarded against bombs), and
split into bounded lines.

>>> from ._fs import atomic_output
>>> with atomic_output("memory://doc/lines.txt") as f:
...     _ = f.write(b"one\\n\\ntwo\\n")
>>> list(iter_lines("memory://doc/lines.txt"))
[(1, b'one\\n'), (3, b'two\\n')]
"""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Generator, Iterator
from typing import Any

from .._errors import ReadError
from ..validation._containment import open_regular
from ._fs import is_local, local_path

__all__ = [
    "DEFAULT_MAX_RECORD_BYTES",
    "FREE_INFLATION",
    "MAX_INFLATION",
    "block_lines",
    "iter_blocks",
    "iter_lines",
    "open_input",
    "too_large_text",
]

MAX_INFLATION = 200
"""A gzip input may decompress to at most this many times its compressed size..."""
FREE_INFLATION = 16 << 20
"""...once past this many decompressed bytes; beyond, it is refused as a bomb."""


def open_input(url: str) -> Any:
    """Open ``url`` for binary reading, decompressing by suffix (``.gz``, ``.bz2``...).

    A gzip file that inflates more than :data:`MAX_INFLATION` times its size (past
    :data:`FREE_INFLATION` bytes) raises ``ReadError`` while it is read, so a small
    file cannot make a reader scan gigabytes.
    """
    local = is_local(url) and not url.endswith(_OTHER_COMPRESSIONS)
    if local and not url.endswith(".gz"):
        return open_regular(local_path(url), follow_links=True)
    if local:
        raw = _Counted(open_regular(local_path(url), follow_links=True))
    else:
        import fsspec  # local files are read without it, which spares its import

        if fsspec.utils.infer_compression(url) != "gzip":
            return fsspec.open(url, "rb", compression="infer").open()
        raw = _Counted(fsspec.open(url, "rb").open())
    return io.BufferedReader(_Inflating(url, raw), buffer_size=1 << 16)


_OTHER_COMPRESSIONS = (".bz2", ".xz", ".lzma", ".zst", ".zip", ".lz4", ".sz", ".snappy")
"""Suffixes fsspec decompresses besides ``.gz`` (read through fsspec, even locally)."""


class _Counted:
    """A binary file that counts the bytes read from it."""

    def __init__(self, raw: Any) -> None:
        self.raw, self.count = raw, 0

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.raw.read(size)
        self.count += len(data)
        return data

    def close(self) -> None:
        self.raw.close()


class _Inflating(io.RawIOBase):
    """The decompressed bytes of a gzip file, refused past the inflation limit."""

    def __init__(self, url: str, raw: _Counted) -> None:
        super().__init__()
        self.url, self.raw, self.out = url, raw, 0
        self.gzip = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[call-overload]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.gzip.read(len(buffer))
        buffer[: len(data)] = data
        self.out += len(data)
        if self.out > FREE_INFLATION and self.out > MAX_INFLATION * max(self.raw.count, 1):
            raise ReadError(
                f"{self.url} inflates more than {MAX_INFLATION} times its compressed size; "
                "refused as a decompression bomb"
            )
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self.gzip.close()
            self.raw.close()
        super().close()


DEFAULT_MAX_RECORD_BYTES = 256 * 1024 * 1024
"""A record (a line, a Parquet row, an element of a JSON array) longer than this is
refused as too large, unread."""


def too_large_text(max_bytes: int) -> str:
    """What a reader says of a record over the size limit.

    >>> too_large_text(10)
    'the record is longer than 10 bytes'
    """
    return f"the record is longer than {max_bytes} bytes"


_CONTENT = re.compile(rb"[^ \t\r\n\f\v]")
READ_CHUNK = 1 << 20


def iter_lines(
    url: str, max_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> Iterator[tuple[int, bytes | None]]:
    """Yield ``(line_number, line)`` for each non-blank line, from its first non-blank
    byte; ``None`` for a line longer than ``max_bytes``, which is skipped without being
    held in memory.

    The file is read in chunks, and runs of blank lines are counted and skipped by
    C-level searches, so a file of millions of empty lines takes as long as reading it.
    """
    with open_input(url) as f:
        yield from _split_lines(iter(lambda: f.read(READ_CHUNK), b""), max_bytes)


def _split_lines(chunks: Iterator[bytes], max_bytes: int) -> Iterator[tuple[int, bytes | None]]:
    """The non-blank lines of a byte stream given in chunks (see ``iter_lines``).

    >>> list(_split_lines(iter([b"a\\n\\n  \\nb", b"c\\nxxxxx\\n"]), 3))
    [(1, b'a\\n'), (4, b'bc\\n'), (5, None)]
    """
    number = 1  # the line the cursor is in
    parts: list[bytes] = []  # the current line so far, once it has content
    size = 0
    dropping = False  # the current line is too long: skip to its end
    for chunk in chunks:
        pos, end = 0, len(chunk)
        while pos < end:
            if not parts and not dropping:
                found = None if pos == 0 and chunk.isspace() else _CONTENT.search(chunk, pos)
                if found is None:
                    number += chunk.count(b"\n", pos)
                    break
                number += chunk.count(b"\n", pos, found.start())
                pos = found.start()
            newline = chunk.find(b"\n", pos)
            stop = end if newline < 0 else newline + 1
            if not dropping:
                size += (end if newline < 0 else newline) - pos
                if size > max_bytes:
                    dropping, size = True, 0
                    parts.clear()
                else:
                    parts.append(chunk[pos:stop])
            pos = stop
            if newline >= 0:
                line = b"".join(parts)
                if dropping or line.strip():
                    yield number, None if dropping else line
                parts.clear()
                size, dropping = 0, False
                number += 1
    if dropping:
        yield number, None
    elif parts and (line := b"".join(parts)).strip():
        yield number, line


_BLANK = b" \t\r\f\v"  # what _CONTENT skips, but the newline


def iter_blocks(
    url: str,
    max_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    block_bytes: int = READ_CHUNK,
    max_lines: int = 256,
) -> Iterator[tuple[int, bytes | None]]:
    """Yield ``(first line number, block)``, where a block is whole lines of ``url``
    (the file's last may lack its newline), given once they reach ``block_bytes`` and
    cut to at most ``max_lines`` non-blank lines; a line longer than ``max_bytes``
    that no block holds yet is skipped unread: ``(its number, None)``.

    ``block_lines`` of each block gives what ``iter_lines`` gives. Cutting blocks takes
    C-level searches only, so a parent process can hand them to workers that split them.

    >>> from ._fs import atomic_output
    >>> with atomic_output("memory://doc/blocks.txt") as f:
    ...     _ = f.write(b"one\\ntwo\\nthree\\n")
    >>> list(iter_blocks("memory://doc/blocks.txt", block_bytes=5))
    [(1, b'one\\ntwo\\nthree\\n')]
    >>> list(iter_blocks("memory://doc/blocks.txt", block_bytes=5, max_lines=2))
    [(1, b'one\\ntwo\\n'), (3, b'three\\n')]
    """
    with open_input(url) as f:
        chunks = iter(lambda: f.read(READ_CHUNK), b"")
        yield from _blocks(chunks, max_bytes, block_bytes, max_lines)


def block_lines(
    first: int, block: bytes, max_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> Iterator[tuple[int, bytes | None]]:
    """The numbered lines of a block from ``iter_blocks`` that starts at line ``first``,
    as ``iter_lines`` gives them.

    >>> list(block_lines(7, b"a\\n\\n b\\n"))
    [(7, b'a\\n'), (9, b'b\\n')]
    """
    for number, line in _split_lines(iter((block,)), max_bytes):
        yield first + number - 1, line


def _blocks(
    chunks: Iterator[bytes], max_bytes: int, block_bytes: int, max_lines: int = 1 << 62
) -> Iterator[tuple[int, bytes | None]]:
    """The blocks of a byte stream given in chunks (see ``iter_blocks``). The line after
    the last whole one is held from its first non-blank byte, as ``_split_lines``
    holds it. When reading fails, the whole lines held are given before the error is
    raised, as ``_split_lines`` gives them.

    >>> list(_blocks(iter([b"ab\\nc", b"d\\n\\nxx", b"x\\ne"]), 4, 3))
    [(1, b'ab\\n'), (2, b'cd\\n\\n'), (4, b'xxx\\n'), (5, b'e')]
    >>> list(_blocks(iter([b"ab\\n", b"xxxxx", b"x\\ne"]), 4, 100))
    [(1, b'ab\\n'), (2, None), (3, b'e')]
    """
    number = 1  # the line that ``whole`` starts in
    whole: list[bytes | memoryview] = []  # whole lines not yet given
    size = 0  # their bytes
    partial: list[bytes | memoryview] = []  # the line after them, from its first non-blank byte
    held = 0  # its bytes
    dropping = False  # the line ``number`` is too long: skip to its end
    try:
        for chunk in chunks:
            if dropping:
                newline = chunk.find(b"\n")
                if newline < 0:
                    continue
                yield number, None
                number, dropping, chunk = number + 1, False, chunk[newline + 1 :]
            last = chunk.rfind(b"\n") + 1
            if last:
                whole += partial
                whole.append(memoryview(chunk)[:last] if last < len(chunk) else chunk)
                size += held + last
                partial, held = [], 0
            tail = chunk[last:] if held else chunk[last:].lstrip(_BLANK)
            partial.append(tail)
            held += len(tail)
            if held > max_bytes or size >= block_bytes:
                if whole:
                    number = yield from _cut(number, b"".join(whole), max_lines)
                    whole, size = [], 0
                if held > max_bytes:
                    partial, held, dropping = [], 0, True
    except Exception:
        if whole:
            yield from _cut(number, b"".join(whole), max_lines)
        raise
    if dropping:
        yield number, None
    elif whole or held:
        yield from _cut(number, b"".join(whole + partial), max_lines)


def _cut(number: int, data: bytes, max_lines: int) -> Generator[tuple[int, bytes], None, int]:
    """``data``, whole lines from line ``number``, as blocks of at most ``max_lines``
    non-blank lines; returns the number of the line after them. Blank runs are skipped
    by C-level searches, so a block of blank lines costs what a block of records does.

    >>> list(_cut(4, b"a\\n\\n\\nb\\nc", 2))
    [(4, b'a\\n\\n\\nb\\n'), (8, b'c')]
    """
    newlines = _newlines(data)
    if newlines < max_lines or data.isspace():  # few lines (the common case), or blank
        yield number, data
        return number + newlines
    start = 0
    while start < len(data):
        stop = _after_lines(data, start, max_lines)
        yield number, data[start:stop]
        number += data.count(b"\n", start, stop)
        start = stop
    return number


def _after_lines(data: bytes, start: int, lines: int) -> int:
    """Where ``lines`` non-blank lines of ``data`` from ``start`` end (its end when it
    holds fewer)."""
    at = start
    for _ in range(lines):
        found = _CONTENT.search(data, at)
        newline = -1 if found is None else data.find(b"\n", found.start())
        if newline < 0:
            return len(data)
        at = newline + 1
    return at


def _newlines(data: bytes) -> int:
    """How many newlines ``data`` holds: hops from one to the next at memchr's speed
    while lines are long, and counts byte by byte once they prove short."""
    count, at = 0, data.find(b"\n")
    while at >= 0:
        count += 1
        if at < count << 10:  # under 1 KB a line: counting costs less than hopping
            return count + data.count(b"\n", at + 1)
        at = data.find(b"\n", at + 1)
    return count
