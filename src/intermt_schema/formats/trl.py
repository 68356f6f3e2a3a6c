"""TRL conversational datasets: language modelling, explicit-prompt preference, and
unpaired (KTO) rows, as JSON Lines.

- ``sft``: ``{"messages": [...], "images": [...]}``
- ``preference``: ``{"prompt": [...], "chosen": [assistant], "rejected": [assistant],
  "images": [...]}`` -- the whole shared history is the explicit prompt.
- ``kto``: ``{"prompt": [...], "completion": [assistant], "label": bool, "images": [...]}``,
  one row for each side of a judgment.

Messages carry content parts ``{"type": "text", "text"}`` and ``{"type": "image"}``; the
``images`` column lists one image per image part, in order, and image parts appear in
prompts only. ``images`` is left out of rows without images.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal

from msgspec import structs

from .._errors import OptionError, check_choice
from ..io._json_records import rewrite_records
from ..schema._structs import DialogueTree, Message, TextPart
from ..tree._view import TreeView
from ._kept import message_keys
from ._linear import (
    RECORD_ENDS,
    RECORD_KEYS,
    LinearOptions,
    Turn,
    linearize,
    pair_turns,
    sft_turns,
    within_limits,
)
from ._options import TRAINING_OPTIONS
from ._placing import ImageSink
from ._records import load_records, restore_keys
from ._registry import Format, ImportResult, LossReport, register_format
from ._tools import Spellings, calls_tools_trl_style, json_text, tools_value
from ._trl_rows import STEP_LABELS, parse_row

__all__ = ["FORMAT", "MODES", "check_record", "detect", "export", "load", "records"]


_MARK = "\x00image\x00"  # splits a linearized turn back into parts; never in real text


def _message(turn: Turn) -> dict[str, Any]:
    parts: list[dict[str, str]] = []
    for i, piece in enumerate(turn.text.split(_MARK)):
        if i:
            parts.append({"type": "image"})
        if piece:
            parts.append({"type": "text", "text": piece})
    message: dict[str, Any] = {"role": turn.role}
    if parts or not turn.calls:  # a message of tool calls alone has no content
        message["content"] = parts
    if turn.calls:
        kept = Spellings(turn.meta)
        message["tool_calls"] = [
            {"type": "function", **({"id": c.call_id} if c.call_id is not None else {}),
             "function": {"name": c.name,
                          "arguments": kept.kept_text(json_text(c.arguments)) or c.arguments}}
            for c in turn.calls
        ]  # fmt: skip
    if turn.tool_call_id is not None:
        message["tool_call_id"] = turn.tool_call_id
    return {**message, **message_keys(turn.meta, "trl")}


def _prompts(
    trees: Iterable[DialogueTree], options: LinearOptions, loss: LossReport
) -> Iterator[tuple[Message, list[Message], list[Turn]]]:
    """``(question, path to it, turns up to it)`` for every user message: the prompts
    of online training."""
    for tree in trees:
        loss.drop("ratings", len(tree.ratings))
        loss.drop("judgments", len(tree.judgments))
        view = TreeView(tree)
        for node in tree.nodes:
            if node.role == "user":
                path = view.path_to(node.id)
                turns = linearize(path, options, loss)
                if turns is not None and within_limits(turns, options, loss):
                    yield node, path, turns
                    for kept in node.meta.get(RECORD_ENDS, ()):  # rows repeated on import
                        yield structs.replace(node, meta={RECORD_KEYS: kept}), path, turns
            elif node.role != "system":  # a system message is part of the prompts
                loss.drop("answers (prompt-only rows hold questions)")


def _with_tools(record: dict[str, Any], path: list[Message], loss: LossReport) -> dict[str, Any]:
    tools = tools_value(path, loss)
    return record if tools is None else {**record, "tools": tools}


def _stepwise(
    trees: Iterable[DialogueTree],
    options: LinearOptions,
    images: Callable[[list[Turn]], list[str]],
    loss: LossReport,
) -> Iterator[dict[str, Any]]:
    """Stepwise supervision rows: the prompt, the steps of the answer (its text parts)
    and their labels; answers without a label per step are counted."""
    for _, path, turns in sft_turns(trees, options, loss):
        answer = path[-1]
        labels = answer.meta.get(STEP_LABELS)
        steps = [p.text for p in answer.content if isinstance(p, TextPart)]
        if not isinstance(labels, list) or not len(labels) == len(steps) == len(answer.content):
            loss.drop("answers without a label per step (stepwise rows need them)")
            continue
        head = turns[:-1]
        record = {"prompt": [_message(t) for t in head], "completions": steps, "labels": labels,
                  "images": images(head)}  # fmt: skip
        yield restore_keys(_with_tools(record, path, loss), answer, "trl/sft", loss, labels=False)


def _records(
    trees: Iterable[DialogueTree],
    mode: str,
    sink: ImageSink,
    options: LinearOptions,
    criterion: str,
    loss: LossReport,
) -> Iterator[dict[str, Any]]:
    def images(turns: list[Turn]) -> list[str]:
        return [sink.place(r) for t in turns for r in t.images]

    if mode == "prompt-only":
        for question, path, turns in _prompts(trees, options, loss):
            record = {"prompt": [_message(t) for t in turns], "images": images(turns)}
            yield restore_keys(_with_tools(record, path, loss), question, "trl/sft", loss)
        return
    if mode == "stepwise":
        yield from _stepwise(trees, options, images, loss)
        return
    if mode in ("sft", "prompt-completion"):
        for _, path, turns in sft_turns(trees, options, loss):
            messages = [_message(t) for t in turns]
            record = (
                {"messages": messages, "images": images(turns)}
                if mode == "sft"
                else {"prompt": messages[:-1], "completion": messages[-1:], "images": images(turns)}
            )
            yield restore_keys(_with_tools(record, path, loss), path[-1], "trl/sft", loss)
        return
    for turns, chosen, rejected, path, judgment in pair_turns(trees, options, criterion, loss):
        head = [_message(t) for t in turns]
        chosen_, rejected_ = [_message(chosen)], [_message(rejected)]
        if mode == "preference":
            record = {"prompt": head, "chosen": chosen_, "rejected": rejected_}
        elif mode == "preference-implicit":
            record = {"chosen": head + chosen_, "rejected": head + rejected_}
        else:
            for side, label in ((chosen_, True), (rejected_, False)):
                yield {"prompt": head, "completion": side, "label": label, "images": images(turns)}
            continue
        record["images"] = images(turns)
        record = _with_tools(record, path, loss)
        yield restore_keys(record, judgment, "trl/pair", loss, path[-1])


def _standard(rows: Iterator[dict[str, Any]], loss: LossReport) -> Iterator[dict[str, Any]]:
    """Conversational rows as standard ones: plain strings for a one-question prompt
    and one-message answers; rows that cannot be written so are counted."""
    for row in rows:
        if row.get("images"):
            loss.drop("rows with images (the standard style is text only)")
            continue
        texts: dict[str, Any] = {}
        for key, value in row.items():
            if key in _MESSAGE_KEYS:
                if len(value) != 1 or (key == "prompt") != (value[0]["role"] == "user"):
                    loss.drop("rows with several messages on a side (standard: one text each)")
                    break
                texts[key] = _plain(value[0]["content"])
            elif key != "images":
                texts[key] = value
        else:
            yield texts


def _plain(content: Any) -> Any:
    """A content part list of text parts only, as one string; anything else as it is."""
    if isinstance(content, list) and all(p.get("type") == "text" for p in content):
        return "".join(p["text"] for p in content)
    return content


_MESSAGE_KEYS = ("messages", "prompt", "completion", "chosen", "rejected")


Mode = Literal[
    "sft", "prompt-only", "prompt-completion", "preference", "preference-implicit", "kto",
    "stepwise",
]  # fmt: skip
MODES: tuple[Mode, ...] = (
    "sft", "prompt-only", "prompt-completion", "preference", "preference-implicit", "kto",
    "stepwise",
)  # fmt: skip
STYLES = ("conversational", "standard")


def records(
    trees: Iterable[DialogueTree],
    loss: LossReport,
    mode: Mode = "sft",
    *,
    style: Literal["conversational", "standard"] = "conversational",
    criterion: str = "overall",
    images: Literal["reference", "copy", "link"] = "reference",
    source_root: str | None = None,
    assistant_images: Literal["move", "drop"] = "move",
    image_folder: str | None = None,
    max_images: int | None = None,
    max_chars: int | None = None,
) -> Iterator[dict[str, Any]]:
    """TRL rows of one dataset type (``mode``), one by one; ``style="standard"`` writes
    plain strings instead of role messages (language modelling excepted);
    ``image_folder`` receives copied or inline images."""
    check_choice("mode", mode, MODES)
    check_choice("style", style, STYLES)
    if style == "standard" and mode == "sft":
        raise OptionError("trl: --style standard writes every --mode but sft (language modelling)")
    loss.format = f"trl ({mode}{', standard' if style == 'standard' else ''})"
    sink = ImageSink(image_folder, source_root, images)
    options = LinearOptions(_MARK, assistant_images, max_images, max_chars, tools=True)
    rows = _records(trees, mode, sink, options, criterion, loss)
    yield from _standard(rows, loss) if style == "standard" else rows
    sink.account(loss)


def finish(url: str, loss: LossReport) -> None:
    """Every row has an ``images`` list (``[]`` where a row has none), because TRL's
    collator fails on the ``None`` that ``load_dataset("json")`` fills in for a missing
    one. When no row names an image, the column is removed and message contents become
    plain strings, so that TRL treats the dataset as text-only."""
    if loss.records and not loss.images:
        rewrite_records(url, _text_only)


def _text_only(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: [{**m, "content": _plain(m["content"])} if "content" in m else m for m in v]
        if k in _MESSAGE_KEYS and isinstance(v, list)
        else v
        for k, v in row.items()
        if k != "images"
    }


def export(
    trees: Iterable[DialogueTree],
    url: str,
    mode: Mode = "sft",
    **options: Any,
) -> LossReport:
    """Write TRL rows as JSON Lines; ``options`` are those of :func:`records`."""
    return FORMAT.export(trees, url, mode=mode, **options)


def check_record(row: dict[str, Any]) -> list[str]:
    """TRL's vision rules: image parts only in the prompt, one image per part, and a
    prompt that ends with a user, tool or assistant turn.

    >>> check_record({"messages": [{"role": "user", "content": [{"type": "image"}]}]})
    ['1 image parts for 0 images']
    """
    problems = []
    prompt = row.get("messages") or row.get("prompt") or []
    answers = (
        (row.get("chosen") or []) + (row.get("rejected") or []) + (row.get("completion") or [])
    )

    def image_parts(messages: list[dict[str, Any]]) -> int:
        return sum(
            1
            for m in messages
            if isinstance(m["content"], list)
            for p in m["content"]
            if p.get("type") == "image"
        )

    if image_parts(answers):
        problems.append("image parts outside the prompt")
    count = image_parts(prompt)
    if count != len(row.get("images") or []):
        problems.append(f"{count} image parts for {len(row.get('images') or [])} images")
    if "prompt" in row and (not prompt or prompt[-1]["role"] not in ("user", "tool", "assistant")):
        problems.append("the prompt does not end with a user, tool or assistant turn")
    return problems


def load(url: str) -> ImportResult:
    """Read TRL conversational rows back into trees: language modeling, prompt-only,
    prompt-completion (and unpaired preference), and preference with an explicit or
    an implicit prompt."""
    return load_records(url, parse_row, keys=_KEYS, kept_as="trl")


_KEYS = frozenset({"messages", "prompt", "completion", "completions", "labels", "chosen",
                   "rejected", "images", "tools"})  # fmt: skip
"""The row keys the reader carries into trees; others (``label``) are counted as dropped."""


def detect(record: dict[str, Any]) -> bool:
    """A TRL conversational row: a ``completion``, a ``prompt`` list (with ``chosen``
    or alone), ``chosen`` and ``rejected`` lists of role messages (an implicit
    prompt), or ``messages`` whose contents are part lists without ``image_url``, or
    that call tools as TRL writes them.

    >>> detect({"chosen": [{"role": "user", "content": "Hi"}], "rejected": []})
    True
    """
    if "completion" in record or ("completions" in record and "labels" in record):
        return True
    prompt = record.get("prompt")
    if isinstance(prompt, list) and prompt and isinstance(prompt[0], dict) and "role" in prompt[0]:
        return True  # conversational, any type; other keys are kept
    if "prompt" in record and ("chosen" in record or set(record) <= {"prompt", "images"}):
        return isinstance(record["prompt"], list) or (  # a standard row: strings
            isinstance(record["prompt"], str) and "id" not in record and "image" not in record
        )
    if "prompt" not in record and "conversations" not in record:
        chosen = record.get("chosen")
        if isinstance(chosen, list) and chosen and isinstance(chosen[0], dict):
            return "role" in chosen[0] and isinstance(record.get("rejected"), list)
    messages = record.get("messages")
    if isinstance(messages, list) and calls_tools_trl_style(messages):
        return True
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        content = messages[0].get("content")
        return isinstance(content, list) and "image_url" not in str(content)
    return False


FORMAT = register_format(
    Format(
        name="trl",
        lossless=False,
        reader=load,
        suffix=".jsonl",
        records=records,
        finish=finish,
        detect=detect,
        description="TRL rows of every dataset type (--mode), conversational or standard "
        "(--style), with images and tool calling",
        export_options={
            "mode": MODES,
            "style": STYLES,
            **TRAINING_OPTIONS,
        },
    )
)
