"""Formats behind one registry: ``get_format(name).export(...)`` and ``.load(...)``.

>>> from intermt_schema.formats import get_format
>>> get_format("jsonl").lossless
True
"""

from __future__ import annotations

from . import canonical, intermt_bench, llava, openai, sharegpt, trl  # noqa: F401  (registering)
from ._base import (
    Format,
    ImportResult,
    LossReport,
    available_formats,
    get_format,
    register_format,
    write_records,
)

__all__ = [
    "Format",
    "ImportResult",
    "LossReport",
    "available_formats",
    "detect_format",
    "get_format",
    "register_format",
    "write_records",
]


def _first_record(url: str) -> object:
    from ._base import read_json_records

    for _, record, _ in read_json_records(url):
        return record
    return None


def detect_format(url: str) -> str | None:
    """Guess a file's format from its name and its first record; None when unsure.

    Canonical files are known by suffix (``.jsonl``, ``.jsonl.gz``, ``.parquet``) unless
    their first record is not a canonical tree.
    """
    from .intermt_bench import detect_layout

    if url.endswith(".parquet"):
        return "parquet"
    try:
        record = _first_record(url)
    except Exception:  # unreadable, or a missing fsspec backend: the reader reports it
        return None
    if not isinstance(record, dict):
        return None
    if "nodes" in record and "id" in record:
        return "jsonl"
    if "chosen" in record and "conversations" in record:
        return "sharegpt"
    if "prompt" in record and "chosen" in record:
        return "trl" if isinstance(record.get("prompt"), list) else "llava"
    if "completion" in record:
        return "trl"
    messages = record.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        content = messages[0].get("content")
        if isinstance(content, str):
            return "sharegpt"
        text = str(content)
        return "openai" if "image_url" in text else "trl"
    convs = record.get("conversations")
    if (
        isinstance(convs, list)
        and convs
        and isinstance(convs[0], dict)
        and ("from" in convs[0] or "role" in convs[0])
    ):
        return "llava" if "id" in record or "image" in record else "sharegpt"
    return "intermt-bench" if detect_layout(record) else None
