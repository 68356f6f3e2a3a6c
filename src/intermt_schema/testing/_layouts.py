"""The records of other tools' formats, drawn layout by layout: each strategy gives a
record and the features it uses.

>>> from hypothesis import find
>>> record, features = find(alpaca(ranking=True), lambda drawn: "history" in drawn[1])
>>> sorted(record)[:3]
['chosen', 'history', 'instruction']
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from ..schema._dimensions import OASST
from ._pieces import (
    Drawn,
    argument_objects,
    call,
    draw_files,
    extra_keys,
    json_text,
    media,
    names,
    paths,
    texts,
    two_answers,
    two_words,
    words,
)

__all__ = ["Drawn", "align_anything", "alpaca", "llamafactory_v1", "llava", "oasst", "openai",
           "sharegpt", "trl", "trl_standard"]  # fmt: skip


@st.composite
def sharegpt(draw: st.DrawFn, style: str, ranking: bool) -> Drawn:
    role, content = ("role", "content") if style == "role" else ("from", "value")
    user, assistant = ("user", "assistant") if style == "role" else ("human", "gpt")
    features: set[str] = {f"{style} style"}
    turns: list[dict[str, str]] = []
    if draw(st.booleans()):
        turns.append({role: "system", content: draw(texts)})
        features.add("system")
    record: dict[str, Any] = {}
    questions = draw(st.integers(1, 3))
    for k in range(questions):
        images = draw_files(draw, paths, features, "images")
        record.setdefault("images", []).extend(images)
        turns.append({role: user, content: "<image>" * len(images) + draw(texts)})
        if ranking and k == questions - 1:
            break
        if draw(st.booleans()):
            calls = [call(draw) for _ in range(draw(st.integers(1, 2)))]
            value = calls[0] if len(calls) == 1 else calls
            turns.append({role: "function_call", content: json_text(draw, value, features)})
            turns.append({role: "observation", content: draw(texts)})
            features.add("function_call")
        turns.append({role: assistant, content: draw(texts)})
    for kind in ("video", "audio"):
        files = draw_files(draw, media, features, f"{kind}s")
        if files:
            first = next(i for i, t in enumerate(turns) if t[role] == user)
            turns[first][content] = f"<{kind}>" * len(files) + turns[first][content]
            record[f"{kind}s"] = files
    if not record.get("images"):
        record.pop("images", None)
    if ranking:
        record["conversations"] = turns
        record["chosen"], record["rejected"] = ({role: assistant, content: text}
                                                for text in draw(two_answers))  # fmt: skip
    else:
        record["messages" if style == "role" else "conversations"] = turns
        if draw(st.booleans()):
            record["label"] = draw(st.booleans())
            features.add("kto label")
    if draw(st.booleans()):
        tools = [{"name": draw(names), "description": draw(texts)}]
        record["tools"] = json_text(draw, tools, features)
        features.add("tools")
    record.update(extra_keys(draw, {*record, "messages", "conversations", "label"}, features))
    return record, features


@st.composite
def alpaca(draw: st.DrawFn, ranking: bool) -> Drawn:
    features: set[str] = set()
    images = draw_files(draw, paths, features, "images")
    record: dict[str, Any] = {"instruction": "<image>" * len(images) + draw(texts)}
    if draw(st.booleans()):
        record["input"] = draw(texts)
    else:
        features.add("no input")
    if images:
        record["images"] = images
    if draw(st.booleans()):
        record["system"] = draw(texts)
        features.add("system")
    if draw(st.booleans()):
        record["history"] = draw(st.lists(st.lists(texts, min_size=2, max_size=2), min_size=1,
                                          max_size=2))  # fmt: skip
        features.add("history")
    if ranking:
        record["chosen"], record["rejected"] = draw(two_answers)
    else:
        record["output"] = draw(texts)
        if draw(st.booleans()):
            record["kto_tag"] = draw(st.booleans())
            features.add("kto label")
    record.update(extra_keys(draw, {*record, "history", "system", "images", "kto_tag"}, features))
    return record, features


@st.composite
def llava(draw: st.DrawFn, mantis: bool) -> Drawn:
    features: set[str] = {"mantis" if mantis else "llava"}
    turns: list[dict[str, str]] = []
    images: list[str] = []
    single = not mantis and draw(st.booleans())  # original LLaVA: one image, a string
    for k in range(draw(st.integers(1, 3))):
        new = [draw(paths)] * (k == 0) if single else draw_files(draw, paths, features, "images")
        images += new
        turns.append({"from": "human", "value": "<image>\n" * len(new) + draw(texts)})
        turns.append({"from": "gpt", "value": draw(texts)})
    record: dict[str, Any] = {"id": draw(texts), "conversations": turns}
    if mantis:
        record["images"] = images
    elif images:
        record["image"] = images[0] if single else images
        features.add("image string" if isinstance(record["image"], str) else "image list")
    record.update(extra_keys(draw, {*record, "image", "images", "conversation"}, features))
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
        messages.append({"role": "system", "content": draw(texts)})
        features.add("system")
    for _ in range(draw(st.integers(1, 3))):
        parts: list[dict[str, Any]] = [
            _image_url(draw, path, features) for path in draw_files(draw, paths, features, "images")
        ]
        parts.append({"type": "text", "text": draw(words)})
        messages.append({"role": "user", "content": _content(draw, parts, features)})
        if draw(st.booleans()):
            features.add("tool calls")
            calls = [{"id": draw(names), "type": "function",
                      "function": {"name": draw(names),
                                   "arguments": json_text(draw, draw(argument_objects), features)}}
                     for _ in range(draw(st.integers(1, 2)))]  # fmt: skip
            messages.append({"role": "assistant", "content": None, "tool_calls": calls})
            messages += [{"role": "tool", "tool_call_id": c["id"],
                          "content": [{"type": "text", "text": draw(words)}]}
                         for c in calls]  # fmt: skip
        answer = [{"type": "text", "text": draw(words)}]
        messages.append({"role": "assistant", "content": _content(draw, answer, features)})
    record: dict[str, Any] = {"messages": messages}
    if draw(st.booleans()):
        record["tools"] = [{"type": "function", "function": {"name": draw(names)}}]
        features.add("tools")
    if "images" not in features and "tool calls" not in features:
        question = messages[-2]  # a file is told apart from ShareGPT by images or tool calls
        parts = question["content"]
        parts = [{"type": "text", "text": parts}] if isinstance(parts, str) else parts
        question["content"] = [_image_url(draw, draw(paths), features), *parts]
    return record, features


def _trl_message(draw: st.DrawFn, role: str, vision: bool, images: list[str],
                 features: set[str]) -> dict[str, Any]:  # fmt: skip
    text = draw(words)
    if not vision:
        return {"role": role, "content": text}
    found = draw_files(draw, paths, features, "images") if role == "user" else []
    images += found
    return {"role": role, "content": [*({"type": "image"} for _ in found),
                                      {"type": "text", "text": text}]}  # fmt: skip


def _trl_tool_use(draw: st.DrawFn, features: set[str], vision: bool) -> list[dict[str, Any]]:
    """An assistant message of tool calls (arguments as an object or as JSON text, an
    empty content absent or given) and the tool messages answering them."""
    features.add("tool calls")
    calls = []
    for _ in range(draw(st.integers(1, 2))):
        arguments: Any = draw(argument_objects)
        if draw(st.booleans()):
            arguments = json_text(draw, arguments, features)
        call: dict[str, Any] = {
            "type": "function",
            "function": {"name": draw(names), "arguments": arguments},
        }
        if draw(st.booleans()):
            call["id"] = draw(names)
        calls.append(call)
    message: dict[str, Any] = {"role": "assistant", "tool_calls": calls}
    if draw(st.booleans()):
        message["content"] = draw(st.sampled_from(["", None]))
        features.add("empty content beside calls")
    answers = []
    for call in calls:
        text = draw(words)
        content: Any = [{"type": "text", "text": text}] if vision else text
        answer: dict[str, Any] = {
            "role": "tool",
            "name": call["function"]["name"],
            "content": content,
        }
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
            for text in draw(two_words)
        )
        row = ({"prompt": prompt, "chosen": [chosen], "rejected": [rejected]}
               if mode == "preference"
               else {"chosen": [*prompt, chosen], "rejected": [*prompt, rejected]})  # fmt: skip
    if "tool calls" in features and draw(st.booleans()):
        tools = [{"type": "function", "function": {"name": draw(names)}}]
        row["tools"] = json_text(draw, tools, features) if draw(st.booleans()) else tools
        features.add("tools")
    if vision:
        if not images:  # a file whose rows name no image is written as text only
            first = next(m for m in (row.get("messages") or row.get("prompt") or row["chosen"])
                         if m["role"] == "user")  # fmt: skip
            first["content"].insert(0, {"type": "image"})
            images.append(draw(paths))
        row["images"] = images
    row.update(extra_keys(draw, {*row, "images", "label"}, features))
    return row, features


@st.composite
def trl_standard(draw: st.DrawFn, mode: str) -> Drawn:
    features: set[str] = {"standard"}
    row: dict[str, Any] = {"prompt": draw(words)}
    if mode == "preference":
        row["chosen"], row["rejected"] = draw(two_words)
    elif mode == "stepwise":
        steps = draw(st.lists(words, min_size=1, max_size=4))
        row["completions"] = steps
        row["labels"] = draw(st.lists(st.booleans(), min_size=len(steps), max_size=len(steps)))
        features.add("stepwise")
    else:
        row["completion"] = draw(words)
    row.update(extra_keys(draw, {*row, "images", "messages"}, features))
    return row, features


def _v1_part(draw: st.DrawFn, role: str, features: set[str]) -> list[dict[str, str]]:
    kinds = ["text", "image_url", "video_url", "audio_url"] if role == "user" else [
        "text", "reasoning", "tool_call"]  # fmt: skip
    parts = []
    for kind in draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=3)):
        features.add(f"{kind} part")
        value = (draw(words) if kind in ("text", "reasoning")
                 else json_text(draw, call(draw), features) if kind == "tool_call"
                 else draw(media if kind != "image_url" else paths))  # fmt: skip
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
        record["tools"] = json_text(draw, [{"name": draw(names)}], features)
        features.add("tools")
    return record, features


@st.composite
def align_anything(draw: st.DrawFn, mode: str) -> Drawn:
    features: set[str] = {mode}
    image = draw(st.none() | paths)
    if mode == "text-preference":
        better = draw(st.sampled_from([0, 1]))
        features.add(f"better {better}")
        answers = draw(two_words)
        record = {"prompt": draw(words), "response_0": answers[0], "response_1": answers[1],
                  "better_response_id": better}  # fmt: skip
    elif mode == "preference":
        answers = draw(two_words)
        record = {"question": draw(words), **({"image": image} if image else {}),
                  "better_response": answers[0], "worse_response": answers[1]}  # fmt: skip
    else:
        marker = "<image_placeholder>" if image else ""
        record = {"prompt": marker + draw(words), **({"image": image} if image else {}),
                  "response": draw(words)}  # fmt: skip
    if image and mode != "text-preference":
        features.add("image")
    record.update(extra_keys(draw, {*record, "image", "better_response_id"}, features))
    return record, features


@st.composite
def oasst_labels(draw: st.DrawFn, features: set[str]) -> dict[str, Any]:
    """An Open-Assistant ``labels`` object: means in 0..1 (floats, or 0 and 1 as
    integers) with or without a count; sometimes one the ``oasst`` set cannot hold."""
    names = draw(st.lists(st.sampled_from(sorted(OASST.keys())), min_size=1, max_size=4,
                          unique=True))  # fmt: skip
    labels: dict[str, Any] = {}
    for name in names:
        value = draw(st.floats(0, 1) | st.sampled_from([0, 1]))
        labels[name] = {"value": value, "count": draw(st.integers(1, 9))}
        if draw(st.integers(0, 4)) == 0:
            del labels[name]["count"]
            features.add("label without count")
        features.add("label as integer" if type(value) is int else "label as float")
    if draw(st.integers(0, 5)) == 0:
        labels[f"x_{draw(words)}"] = {"value": 0.5, "count": 1}  # a name the set lacks
        features.add("labels kept as they are")
    else:
        features.add("labels as ratings")
    return labels


@st.composite
def oasst(draw: st.DrawFn) -> Drawn:
    features: set[str] = set()
    counter = iter(range(10**6))
    tree_id = f"t{draw(names)}"

    def message(role: str, depth: int, parent: str | None) -> dict[str, Any]:
        node_id = f"{tree_id}-{next(counter)}"
        raw: dict[str, Any] = {"message_id": node_id, **({"parent_id": parent} if parent else {}),
                               "text": draw(texts), "role": role, "lang": "en"}  # fmt: skip
        if draw(st.booleans()):
            raw["labels"] = draw(oasst_labels(features))
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
