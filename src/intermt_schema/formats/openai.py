"""OpenAI chat messages, one conversation per path, as JSON Lines.

Content parts are ``{"type": "text", "text"}`` and ``{"type": "image_url", "image_url":
{"url", "detail"}}``; an image's position is its order among the parts. ``urls="data"``
inlines images as ``data:`` URIs (read from the bytes, or from ``source_root``);
``urls="path"`` writes their path or URI as it is. Assistant content cannot hold
images, so the shared rule moves them to the next user turn.

Tool use: an assistant message's ``tool_calls`` (``{"id", "type": "function",
"function": {"name", "arguments"}}``, the arguments a JSON string) become tool-call
parts, a ``tool`` message keeps its ``tool_call_id``, and the record's ``tools`` list
is declared on the first message. All of it is written back.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from typing import Any, Literal

from .._errors import check_choice
from ..schema._structs import (
    DialogueTree,
    ImagePart,
    ImageRef,
    Message,
    Part,
    TextPart,
    ToolCallPart,
)
from ..tree._merge import Conversation
from ..validation._containment import read_under_root
from ..validation._images import ImageLimits
from ..validation._report import Issue
from ._linear import LinearOptions, Turn, sft_turns
from ._options import ASSISTANT_IMAGES
from ._records import image_ref, known_role, load_records, restore_keys
from ._registry import Format, ImportResult, LossReport, register_format
from ._tools import (
    Spellings,
    calls_tools,
    calls_tools_trl_style,
    json_text,
    refuse_unknown_keys,
    spelling,
    tools_of,
    with_tools,
)

__all__ = ["DETAILS", "FORMAT", "URLS", "detect", "export", "load", "records"]

_MARK = "\x00image\x00"

LAYOUT_META = "openai_layout"
"""The message meta key that keeps how a message was written: ``string`` (its content
was a string) and the ``details`` of its images (None where it named none), so that an
export writes it so again; an export's ``detail`` option overrides the details."""


def _url(ref: ImageRef, urls: str, root: str | None, loss: LossReport) -> str:
    """The image's URL: its path or uri (``urls="path"``), or a data URI of its bytes
    (``urls="data"``, or an inline image that has nothing else to name it by)."""
    data = ref.bytes
    if urls == "data" and data is None and ref.path and root is not None:
        data, _ = read_under_root(ref.path, root, ImageLimits().max_bytes)
    if urls == "data" or not (ref.uri or ref.path):
        if data is not None:
            if urls != "data":
                loss.change("inline images written as data URIs (no path or uri)")
            mime = ref.mime or "image/png"
            return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        loss.change("images written by reference (no bytes found to inline)")
    return ref.uri or ref.path or ""


def _records(
    trees: Iterable[DialogueTree],
    urls: str,
    root: str | None,
    detail: str | None,
    options: LinearOptions,
    loss: LossReport,
) -> Iterator[dict[str, Any]]:
    for _, path, turns in sft_turns(trees, options, loss):
        messages = []
        for turn in turns:
            kept = turn.meta.get(LAYOUT_META) or {}
            details = iter(kept.get("details") or [])
            images = iter(turn.images)
            parts: list[dict[str, Any]] = []
            for i, piece in enumerate(turn.text.split(_MARK)):
                if i:
                    url = {"url": _url(next(images), urls, root, loss)}
                    given = detail or next(details, "auto")
                    parts.append({"type": "image_url", "image_url": {**url, **_detail(given)}})
                if piece:
                    parts.append({"type": "text", "text": piece})
            messages.append(_message(turn, parts, kept.get("string", False)))
        record: dict[str, Any] = {"messages": messages}
        tools = tools_of(path, loss)
        if tools is not None:
            record["tools"] = tools
        yield restore_keys(record, path[-1], "openai/sft", loss)


def _detail(value: str | None) -> dict[str, str]:
    return {} if value is None else {"detail": value}


def _message(turn: Turn, parts: list[dict[str, Any]], string: bool) -> dict[str, Any]:
    content: Any = None if turn.calls and not parts else parts  # a call alone has no content
    if string and all(p["type"] == "text" for p in parts):
        content = "".join(p["text"] for p in parts)
    message: dict[str, Any] = {"role": turn.role, "content": content}
    if turn.calls:
        kept = Spellings(turn.meta)
        message["tool_calls"] = [
            {**({"id": c.call_id} if c.call_id is not None else {}), "type": "function",
             "function": {"name": c.name, "arguments": kept.text(json_text(c.arguments))}}
            for c in turn.calls
        ]  # fmt: skip
    if turn.tool_call_id is not None:
        message["tool_call_id"] = turn.tool_call_id
    return message


URLS = ("path", "data")
DETAILS = ("auto", "low", "high")


def records(
    trees: Iterable[DialogueTree],
    loss: LossReport,
    *,
    urls: Literal["data", "path"] = "path",
    source_root: str | None = None,
    detail: Literal["auto", "low", "high"] | None = None,
    assistant_images: Literal["move", "drop"] = "move",
) -> Iterator[dict[str, Any]]:
    """OpenAI chat conversations, one by one."""
    check_choice("urls", urls, URLS)
    if detail is not None:
        check_choice("detail", detail, DETAILS)
    loss.format = "openai"
    options = LinearOptions(_MARK, assistant_images, tools=True)
    return _records(trees, urls, source_root, detail, options, loss)


def export(trees: Iterable[DialogueTree], url: str, **options: Any) -> LossReport:
    """Write OpenAI chat conversations as JSON Lines; ``options`` are those of
    :func:`records`."""
    return FORMAT.export(trees, url, **options)


def _parse(record: dict[str, Any], number: int, issues: list[Issue]) -> list[Conversation]:
    messages = [_read_message(m, f"messages[{i}]") for i, m in enumerate(record["messages"])]
    return [Conversation(messages=with_tools(messages, record), record=number)]


_MESSAGE_KEYS = frozenset({"role", "content", "tool_calls", "tool_call_id"})


def _read_message(m: dict[str, Any], where: str) -> Message:
    refuse_unknown_keys(m, _MESSAGE_KEYS, where)
    content = m.get("content")
    items: list[dict[str, Any]] = (
        [{"type": "text", "text": content}] if isinstance(content, str) else content or []
    )
    parts: list[Part] = []
    layout: dict[str, Any] = {"string": True} if isinstance(content, str) else {}
    for k, p in enumerate(items):
        here = f"{where}.content[{k}]"
        if p["type"] == "image_url":
            refuse_unknown_keys(p, frozenset({"type", "image_url"}), here)
            refuse_unknown_keys(p["image_url"], frozenset({"url", "detail"}), f"{here}.image_url")
            parts.append(ImagePart(image=image_ref(p["image_url"]["url"])))
            layout.setdefault("details", []).append(p["image_url"].get("detail"))
        elif p["type"] == "text" and isinstance(p.get("text"), str):
            refuse_unknown_keys(p, frozenset({"type", "text"}), here)
            parts.append(TextPart(p["text"]))
        else:
            raise ValueError(f"{here}: a part is a text or an image_url part")
    spellings: list[tuple[str, str]] = []
    for k, call in enumerate(m.get("tool_calls") or []):
        function = call["function"]
        if not isinstance(function.get("name"), str):
            raise ValueError(f"{where}.tool_calls[{k}].function.name must be a string")
        try:
            arguments = json.loads(function["arguments"])
        except ValueError:
            raise ValueError(f"{where}.tool_calls[{k}].function.arguments is not JSON") from None
        spellings.append((function["arguments"], json_text(arguments)))
        parts.append(ToolCallPart(name=function["name"], arguments=arguments,
                                  call_id=call.get("id")))  # fmt: skip
    role = known_role(m["role"])
    meta: dict[str, Any] = spelling(spellings)
    if layout and layout != {"details": ["auto"] * len(layout.get("details", []))}:
        meta[LAYOUT_META] = layout
    return Message(id="", role=role, content=parts, tool_call_id=m.get("tool_call_id"), meta=meta)


def load(url: str) -> ImportResult:
    """Read OpenAI chat conversations back into trees."""
    return load_records(url, _parse, keys={"messages", "tools"}, kept_as="openai")


def detect(record: dict[str, Any]) -> bool:
    """OpenAI chat messages whose contents hold ``image_url`` parts, or that call tools
    (``tool_calls``, ``tool_call_id``)."""
    messages = record.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        contents = [m.get("content") for m in messages if isinstance(m, dict)]
        if any(not isinstance(c, str) and "image_url" in str(c) for c in contents):
            return True
        return calls_tools(messages) and not calls_tools_trl_style(messages)
    return False


FORMAT = register_format(
    Format(
        name="openai",
        lossless=False,
        reader=load,
        suffix=".jsonl",
        records=records,
        detect=detect,
        description="OpenAI chat messages with image_url parts (data URIs or paths) and tool calls",
        export_options={
            "urls": URLS,
            "detail": DETAILS,
            "source_root": str,
            "assistant_images": ASSISTANT_IMAGES,
        },
    )
)
