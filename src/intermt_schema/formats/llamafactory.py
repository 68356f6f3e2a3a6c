"""A LLaMA-Factory data folder: every dataset its ``dataset_info.json`` declares.

Each entry names a ``file_name`` in the folder, a ``formatting`` (``alpaca``, the
default, or ``sharegpt``), ``ranking``, ``columns`` and, for ShareGPT, ``tags``. Each
file's records are renamed to the layout's default columns and tags, then read by the
``alpaca`` or ``sharegpt`` reader, so everything those readers carry (images, videos,
audios, tools, ``function_call``/``observation`` turns, ranking) is carried here too,
and columns neither reads are kept on the record's last message. Entries that point
elsewhere (``hf_hub_url``, ``ms_hub_url``, ``script_url``, a ``file_name`` leaving
the folder) and unknown ``formatting`` values are reported, never fetched. Exports to
``sharegpt`` and ``alpaca`` write the entries LLaMA-Factory reads.

>>> detect_folder("/nonexistent")
False
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

from ..io._fs import is_local
from ..io._input import DEFAULT_MAX_RECORD_BYTES
from ..validation._containment import local_file, open_regular
from ..validation._report import Issue, unreadable
from . import alpaca, sharegpt
from ._records import load_records
from ._registry import Format, ImportResult, register_format

__all__ = ["FORMAT", "detect_folder", "load"]

INFO = "dataset_info.json"

_SHAREGPT_TAGS = {"role_tag": "from", "content_tag": "value", "user_tag": "human",
                  "assistant_tag": "gpt", "observation_tag": "observation",
                  "function_tag": "function_call", "system_tag": "system"}  # fmt: skip
"""LLaMA-Factory's default ShareGPT tags, which the ``sharegpt`` reader reads."""

_COLUMNS = {
    "sharegpt": {"messages": "conversations", "images": "images", "videos": "videos",
                 "audios": "audios", "tools": "tools", "chosen": "chosen",
                 "rejected": "rejected"},
    "alpaca": {"prompt": "instruction", "query": "input", "response": "output",
               "history": "history", "system": "system", "images": "images",
               "chosen": "chosen", "rejected": "rejected"},
}  # fmt: skip
"""Per formatting: LLaMA-Factory's column role -> the key its reader reads. The
entry's ``columns`` say which record key holds each role (the key itself by default,
``conversations`` for ShareGPT messages)."""


def detect_folder(url: str) -> bool:
    """Whether ``url`` is a local folder holding a ``dataset_info.json``."""
    return is_local(url) and os.path.isfile(os.path.join(url.removeprefix("file://"), INFO))


def _renamer(formatting: str, entry: dict[str, Any]) -> tuple[Any, frozenset[str]]:
    """``(rename(record), raw keys carried)`` for one dataset entry."""
    roles = _COLUMNS[formatting]
    columns = {role: (entry.get("columns") or {}).get(role, key) for role, key in roles.items()}
    tags = {**_SHAREGPT_TAGS, **(entry.get("tags") or {})}
    names = {tags[f"{r}_tag"]: _SHAREGPT_TAGS[f"{r}_tag"]
             for r in ("user", "assistant", "observation", "function", "system")}  # fmt: skip

    def turn(raw: Any) -> Any:
        if not isinstance(raw, dict) or tags["role_tag"] not in raw:
            return raw  # the reader refuses it, naming the turn
        out = {k: v for k, v in raw.items() if k not in (tags["role_tag"], tags["content_tag"])}
        out["from"] = names.get(raw[tags["role_tag"]], raw[tags["role_tag"]])
        if tags["content_tag"] in raw:
            out["value"] = raw[tags["content_tag"]]
        return out

    def rename(record: Any) -> Any:
        if not isinstance(record, dict):
            return record
        out = {k: v for k, v in record.items() if k not in columns.values()}
        for role, column in columns.items():
            if column in record:
                value = record[column]
                if formatting == "sharegpt" and role in ("messages", "chosen", "rejected"):
                    value = [turn(t) for t in value] if isinstance(value, list) else turn(value)
                out[roles[role]] = value
        return out

    return rename, frozenset(columns.values())


def _dataset(folder: str, name: str, entry: Any) -> ImportResult:
    info = os.path.join(folder, INFO)
    if not isinstance(entry, dict) or not isinstance(entry.get("file_name"), str):
        where = [k for k in ("hf_hub_url", "ms_hub_url", "om_hub_url", "script_url")
                 if isinstance(entry, dict) and k in entry]  # fmt: skip
        why = f"it names {where[0]}, which is not fetched" if where else "it has no file_name"
        return ImportResult([], [unreadable(info, "read", f"dataset {name!r}: {why}")])
    formatting = entry.get("formatting", "alpaca")
    if formatting not in _COLUMNS:
        why = f"dataset {name!r}: formatting {formatting!r} is not alpaca or sharegpt"
        return ImportResult([], [unreadable(info, "read", why)])
    path, problem = local_file(folder, entry["file_name"])  # inside the folder, a real file
    if path is None:
        reason = (problem[1] if problem else "not found").replace("image path", "file_name", 1)
        return ImportResult([], [unreadable(info, "read", f"dataset {name!r}: {reason}")])
    rename, keys = _renamer(formatting, entry)
    reader = sharegpt if formatting == "sharegpt" else alpaca
    parse = reader._parse

    def renamed(record: dict[str, Any], number: int, issues: list[Issue]) -> Any:
        return parse(rename(record), number, issues)

    return load_records(path, renamed, keys=keys, kept_as=formatting)


def load(url: str) -> ImportResult:
    """Read every dataset a LLaMA-Factory folder's ``dataset_info.json`` declares."""
    folder = url.removeprefix("file://")
    if folder.endswith(INFO):
        folder = os.path.dirname(folder) or "."
    try:
        with open_regular(os.path.join(folder, INFO), follow_links=True) as f:
            text = f.read(DEFAULT_MAX_RECORD_BYTES + 1)
        if len(text) > DEFAULT_MAX_RECORD_BYTES:
            raise ValueError(f"it is longer than {DEFAULT_MAX_RECORD_BYTES} bytes")
        info = json.loads(text)
        if not isinstance(info, dict):
            raise ValueError("it is not a JSON object of datasets")
    except (OSError, ValueError) as exc:
        return ImportResult([], [unreadable(os.path.join(folder, INFO), "read", exc)])
    total = ImportResult([], [], 0, {}, Counter())
    for name, entry in info.items():
        part = _dataset(folder, name, entry)
        total.trees += part.trees
        total.issues += part.issues
        total.records += part.records
        total.rejected.update(part.rejected)
        total.dropped.update(part.dropped)
    return total


FORMAT = register_format(
    Format(
        name="llamafactory",
        lossless=False,
        reader=load,
        suffix="",
        description="a LLaMA-Factory data folder: every dataset its dataset_info.json "
        "declares (import only; sharegpt and alpaca exports write the entries)",
    )
)
