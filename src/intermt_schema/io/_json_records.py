"""Records in JSON files: a JSON array or JSON Lines, read one record at a time in
bounded memory, and written atomically.

>>> write_json_records([{"a": 1}], "memory://doc/r.jsonl", array=False)
1
>>> [record for _, record, _, _ in read_json_records("memory://doc/r.jsonl")]
[{'a': 1}]
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import msgspec

from ._fs import atomic_output, is_local
from ._input import DEFAULT_MAX_RECORD_BYTES, iter_lines, open_input, too_large_text

__all__ = [
    "json_lines",
    "read_json_records",
    "rewrite_records",
    "verbatim",
    "write_json_lines",
    "write_json_records",
]

_encoder = msgspec.json.Encoder()


def write_json_records(records: Iterable[Any], url: str, *, array: bool) -> int:
    """Write records as a JSON array (``array=True``) or JSON Lines, streaming and
    atomically; returns the count."""
    return write_json_lines(json_lines(records), url, array=array)


def json_lines(records: Iterable[Any]) -> Iterator[bytes]:
    """Each record encoded as one JSON line.

    >>> list(json_lines([{"a": 1}, "b"]))
    [b'{"a":1}\\n', b'"b"\\n']
    """
    for record in records:
        yield _encoder.encode(record) + b"\n"


def write_json_lines(blocks: Iterable[bytes], url: str, *, array: bool) -> int:
    """Write blocks of records already encoded as JSON Lines (each record one line,
    ending in a newline) as a JSON array (``array=True``) or JSON Lines, streaming and
    atomically; returns the count. Encoded JSON holds no raw newline, so a block's
    records are found by its newlines.

    >>> blocks = [b'{"a":1}\\n{"a":2}\\n', b"", b"3\\n"]
    >>> write_json_lines(blocks, "memory://doc/b.json", array=True)
    3
    >>> [record for _, record, _, _ in read_json_records("memory://doc/b.json")]
    [{'a': 1}, {'a': 2}, 3]
    """
    count = 0
    with atomic_output(url) as out:
        if array:
            out.write(b"[")
        for block in blocks:
            records = block.count(b"\n")
            if array and records:
                out.write(b",\n" if count else b"\n")
                last = memoryview(block)[:-1]  # one record: written without a copy
                out.write(last if records == 1 else block[:-1].replace(b"\n", b",\n"))
            elif records:
                out.write(block)
            count += records
        if array:
            out.write(b"\n]\n")
    return count


def rewrite_records(url: str, change: Callable[[Any], Any], *, array: bool = False) -> int:
    """Rewrite a records file one record at a time through ``change`` (atomically; a
    remote file is read whole first, since it cannot be replaced while it is read).

    >>> write_json_records([{"a": 1, "b": 2}], "memory://doc/w.jsonl", array=False)
    1
    >>> rewrite_records("memory://doc/w.jsonl", lambda r: {"a": r["a"]})
    1
    >>> [r for _, r, _, _ in read_json_records("memory://doc/w.jsonl")]
    [{'a': 1}]
    """
    changed: Iterable[Any] = (change(r) for _, r, _, _ in read_json_records(url))
    if not is_local(url):
        changed = list(changed)
    return write_json_records(changed, url, array=array)


def read_json_records(
    url: str, max_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> Iterator[tuple[int, Any, str | None, bytes | None]]:
    """Yield ``(record_number, record, error, line)`` from a JSON array or JSON Lines
    file; ``line`` is the record's bytes in JSON Lines, None in an array.

    A ``.jsonl`` file is JSON Lines whatever its first line holds; another file is a
    JSON array when it starts with ``[``. Both stream: a JSON array is parsed one
    element at a time (ijson), so its size does not bound memory. A line that is not
    JSON, or longer than ``max_bytes``, comes out with ``record=None`` and the error
    text; in an array, a syntax error or an element longer than ``max_bytes`` ends the
    array with one such record.
    """
    if url.endswith((".jsonl", ".jsonl.gz")):
        head = b""
    else:
        with open_input(url) as f:
            head = f.read(1 << 16).lstrip()
    if head.startswith(b"["):
        yield from _array_records(url, max_bytes)
        return
    for number, line in iter_lines(url, max_bytes):
        if line is None:
            yield number, None, too_large_text(max_bytes), None
            continue
        try:
            yield number, json.loads(line), None, line
        except ValueError as exc:
            yield number, None, f"invalid JSON: {exc}", line
        except RecursionError:
            yield number, None, "the record nests too deeply to read", line


def _array_records(url: str, max_bytes: int) -> Iterator[tuple[int, Any, str | None, None]]:
    """The elements of a JSON array, parsed by ijson's fastest backend; if it fails
    (its C parser refuses integers past 64 bits), again from the start with its pure
    Python backend, skipping what was yielded. Only a failure of both ends the array."""
    import ijson

    done = 0
    failure: Exception | None = None
    for backend in (ijson, ijson.get_backend("python")):
        with open_input(url) as f:
            budget = _RecordBudget(f, max_bytes)
            try:
                for number, record in enumerate(backend.items(budget, "item", use_float=True), 1):
                    budget.spent = 0
                    if number > done:
                        done = number
                        yield number, record, None, None
                return
            except ijson.JSONError as exc:
                failure = exc
            except _OverBudget:
                yield done + 1, None, too_large_text(max_bytes), None
                return
    yield done + 1, None, f"invalid JSON: {failure}", None


class _OverBudget(Exception):
    pass


class _RecordBudget:
    """A binary file whose reads fail once more than ``max_bytes`` (plus one read's
    worth) pass without ``spent`` being reset, that is, within one record."""

    def __init__(self, raw: Any, max_bytes: int) -> None:
        self.raw, self.max_bytes, self.spent = raw, max_bytes, 0

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.raw.read(size)
        self.spent += len(data)
        if self.spent > self.max_bytes + max(size, 0):
            raise _OverBudget
        return data


def verbatim(record: Any, line: bytes | None) -> bytes:
    """A record as read: its line in JSON Lines, its JSON in an array."""
    if line is not None:
        return line.removesuffix(b"\n")
    try:
        return msgspec.json.encode(record)
    except RecursionError:  # nested deeper than an encoder recurses
        return _encode_flat(record)


def _encode_flat(value: Any) -> bytes:
    """JSON for ``value`` without recursion, however deep it nests.

    >>> _encode_flat({"a": [[1], {"b": None}]})
    b'{"a":[[1],{"b":null}]}'
    """
    out: list[bytes] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, bytes):  # a piece of JSON text pushed earlier
            out.append(item)
        elif isinstance(item, dict):
            pieces: list[Any] = [b"{"]
            for i, (key, inner) in enumerate(item.items()):
                pieces += [b"," if i else b"", msgspec.json.encode(str(key)) + b":", inner]
            stack += reversed([*pieces, b"}"])
        elif isinstance(item, list):
            pieces = [b"["]
            for i, inner in enumerate(item):
                pieces += [b"," if i else b"", inner]
            stack += reversed([*pieces, b"]"])
        else:
            out.append(msgspec.json.encode(item))
    return b"".join(out)
