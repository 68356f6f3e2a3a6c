"""Formats behind one registry: ``get_format(name).export(...)`` and ``.load(...)``,
each with declared, checked options and a ``detect`` hook.

>>> from intermt_schema.formats import get_format
>>> get_format("jsonl").lossless
True
"""

from __future__ import annotations

import uuid
from itertools import islice

from ..io._json_records import read_json_records, write_json_records
from . import (  # noqa: F401
    align_anything,
    alpaca,
    canonical,
    intermt_bench,
    llamafactory,
    llamafactory_v1,
    llava,
    oasst,
    openai,
    sharegpt,
    trl,
)
from ._options import ExportOptions, LoadOptions
from ._records import write_records
from ._registry import (
    Format,
    ImportResult,
    LossReport,
    available_formats,
    get_format,
    register_format,
)

__all__ = [
    "ExportOptions",
    "Format",
    "ImportResult",
    "LoadOptions",
    "LossReport",
    "available_formats",
    "detect_format",
    "get_format",
    "register_format",
    "write_records",
]


DETECT_RECORDS = 50
"""How many leading records ``detect_format`` reads."""


def detect_format(url: str) -> str | None:
    """Guess a file's format from its name and its leading records; None when unsure.

    ``.parquet`` files are canonical. Otherwise each of the first
    :data:`DETECT_RECORDS` records goes to each registered format's ``detect`` hook, in
    registration order (canonical first), and the first that recognises it names the
    record's format. When the records name several (a TRL file whose first rows look
    like ShareGPT, and whose later rows call tools as TRL does), the format whose
    reader accepts the most of them wins; on a tie, the one named first.

    >>> from intermt_schema.io._json_records import write_json_records
    >>> rows = [{"messages": [{"role": "user", "content": "Hi"},
    ...                       {"role": "assistant", "content": "Hello"}]},
    ...         {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant",
    ...          "tool_calls": [{"type": "function", "function": {"name": "f",
    ...                                                           "arguments": {}}}]}]}]
    >>> _ = write_json_records(rows, "memory://doc/mixed.jsonl", array=False)
    >>> detect_format("memory://doc/mixed.jsonl")
    'trl'
    """
    from ._registry import registered_formats

    if url.endswith(".parquet"):
        return "parquet"
    if llamafactory.detect_folder(url):
        return "llamafactory"
    try:
        records = list(islice((r for _, r, _, _ in read_json_records(url)), DETECT_RECORDS))
    except Exception:  # unreadable, or a missing fsspec backend: the reader reports it
        return None
    named: list[str] = []
    for record in records:
        if not isinstance(record, dict):
            continue
        name = next((f.name for f in registered_formats() if f.detect and f.detect(record)), None)
        if name is not None and name not in named:
            named.append(name)
    if len(named) < 2:
        return named[0] if named else None
    return max(named, key=lambda name: _accepted(name, records))


def _accepted(name: str, records: list[object]) -> int:
    """How many of ``records`` the reader of format ``name`` accepts."""
    import fsspec

    url = f"memory://intermt-detect/{uuid.uuid4().hex}.jsonl"
    write_json_records(records, url, array=False)
    try:
        result = get_format(name).load(url)
        return result.records - len(result.rejected)
    finally:
        fsspec.filesystem("memory").rm(url)
