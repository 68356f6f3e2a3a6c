"""Canonical JSONL: one tree per line, optionally gzip-compressed, through fsspec.

>>> from intermt_schema import DialogueTree
>>> write_jsonl([DialogueTree(id="a"), DialogueTree(id="b")], "memory://doc/t.jsonl")
2
>>> [t.id for t in read_jsonl("memory://doc/t.jsonl")]
['a', 'b']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import msgspec

from .._errors import SchemaError
from ..schema._structs import DialogueTree, decode_tree, stamped
from ..validation._pointers import pointer_from_msgspec
from ._fs import atomic_output, reading
from ._input import DEFAULT_MAX_RECORD_BYTES, iter_lines, too_large_text

__all__ = ["read_jsonl", "write_jsonl"]

_encoder = msgspec.json.Encoder(order="deterministic")


def read_jsonl(url: str) -> Iterator[DialogueTree]:
    """Stream trees from a JSONL file; raises ``SchemaError`` naming the first bad line,
    and ``ReadError`` when the file cannot be opened or read to the end.

    Use ``validate_path`` to collect every problem instead of stopping at the first.

    >>> next(read_jsonl("memory://doc/missing.jsonl"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    intermt_schema.ReadError: cannot read memory://doc/missing.jsonl: FileNotFoundError: ...
    """
    for number, line in reading(url, iter_lines(url)):
        if line is None:
            raise SchemaError(f"{url}:{number}: {too_large_text(DEFAULT_MAX_RECORD_BYTES)}")
        try:
            yield decode_tree(line)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
            text, path = pointer_from_msgspec(str(exc))
            raise SchemaError(
                f"{url}:{number}: {text}" + (f" at {path}" if path else ""), path
            ) from None


def write_jsonl(trees: Iterable[DialogueTree], url: str) -> int:
    """Write trees as canonical JSONL (atomically for local files); returns the count."""
    count = 0
    buffer = bytearray()
    with atomic_output(url) as out:
        for tree in trees:
            _encoder.encode_into(stamped(tree), buffer)
            buffer.extend(b"\n")
            out.write(buffer)
            count += 1
    return count
