"""ShareGPT as LLaMA-Factory reads it: SFT (``messages`` + ``images``) and ranking
(``conversations`` + ``chosen`` + ``rejected`` + ``images``), with a
``dataset_info.json`` entry written beside the data so that it loads by name.

Rules the loader enforces, which every export keeps: an optional leading system turn,
then user and assistant alternating; an even count for SFT, an odd count ending with
a user turn for ranking; exactly one ``<image>`` per image, in order; in ranking the
placeholders sit in the prompt only, and chosen and rejected share the image list.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from typing import Any, Literal

from .._errors import check_choice
from ..io._fs import atomic_output, locked
from ..io._input import open_input
from ..schema._structs import DialogueTree, Message
from ..tree._merge import Conversation
from ..validation._report import Issue
from ._linear import LinearOptions, Turn, check_alternation, pair_turns, sft_turns, with_images
from ._options import TRAINING_OPTIONS
from ._placing import ImageSink
from ._records import has_turns, image_ref, load_records, media_ref, preference, restore_keys
from ._registry import Format, ImportResult, LossReport, register_format, sibling
from ._tools import Spellings, calls_text, calls_tools, tools_text, with_tools
from ._turns import MEDIA_TOKENS, turn_messages

__all__ = [
    "FORMAT",
    "MODES",
    "STYLES",
    "TOKEN",
    "Style",
    "add_dataset_info",
    "check_record",
    "detect",
    "export",
    "finish",
    "load",
    "records",
]

TOKEN = "<image>"


Style = Literal["role", "from"]


_TAGS: dict[str, dict[str, str]] = {
    "role": {
        "role_tag": "role",
        "content_tag": "content",
        "user_tag": "user",
        "assistant_tag": "assistant",
        "system_tag": "system",
        "function_tag": "function_call",
        "observation_tag": "observation",
    },
    "from": {
        "role_tag": "from",
        "content_tag": "value",
        "user_tag": "human",
        "assistant_tag": "gpt",
        "system_tag": "system",
        "function_tag": "function_call",
        "observation_tag": "observation",
    },
}

_SFT_KEY = {"role": "messages", "from": "conversations"}
"""Where supervised records hold their turns: ``from``/``value`` turns follow
LLaMA-Factory's default layout (``conversations``), ``role``/``content`` turns the
OpenAI-like one (``messages``)."""

_ROLE_TAG = {"user": "user_tag", "assistant": "assistant_tag", "system": "system_tag",
             "tool": "observation_tag"}  # fmt: skip


def _message(turn: Turn, style: Style, loss: LossReport) -> dict[str, str]:
    """One turn; an assistant turn that calls tools is a ``function_call`` turn, which
    holds the calls alone (any text beside them is counted)."""
    tags = _TAGS[style]
    if turn.calls:
        loss.drop("answer text beside tool calls", 1 if turn.text else 0)
        calls = Spellings(turn.meta).text(calls_text(turn.calls))
        return {tags["role_tag"]: tags["function_tag"], tags["content_tag"]: calls}
    return {tags["role_tag"]: tags[_ROLE_TAG[turn.role]], tags["content_tag"]: turn.text}


def _files(
    record: dict[str, Any],
    turns: list[Turn],
    path: list[Message],
    sink: ImageSink,
    loss: LossReport,
) -> dict[str, Any]:
    """``record`` with its ``images``, ``videos``, ``audios`` and ``tools`` columns,
    each left out when empty."""
    record = with_images(record, [sink.place(ref) for t in turns for ref in t.images])
    if "images" in record:
        loss.held["images"] += 1
    for kind in MEDIA_TOKENS:
        files = [sink.place(ref) for t in turns for ref in t.media.get(kind, [])]
        if files:
            record[f"{kind}s"] = files
            loss.held[f"{kind}s"] += 1
    tools = tools_text(path, loss)
    if tools is not None:
        record["tools"] = tools
        loss.held["tools"] += 1
    return record


def _sft_records(
    trees: Iterable[DialogueTree],
    sink: ImageSink,
    options: LinearOptions,
    style: Style,
    loss: LossReport,
) -> Iterator[dict[str, Any]]:
    for _, path, turns in sft_turns(trees, options, loss):
        record = {_SFT_KEY[style]: [_message(t, style, loss) for t in turns]}
        record = _files(record, turns, path, sink, loss)
        record = restore_keys(record, path[-1], "sharegpt/sft", loss)
        if isinstance(record.get("label"), bool):
            loss.held["label"] += 1  # LLaMA-Factory's kto_tag column
        yield record


def _ranking_records(
    trees: Iterable[DialogueTree],
    sink: ImageSink,
    options: LinearOptions,
    criterion: str,
    style: Style,
    loss: LossReport,
) -> Iterator[dict[str, Any]]:
    for turns, chosen, rejected, path, judgment in pair_turns(trees, options, criterion, loss):
        record = {
            "conversations": [_message(t, style, loss) for t in turns],
            "chosen": _message(chosen, style, loss),
            "rejected": _message(rejected, style, loss),
        }
        record = _files(record, [*turns, chosen, rejected], path, sink, loss)
        yield restore_keys(record, judgment, "sharegpt/pair", loss, path[-1])


def _dataset_info(
    url: str, name: str, ranking: bool, style: Style, held: Iterable[str] = ()
) -> None:
    columns: dict[str, str] = (
        {"messages": "conversations", "chosen": "chosen", "rejected": "rejected"}
        if ranking
        else {"messages": _SFT_KEY[style]}
    )
    # images, videos, audios, tools, KTO labels: only columns some record holds, since LLaMA-Factory
    # reads every column it is given from every record
    columns.update(("kto_tag" if key == "label" else key, key) for key in sorted(held))
    entry = {
        "file_name": os.path.basename(url),
        "formatting": "sharegpt",
        "ranking": ranking,
        "columns": columns,
        "tags": _TAGS[style],
    }
    add_dataset_info(url, name, entry)


def add_dataset_info(url: str, name: str, entry: dict[str, Any]) -> None:
    """Add ``entry`` as ``name`` to the LLaMA-Factory ``dataset_info.json`` beside
    ``url``, under a lock: concurrent exports into one folder lose no entry."""
    info_url = sibling(url, "dataset_info.json")
    with locked(info_url):  # another export into this folder waits: no entry is lost
        try:
            with open_input(info_url) as f:
                info = json.load(f)
            if not isinstance(info, dict):
                info = {}
        except (OSError, ValueError):
            info = {}
        info[name] = entry
        with atomic_output(info_url) as out:
            out.write(json.dumps(info, indent=2, ensure_ascii=False).encode() + b"\n")


MODES = ("sft", "ranking")
STYLES = ("role", "from")


def records(
    trees: Iterable[DialogueTree],
    loss: LossReport,
    mode: Literal["sft", "ranking"] = "sft",
    *,
    criterion: str = "overall",
    images: Literal["reference", "copy", "link"] = "reference",
    source_root: str | None = None,
    assistant_images: Literal["move", "drop"] = "move",
    style: Style = "role",
    image_folder: str | None = None,
    max_images: int | None = None,
    max_chars: int | None = None,
) -> Iterator[dict[str, Any]]:
    """ShareGPT records, one by one; ``image_folder`` receives copied or inline images."""
    check_choice("mode", mode, MODES)
    check_choice("style", style, STYLES)
    loss.format = f"sharegpt ({mode})"
    sink = ImageSink(image_folder, source_root, images)
    options = LinearOptions(TOKEN, assistant_images, max_images, max_chars, media=True, tools=True)
    if mode == "ranking":
        yield from _ranking_records(trees, sink, options, criterion, style, loss)
    else:
        yield from _sft_records(trees, sink, options, style, loss)
    sink.account(loss)


def finish(
    url: str,
    loss: LossReport | None = None,
    mode: str = "sft",
    *,
    name: str | None = None,
    style: Style = "role",
    **options: Any,
) -> None:
    """Add the dataset's entry, named ``name`` or after the file, to the
    ``dataset_info.json`` beside it."""
    base = os.path.basename(url).split(".")[0]
    held = loss.held if loss is not None else ()
    _dataset_info(url, name or base, mode == "ranking", style, held)


def export(
    trees: Iterable[DialogueTree],
    url: str,
    mode: Literal["sft", "ranking"] = "sft",
    **options: Any,
) -> LossReport:
    """Write a LLaMA-Factory ShareGPT dataset (a JSON array) and its
    ``dataset_info.json`` entry (see :func:`finish`). ``options`` are those of
    :func:`records` and ``name``; ``style`` picks the tags: ``role``/``content`` with
    user/assistant, or ``from``/``value`` with human/gpt."""
    return FORMAT.export(trees, url, mode=mode, **options)


def check_record(record: dict[str, Any]) -> list[str]:
    """What LLaMA-Factory would refuse in one record (SFT or ranking), as messages.

    >>> check_record({"messages": [{"role": "user", "content": "<image>Hi"},
    ...                            {"role": "assistant", "content": "Hello"}], "images": []})
    ['1 <image> tokens for 0 images']
    """
    ranking = "chosen" in record
    key = "conversations" if ranking or "conversations" in record else "messages"
    messages = record.get(key) or []
    raw_roles = [m.get("role", m.get("from")) for m in messages]
    tags = (
        ("human", "gpt", "system")
        if any(r in ("human", "gpt") for r in raw_roles)
        else ("user", "assistant", "system")
    )
    sides = {"observation": tags[0], "function_call": tags[1]}  # LLaMA-Factory's pairing
    roles = [sides.get(r, r) for r in raw_roles]
    problems = check_alternation(roles, tags[0], tags[1], tags[2], tags[0] if ranking else tags[1])
    text_key = "content" if messages and "content" in messages[0] else "value"
    for token, column in ((TOKEN, "images"), *((t, f"{k}s") for k, t in MEDIA_TOKENS.items())):
        tokens = sum(str(m.get(text_key, "")).count(token) for m in messages)
        files = len(record.get(column) or [])
        for side in ("chosen", "rejected") if ranking else ("",):
            count = tokens + (str(record[side].get(text_key, "")).count(token) if side else 0)
            if count != files:
                where = f" in prompt+{side}" if side else ""
                problems.append(f"{count} {token} tokens{where} for {files} {column}")
    return problems


def _paths(record: dict[str, Any], key: str) -> list[str]:
    value = record.get(key) or []
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise ValueError(f"{key} must be a list of paths")
    return value


def _parse(record: dict[str, Any], number: int, issues: list[Issue]) -> list[Conversation]:
    images = [image_ref(p) for p in _paths(record, "images")]
    media = {k: [media_ref(p) for p in _paths(record, f"{k}s")] for k in MEDIA_TOKENS
             if f"{k}s" in record}  # fmt: skip
    if "chosen" in record and "rejected" in record:
        prompt = turn_messages(record.get("conversations") or [], images, TOKEN, issues, media)
        chosen, rejected = (
            turn_messages([record[k]], [], TOKEN, issues) for k in ("chosen", "rejected")
        )
        return preference(with_tools(prompt, record), chosen, rejected, number)
    raw = record.get("messages") or record.get("conversations") or []
    messages = with_tools(turn_messages(raw, images, TOKEN, issues, media), record)
    if not messages:
        raise ValueError("the record holds no conversation")
    return [Conversation(messages=messages, record=number)]


def load(url: str) -> ImportResult:
    """Read LLaMA-Factory ShareGPT records (SFT or ranking, either tag style) back
    into trees, merging shared prefixes by content."""
    return load_records(url, _parse, keys=_KEYS, kept_as="sharegpt")


_KEYS = frozenset(
    {"messages", "conversations", "images", "videos", "audios", "tools", "chosen", "rejected"}
)
"""The record keys the reader carries into trees; others are counted as dropped."""


def detect(record: dict[str, Any]) -> bool:
    """A LLaMA-Factory ShareGPT record: ``conversations`` with ``chosen`` (ranking),
    ``messages`` with string contents (and no OpenAI tool calls), or ``conversations``
    without LLaVA's ``id`` and ``image``."""
    if "chosen" in record and "conversations" in record:
        return True
    messages = record.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        strings = all(isinstance(m, dict) and isinstance(m.get("content"), str) for m in messages)
        return strings and not calls_tools(messages)
    return has_turns(record) and "id" not in record and "image" not in record


FORMAT = register_format(
    Format(
        name="sharegpt",
        lossless=False,
        reader=load,
        suffix=".json",
        records=records,
        array=True,
        detect=detect,
        finish=finish,
        finish_options={"mode": MODES, "name": str, "style": STYLES},
        description="LLaMA-Factory ShareGPT: SFT messages or ranking (--mode ranking), "
        "with dataset_info.json",
        export_options={
            "mode": MODES,
            "style": STYLES,
            **TRAINING_OPTIONS,
        },
    )
)
