"""The records of other tools' formats, drawn layout by layout: each strategy gives a
record and the features it uses.

>>> from hypothesis import find
>>> record, features = find(alpaca(ranking=True), lambda drawn: "history" in drawn[1])
>>> sorted(record)[:3]
['chosen', 'history', 'instruction']
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from ._trees import json_values

__all__ = ["Drawn", "align_anything", "alpaca", "llamafactory_v1", "llava", "oasst", "openai",
           "sharegpt", "trl", "trl_standard"]  # fmt: skip

_TOKENS = ("<image>", "<video>", "<audio>", "<image_placeholder>")
_text = st.text(st.characters(codec="utf-8"), max_size=16).filter(
    lambda t: not any(token in t for token in _TOKENS)
)
_path = st.from_regex(r"[a-z]{1,4}/[a-z0-9_]{1,6}\.(png|jpg)", fullmatch=True)
_media = st.from_regex(r"media/[a-z0-9_]{1,6}\.(mp4|wav)", fullmatch=True)
_words = _text.filter(bool)
"""Text parts hold text: an empty one is not written back."""
_two_answers = st.lists(_text, min_size=2, max_size=2, unique=True)
_two_words = st.lists(_words, min_size=2, max_size=2, unique=True)
"""A pair's answers differ: a record whose answers are the same is refused."""
_name = st.from_regex(r"[a-z_]{1,8}", fullmatch=True)
_arguments = st.dictionaries(_name, json_values, max_size=2)
_SPELLINGS: list[dict[str, Any]] = [{"ensure_ascii": False}, {}, {"separators": (",", ":")},
                                     {"sort_keys": True, "ensure_ascii": False}]  # fmt: skip
"""How writers spell JSON text: the library's own spelling first."""

Drawn = tuple[dict[str, Any], set[str]]
"""A record and the features it uses."""


def _json(draw: st.DrawFn, value: Any, features: set[str]) -> str:
    """``value`` as JSON text, in one of the spellings writers use."""
    spelling = draw(st.sampled_from(_SPELLINGS))
    features.add("json spelled otherwise" if spelling != _SPELLINGS[0] else "json as written")
    return json.dumps(value, **spelling)


def _extra_keys(draw: st.DrawFn, taken: set[str], features: set[str]) -> dict[str, Any]:
    keys = st.from_regex(r"[a-z]{1,6}", fullmatch=True).filter(lambda k: k not in taken)
    extra = draw(st.dictionaries(keys, json_values, max_size=2))
    if extra:
        features.add("extra keys")
    return extra


def _files(draw: st.DrawFn, strategy: st.SearchStrategy[str], features: set[str],
           feature: str) -> list[str]:  # fmt: skip
    files = draw(st.lists(strategy, max_size=2))
    if files:
        features.add(feature)
    return files


def _call(draw: st.DrawFn) -> dict[str, Any]:
    return {"name": draw(_name), "arguments": draw(_arguments)}


@st.composite
def sharegpt(draw: st.DrawFn, style: str, ranking: bool) -> Drawn:
    role, content = ("role", "content") if style == "role" else ("from", "value")
    user, assistant = ("user", "assistant") if style == "role" else ("human", "gpt")
    features: set[str] = {f"{style} style"}
    turns: list[dict[str, str]] = []
    if draw(st.booleans()):
        turns.append({role: "system", content: draw(_text)})
        features.add("system")
    record: dict[str, Any] = {}
    questions = draw(st.integers(1, 3))
    for k in range(questions):
        images = _files(draw, _path, features, "images")
        record.setdefault("images", []).extend(images)
        turns.append({role: user, content: "<image>" * len(images) + draw(_text)})
        if ranking and k == questions - 1:
            break
        if draw(st.booleans()):
            calls = [_call(draw) for _ in range(draw(st.integers(1, 2)))]
            value = calls[0] if len(calls) == 1 else calls
            turns.append({role: "function_call", content: _json(draw, value, features)})
            turns.append({role: "observation", content: draw(_text)})
            features.add("function_call")
        turns.append({role: assistant, content: draw(_text)})
    for kind in ("video", "audio"):
        files = _files(draw, _media, features, f"{kind}s")
        if files:
            first = next(i for i, t in enumerate(turns) if t[role] == user)
            turns[first][content] = f"<{kind}>" * len(files) + turns[first][content]
            record[f"{kind}s"] = files
    if not record.get("images"):
        record.pop("images", None)
    if ranking:
        record["conversations"] = turns
        record["chosen"], record["rejected"] = ({role: assistant, content: text}
                                                for text in draw(_two_answers))  # fmt: skip
    else:
        record["messages" if style == "role" else "conversations"] = turns
        if draw(st.booleans()):
            record["label"] = draw(st.booleans())
            features.add("kto label")
    if draw(st.booleans()):
        tools = [{"name": draw(_name), "description": draw(_text)}]
        record["tools"] = _json(draw, tools, features)
        features.add("tools")
    record.update(_extra_keys(draw, {*record, "messages", "conversations", "label"}, features))
    return record, features


@st.composite
def alpaca(draw: st.DrawFn, ranking: bool) -> Drawn:
    features: set[str] = set()
    images = _files(draw, _path, features, "images")
    record: dict[str, Any] = {"instruction": "<image>" * len(images) + draw(_text)}
    if draw(st.booleans()):
        record["input"] = draw(_text)
    else:
        features.add("no input")
    if images:
        record["images"] = images
    if draw(st.booleans()):
        record["system"] = draw(_text)
        features.add("system")
    if draw(st.booleans()):
        record["history"] = draw(st.lists(st.lists(_text, min_size=2, max_size=2), min_size=1,
                                          max_size=2))  # fmt: skip
        features.add("history")
    if ranking:
        record["chosen"], record["rejected"] = draw(_two_answers)
    else:
        record["output"] = draw(_text)
        if draw(st.booleans()):
            record["kto_tag"] = draw(st.booleans())
            features.add("kto label")
    record.update(_extra_keys(draw, {*record, "history", "system", "images", "kto_tag"}, features))
    return record, features


@st.composite
def llava(draw: st.DrawFn, mantis: bool) -> Drawn:
    features: set[str] = {"mantis" if mantis else "llava"}
    turns: list[dict[str, str]] = []
    images: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        new = _files(draw, _path, features, "images")
        images += new
        turns.append({"from": "human", "value": "<image>\n" * len(new) + draw(_text)})
        turns.append({"from": "gpt", "value": draw(_text)})
    record: dict[str, Any] = {"id": draw(_text), "conversations": turns}
    if mantis:
        record["images"] = images
    elif images:
        record["image"] = images[0] if len(images) == 1 and draw(st.booleans()) else images
        features.add("image string" if isinstance(record["image"], str) else "image list")
    record.update(_extra_keys(draw, {*record, "image", "images", "conversation"}, features))
    return record, features


def _image_url(draw: st.DrawFn, path: str, features: set[str]) -> dict[str, Any]:
    detail = draw(st.sampled_from(["auto", "low", "high", None]))
    features.add(f"detail {detail}")
    named = {"detail": detail} if detail else {}
    return {"type": "image_url", "image_url": {"url": path, **named}}


def _content(draw: st.DrawFn, parts: list[dict[str, Any]], features: set[str]) -> Any:
    """A message's parts, or its text as a string when it has only text."""
    if len(parts) == 1 and parts[0]["type"] == "text" and draw(st.booleans()):
        features.add("string content")
        return parts[0]["text"]
    return parts


@st.composite
def openai(draw: st.DrawFn) -> Drawn:
    features: set[str] = set()
    messages: list[dict[str, Any]] = []
    if draw(st.booleans()):
        messages.append({"role": "system", "content": draw(_text)})
        features.add("system")
    for _ in range(draw(st.integers(1, 3))):
        parts: list[dict[str, Any]] = [_image_url(draw, path, features)
                                       for path in _files(draw, _path, features, "images")]
        parts.append({"type": "text", "text": draw(_words)})
        messages.append({"role": "user", "content": _content(draw, parts, features)})
        if draw(st.booleans()):
            features.add("tool calls")
            calls = [{"id": draw(_name), "type": "function",
                      "function": {"name": draw(_name),
                                   "arguments": _json(draw, draw(_arguments), features)}}
                     for _ in range(draw(st.integers(1, 2)))]  # fmt: skip
            messages.append({"role": "assistant", "content": None, "tool_calls": calls})
            messages += [{"role": "tool", "tool_call_id": c["id"],
                          "content": [{"type": "text", "text": draw(_words)}]}
                         for c in calls]  # fmt: skip
        answer = [{"type": "text", "text": draw(_words)}]
        messages.append({"role": "assistant", "content": _content(draw, answer, features)})
    record: dict[str, Any] = {"messages": messages}
    if draw(st.booleans()):
        record["tools"] = [{"type": "function", "function": {"name": draw(_name)}}]
        features.add("tools")
    if "images" not in features and "tool calls" not in features:
        question = messages[-2]  # a file is told apart from ShareGPT by images or tool calls
        parts = question["content"]
        parts = [{"type": "text", "text": parts}] if isinstance(parts, str) else parts
        question["content"] = [_image_url(draw, draw(_path), features), *parts]
    return record, features


def _trl_message(draw: st.DrawFn, role: str, vision: bool, images: list[str],
                 features: set[str]) -> dict[str, Any]:  # fmt: skip
    text = draw(_words)
    if not vision:
        return {"role": role, "content": text}
    found = _files(draw, _path, features, "images") if role == "user" else []
    images += found
    return {"role": role, "content": [*({"type": "image"} for _ in found),
                                      {"type": "text", "text": text}]}  # fmt: skip


def _trl_tool_use(draw: st.DrawFn, features: set[str], vision: bool) -> list[dict[str, Any]]:
    """An assistant message of tool calls (arguments as an object or as JSON text, an
    empty content absent or given) and the tool messages answering them."""
    features.add("tool calls")
    calls = []
    for _ in range(draw(st.integers(1, 2))):
        arguments: Any = draw(_arguments)
        if draw(st.booleans()):
            arguments = _json(draw, arguments, features)
        call: dict[str, Any] = {"type": "function",
                                "function": {"name": draw(_name), "arguments": arguments}}
        if draw(st.booleans()):
            call["id"] = draw(_name)
        calls.append(call)
    message: dict[str, Any] = {"role": "assistant", "tool_calls": calls}
    if draw(st.booleans()):
        message["content"] = draw(st.sampled_from(["", None]))
        features.add("empty content beside calls")
    answers = []
    for call in calls:
        text = draw(_words)
        content: Any = [{"type": "text", "text": text}] if vision else text
        answer: dict[str, Any] = {"role": "tool", "name": call["function"]["name"],
                                  "content": content}
        if "id" in call:
            answer["tool_call_id"] = call["id"]
        answers.append(answer)
    return [message, *answers]


@st.composite
def trl(draw: st.DrawFn, mode: str, vision: bool) -> Drawn:
    features: set[str] = {"vision" if vision else "text only"}
    images: list[str] = []

    def say(role: str) -> dict[str, Any]:
        return _trl_message(draw, role, vision, images, features)

    prompt = [say("system")] if draw(st.booleans()) else []
    for _ in range(draw(st.integers(0, 0 if mode == "prompt-only" else 2))):  # (see trl docs)
        prompt.append(say("user"))
        if draw(st.booleans()):
            prompt += _trl_tool_use(draw, features, vision)
        prompt.append(say("assistant"))
    prompt.append(say("user"))
    row: dict[str, Any]
    if mode == "sft":
        row = {"messages": [*prompt, say("assistant")]}
    elif mode == "prompt-only":
        row = {"prompt": prompt}
    elif mode == "prompt-completion":
        row = {"prompt": prompt, "completion": [say("assistant")]}
        if draw(st.booleans()):
            row["label"] = draw(st.booleans())
            features.add("kto label")
    else:
        chosen, rejected = (
            {"role": "assistant", "content": [{"type": "text", "text": text}] if vision else text}
            for text in draw(_two_words)
        )
        row = ({"prompt": prompt, "chosen": [chosen], "rejected": [rejected]}
               if mode == "preference"
               else {"chosen": [*prompt, chosen], "rejected": [*prompt, rejected]})  # fmt: skip
    if "tool calls" in features and draw(st.booleans()):
        tools = [{"type": "function", "function": {"name": draw(_name)}}]
        row["tools"] = _json(draw, tools, features) if draw(st.booleans()) else tools
        features.add("tools")
    if vision:
        if not images:  # a file whose rows name no image is written as text only
            first = next(m for m in (row.get("messages") or row.get("prompt") or row["chosen"])
                         if m["role"] == "user")  # fmt: skip
            first["content"].insert(0, {"type": "image"})
            images.append(draw(_path))
        row["images"] = images
    row.update(_extra_keys(draw, {*row, "images", "label"}, features))
    return row, features


@st.composite
def trl_standard(draw: st.DrawFn, mode: str) -> Drawn:
    features: set[str] = {"standard"}
    row: dict[str, Any] = {"prompt": draw(_words)}
    if mode == "preference":
        row["chosen"], row["rejected"] = draw(_two_words)
    elif mode == "stepwise":
        steps = draw(st.lists(_words, min_size=1, max_size=4))
        row["completions"] = steps
        row["labels"] = draw(st.lists(st.booleans(), min_size=len(steps), max_size=len(steps)))
        features.add("stepwise")
    else:
        row["completion"] = draw(_words)
    row.update(_extra_keys(draw, {*row, "images", "messages"}, features))
    return row, features


def _v1_part(draw: st.DrawFn, role: str, features: set[str]) -> list[dict[str, str]]:
    kinds = ["text", "image_url", "video_url", "audio_url"] if role == "user" else [
        "text", "reasoning", "tool_call"]  # fmt: skip
    parts = []
    for kind in draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=3)):
        features.add(f"{kind} part")
        value = (draw(_words) if kind in ("text", "reasoning")
                 else _json(draw, _call(draw), features) if kind == "tool_call"
                 else draw(_media if kind != "image_url" else _path))  # fmt: skip
        parts.append({"type": kind, "value": value})
    return parts


def _v1_message(draw: st.DrawFn, role: str, features: set[str]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": role, "content": _v1_part(draw, role, features)}
    if draw(st.booleans()):
        message["loss_weight"] = draw(st.sampled_from([0.0, 0.5, 1.0]))
        features.add("loss_weight")
    return message


@st.composite
def llamafactory_v1(draw: st.DrawFn, dpo: bool) -> Drawn:
    features: set[str] = {"dpo" if dpo else "sft"}
    messages = []
    for _ in range(draw(st.integers(1, 2))):
        messages.append(_v1_message(draw, "user", features))
        messages.append(_v1_message(draw, "assistant", features))
    record: dict[str, Any]
    if dpo:
        prompt, chosen = messages[:-1], messages[-1]
        rejected = _v1_message(draw, "assistant", features)
        if rejected["content"] == chosen["content"]:
            rejected["content"] = [*chosen["content"], {"type": "text", "value": "!"}]
        record = {"chosen_messages": [*prompt, chosen], "rejected_messages": [*prompt, rejected]}
    else:
        record = {"messages": messages}
    if draw(st.booleans()):
        record["tools"] = _json(draw, [{"name": draw(_name)}], features)
        features.add("tools")
    return record, features


@st.composite
def align_anything(draw: st.DrawFn, mode: str) -> Drawn:
    features: set[str] = {mode}
    image = draw(st.none() | _path)
    if mode == "text-preference":
        better = draw(st.sampled_from([0, 1]))
        features.add(f"better {better}")
        answers = draw(_two_words)
        record = {"prompt": draw(_words), "response_0": answers[0], "response_1": answers[1],
                  "better_response_id": better}  # fmt: skip
    elif mode == "preference":
        answers = draw(_two_words)
        record = {"question": draw(_words), **({"image": image} if image else {}),
                  "better_response": answers[0], "worse_response": answers[1]}  # fmt: skip
    else:
        marker = "<image_placeholder>" if image else ""
        record = {"prompt": marker + draw(_words), **({"image": image} if image else {}),
                  "response": draw(_words)}  # fmt: skip
    if image and mode != "text-preference":
        features.add("image")
    record.update(_extra_keys(draw, {*record, "image", "better_response_id"}, features))
    return record, features


@st.composite
def oasst(draw: st.DrawFn) -> Drawn:
    features: set[str] = set()
    counter = iter(range(10**6))
    tree_id = f"t{draw(_name)}"

    def message(role: str, depth: int, parent: str | None) -> dict[str, Any]:
        node_id = f"{tree_id}-{next(counter)}"
        raw: dict[str, Any] = {"message_id": node_id, **({"parent_id": parent} if parent else {}),
                               "text": draw(_text), "role": role, "lang": "en"}  # fmt: skip
        if draw(st.booleans()):
            raw["labels"] = {"quality": {"value": draw(st.floats(0, 1)), "count": 3}}
            features.add("labels")
        replies = draw(st.integers(0, 3 if depth < 3 else 0))
        child = "assistant" if role == "prompter" else "prompter"
        raw["replies"] = [message(child, depth + 1, node_id) for _ in range(replies)]
        if len(raw["replies"]) > 1 and draw(st.booleans()):
            for rank, reply in enumerate(raw["replies"]):
                reply["rank"] = rank
            features.add("ranked siblings")
        if raw["replies"]:
            features.add(f"depth {depth + 1}")
        return raw

    record = {"message_tree_id": tree_id, "tree_state": "ready_for_export",
              "prompt": message("prompter", 0, None)}  # fmt: skip
    return record, features


