"""Tool calls and tool declarations as training files write them: JSON text.

A call is ``{"name": ..., "arguments": {...}}`` (LLaMA-Factory's ``function_call`` turn
and v1 ``tool_call`` part; several calls are a JSON list), and the declared tools are a
JSON list of function declarations. Both are parsed into the schema's values and
written back with ``json.dumps(..., ensure_ascii=False)``, the spelling these files use.
A text spelled otherwise (key order, spacing, escapes) is kept on its message
(:data:`SPELLING`) and written again as it was, while its value is unchanged.

>>> calls = calls_from_text('{"name": "area", "arguments": {"r": 1}}', "turn 2")
>>> calls[0].name, calls_text(calls)
('area', '{"name": "area", "arguments": {"r": 1}}')
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from msgspec import structs

from ..schema._structs import Message, ToolCallPart
from ._registry import LossReport

__all__ = [
    "SPELLING",
    "Spellings",
    "calls_from_text",
    "calls_text",
    "calls_tools",
    "calls_tools_trl_style",
    "json_text",
    "refuse_unknown_keys",
    "spelling",
    "tools_from_value",
    "tools_of",
    "tools_text",
    "tools_value",
    "with_tools",
]

SPELLING = "intermt_json_spelling"
"""The message meta key holding JSON texts read for a message (tool calls, arguments,
declared tools) that the writer would spell otherwise; an export writes such a text
again as long as its value is unchanged."""


def json_text(value: Any) -> str:
    """``value`` as the JSON text training files hold."""
    return json.dumps(value, ensure_ascii=False)


def spelling(texts: list[tuple[str, str]]) -> dict[str, list[str | None]]:
    """The message meta that keeps the JSON ``(text, written)`` pairs a message was read
    from, in order, where the writer spells the value as ``written`` instead of
    ``text`` (nothing when it spells them all the same).

    >>> spelling([('{"b": 1}', '{"b": 1}'), ('{"b":1}', '{"b": 1}')])
    {'intermt_json_spelling': [None, '{"b":1}']}
    """
    kept = [None if text == written else text for text, written in texts]
    return {SPELLING: kept} if any(k is not None for k in kept) else {}


def _value_key(text: str) -> str:
    return json.dumps(json.loads(text), sort_keys=True)  # keeps true apart from 1, 1.0 from 1


class Spellings:
    """The JSON texts a message kept, one per text it was read from in order (None
    where the writer spells it the same); each is given back in its turn, when the
    value written there is still the same.

    >>> kept = Spellings({SPELLING: [None, '{"b":2,"a":1}']})
    >>> kept.text('{"a": 1, "b": 2}'), kept.text('{"a": 1, "b": 2}')
    ('{"a": 1, "b": 2}', '{"b":2,"a":1}')
    >>> Spellings({SPELLING: ['{"a":true}']}).text('{"a": 1}')
    '{"a": 1}'
    """

    def __init__(self, meta: dict[str, Any]) -> None:
        self.kept = iter(meta.get(SPELLING) or []) if meta else iter(())

    def text(self, written: str) -> str:
        """The next kept spelling if it holds the value ``written``, else ``written``."""
        return self.kept_text(written) or written

    def kept_text(self, written: str) -> str | None:
        """The next kept spelling if it holds the value ``written``, else None."""
        text = next(self.kept, None)
        if isinstance(text, str) and _value_key(text) == _value_key(written):
            return text
        return None


def refuse_unknown_keys(value: dict[str, Any], known: frozenset[str], where: str) -> None:
    """Raise ``ValueError`` naming ``where`` and the keys of ``value`` outside ``known``:
    what a reader does not carry is refused, never dropped quietly.

    >>> refuse_unknown_keys({"role": "user", "name": "x"}, frozenset({"role"}), "message 0")
    Traceback (most recent call last):
    ...
    ValueError: message 0 holds keys this reader does not carry: ['name']
    """
    unknown = set(value) - known
    if unknown:
        raise ValueError(f"{where} holds keys this reader does not carry: {sorted(unknown)}")


def calls_tools(messages: list[Any]) -> bool:
    """Whether OpenAI-style ``messages`` call tools (``tool_calls``, ``tool_call_id``)."""
    return any(isinstance(m, dict) and ("tool_calls" in m or "tool_call_id" in m)
               for m in messages)  # fmt: skip


def calls_tools_trl_style(messages: list[Any]) -> bool:
    """Whether ``messages`` call tools as TRL writes them: arguments as an object, or
    tool messages naming their tool (OpenAI gives arguments as text and no name)."""
    for m in messages:
        if not isinstance(m, dict):
            continue
        if m.get("role") == "tool" and "name" in m:
            return True
        for call in m.get("tool_calls") or []:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict) and not isinstance(function.get("arguments"), str):
                return True
    return False


_CALL_KEYS = frozenset({"name", "arguments"})


def _call(value: Any, where: str) -> ToolCallPart:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise ValueError(f"{where}: a tool call is a JSON object with a string name")
    refuse_unknown_keys(value, _CALL_KEYS, where)
    return ToolCallPart(name=value["name"], arguments=value.get("arguments"))


def calls_from_text(text: Any, where: str) -> list[ToolCallPart]:
    """The calls a ``function_call`` text holds: one object, or a list of them.
    Raises ``ValueError`` naming ``where`` when the text is not such JSON."""
    if not isinstance(text, str):
        raise ValueError(f"{where}: a tool call must be JSON text")
    try:
        value = json.loads(text)
    except ValueError:
        raise ValueError(f"{where}: the tool call is not JSON") from None
    if isinstance(value, list):
        if not value:
            raise ValueError(f"{where}: an empty list of tool calls")
        return [_call(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return [_call(value, where)]


def calls_text(calls: list[ToolCallPart]) -> str:
    """The ``function_call`` text of ``calls``: one object, or a list of several."""
    values = [{"name": c.name, "arguments": c.arguments} for c in calls]
    return json_text(values[0] if len(values) == 1 else values)


def tools_from_value(value: Any, where: str) -> list[Any]:
    """The declared tools of a ``tools`` column: a JSON list, given as text or as a
    list. Raises ``ValueError`` naming ``where`` otherwise."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError(f"{where}: tools is not JSON") from None
    if not isinstance(value, list):
        raise ValueError(f"{where}: tools must be a JSON list of function declarations")
    return value


def with_tools(
    messages: list[Message], record: Mapping[str, Any], text_kept: bool = False
) -> list[Message]:
    """``messages`` with the tools of the ``record``'s ``tools`` column, if it has one
    (JSON text or a list, see :func:`tools_from_value`), declared on the first message,
    where they apply from, keeping the text's spelling (``text_kept``: keeping that it
    was text, for a format whose column may hold either)."""
    if "tools" not in record or not messages:
        return messages
    value = record["tools"]
    tools = tools_from_value(value, "tools")
    first = messages[0]
    written = "" if text_kept else json_text(tools)
    meta = spelling([(value, written)]) if isinstance(value, str) else {}
    return [structs.replace(first, tools=tools, meta={**first.meta, **meta}), *messages[1:]]


def tools_of(path: Sequence[Message], loss: LossReport) -> list[Any] | None:
    """The tools a record of ``path`` declares: the path's one declaration. A path that
    declares tools more than once keeps the last, and the others are counted."""
    declared = [m.tools for m in path if m.tools is not None]
    loss.drop("tool declarations replaced later in a path", len(declared) - 1 if declared else 0)
    return declared[-1] if declared else None


def tools_value(path: Sequence[Message], loss: LossReport) -> Any:
    """:func:`tools_of` as a ``tools`` column holding a list, or JSON text where the
    source gave text (spelled as it was)."""
    tools = tools_of(path, loss)
    if tools is None:
        return None
    last = next(m for m in reversed(path) if m.tools is not None)
    return Spellings(last.meta).kept_text(json_text(tools)) or tools


def tools_text(path: Sequence[Message], loss: LossReport) -> str | None:
    """:func:`tools_of` as the JSON text of a ``tools`` column, spelled as it was read."""
    value = tools_value(path, loss)
    return value if value is None or isinstance(value, str) else json_text(value)
