"""Formats behind one registry: ``get_format(name).export(...)`` and ``.load(...)``,
each with declared, checked options and a ``detect`` hook.

>>> from intermt_schema.formats import get_format
>>> get_format("jsonl").lossless
True
"""

from __future__ import annotations

from ..io._json_records import read_json_records
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


def detect_format(url: str) -> str | None:
    """Guess a file's format from its name and its first record; None when unsure.

    ``.parquet`` files are canonical. Otherwise the first record goes to each
    registered format's ``detect`` hook, in registration order (canonical first); the
    first that recognises it wins.
    """
    from ._registry import registered_formats

    if url.endswith(".parquet"):
        return "parquet"
    if llamafactory.detect_folder(url):
        return "llamafactory"
    try:
        record = next((r for _, r, _, _ in read_json_records(url)), None)
    except Exception:  # unreadable, or a missing fsspec backend: the reader reports it
        return None
    if not isinstance(record, dict):
        return None
    for fmt in registered_formats():
        if fmt.detect is not None and fmt.detect(record):
            return fmt.name
    return None
