"""Reading TRL rows into conversations: every dataset type, standard or
conversational, with images, tool calls (``tool_calls``, ``tool`` messages, a ``tools``
column) and the keys of a message that no field holds, kept for the way back.

>>> [c.messages[-1].role for c in parse_row(
...     {"prompt": [{"role": "user", "content": "Hi"}], "completion": "Hello"}, 1, [])]
['assistant']
"""

from __future__ import annotations

import json
from typing import Any

from ..schema._structs import ImagePart, ImageRef, Message, Part, TextPart, ToolCallPart
from ..tree._merge import Conversation
from ..validation._report import Issue
from ._kept import kept_message_keys
from ._records import image_ref, known_role, preference
from ._tools import refuse_unknown_keys, spelling, with_tools

__all__ = ["STEP_LABELS", "parse_row"]

STEP_LABELS = "trl_step_labels"
"""The message meta key holding a stepwise supervision answer's label per step (each of
its text parts)."""

_MESSAGE_FIELDS = frozenset({"role", "content", "tool_calls", "tool_call_id"})
_CALL_FIELDS = frozenset({"type", "function", "id"})


def _messages(raw: list[Any], images: list[ImageRef]) -> list[Message]:
    """Messages from TRL rows; image parts take the row's images in order."""
    messages = []
    start = 0
    for i, m in enumerate(raw):
        where = f"message {i}"
        if not isinstance(m, dict) or ("content" not in m and "tool_calls" not in m):
            raise ValueError(f"{where}: a message has a role and a content or tool calls")
        content = m.get("content") or []
        parts: list[Part] = []
        for p in [{"type": "text", "text": content}] if isinstance(content, str) else content:
            if p["type"] == "image":
                parts.append(ImagePart(image=images[start] if start < len(images) else ImageRef()))
                start += 1
            else:
                parts.append(TextPart(p["text"]))
        calls, spellings = _calls(m.get("tool_calls") or [], where)
        empty_beside_calls = "tool_calls" in m and "content" in m and not m["content"]
        known = _FIELDS_OF_CALLS if empty_beside_calls else _MESSAGE_FIELDS
        meta = {**spelling(spellings), **kept_message_keys(m, known, "trl")}
        messages.append(Message(id="", role=known_role(m["role"]), content=[*parts, *calls],
                                tool_call_id=m.get("tool_call_id"), meta=meta))  # fmt: skip
    return messages


_FIELDS_OF_CALLS = _MESSAGE_FIELDS - {"content"}
"""An empty ``content`` beside tool calls is kept as it was given (absent, "", null)."""


def _calls(raw: list[Any], where: str) -> tuple[list[ToolCallPart], list[tuple[str, str]]]:
    """The tool calls of a message (``{"type": "function", "function": {"name",
    "arguments"}}``, arguments as an object or as JSON text), and the texts to keep."""
    calls, spellings = [], []
    for k, call in enumerate(raw):
        here = f"{where}.tool_calls[{k}]"
        refuse_unknown_keys(call, _CALL_FIELDS, here)
        function = call["function"]
        refuse_unknown_keys(function, frozenset({"name", "arguments"}), f"{here}.function")
        if call.get("type", "function") != "function" or not isinstance(function["name"], str):
            raise ValueError(f"{here}: a tool call is a function with a string name")
        arguments = function.get("arguments")
        if isinstance(arguments, str):  # JSON text: kept as text, whatever its spelling
            spellings.append((arguments, ""))
            try:
                arguments = json.loads(arguments)
            except ValueError:
                raise ValueError(f"{here}.function.arguments is not JSON") from None
        else:
            spellings.append(("", ""))
        call_id = call.get("id")
        calls.append(ToolCallPart(name=function["name"], arguments=arguments, call_id=call_id))
    return calls, spellings


def _side(value: Any, role: str) -> list[Any]:
    """A row's side as role messages: a standard row's plain string is one message."""
    return [{"role": role, "content": value}] if isinstance(value, str) else value


def parse_row(row: dict[str, Any], number: int, issues: list[Issue]) -> list[Conversation]:
    images = [image_ref(p) for p in row.get("images") or []]
    if "messages" in row:
        messages = with_tools(_messages(row["messages"], images), row, text_kept=True)
        return [Conversation(messages=messages, record=number)]
    if "prompt" not in row:  # preference with an implicit prompt: the shared beginning
        if isinstance(row.get("chosen"), str):
            raise ValueError(
                "a standard row with an implicit prompt cannot be split into prompt and "
                "answers; give 'prompt'"
            )
        return _implicit_preference(row, images, number)
    prompt = with_tools(_messages(_side(row["prompt"], "user"), images), row, text_kept=True)
    if "completions" in row:
        return [Conversation(messages=[*prompt, _steps(row)], record=number)]
    if "completion" in row:
        completion = _messages(_side(row["completion"], "assistant"), [])
        return [Conversation(messages=[*prompt, *completion], record=number)]
    if "chosen" not in row and "rejected" not in row:  # prompt-only
        return [Conversation(messages=prompt, record=number)]
    chosen, rejected = (_messages(_side(row[k], "assistant"), []) for k in ("chosen", "rejected"))
    return preference(prompt, chosen, rejected, number)


def _steps(row: dict[str, Any]) -> Message:
    """The answer of a stepwise supervision row: one text part per step, the labels
    kept in its meta (:data:`STEP_LABELS`)."""
    steps, labels = row["completions"], row.get("labels")
    if not isinstance(steps, list) or not steps or not all(isinstance(s, str) for s in steps):
        raise ValueError("completions must be a non-empty list of step texts")
    if not isinstance(labels, list) or len(labels) != len(steps):
        raise ValueError("labels must be a list with one label per step")
    if not all(isinstance(label, bool) for label in labels):
        raise ValueError("labels must be true or false")
    return Message(id="", role="assistant", content=[TextPart(s) for s in steps],
                   meta={STEP_LABELS: labels})  # fmt: skip


def _implicit_preference(
    row: dict[str, Any], images: list[ImageRef], number: int
) -> list[Conversation]:
    """A preference row whose ``chosen`` and ``rejected`` conversations repeat their
    prompt: the messages they share are the prompt, the rest are the two answers."""
    chosen, rejected = row["chosen"], row["rejected"]
    shared = 0
    while shared < min(len(chosen), len(rejected)) and chosen[shared] == rejected[shared]:
        shared += 1
    if shared == 0 or shared == len(chosen) or shared == len(rejected):
        raise ValueError("chosen and rejected share no prompt, or one holds no answer")
    prompt = with_tools(_messages(chosen[:shared], images), row, text_kept=True)
    return preference(
        prompt, _messages(chosen[shared:], []), _messages(rejected[shared:], []), number
    )
