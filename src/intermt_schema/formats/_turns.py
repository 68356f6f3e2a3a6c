"""Reading the turns of ShareGPT-like records back into messages: roles by their tags,
placeholders (``<image>``, ``<video>``, ``<audio>``) into media parts at their place,
and ``function_call``/``observation`` turns into tool calls and tool results.

>>> [m.role for m in turn_messages([{"from": "human", "value": "Hi"},
...     {"from": "function_call", "value": '{"name": "f", "arguments": {}}'}], [], "<image>", [])]
['user', 'assistant']
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from msgspec import structs

from ..schema._structs import (
    AudioPart,
    ImagePart,
    ImageRef,
    MediaRef,
    Message,
    Part,
    Role,
    TextPart,
    VideoPart,
)
from ..validation._report import Issue
from ..validation._rules import rule_issue
from ._tools import calls_from_text, calls_text, refuse_unknown_keys, spelling

__all__ = ["MEDIA_TOKENS", "placeholder_issue", "turn_messages"]

MEDIA_TOKENS = {"video": "<video>", "audio": "<audio>"}
"""LLaMA-Factory's placeholders for the files of its ``videos`` and ``audios`` columns."""


_ROLES: dict[str, Role] = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "system": "system",
    "function_call": "assistant",
    "observation": "tool",
    "tool": "tool",
}


_TURN_KEYS = frozenset({"from", "value", "role", "content"})


def placeholder_issue(
    origin: str, where: str, expected: int, found: int, kind: str = "image"
) -> Issue:
    """The warning for a record whose placeholder count differs from its file count."""
    return rule_issue(
        "import.placeholder_mismatch",
        f"{found} placeholders for {expected} {kind}s; text kept verbatim and {kind}s appended",
        file=origin,
        path=where,
    )


def _part(kind: str, ref: Any) -> Part:
    if kind == "image":
        return ImagePart(image=ref)
    return VideoPart(video=ref) if kind == "video" else AudioPart(audio=ref)


class _Queues:
    """The files of one record, each kind taken in order as its placeholders appear."""

    def __init__(self, tokens: Mapping[str, str], files: Mapping[str, Sequence[Any]]) -> None:
        self.kind = {token: kind for kind, token in tokens.items()}
        self.files, self.taken = files, dict.fromkeys(tokens.values(), 0)

    def parts(self, text: str) -> list[Part]:
        """``text`` as parts, each placeholder taking the next file of its kind. When a
        kind runs out, the text is kept verbatim and the files it took are appended."""
        present = [token for token in self.kind if token in text]
        if not present:
            return [TextPart(text)] if text else []
        taken: dict[str, list[Any]] = {}
        for token in present:
            start, count = self.taken[token], text.count(token)
            taken[token] = list(self.files[self.kind[token]][start : start + count])
            self.taken[token] = start + count
        if any(len(taken[t]) != text.count(t) for t in present):
            extra = [_part(self.kind[t], ref) for t in present for ref in taken[t]]
            return [TextPart(text), *extra]
        parts: list[Part] = []
        pattern = "(" + "|".join(re.escape(t) for t in present) + ")"
        for k, piece in enumerate(re.split(pattern, text)):
            if k % 2:
                parts.append(_part(self.kind[piece], taken[piece].pop(0)))
            elif piece:
                parts.append(TextPart(piece))
        return parts


def turn_messages(
    raw: list[Any],
    images: list[ImageRef],
    token: str,
    issues: list[Issue],
    media: Mapping[str, list[MediaRef]] | None = None,
) -> list[Message]:
    """Messages from ShareGPT/LLaVA turns (``from``/``value`` or ``role``/``content``).

    Each ``token`` takes the next image, and each ``<video>``/``<audio>`` the next file
    of ``media["video"]``/``media["audio"]`` when the record has that list. Images left
    over are put before the first turn's content; any mismatch is reported. A
    ``function_call`` turn becomes an assistant message of tool calls, and an
    ``observation`` (or ``tool``) turn a ``tool`` message. A turn with no known role,
    no text, or keys besides its role and text raises ``ValueError``: nothing of it is
    dropped quietly."""
    kinds = {"image": token, **{k: MEDIA_TOKENS[k] for k in media or {}}}
    queues = _Queues(kinds, {"image": images, **(media or {})})
    messages: list[Message] = []
    for i, turn in enumerate(raw):
        tag = turn.get("from", turn.get("role"))
        role = _ROLES.get(tag)
        text = turn.get("value", turn.get("content"))
        if role is None or not isinstance(text, str):
            raise ValueError(f"turn {i} has no known role or no text")
        refuse_unknown_keys(turn, _TURN_KEYS, f"turn {i}")
        if tag == "function_call":
            calls = calls_from_text(text, f"turn {i}")
            meta = spelling([(text, calls_text(calls))])
            messages.append(Message(id="", role="assistant", content=list(calls), meta=meta))
            continue
        messages.append(Message(id="", role=role, content=queues.parts(text)))
    for token_, kind in queues.kind.items():
        available = len(queues.files[kind])
        used = queues.taken[token_]
        if used == available:
            continue
        issues.append(placeholder_issue("", f"/{kind}s", available, used, kind))
        if messages and used < available:
            extra = [_part(kind, ref) for ref in queues.files[kind][used:]]
            messages[0] = structs.replace(messages[0], content=[*extra, *messages[0].content])
    return messages
