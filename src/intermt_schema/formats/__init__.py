"""Formats behind one registry: ``get_format(name).export(...)`` and ``.load(...)``.

>>> from intermt_schema.formats import get_format
>>> get_format("jsonl").lossless
True
"""

from __future__ import annotations

from . import intermt_bench, sharegpt  # noqa: F401  (they register themselves)
from ._base import (
    Format,
    ImportResult,
    LossReport,
    available_formats,
    get_format,
    register_format,
)

__all__ = [
    "Format",
    "ImportResult",
    "LossReport",
    "available_formats",
    "get_format",
    "register_format",
]
