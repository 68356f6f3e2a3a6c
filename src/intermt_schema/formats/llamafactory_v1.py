"""LLaMA-Factory's v1 layout, both ways: typed content parts, one record per line.

- ``sft``: ``{"messages": [{"role", "content": [{"type": "text", "value"},
  {"type": "image_url", "value": path}], "loss_weight": 1.0}, ...]}``
- ``dpo``: ``{"chosen_messages": [...], "rejected_messages": [...]}``; both repeat the
  prompt, so the messages they share are the prompt and the rest the two answers.

Parts keep their order, so images, videos and audio clips stand where they were.
``reasoning`` parts become reasoning parts, ``tool_call`` parts tool calls, a ``tool``
message a tool message, and the ``tools`` column the tools declared on the first
message. A message's ``loss_weight`` is kept in its meta and written back. Other record
keys are kept on the record's last message and written back.

>>> detect({"messages": [{"role": "user", "content": [{"type": "text", "value": "Hi"}]}]})
True
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Literal

from .._errors import check_choice
from ..schema._structs import (
    AudioPart,
    DialogueTree,
    ImagePart,
    Message,
    Part,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    VideoPart,
    media_of,
)
from ..tree._merge import Conversation
from ..validation._report import Issue
from ._linear import judgment_pairs, sft_paths
from ._options import TRAINING_OPTIONS
from ._placing import ImageSink
from ._records import image_ref, known_role, load_records, media_ref, preference, restore_keys
from ._registry import Format, ImportResult, LossReport, register_format
from ._tools import (
    Spellings,
    calls_from_text,
    calls_text,
    spelling,
    tools_text,
    with_tools,
)

__all__ = ["FORMAT", "MODES", "detect", "load", "records"]

NAME = "llamafactory-v1"
MODES = ("sft", "dpo")
WEIGHT_META = "llamafactory_loss_weight"
"""The message meta key that keeps a v1 message's ``loss_weight``."""


_FILE_PARTS = {"image_url": "image", "video_url": "video", "audio_url": "audio"}


def _part(kind: Any, value: str, where: str) -> list[Part]:
    if kind == "text":
        return [TextPart(value)]
    if kind == "reasoning":
        return [ReasoningPart(value)]
    if kind == "tool_call":
        return list(calls_from_text(value, where))
    if kind == "image_url":
        return [ImagePart(image=image_ref(value))]
    if kind in _FILE_PARTS:
        ref = media_ref(value)
        return [VideoPart(video=ref) if kind == "video_url" else AudioPart(audio=ref)]
    raise ValueError(f"{where}: a {kind!r} part is not one of text, reasoning, tool_call, "
                     f"{', '.join(_FILE_PARTS)}")  # fmt: skip


def _message(raw: Any, where: str) -> Message:
    if not isinstance(raw, dict) or not isinstance(raw.get("content"), list):
        raise TypeError(f"{where}: a message is an object with a content list")
    parts: list[Part] = []
    spellings: list[tuple[str, str]] = []
    for i, part in enumerate(raw["content"]):
        kind = part.get("type") if isinstance(part, dict) else None
        value = part.get("value") if isinstance(part, dict) else None
        if not isinstance(value, str):
            raise TypeError(f"{where}.content[{i}]: value must be a string")
        found = _part(kind, value, f"{where}.content[{i}]")
        if kind == "tool_call":
            spellings.append((value, calls_text([p for p in found if type(p) is ToolCallPart])))
        parts += found
    if len(parts) != len(raw["content"]):  # several calls in one tool_call part
        raise ValueError(f"{where}: a tool_call part holds a list of calls; write one per part")
    meta: dict[str, Any] = spelling(spellings)
    if "loss_weight" in raw:
        weight = raw["loss_weight"]
        if not isinstance(weight, (int, float)) or isinstance(weight, bool):
            raise TypeError(f"{where}.loss_weight must be a number")
        meta[WEIGHT_META] = float(weight)
    return Message(id="", role=known_role(raw.get("role")), content=parts, meta=meta)


def _messages(raw: Any, key: str) -> list[Message]:
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{key} must be a non-empty list of messages")
    return [_message(m, f"{key}[{i}]") for i, m in enumerate(raw)]


def _parse(record: dict[str, Any], number: int, issues: list[Issue]) -> list[Conversation]:
    if "messages" in record:
        messages = with_tools(_messages(record["messages"], "messages"), record)
        return [Conversation(messages=messages, record=number)]
    chosen = with_tools(_messages(record["chosen_messages"], "chosen_messages"), record)
    rejected = with_tools(_messages(record["rejected_messages"], "rejected_messages"), record)
    shared = 0
    while shared < min(len(chosen), len(rejected)) - 1 and chosen[shared] == rejected[shared]:
        shared += 1
    if shared == 0:
        raise ValueError("chosen_messages and rejected_messages share no prompt")
    return preference(chosen[:shared], chosen[shared:], rejected[shared:], number)


def load(url: str) -> ImportResult:
    """Read v1 records (supervised or preference) into trees."""
    return load_records(url, _parse, keys=_KEYS, kept_as=NAME)


_KEYS = frozenset({"messages", "chosen_messages", "rejected_messages", "tools"})


def _out(message: Message, sink: ImageSink) -> dict[str, Any]:
    content: list[dict[str, str]] = []
    kept = Spellings(message.meta)
    for part in message.content:
        if type(part) is TextPart:
            content.append({"type": "text", "value": part.text})
        elif type(part) is ReasoningPart:
            content.append({"type": "reasoning", "value": part.text})
        elif type(part) is ToolCallPart:
            value = kept.text(calls_text([part]))
            content.append({"type": "tool_call", "value": value})
        else:
            found = media_of(part)
            assert found is not None  # every other part is a file
            content.append({"type": f"{found[0]}_url", "value": sink.place(found[1])})
    written: dict[str, Any] = {"role": message.role, "content": content}
    if WEIGHT_META in message.meta:
        written["loss_weight"] = message.meta[WEIGHT_META]
    return written


def records(
    trees: Iterable[DialogueTree],
    loss: LossReport,
    mode: Literal["sft", "dpo"] = "sft",
    *,
    criterion: str = "overall",
    images: Literal["reference", "copy", "link"] = "reference",
    source_root: str | None = None,
    image_folder: str | None = None,
) -> Iterator[dict[str, Any]]:
    """v1 records of ``mode``, one by one; images keep their place among the parts."""
    check_choice("mode", mode, MODES)
    loss.format = f"{NAME} ({mode})"
    sink = ImageSink(image_folder, source_root, images)
    for tree in trees:
        if mode == "sft":
            for path in sft_paths(tree, loss):
                record = _with_tools({"messages": [_out(m, sink) for m in path]}, path, loss)
                yield restore_keys(record, path[-1], f"{NAME}/sft", loss)
            continue
        loss.drop("ratings", len(tree.ratings))
        for judgment, chosen, rejected, prompt in judgment_pairs(tree, criterion, loss):
            head = [_out(m, sink) for m in prompt]
            record = {"chosen_messages": [*head, _out(chosen, sink)],
                      "rejected_messages": [*head, _out(rejected, sink)]}  # fmt: skip
            record = _with_tools(record, [*prompt, chosen, rejected], loss)
            yield restore_keys(record, judgment, f"{NAME}/pair", loss, chosen)
    sink.account(loss)


def _with_tools(record: dict[str, Any], path: list[Message], loss: LossReport) -> dict[str, Any]:
    tools = tools_text(path, loss)
    if tools is not None:
        record["tools"] = tools
    return record


def detect(record: dict[str, Any]) -> bool:
    """A v1 record: ``chosen_messages``, or ``messages`` whose parts hold a ``value``."""
    if "chosen_messages" in record:
        return True
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages or not isinstance(messages[0], dict):
        return False
    content = messages[0].get("content")
    return (
        isinstance(content, list)
        and bool(content)
        and isinstance(content[0], dict)
        and ("value" in content[0])
    )


FORMAT = register_format(
    Format(
        name=NAME,
        lossless=False,
        reader=load,
        suffix=".jsonl",
        records=records,
        detect=detect,
        description="LLaMA-Factory v1: typed parts (text, media, reasoning, tool calls), "
        "loss_weight; sft or dpo",
        export_options={
            "mode": MODES,
            **{
                k: TRAINING_OPTIONS[k]
                for k in ("criterion", "images", "source_root", "image_folder")
            },
        },
    )
)
