"""The structural pass: decode bytes into a tree, then run the semantic rules; when a
record does not decode, list every structural error in one wording.

>>> tree, report = decode_and_validate(b'{"id": "t", "nodes": [{"id": 1}]}')
>>> tree is None, report.issues[0].code
(True, 'schema.type')
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec

from ..schema._structs import DialogueTree, decode_tree
from ._checks import validate
from ._pointers import pointer_from_loc, pointer_from_msgspec
from ._report import Issue, Report
from ._rules import DEFAULT_OPTIONS, IssueCollector, ValidationOptions

__all__ = ["decode_and_validate", "structural_issues"]


def structural_issues(
    data: bytes, *, source: str | None = None, line: int | None = None
) -> list[Issue]:
    """Every structural error of one undecodable record, in one pass (via pydantic)."""
    from pydantic import ValidationError

    from ..schema._pydantic import pydantic_model

    out = IssueCollector(None, source, line, False)
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        out.add("schema.json", "", f"not UTF-8: {exc.reason} at byte {exc.start}")
        return out.issues
    except (ValueError, RecursionError) as exc:
        out.add("schema.json", "", f"invalid JSON: {exc}")
        return out.issues
    if isinstance(document, dict) and isinstance(document.get("id"), str):
        out.tree = document["id"]
    try:
        pydantic_model(DialogueTree).model_validate_json(data)
    except ValidationError as exc:
        found: dict[str, list[str]] = {}
        for error in exc.errors(include_url=False):
            found.setdefault(pointer_from_loc(document, error["loc"]), []).append(_wording(error))
        for pointer, wordings in found.items():  # a union's members each report the value
            out.add("schema.type", pointer, _joined(wordings))
    except RecursionError:
        out.add("schema.type", "", "the record nests too deeply")
    if not out.issues:  # msgspec refused what pydantic accepts: still report it
        try:
            decode_tree(data)
        except msgspec.ValidationError as exc:
            text, path = pointer_from_msgspec(str(exc))
            out.add("schema.type", path, text)
    return out.issues


_JSON_TYPES = {str: "str", bool: "bool", int: "int", float: "float", type(None): "null",
               list: "array", dict: "object"}  # fmt: skip
_EXPECTED = {"string_type": "str", "int_type": "int", "int_from_float": "int",
             "float_type": "float", "bool_type": "bool", "list_type": "array",
             "dict_type": "object", "model_type": "object", "model_attributes_type": "object",
             "bytes_type": "str"}  # fmt: skip


def _joined(wordings: list[str]) -> str:
    """One wording for the errors of a union's members, as msgspec words it.

    >>> _joined(["Expected `int`, got `str`", "Expected `float`, got `str`"])
    'Expected `int | float`, got `str`'
    """
    expected = [re.match(r"Expected `([^`]+)`, got (`[^`]+`)$", w) for w in wordings]
    if len(wordings) > 1 and all(expected):
        kinds = " | ".join(dict.fromkeys(m.group(1) for m in expected if m))
        return f"Expected `{kinds}`, got {expected[0].group(2)}"  # type: ignore[union-attr]
    return "; ".join(dict.fromkeys(wordings))


def _wording(error: Any) -> str:
    """A pydantic error in msgspec's words, so that one structural error reads the same
    from every reader ("Expected `str`, got `int`").

    >>> _wording({"type": "string_type", "input": 5, "msg": "Input should be a valid string"})
    'Expected `str`, got `int`'
    """
    kind, value = error["type"], error.get("input")
    got = _JSON_TYPES.get(type(value), type(value).__name__)
    if kind in _EXPECTED:
        return f"Expected `{_EXPECTED[kind]}`, got `{got}`"
    if kind == "missing":
        return f"Object missing required field `{error['loc'][-1]}`"
    if kind == "literal_error" or kind == "enum":
        return f"Invalid enum value {value!r}"
    ctx = error.get("ctx") or {}
    for name, op in (("greater_than_equal", ">="), ("less_than_equal", "<="),
                     ("greater_than", ">"), ("less_than", "<")):  # fmt: skip
        if kind == name:
            bound = next(iter(ctx.values()), "")
            return f"Expected `{got}` {op} {bound}"
    return str(error["msg"])


def decode_and_validate(
    data: bytes,
    options: ValidationOptions = DEFAULT_OPTIONS,
    *,
    source: str | None = None,
    line: int | None = None,
) -> tuple[DialogueTree | None, Report]:
    """Decode one JSON record and validate it; the tree is None when it does not decode.

    >>> tree, report = decode_and_validate(b'{"id": "t", "nodes": 3}')
    >>> tree is None, [i.path for i in report]
    (True, ['/nodes'])
    """
    try:
        tree = decode_tree(data)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError, UnicodeDecodeError):
        # msgspec raises UnicodeDecodeError for invalid UTF-8 inside a string
        return None, Report(structural_issues(data, source=source, line=line))
    return tree, validate(tree, options, source=source, line=line)
