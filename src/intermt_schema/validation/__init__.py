"""Validation: the rules (every code in ``RULES``), image checks, JSON pointers, and
the report. Pure: a tree or a document in, a report out; reading files is ``io``'s."""

from ._checks import validate
from ._images import ImageLimits
from ._report import Issue, RecordResult, Report
from ._rules import DEFAULT_OPTIONS, RULES, ValidationOptions
from ._structural import decode_and_validate

__all__ = [
    "DEFAULT_OPTIONS",
    "RULES",
    "ImageLimits",
    "Issue",
    "RecordResult",
    "Report",
    "ValidationOptions",
    "decode_and_validate",
    "validate",
]
